"""Period-over-period: the comparison window for a filter window and the KPI deltas."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import pandas as pd

from sales_analytics.insights.findings import Finding, finite, fmt_money, fmt_pct, fmt_signed_pct
from sales_analytics.metrics import Filters, get

#: The KPIs compared with the previous period, in the order surfaces show them.
KPI_KEYS: tuple[str, ...] = (
    "revenue", "orders", "aov", "customers", "new_customers", "revenue_per_customer", "units",
    "return_rate", "cancel_rate",
)  # fmt: skip
_KIND = {"currency": "money", "count": "count", "ratio": "rate"}
#: KPI key -> (label, kind) from the ``kpis`` metric's declared columns; kind is "money",
#: "count" or "rate".
KPI_LABELS: dict[str, tuple[str, str]] = {
    c.name: (c.label, _KIND[c.unit]) for key in KPI_KEYS for c in [get("kpis").column(key)]
}


def window(filters: Filters, first_day: date, last_day: date) -> tuple[date, date]:
    """The filter window with open ends closed at the data's first and last day."""
    return (filters.start or first_day, filters.end or last_day)


def previous_period(filters: Filters, first_day: date, last_day: date) -> Filters:
    """The window of the same length just before the filter window (same countries/segments).

    ``first_day`` and ``last_day`` close an open window (the data's first and last order day).
    """
    start, end = window(filters, first_day, last_day)
    days = (end - start).days + 1
    prev_end = start - timedelta(days=1)
    return replace(filters, start=prev_end - timedelta(days=days - 1), end=prev_end)


def kpi_comparison(current: dict[str, Any], previous: dict[str, Any]) -> pd.DataFrame:
    """KPIs side by side with the previous period.

    Returns
    -------
    pandas.DataFrame
        ``kpi``, ``label``, ``kind``, ``current``, ``previous``, ``change`` (current - previous),
        ``change_pct`` (relative change; NaN without a non-zero previous value). Rates change in
        percentage points (``change``) and their relative change is NaN.
    """
    rows = []
    for key, (label, kind) in KPI_LABELS.items():
        cur = current.get(key)
        prev = previous.get(key)
        cur_f = float(cur) if finite(cur) else float("nan")
        prev_f = float(prev) if finite(prev) else float("nan")
        change = cur_f - prev_f
        pct = change / prev_f if kind != "rate" and finite(prev_f) and prev_f != 0 else float("nan")
        rows.append(
            {
                "kpi": key,
                "label": label,
                "kind": kind,
                "current": cur_f,
                "previous": prev_f,
                "change": change,
                "change_pct": pct,
            }
        )
    return pd.DataFrame(rows)


def headline(comparison: pd.DataFrame) -> list[Finding]:
    """A finding for net revenue and one for orders against the previous period (when known)."""
    out = []
    rows = comparison.set_index("kpi")
    for key in ("revenue", "orders"):
        if key not in rows.index:
            continue
        r = rows.loc[key]
        if not (finite(r["current"]) and finite(r["change_pct"])):
            continue
        up = r["change_pct"] >= 0
        fmt = fmt_money if r["kind"] == "money" else (lambda x: f"{x:,.0f}")
        text = (
            f"{r['label']}: {fmt(r['current'])} in the selected period, "
            f"{fmt_signed_pct(r['change_pct'])} against the previous period of the same length "
            f"({fmt(r['previous'])})."
        )
        severity = "positive" if up else ("warning" if r["change_pct"] < -0.05 else "info")
        out.append(
            Finding(
                kind="kpi",
                severity=severity,
                title=f"{r['label']} {'up' if up else 'down'} {fmt_pct(abs(r['change_pct']))}",
                text=text,
                value=float(r["change_pct"]),
                impact=abs(float(r["current"]) - float(r["previous"])) if r["kind"] == "money" else None,
                subject=key,
                data={"current": r["current"], "previous": r["previous"]},
            )
        )
    return out
