"""The analytics engine: sales, customer, product and geography metrics as ibis expressions.

Each metric is written once and runs unchanged on DuckDB, PostgreSQL and PySpark; the database is
reached only through ``db.table(name)``. Functions return an ibis expression (run it with
:func:`to_pandas`, or ibis' ``.to_pandas()``) or, where the computation leaves SQL, a pandas frame. See ``docs/metrics.md``.

>>> from sales_analytics.metrics import Filters, revenue_timeseries
>>> revenue_timeseries(db, "month", Filters(countries=("Germany",))).to_pandas()  # doctest: +SKIP
"""

from __future__ import annotations

from sales_analytics.metrics._base import (
    GRAINS,
    NO_FILTERS,
    OTHER_SEGMENT,
    RFM_SEGMENT_RULES,
    SEGMENT_NAMES,
    Filters,
    TableSource,
    as_of_table,
    to_pandas,
)
from sales_analytics.metrics.customers import (
    cohorts,
    customer_summary,
    first_orders,
    new_vs_returning,
    rfm,
    rfm_segments,
    segment_members,
    segment_summary,
)
from sales_analytics.metrics.geography import POPULATION_MILLIONS, geography, penetration
from sales_analytics.metrics.products import (
    abc_classes,
    brand_rollup,
    category_rollup,
    product_pairs,
    product_performance,
    slow_movers,
    stock_cover,
)
from sales_analytics.metrics.registry import METRICS, compute, compute_all
from sales_analytics.metrics.sales import (
    decomposition,
    kpi_table,
    kpis,
    month_profile,
    period_over_period,
    revenue_timeseries,
    weekday_profile,
    yoy_growth,
)

__all__ = [
    "GRAINS",
    "METRICS",
    "NO_FILTERS",
    "OTHER_SEGMENT",
    "POPULATION_MILLIONS",
    "RFM_SEGMENT_RULES",
    "SEGMENT_NAMES",
    "Filters",
    "TableSource",
    "abc_classes",
    "as_of_table",
    "brand_rollup",
    "category_rollup",
    "cohorts",
    "compute",
    "compute_all",
    "customer_summary",
    "decomposition",
    "first_orders",
    "geography",
    "kpi_table",
    "kpis",
    "month_profile",
    "new_vs_returning",
    "penetration",
    "period_over_period",
    "product_pairs",
    "product_performance",
    "revenue_timeseries",
    "rfm",
    "rfm_segments",
    "segment_members",
    "segment_summary",
    "slow_movers",
    "stock_cover",
    "to_pandas",
    "weekday_profile",
    "yoy_growth",
]
