"""Automated insights: short plain-language findings computed from metric frames.

Every function takes metric outputs (pandas frames from :mod:`sales_analytics.metrics`) and returns
a list of :class:`Finding`; every number in a finding's text is computed from those frames.

* :func:`biggest_movers` - categories/countries whose revenue changed most against the previous
  period;
* :func:`segments_at_risk` - the At Risk and Can't Lose Them RFM segments: customers, revenue share,
  days since the last order;
* :func:`daily_anomalies` - days whose revenue (or order count) is far from a weekly-seasonal
  baseline (robust z-score); :func:`planned_events` - the same on days of the events calendar
  (Black Friday, Cyber Monday, Christmas, Easter, promotions), reported as planned events;
* :func:`value_at_risk` - high-value customers at high churn risk (CLV and churn models);
* :func:`headline` - net revenue and orders against the previous period;
* :class:`Headline` and ``*_headline`` - each page's three lines: what changed, why, what to do;
* :func:`compute_insights` - all of the above for a database and filter window.
"""

from __future__ import annotations

from sales_analytics.insights.anomalies import (
    anomaly_scores,
    daily_anomalies,
    planned_events,
    revenue_anomalies,
)
from sales_analytics.insights.findings import (
    SEVERITIES,
    Finding,
    fmt_money,
    fmt_num,
    fmt_pct,
    fmt_signed_money,
    fmt_signed_pct,
    sort_findings,
)
from sales_analytics.insights.headlines import (
    Headline,
    customers_headline,
    geography_headline,
    predictions_headline,
    products_headline,
    revenue_headline,
)
from sales_analytics.insights.movers import biggest_movers, mover_table
from sales_analytics.insights.outlook import ForecastOutlook, forecast_outlook
from sales_analytics.insights.periods import (
    KPI_LABELS,
    headline,
    kpi_comparison,
    previous_period,
)
from sales_analytics.insights.risk import (
    RISK_TIERS,
    VALUE_TIERS,
    customer_risk,
    risk_matrix,
    value_at_risk,
)
from sales_analytics.insights.segments import AT_RISK_SEGMENTS, segments_at_risk
from sales_analytics.insights.summary import (
    InsightInputs,
    compute_insights,
    data_bounds,
    findings_from,
    gather,
    inputs_from,
)

__all__ = [
    "AT_RISK_SEGMENTS",
    "KPI_LABELS",
    "RISK_TIERS",
    "SEVERITIES",
    "VALUE_TIERS",
    "Finding",
    "Headline",
    "InsightInputs",
    "anomaly_scores",
    "biggest_movers",
    "compute_insights",
    "customer_risk",
    "customers_headline",
    "ForecastOutlook",
    "forecast_outlook",
    "geography_headline",
    "predictions_headline",
    "products_headline",
    "revenue_headline",
    "daily_anomalies",
    "planned_events",
    "data_bounds",
    "findings_from",
    "fmt_money",
    "fmt_num",
    "fmt_pct",
    "fmt_signed_money",
    "fmt_signed_pct",
    "gather",
    "inputs_from",
    "headline",
    "kpi_comparison",
    "mover_table",
    "previous_period",
    "revenue_anomalies",
    "risk_matrix",
    "segments_at_risk",
    "sort_findings",
    "value_at_risk",
]
