"""Threshold alerts from a YAML file of rules, checked on every digest.

.. code-block:: yaml

    rules:
      - name: Revenue below the forecast
        when: below_forecast      # daily net revenue below the saved forecast's lower bound
        level: 80                 # the forecast's 80% range (80 or 95)
        days: 2                   # ... on this many days running
      - name: Revenue down 10% week over week
        when: kpi_change          # a KPI of the digest's window against the window before
        kpi: revenue              # any column of the catalogue's `kpis` metric
        below: -0.10              # relative change (rates: percentage points as a fraction)
      - name: Return rate up
        when: kpi_change
        kpi: return_rate
        above: 0.02               # +2 points

A bad file is one line naming the file, the rule and what is wrong (:class:`RulesError`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from sales_analytics import metrics
from sales_analytics.present import format as fmt

KINDS: tuple[str, ...] = ("below_forecast", "kpi_change")
LEVELS: tuple[int, ...] = (80, 95)
#: Keys each kind accepts (besides ``name``, ``when`` and ``severity``).
KEYS: dict[str, tuple[str, ...]] = {"below_forecast": ("level", "days"), "kpi_change": ("kpi", "below", "above")}


class RulesError(ValueError):
    """The rules file cannot be used (one line)."""


@dataclass(frozen=True)
class Rule:
    name: str
    when: str
    severity: str = "warning"
    level: int = 80
    days: int = 2
    kpi: str | None = None
    below: float | None = None
    above: float | None = None


@dataclass(frozen=True)
class Alert:
    """A rule's outcome: ``fired`` with the reason, or not, or ``note`` when it could not be
    checked (e.g. no saved forecast covers the window)."""

    rule: Rule
    fired: bool
    text: str
    note: bool = False


def load_rules(path: Path) -> list[Rule]:
    """The rules of the YAML file ``path`` (see the module docstring)."""
    where = f"alert rules {path}"
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RulesError(f"{where}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"{where}: cannot be read ({exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise RulesError(f"{where}: not valid YAML{at} ({getattr(exc, 'problem', None) or exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list):
        raise RulesError(f"{where}: expected a mapping with a list under 'rules'")
    return [_rule(where, i, item) for i, item in enumerate(doc["rules"], start=1)]


def _rule(where: str, i: int, item: Any) -> Rule:
    if not isinstance(item, dict):
        raise RulesError(f"{where}: rule {i} is not a mapping")
    label = f"{where}: rule {i}" + (f" ({item['name']!r})" if isinstance(item.get("name"), str) else "")
    when = item.get("when")
    if when not in KINDS:
        raise RulesError(f"{label}: 'when' must be one of {', '.join(KINDS)}, not {when!r}")
    allowed = {"name", "when", "severity", *KEYS[when]}
    extra = sorted(set(item) - allowed)
    if extra:
        raise RulesError(f"{label}: unknown key {extra[0]!r} for {when} (allowed: {', '.join(sorted(allowed))})")
    severity = item.get("severity", "warning")
    if severity not in ("critical", "warning", "info"):
        raise RulesError(f"{label}: severity must be critical, warning or info, not {severity!r}")
    name = str(item.get("name") or when)
    if when == "below_forecast":
        level, days = item.get("level", 80), item.get("days", 2)
        if level not in LEVELS:
            raise RulesError(f"{label}: level must be one of {', '.join(map(str, LEVELS))}, not {level!r}")
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 31:
            raise RulesError(f"{label}: days must be a whole number from 1 to 31, not {days!r}")
        return Rule(name, when, severity, level=level, days=days)
    kpi = item.get("kpi")
    names = [c.name for c in metrics.get("kpis").columns if c.unit in ("currency", "count", "ratio")]
    if kpi not in names:
        raise RulesError(f"{label}: kpi must be one of {', '.join(names)}, not {kpi!r}")
    bounds = {k: item.get(k) for k in ("below", "above")}
    if all(v is None for v in bounds.values()):
        raise RulesError(f"{label}: give 'below' (e.g. -0.10 for a 10% drop) or 'above'")
    for k, v in bounds.items():
        if v is not None and (isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v)):
            raise RulesError(f"{label}: {k} must be a number such as -0.10, not {v!r}")
    return Rule(name, when, severity, kpi=kpi, **{k: float(v) for k, v in bounds.items() if v is not None})


# ------------------------------------------------------------------------------------ checks
def below_forecast(rule: Rule, daily: pd.DataFrame, forecast: pd.DataFrame | None, start: date, end: date) -> Alert:
    """Fires when daily revenue (``period, revenue``) stays below the forecast's lower bound
    (``ds, lo_<level>``) on ``rule.days`` days running within ``start`` .. ``end``."""
    if forecast is None or forecast.empty:
        return Alert(rule, False, "not checked: no forecast model is trained (`sales-analytics train`)", note=True)
    lo = f"lo_{rule.level}"
    f = forecast.assign(day=pd.to_datetime(forecast["ds"]).dt.date)[["day", lo]]
    d = daily.assign(day=pd.to_datetime(daily["period"]).dt.date)[["day", "revenue"]]
    both = f.merge(d, on="day", how="left").fillna({"revenue": 0.0})
    both = both[(both["day"] >= start) & (both["day"] <= end)].sort_values("day")
    if both.empty:
        first = f["day"].min()
        return Alert(rule, False, f"not checked: the saved forecast starts on {first:%d %b %Y}, "
                     "after the days of this digest (retrain it to follow new data)", note=True)  # fmt: skip
    run: list[Any] = []
    for row in both.itertuples(index=False):
        run = [*run, row] if row.revenue < getattr(row, lo) else []
        if len(run) >= rule.days:
            days = "; ".join(
                f"{r.day:%a %d %b}: {fmt.money(r.revenue)} (expected at least {fmt.money(getattr(r, lo))})"
                for r in run
            )
            return Alert(rule, True, f"revenue below the forecast's {rule.level}% range {len(run)} days running: {days}")
    return Alert(rule, False, f"revenue stayed within the forecast's {rule.level}% range")


def kpi_change(rule: Rule, comparison: pd.DataFrame) -> Alert:
    """Fires when the KPI's change (relative; rates in points) passes ``below`` or ``above``."""
    row = comparison.set_index("kpi").loc[rule.kpi]
    column = metrics.get("kpis").column(rule.kpi)
    rate = column.unit == "ratio"
    v = float(row["change"] if rate else row["change_pct"])
    shown = fmt.change(v, "ratio") if rate else fmt.pct_change(v)
    if not any(ch in "123456789" for ch in shown):
        shown = "no change"
    if not math.isfinite(v):
        return Alert(rule, False, f"not checked: no {column.label.lower()} in the previous period", note=True)
    fired = (rule.below is not None and v < rule.below) or (rule.above is not None and v > rule.above)
    what = f"{column.label}: {fmt.value(row['current'], column.unit)}, {shown} against the previous period"
    return Alert(rule, fired, what)
