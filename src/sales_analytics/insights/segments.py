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
    critical_value_share: float = 0.10,
) -> list[Finding]:
    """One finding per at-risk segment present in ``summary`` (``metrics`` ``segment_summary``).

    The value at stake is what the segment's customers spent in all (customers x average spend):
    they are slipping away, so what they bought in the window is small by definition. Severity is
    ``critical`` when that is at least ``critical_value_share`` of every customer's spend.
    """
    out = []
    if summary.empty:
        return out
    rows = summary.set_index("segment")
    lifetime = rows["customers"] * rows["avg_monetary"].fillna(0)
    total = float(lifetime.sum())
    for seg in segments:
        if seg not in rows.index or rows.loc[seg, "customers"] <= 0:
            continue
        r = rows.loc[seg]
        spent = float(lifetime.loc[seg])
        share = spent / total if total > 0 else 0.0
        text = (
            f"{fmt_num(r['customers'])} customers ({fmt_pct(r['customer_share'])} of customers) "
            f"are {seg}: they spent {fmt_money(spent)} in all ({fmt_pct(share)} of all customers' "
            f"spend, {fmt_num(r['avg_frequency'], 1)} orders each on average) but have not "
            f"ordered for {fmt_num(r['avg_recency_days'])} days on average."
        )
        out.append(
            Finding(
                kind="segment_risk",
                severity="critical" if share >= critical_value_share else "warning",
                title=f"{seg}: {fmt_money(spent)} of customer value slipping away",
                text=text,
                value=share,
                impact=spent,
                subject=seg,
                data={
                    "customers": int(r["customers"]),
                    "customer_share": float(r["customer_share"]),
                    "lifetime_spend": spent,
                    "value_share": share,
                    "avg_recency_days": float(r["avg_recency_days"]),
                },
            )
        )
    return out
