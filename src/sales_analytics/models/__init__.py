"""Customer and revenue models: fit(df) -> self, predict(...) -> DataFrame, evaluate() -> metrics.

Inputs are pandas frames (see :mod:`sales_analytics.models.data` for the loaders), so the same
models run on the synthetic shop and on an imported real data set.
"""

from __future__ import annotations

from sales_analytics.models.base import (
    DEFAULT_MODELS_DIR,
    BaseModel,
    ModelNotFittedError,
    load_metadata,
    load_model,
)
from sales_analytics.models.churn import ChurnModel
from sales_analytics.models.clv import CLVModel, CLVRegressor
from sales_analytics.models.data import (
    daily_revenue,
    orders_to_transactions,
    prepare_transactions,
    transactions,
)
from sales_analytics.models.forecast import RevenueForecaster
from sales_analytics.models.segmentation import SegmentationModel

#: ``sales-analytics train --models`` key -> model class.
MODELS: dict[str, type[BaseModel]] = {
    "forecast": RevenueForecaster,
    "clv": CLVModel,
    "churn": ChurnModel,
    "segments": SegmentationModel,
}

__all__ = [
    "DEFAULT_MODELS_DIR",
    "MODELS",
    "BaseModel",
    "CLVModel",
    "CLVRegressor",
    "ChurnModel",
    "ModelNotFittedError",
    "RevenueForecaster",
    "SegmentationModel",
    "daily_revenue",
    "load_metadata",
    "load_model",
    "orders_to_transactions",
    "prepare_transactions",
    "transactions",
]
