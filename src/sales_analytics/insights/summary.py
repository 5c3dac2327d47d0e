"""All findings for a filter window: from metric frames, or straight from a database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from sales_analytics import metrics
from sales_analytics.insights.anomalies import daily_anomalies
from sales_analytics.insights.findings import Finding, sort_findings
from sales_analytics.insights.movers import biggest_movers
from sales_analytics.insights.periods import headline, kpi_comparison, previous_period
from sales_analytics.insights.segments import segments_at_risk
from sales_analytics.metrics import Filters, TableSource


@dataclass
class InsightInputs:
    """The metric frames the findings are computed from (any may be missing)."""

    comparison: pd.DataFrame | None = None  # kpi_comparison()
    categories: pd.DataFrame | None = None  # category_rollup, window
    categories_previous: pd.DataFrame | None = None  # category_rollup, previous period
    countries: pd.DataFrame | None = None  # geography(level="country"), window
    countries_previous: pd.DataFrame | None = None
    segments: pd.DataFrame | None = None  # segment_summary
    daily: pd.DataFrame | None = None  # revenue_timeseries(grain="day")


def findings_from(inputs: InsightInputs, *, top_movers: int = 2, top_anomalies: int = 5) -> list[Finding]:
    """Every finding the frames support, most urgent first."""
    out: list[Finding] = []
    if inputs.comparison is not None:
        out += headline(inputs.comparison)
    if inputs.categories is not None and inputs.categories_previous is not None:
        out += biggest_movers(
            inputs.categories, inputs.categories_previous, "category", top=top_movers
        )
    if inputs.countries is not None and inputs.countries_previous is not None:
        out += biggest_movers(inputs.countries, inputs.countries_previous, "country", top=top_movers)
    if inputs.segments is not None:
        out += segments_at_risk(inputs.segments)
    if inputs.daily is not None:
        out += daily_anomalies(inputs.daily, top=top_anomalies)
    return sort_findings(out)


def data_bounds(db: TableSource) -> tuple[date, date] | None:
    """The first and last order day in the database (``None`` without orders): the unfiltered
    ``kpis`` metric's first and last order."""
    k = metrics.kpis(db)
    if k["first_order_at"] is None:
        return None
    return k["first_order_at"].date(), k["last_order_at"].date()


#: The metric frames the findings read: InsightInputs field -> (metric, period, params), where the
#: period is the filter window ("current") or the one of the same length before it ("previous").
INPUTS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "categories": ("category_rollup", "current", {}),
    "categories_previous": ("category_rollup", "previous", {}),
    "countries": ("geography", "current", {"level": "country"}),
    "countries_previous": ("geography", "previous", {"level": "country"}),
    "segments": ("segment_summary", "current", {}),
    "daily": ("revenue", "current", {"grain": "day"}),
}


def inputs_from(
    frame: Callable[..., pd.DataFrame],
    kpis: Callable[[Filters], dict[str, Any]],
    filters: Filters,
    previous: Filters,
) -> InsightInputs:
    """The findings' inputs for ``filters`` and its ``previous`` period, from any source of metric
    frames: ``frame(name, filters, **params)`` and ``kpis(filters)`` (the database, or a surface's
    cached copies of the same metrics)."""
    windows = {"current": filters, "previous": previous}
    return InsightInputs(
        comparison=kpi_comparison(kpis(filters), kpis(previous)),
        **{
            field: frame(name, windows[period], **params)
            for field, (name, period, params) in INPUTS.items()
        },
    )


def gather(db: TableSource, filters: Filters = metrics.NO_FILTERS) -> InsightInputs:
    """Run the metrics the findings need for ``filters`` and the previous period."""
    bounds = data_bounds(db)
    if bounds is None:
        return InsightInputs()
    return inputs_from(
        lambda name, f, **params: metrics.compute(db, name, f, **params),
        lambda f: metrics.kpis(db, f),
        filters,
        previous_period(filters, *bounds),
    )


def compute_insights(db: TableSource, filters: Filters = metrics.NO_FILTERS) -> list[Finding]:
    """All findings for ``filters`` computed from the database."""
    return findings_from(gather(db, filters))
