"""Customer and revenue models: fit(df) -> self, predict(...) -> DataFrame, evaluate() -> Evaluation.

Inputs are pandas frames (see :mod:`sales_analytics.models.data` for the loaders), so the same
models run on the synthetic shop and on an imported real data set. Saved models are read through
one :class:`~sales_analytics.models.store.ModelStore` (API, dashboard and report alike).

The model classes (scikit-learn, mlforecast, pymc-marketing) are imported on first use, so that
``MODEL_NAMES`` and the store cost nothing to import.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from sales_analytics.models.base import (
    DEFAULT_MODELS_DIR,
    BaseModel,
    Evaluation,
    ModelNotFittedError,
    load_metadata,
    load_model,
)
from sales_analytics.models.store import (
    LoadedModel,
    ModelMissing,
    ModelStore,
    ModelUnusable,
    Staleness,
)

if TYPE_CHECKING:  # pragma: no cover
    from sales_analytics.models.churn import ChurnModel
    from sales_analytics.models.clv import CLVModel
    from sales_analytics.models.clv_regressor import CLVRegressor
    from sales_analytics.models.data import (
        daily_revenue,
        orders_to_transactions,
        prepare_transactions,
        product_demand,
        transactions,
    )
    from sales_analytics.models.demand import DemandModel, forecast_demand
    from sales_analytics.models.forecast import RevenueForecaster
    from sales_analytics.models.segmentation import SegmentationModel

#: The one list of model names, in training order: the ``sales-analytics train --models`` keys,
#: the stems of the saved files, the keys of :data:`MODELS`.
MODEL_NAMES: tuple[str, ...] = ("forecast", "clv", "churn", "segments", "demand")

#: model name -> ``module:class`` (imported on first use of :data:`MODELS` or of the class).
_CLASSES: dict[str, str] = {
    "forecast": "forecast:RevenueForecaster",
    "clv": "clv:CLVModel",
    "churn": "churn:ChurnModel",
    "segments": "segmentation:SegmentationModel",
    "demand": "demand:DemandModel",
}
_LAZY: dict[str, str] = {path.split(":")[1]: path.split(":")[0] for path in _CLASSES.values()} | {
    "CLVRegressor": "clv_regressor",
    "daily_revenue": "data",
    "forecast_demand": "demand",
    "product_demand": "data",
    "orders_to_transactions": "data",
    "prepare_transactions": "data",
    "transactions": "data",
}


def _models() -> dict[str, type[BaseModel]]:
    """``MODELS``: name -> class, checked against each class's own ``name``."""
    out: dict[str, type[BaseModel]] = {}
    for name in MODEL_NAMES:
        module, cls_name = _CLASSES[name].split(":")
        cls = getattr(import_module(f"{__name__}.{module}"), cls_name)
        if cls.name != name:  # pragma: no cover - a renamed class without its entry here
            raise RuntimeError(f"{cls_name}.name is {cls.name!r}, registered as {name!r}")
        out[name] = cls
    return out


def __getattr__(attr: str) -> Any:
    if attr == "MODELS":
        value: Any = _models()
    elif attr in _LAZY:
        value = getattr(import_module(f"{__name__}.{_LAZY[attr]}"), attr)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")
    globals()[attr] = value
    return value


__all__ = [
    "DEFAULT_MODELS_DIR",
    "MODELS",
    "MODEL_NAMES",
    "BaseModel",
    "CLVModel",
    "CLVRegressor",
    "ChurnModel",
    "DemandModel",
    "Evaluation",
    "LoadedModel",
    "ModelMissing",
    "ModelNotFittedError",
    "ModelStore",
    "ModelUnusable",
    "RevenueForecaster",
    "SegmentationModel",
    "Staleness",
    "daily_revenue",
    "forecast_demand",
    "load_metadata",
    "load_model",
    "orders_to_transactions",
    "prepare_transactions",
    "product_demand",
    "transactions",
]
