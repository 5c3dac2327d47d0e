"""Enums for query parameters and pydantic response models (they make the OpenAPI spec precise).

Money is a float (DECIMAL columns are converted), timestamps are ISO 8601 in the shop's local time
without an offset (the database stores ``TIMESTAMP`` without a time zone), a missing or undefined
value (no orders, division by zero, NaN) is ``null``.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from sales_analytics.metrics import GRAINS, SEGMENT_NAMES


def slugify(name: str) -> str:
    """``"Can't Lose Them"`` -> ``"cant-lose-them"``: the URL spelling of an RFM segment name."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower().replace("'", "")).strip("-")


#: URL slug -> RFM segment name, in rule order.
SEGMENT_BY_SLUG: dict[str, str] = {slugify(name): name for name in SEGMENT_NAMES}

#: A timestamp as stored: ISO 8601 local shop time without an offset (``2024-03-01T14:05:00``).
#: JSON Schema's ``date-time`` format demands an offset, so the schema gives the pattern instead.
LocalDateTime = Annotated[
    datetime,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$",
            "description": "ISO 8601 local date-time (shop time, no offset)",
            "examples": ["2024-03-01T14:05:00"],
        }
    ),
]

Grain = StrEnum("Grain", {g: g for g in GRAINS})
Grain.__doc__ = "Time grain of a series: day, week (Monday start) or month."
Segment = StrEnum("Segment", {slug.replace("-", "_"): slug for slug in SEGMENT_BY_SLUG})
Segment.__doc__ = "RFM named segment, spelled as a URL slug (e.g. `cant-lose-them`)."


class Level(StrEnum):
    """Geographic level."""

    country = "country"
    region = "region"


class GrowthKind(StrEnum):
    """``yoy``: against the same period a year back; ``pop``: against the previous period."""

    yoy = "yoy"
    pop = "pop"


class SortOrder(StrEnum):
    asc = "asc"
    desc = "desc"


class CustomerSort(StrEnum):
    customer_id = "customer_id"
    total_spent = "total_spent"
    order_count = "order_count"
    avg_order_value = "avg_order_value"
    last_order_at = "last_order_at"
    created_at = "created_at"


class ProductSort(StrEnum):
    product_id = "product_id"
    product_name = "product_name"
    revenue = "revenue"
    units_sold = "units_sold"
    order_count = "order_count"
    profit = "profit"
    margin_pct = "margin_pct"
    units_returned = "units_returned"


class AbcClass(StrEnum):
    A = "A"
    B = "B"
    C = "C"


class ScoreSort(StrEnum):
    customer_id = "customer_id"
    clv = "clv"
    p_alive = "p_alive"
    churn_probability = "churn_probability"


class RiskTier(StrEnum):
    high = "high"
    medium = "medium"
    low = "low"


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


T = TypeVar("T")


class Page(Model, Generic[T]):
    """One page of a list with a stable order: ``items[offset : offset + limit]`` of ``total``."""

    total: int = Field(description="Rows matching the filters (all pages)")
    limit: int
    offset: int
    items: list[T]


class Error(Model):
    detail: str = Field(description="What went wrong, in one line")


class Health(Model):
    status: Literal["ok", "unavailable"]
    database: str | None = Field(description="duckdb or postgres")
    version: str
    detail: str | None = None


# ------------------------------------------------------------------------------------- sales
class Kpis(Model):
    revenue: float = Field(description="Net revenue: completed orders")
    gross_revenue: float
    returned_revenue: float
    orders: int
    aov: float | None
    units: int
    customers: int
    new_customers: int
    returning_customers: int
    revenue_per_customer: float | None
    gross_orders: int
    cancelled_orders: int
    returned_orders: int
    cancel_rate: float | None
    return_rate: float | None
    first_order_at: LocalDateTime | None
    last_order_at: LocalDateTime | None


class RevenuePoint(Model):
    period: date
    orders: int
    revenue: float
    aov: float | None
    units: int
    customers: int
    gross_orders: int
    gross_revenue: float
    cancelled_orders: int
    returned_orders: int
    returned_revenue: float


class RevenueSeries(Model):
    grain: Grain
    items: list[RevenuePoint]


class GrowthPoint(Model):
    period: date
    revenue: float
    revenue_comparison: float | None = Field(description="Revenue of the comparison period")
    revenue_growth: float | None = Field(description="(revenue - comparison) / comparison")
    orders: int
    orders_comparison: int | None
    orders_growth: float | None


class GrowthSeries(Model):
    kind: GrowthKind
    grain: Grain
    comparison: str = Field(description="Which period each row is compared with")
    items: list[GrowthPoint]


# ------------------------------------------------------------------------------------- customers
class CustomerSummary(Model):
    customer_id: int
    first_name: str
    last_name: str
    email: str
    country: str
    region: str
    city: str
    created_at: LocalDateTime
    order_count: int
    cancelled_count: int
    returned_count: int
    total_spent: float
    avg_order_value: float | None
    first_order_at: LocalDateTime | None
    last_order_at: LocalDateTime | None


class Rfm(Model):
    as_of: date
    last_order_at: LocalDateTime
    recency_days: int
    frequency: int
    monetary: float
    r_score: int
    f_score: int
    m_score: int
    rfm_score: int
    segment: str
    segment_slug: Segment


class CustomerDetail(CustomerSummary):
    rfm: Rfm | None = Field(
        description="RFM over all customers and the whole history (null: no completed order)"
    )


class SegmentRow(Model):
    segment: str
    segment_slug: Segment
    customers: int
    orders: int
    revenue: float
    aov: float | None
    avg_recency_days: float | None
    avg_frequency: float | None
    avg_monetary: float | None
    customer_share: float | None
    revenue_share: float | None


class SegmentSummary(Model):
    items: list[SegmentRow]


class SegmentMember(Rfm):
    customer_id: int
    first_name: str
    last_name: str
    country: str


class CohortRow(Model):
    cohort: date
    months_since: int
    cohort_size: int
    active_customers: int
    retention: float | None
    orders: int
    revenue: float
    revenue_per_customer: float | None
    cumulative_revenue_per_customer: float | None


class Cohorts(Model):
    items: list[CohortRow]


# ------------------------------------------------------------------------------------- products
class ProductRow(Model):
    product_id: int
    product_name: str
    category: str
    brand: str
    unit_price: float
    unit_cost: float
    stock_quantity: int
    units_sold: int
    order_count: int
    units_returned: int
    revenue: float
    cost: float
    profit: float
    margin_pct: float | None


class AbcRow(Model):
    product_id: int
    product_name: str
    category: str
    brand: str
    revenue: float
    rank: int
    revenue_share: float | None
    cumulative_share: float | None
    abc_class: AbcClass


class GeographyRow(Model):
    country: str
    region: str | None = None
    revenue: float
    orders: int
    customers: int
    aov: float | None
    revenue_share: float | None
    revenue_12m: float
    revenue_prev_12m: float
    growth_12m: float | None


class Geography(Model):
    level: Level
    items: list[GeographyRow]


# ------------------------------------------------------------------------------------- models
class ForecastPoint(Model):
    date: date
    yhat: float
    lo_80: float | None
    hi_80: float | None
    lo_95: float | None
    hi_95: float | None


class BacktestRow(Model):
    model: str
    mae: float | None
    rmse: float | None
    mape: float | None
    coverage_80: float | None = None
    coverage_95: float | None = None
    mae_vs_naive: float | None


class Coverage(Model):
    nominal: float
    raw: float | None = Field(
        description="Empirical coverage (%) of the raw intervals on the backtest"
    )
    factor: float = Field(description="Widening factor applied to the intervals (1 = none)")
    widened_out_of_window: float | None = Field(
        description="Coverage (%) after widening, each window's factor chosen on the other windows"
    )


class Backtest(Model):
    best: str = Field(description="The model that forecasts")
    most_accurate: str | None = Field(None, description="Lowest backtest MAE")
    switched_from: str | None = Field(
        None,
        description="The more accurate model passed over because its widened intervals still "
        "under-covered in the backtest (null: no switch)",
    )
    baseline: str
    cv_windows: int
    cv_horizon: int
    cutoffs: list[LocalDateTime]
    models: list[BacktestRow] = Field(
        description="Rolling-origin CV errors per candidate, lowest MAE first"
    )
    coverage: dict[str, Coverage] = Field(description='Interval level ("80", "95") -> coverage')


class Forecast(Model):
    model: str = Field(description="The selected model")
    fitted_at: str | None
    history_end: date | None = Field(description="Last day of the revenue series the model saw")
    horizon: int
    levels: list[int]
    points: list[ForecastPoint]
    backtest: Backtest


class Score(Model):
    customer_id: int
    clv: float | None = Field(
        description="Expected spend over the CLV horizon (BG/NBD + Gamma-Gamma)"
    )
    expected_purchases: float | None
    expected_spend: float | None = Field(description="Expected value of one order (Gamma-Gamma)")
    p_alive: float | None = Field(description="Probability the customer is still active (BG/NBD)")
    churn_probability: float | None = Field(description="P(no order in the churn window)")
    churn_predicted: bool | None
    risk_tier: RiskTier | None
    cluster: int | None = Field(None, description="K-Means segment (0 = highest mean spend)")
    cluster_name: str | None = None


class ScoreModels(Model):
    clv: str | None = Field(description="fitted_at of the CLV model (null: not trained)")
    churn: str | None
    segments: str | None
    clv_horizon_days: int | None
    churn_window_days: int | None


class ScorePage(Page[Score]):
    models: ScoreModels


class CustomerScores(Score):
    models: ScoreModels


class SavedModel(Model):
    name: str
    available: bool
    status: Literal["ok", "missing", "unusable"]
    detail: str | None = None
    class_name: str | None = None
    fitted_at: str | None = None
    data: dict[str, Any] | None = None


class SavedModels(Model):
    models_dir: str
    items: list[SavedModel]
