"""Enums for query parameters and the fixed pydantic response models (the OpenAPI spec is exact).

The metric endpoints' row models are built from the catalogue's declarations at app creation
(:mod:`sales_analytics.api.declared`); this module holds what is fixed: the catalogue listing, the
filter echo, errors, health and the saved models' answers. Money is a float (DECIMAL columns are
converted), timestamps are ISO 8601 in the shop's local time without an offset (the database
stores ``TIMESTAMP`` without a time zone), a missing or undefined value (no orders, division by
zero, NaN) is ``null``.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from sales_analytics.metrics import SEGMENT_NAMES

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

#: An RFM named segment, spelled as the metrics spell it (``Can't Lose Them``).
SegmentName = Literal[SEGMENT_NAMES]  # type: ignore[valid-type]


class SortOrder(StrEnum):
    asc = "asc"
    desc = "desc"


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
    status: Literal["ok", "degraded", "unavailable"] = Field(
        description="ok; degraded: the database did not answer within the health timeout (a "
        "table lock, overload); unavailable: unreachable, corrupt or without schema"
    )
    database: str | None = Field(description="duckdb or postgres")
    version: str = Field(description="The API's version")
    data_version: int | None = Field(
        None, description="The data version (one per committed load or refresh)"
    )
    data_as_of: datetime | None = Field(None, description="When that data version was committed")
    detail: str | None = None


# ------------------------------------------------------------------------------------- catalogue
class ParamInfo(Model):
    """A metric parameter, as the endpoint takes it."""

    name: str = Field(description="The parameter's name in the catalogue")
    query: str = Field(
        description="Its query parameter on `/v1/metrics/{name}` (`cap` for `limit`)"
    )
    type: Literal["string", "integer", "number", "boolean"]
    default: Any = Field(description="Used when the query parameter is absent (null: none)")
    description: str
    choices: list[Any] | None = Field(description="Every allowed value (null: any in range)")
    minimum: float | None
    maximum: float | None
    required: bool


class ColumnInfo(Model):
    """An output column: its type, unit and meaning."""

    name: str
    dtype: Literal["int64", "float64", "decimal", "string", "date", "timestamp", "boolean"]
    unit: str = Field(
        description="currency, count, ratio (0..1), percent, number, days, date, "
        "timestamp, text or id"
    )
    label: str
    description: str
    higher_is_better: bool | None = Field(description="Which direction is good (null: neither)")
    technical: bool = Field(description="A helper value (an id), hidden from owners' tables")
    when: dict[str, list[Any]] = Field(
        description="Only returned for these parameter values (empty: always)"
    )


class MetricInfo(Model):
    """One catalogue entry."""

    name: str
    path: str = Field(description="Its endpoint")
    label: str
    grain: str = Field(description="What one row is")
    description: str
    domain: str
    params: list[ParamInfo]
    columns: list[ColumnInfo]


class Catalogue(Model):
    currency: str = Field(description="ISO 4217 code of every `currency` column (SA_CURRENCY)")
    items: list[MetricInfo]


class FiltersEcho(Model):
    """The filters a metric was computed for (absent ones are null / empty)."""

    start: date | None = Field(description="First order day, inclusive")
    end: date | None = Field(description="Last order day, inclusive")
    countries: list[str]
    segments: list[SegmentName]


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
    windows: int | None = Field(None, description="Backtest windows the model was scored on")
    pruned_after: int | None = Field(
        None, description="Dropped after this window for losing badly (null: kept to the end)"
    )


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


class ReorderRow(Model):
    product_id: int
    product_name: str | None = None
    category: str | None = None
    stock_quantity: int | None = Field(None, description="Units in stock now")
    model: str | None = Field(None, description="Demand model chosen for the product by backtest")
    weekly_demand: float | None = Field(None, description="Forecast units per week (mean)")
    lead_time_days: float | None = None
    service_level: float | None = None
    lead_time_demand: float | None = Field(None, description="Forecast units over the lead time")
    safety_stock: float | None = Field(None, description="z(service level) x lead-time sigma")
    reorder_point: float | None = Field(None, description="Lead-time demand + safety stock")
    order_quantity: int | None = Field(None, description="Suggested order now (0: none)")
    days_of_cover: float | None = Field(None, description="Stock / forecast units per day")
    status: Literal["reorder now", "ok", "no demand"]


class ReorderPage(Page[ReorderRow]):
    fitted_at: str | None = Field(None, description="When the demand model was trained")
    history_end: date | None = Field(None, description="Last week of sales the model saw")
    horizon_weeks: int


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


class ActionListName(StrEnum):
    """The action lists (:mod:`sales_analytics.models.actions`)."""

    win_back = "win-back"
    high_value_at_risk = "high-value-at-risk"
    second_purchase = "second-purchase"


class ListFormat(StrEnum):
    json = "json"
    csv = "csv"


class ActionContact(Model):
    customer_id: int
    email: str | None
    first_name: str | None
    last_name: str | None
    country: str | None
    last_order_date: date | None
    last_product: str | None
    days_since_last_order: int
    p_alive: float = Field(description="P(still a customer), the CLV model's purchase model")
    churn_probability: float | None = Field(description="null when no churn model scored them")
    value_at_stake: float = Field(description="12-month value if retained: CLV / P(alive)")
    reason: str
    suggested_timing: str
    list: str


class ActionListPage(Page[ActionContact]):
    list: str
    value_at_stake: float = Field(description="Sum over the whole list (all pages)")
    currency: str
    models: dict[str, str | None] = Field(description="fitted_at of the clv and churn models")
