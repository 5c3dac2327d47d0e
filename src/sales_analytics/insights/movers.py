"""Biggest movers: the categories, countries... whose revenue changed most against the previous
period."""

from __future__ import annotations

import pandas as pd

from sales_analytics.insights.findings import (
    Finding,
    fmt_money,
    fmt_pct,
    fmt_signed_money,
)


def mover_table(
    current: pd.DataFrame, previous: pd.DataFrame, key: str, value: str = "revenue"
) -> pd.DataFrame:
    """``key``, ``current``, ``previous``, ``change``, ``growth``, ``share`` per key.

    Keys missing from one period count as zero there; ``growth`` is NaN without previous value;
    ``share`` is the key's share of the current period's total. Sorted by absolute change.
    """
    cur = current.groupby(key)[value].sum().rename("current")
    prev = previous.groupby(key)[value].sum().rename("previous")
    t = pd.concat([cur, prev], axis=1).fillna(0.0).astype(float)
    t["change"] = t["current"] - t["previous"]
    t["growth"] = (t["change"] / t["previous"]).where(t["previous"] > 0)
    total = t["current"].sum()
    t["share"] = t["current"] / total if total else 0.0
    t = t.reset_index().rename(columns={"index": key})
    return t.reindex(t["change"].abs().sort_values(ascending=False).index).reset_index(drop=True)


def biggest_movers(
    current: pd.DataFrame,
    previous: pd.DataFrame,
    key: str,
    *,
    value: str = "revenue",
    what: str | None = None,
    top: int = 2,
    min_change: float = 0.05,
) -> list[Finding]:
    """Findings for the ``top`` risers and ``top`` fallers by absolute change of ``value``.

    Parameters
    ----------
    current, previous
        Frames with a ``key`` column and a ``value`` column (e.g. ``category_rollup`` of the
        window and of the previous period).
    key
        ``category``, ``country``, ``brand``...
    what
        The noun used in the text (default: ``key``).
    min_change
        Keys whose relative change is below this (in absolute value) are not movers.

    Returns an empty list when the previous period has no ``value`` at all (nothing to compare),
    or when there is one ``key`` only (an imported shop whose products are all ``Uncategorised``,
    a one-country shop): its change is the total's, which the KPIs already say.
    """
    if previous.empty or float(previous[value].sum()) <= 0:
        return []
    what = what or key
    t = mover_table(current, previous, key, value)
    if len(t) < 2:
        return []
    t = t[t["previous"] > 0]
    t = t[t["growth"].abs() >= min_change]
    risers = t[t["change"] > 0].head(top)
    fallers = t[t["change"] < 0].head(top)
    total_prev = float(previous[value].sum())
    out = []
    for _, r in pd.concat([risers, fallers]).iterrows():
        up = r["change"] > 0
        name = str(r[key])
        text = (
            f"{what.capitalize()} {name}: {value} {'grew' if up else 'fell'} "
            f"{fmt_pct(abs(r['growth']))} ({fmt_money(r['previous'])} -> "
            f"{fmt_money(r['current'])}, {fmt_signed_money(r['change'])}) against the previous "
            f"period; that is {fmt_pct(abs(r['change']) / total_prev)} of the previous period's "
            f"total {value}."
        )
        severity = "positive" if up else ("warning" if r["growth"] <= -0.1 else "info")
        out.append(
            Finding(
                kind="mover",
                severity=severity,
                title=f"{name} {'up' if up else 'down'} {fmt_pct(abs(r['growth']))}",
                text=text,
                value=float(r["growth"]),
                impact=abs(float(r["change"])),
                subject=name,
                data={
                    "key": key,
                    "current": float(r["current"]),
                    "previous": float(r["previous"]),
                    "change": float(r["change"]),
                    "growth": float(r["growth"]),
                },
            )
        )
    return out
