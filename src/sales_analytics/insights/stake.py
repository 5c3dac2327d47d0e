"""Money at stake: how much revenue or customer value a finding is about, to rank findings by.

A finding's statistics (a z-score, a growth rate) say how unusual it is, not how much it matters
to the owner: a -33% fall in a country with 0.6% of revenue is smaller news than a +113% rise in
the main market. :func:`money_at_stake` reads the amount from each kind's ``data``:

=================  ==========================================================================
kind               money at stake
=================  ==========================================================================
``kpi``            net revenue: the change against the previous period (orders: none)
``mover``          the change in revenue against the previous period
``segment_risk``   what the segment's customers spent in all (the value slipping away)
``anomaly``        the day's revenue minus the revenue expected for it
``value_at_risk``  the predicted CLV of the high-value customers at high churn risk
=================  ==========================================================================
"""

from __future__ import annotations

import math

from sales_analytics.insights.findings import Finding


def money_at_stake(finding: Finding) -> float | None:
    """The absolute amount of money ``finding`` is about (``None`` when it is not about money)."""
    d = finding.data
    if finding.kind == "kpi":
        if finding.subject != "revenue":
            return None
        amount = d.get("current", math.nan) - d.get("previous", math.nan)
    elif finding.kind == "mover":
        amount = d.get("change")
    elif finding.kind == "segment_risk":
        amount = d.get("lifetime_spend")
    elif finding.kind == "anomaly":
        amount = d.get("revenue", math.nan) - d.get("expected_revenue", math.nan)
    elif finding.kind == "value_at_risk":
        amount = d.get("clv")
    else:
        amount = d.get("money")
    try:
        amount = abs(float(amount))
    except (TypeError, ValueError):
        return None
    return amount if math.isfinite(amount) else None


def by_money(findings: list[Finding], top: int | None = None) -> list[Finding]:
    """The findings about money, largest amount at stake first (``top`` of them)."""
    ranked = sorted(
        (f for f in findings if money_at_stake(f) is not None),
        key=lambda f: -(money_at_stake(f) or 0.0),
    )
    return ranked[:top] if top is not None else ranked
