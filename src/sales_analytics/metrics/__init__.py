"""The metric catalogue: every metric declared once, computed by name on DuckDB, PostgreSQL or Spark.

Each metric is one declaration (:mod:`.spec`) next to its ibis builder (:mod:`.sales`,
:mod:`.customers`, :mod:`.products`, :mod:`.geography`, :mod:`.detail`); the business rules they
share are in :mod:`.rules`. Every surface asks for a metric by name::

    >>> from sales_analytics.metrics import Filters, compute
    >>> compute(db, "revenue", Filters(countries=("Germany",)), grain="month")  # doctest: +SKIP

See ``docs/metrics.md`` (generated from the catalogue by ``sales-analytics metrics --markdown``).
"""

from __future__ import annotations

from sales_analytics.metrics.catalog import CATALOG, get, public, register, unregister
from sales_analytics.metrics.columns import COLUMNS, cols
from sales_analytics.metrics.filters import (
    NO_FILTERS,
    OTHER_SEGMENT,
    RFM_SEGMENT_RULES,
    SEGMENT_NAMES,
    Filters,
)
from sales_analytics.metrics.geography import POPULATION_MILLIONS
from sales_analytics.metrics.rules import GRAINS
from sales_analytics.metrics.run import (
    build,
    compute,
    compute_all,
    count,
    definitions,
    expression,
    kpis,
    load,
    refresh,
)
from sales_analytics.metrics.source import TableSource, to_pandas
from sales_analytics.metrics.spec import UNITS, Column, Metric, Param, declare

__all__ = [
    "CATALOG",
    "COLUMNS",
    "GRAINS",
    "NO_FILTERS",
    "OTHER_SEGMENT",
    "POPULATION_MILLIONS",
    "RFM_SEGMENT_RULES",
    "SEGMENT_NAMES",
    "UNITS",
    "Column",
    "Filters",
    "Metric",
    "Param",
    "TableSource",
    "build",
    "cols",
    "compute",
    "compute_all",
    "count",
    "declare",
    "definitions",
    "expression",
    "get",
    "kpis",
    "load",
    "public",
    "refresh",
    "register",
    "to_pandas",
    "unregister",
]
