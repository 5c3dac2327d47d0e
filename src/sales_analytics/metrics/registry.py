"""Every metric under one name, for the CLI, the benchmark and anything that runs them all."""

from __future__ import annotations

from collections.abc import Callable

import ibis.expr.types as ir
import pandas as pd

from sales_analytics.metrics._base import NO_FILTERS, Filters, TableSource, to_pandas
from sales_analytics.metrics.customers import (
    cohorts,
    customer_summary,
    new_vs_returning,
    rfm_segments,
    segment_summary,
)
from sales_analytics.metrics.geography import geography, penetration
from sales_analytics.metrics.products import (
    abc_classes,
    brand_rollup,
    category_rollup,
    product_pairs,
    product_performance,
    slow_movers,
    stock_cover,
)
from sales_analytics.metrics.sales import (
    decomposition,
    kpi_table,
    month_profile,
    period_over_period,
    revenue_timeseries,
    weekday_profile,
    yoy_growth,
)

MetricFn = Callable[[TableSource, Filters], "ir.Table | pd.DataFrame"]


def _rfm(db: TableSource, filters: Filters) -> ir.Table:
    return rfm_segments(db, None, filters)


def _segments(db: TableSource, filters: Filters) -> ir.Table:
    return segment_summary(db, None, filters)


def _by(fn: Callable, **kwargs) -> MetricFn:
    def call(db: TableSource, filters: Filters):
        return fn(db, filters=filters, **kwargs)

    call.__name__ = fn.__name__
    return call


#: Metric name -> ``fn(db, filters)`` returning an ibis expression or a pandas frame.
METRICS: dict[str, MetricFn] = {
    "kpis": kpi_table,
    "revenue_daily": _by(revenue_timeseries, grain="day"),
    "revenue_weekly": _by(revenue_timeseries, grain="week"),
    "revenue_monthly": _by(revenue_timeseries, grain="month"),
    "yoy_growth_monthly": _by(yoy_growth, grain="month"),
    "period_over_period_monthly": _by(period_over_period, grain="month"),
    "weekday_profile": weekday_profile,
    "month_profile": month_profile,
    "decomposition_daily": _by(decomposition, grain="day"),
    "customer_summary": customer_summary,
    "rfm_segments": _rfm,
    "segment_summary": _segments,
    "cohorts": cohorts,
    "new_vs_returning": _by(new_vs_returning, grain="month"),
    "product_performance": product_performance,
    "category_rollup": category_rollup,
    "brand_rollup": brand_rollup,
    "abc_classes": abc_classes,
    "slow_movers": slow_movers,
    "stock_cover": stock_cover,
    "product_pairs": product_pairs,
    "geography_country": _by(geography, level="country"),
    "geography_region": _by(geography, level="region"),
    "penetration": _by(penetration, level="country"),
}


def compute(db: TableSource, name: str, filters: Filters = NO_FILTERS) -> pd.DataFrame:
    """Run metric ``name`` and return a pandas frame."""
    try:
        fn = METRICS[name]
    except KeyError:
        raise ValueError(f"unknown metric {name!r}: use one of {', '.join(METRICS)}") from None
    result = fn(db, filters)
    return result if isinstance(result, pd.DataFrame) else to_pandas(result)


def compute_all(
    db: TableSource, filters: Filters = NO_FILTERS, names: list[str] | None = None
) -> dict[str, pd.DataFrame]:
    """Run several metrics (default: all of :data:`METRICS`) into pandas frames."""
    return {name: compute(db, name, filters) for name in (names or list(METRICS))}


__all__ = ["METRICS", "MetricFn", "compute", "compute_all"]
