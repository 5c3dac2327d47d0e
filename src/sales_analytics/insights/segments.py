"""Segments at risk: customers who used to buy a lot and have gone quiet."""

from __future__ import annotations

import pandas as pd

from sales_analytics.insights.findings import Finding, fmt_money, fmt_num, fmt_pct

#: The RFM named segments whose customers are slipping away, most valuable first.
AT_RISK_SEGMENTS: tuple[str, ...] = ("Can't Lose Them", "At Risk")


def segments_at_risk(
    summary: pd.DataFrame,
    *,
    segments: tuple[str, ...] = AT_RISK_SEGMENTS,
    critical_revenue_share: float = 0.10,
) -> list[Finding]:
    """One finding per at-risk segment present in ``summary`` (``metrics.segment_summary``).

    The text gives the segment's customers and share of customers, its revenue and share of revenue
    and the average days since the last order. Severity is ``critical`` when the segment holds at
    least ``critical_revenue_share`` of the revenue, else ``warning``.
    """
    out = []
    if summary.empty:
        return out
    rows = summary.set_index("segment")
    for seg in segments:
        if seg not in rows.index or rows.loc[seg, "customers"] <= 0:
            continue
        r = rows.loc[seg]
        text = (
            f"{fmt_num(r['customers'])} customers ({fmt_pct(r['customer_share'])} of buyers) are "
            f"in the {seg} segment: they brought {fmt_money(r['revenue'])} "
            f"({fmt_pct(r['revenue_share'])} of revenue, {fmt_num(r['avg_frequency'], 1)} orders "
            f"each on average) but have not ordered for {fmt_num(r['avg_recency_days'])} days "
            f"on average."
        )
        severity = "critical" if r["revenue_share"] >= critical_revenue_share else "warning"
        out.append(
            Finding(
                kind="segment_risk",
                severity=severity,
                title=f"{seg}: {fmt_pct(r['revenue_share'])} of revenue",
                text=text,
                value=float(r["revenue_share"]),
                subject=seg,
                data={
                    "customers": int(r["customers"]),
                    "customer_share": float(r["customer_share"]),
                    "revenue": float(r["revenue"]),
                    "revenue_share": float(r["revenue_share"]),
                    "avg_recency_days": float(r["avg_recency_days"]),
                },
            )
        )
    return out
