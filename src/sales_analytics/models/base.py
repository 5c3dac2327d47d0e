"""What every model shares: config merging, column validation, persistence with metrics.

Each model is one class in its own module with ``default_config | user_config``, ``fit(data) ->
self``, ``predict(...) -> DataFrame`` and ``evaluate() -> Evaluation`` (honest backtest metrics
against a naive baseline). :meth:`BaseModel.save` writes ``<name>.joblib`` (the fitted object) and
``<name>.json`` (config, evaluation, data summary) into a models folder; :func:`load_model` reads
them back (:class:`sales_analytics.models.store.ModelStore` adds caching and one-line errors).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar

import joblib
import numpy as np
import pandas as pd

from sales_analytics.config import DEFAULT_MODELS_DIR


class ModelNotFittedError(RuntimeError):
    """``predict``/``evaluate``/``save`` called before ``fit``."""


def validate_columns(data: pd.DataFrame, required: Iterable[str], *, what: str) -> None:
    """Raise ``ValueError("<what>: required column(s) missing: a, b")`` when columns are absent.

    The single place where input frames are checked; tests assert the exact message.
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{what}: expected a pandas DataFrame, got {type(data).__name__}")
    missing = [c for c in required if c not in data.columns]
    if missing:
        raise ValueError(f"{what}: required column(s) missing: {', '.join(missing)}")
    if data.empty:
        raise ValueError(f"{what}: the data has no rows")


def merge_config(default: Mapping[str, Any], user: Mapping[str, Any] | None) -> dict[str, Any]:
    """``default | user``, rejecting keys the model does not know (typos fail loudly)."""
    user = dict(user or {})
    unknown = sorted(set(user) - set(default))
    if unknown:
        raise ValueError(
            f"unknown config key(s): {', '.join(unknown)}; known: {', '.join(sorted(default))}"
        )
    return dict(default) | user


def to_jsonable(obj: Any) -> Any:
    """Numbers, frames and arrays -> plain JSON (NaN/inf -> null)."""
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, pd.DataFrame):
        return to_jsonable(obj.to_dict(orient="records"))
    if isinstance(obj, pd.Series):
        return to_jsonable(obj.to_dict())
    if isinstance(obj, list | tuple | np.ndarray):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, pd.Timestamp | datetime):
        return obj.isoformat()
    if isinstance(obj, int | str | bool) or obj is None:
        return obj
    return str(obj)


@dataclass(frozen=True)
class Evaluation:
    """What every model's ``evaluate()`` returns: one shape, whatever the model.

    Attributes
    ----------
    best
        Name of the row of ``table`` that won the backtest (the model used, or the baseline).
    table
        The model-vs-baseline backtest, one row per candidate (column ``model`` first).
    summary
        Plain sentences worth printing next to the table (no model-specific code needed to show
        them).
    details
        Model-specific extras (coverage, cut-offs, fitted parameters...), documented by each
        model's ``evaluate``.
    tables
        Further frames worth showing, by title (risk tiers, segment profiles, feature
        importance); the same frames are in ``details``.
    """

    best: str
    table: pd.DataFrame
    summary: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: ``best``, ``table`` (records), ``summary`` and the ``details`` keys."""
        return to_jsonable(
            {"best": self.best, "table": self.table, "summary": list(self.summary)} | self.details
        )


class BaseModel:
    """Config, fitted-state checks and persistence shared by the four models."""

    #: file stem in the models folder and key in ``sales-analytics train --models``
    name: ClassVar[str] = "model"
    default_config: ClassVar[dict[str, Any]] = {}

    def __init__(self, config: Mapping[str, Any] | None = None):
        self.config: dict[str, Any] = merge_config(self.default_config, config)
        self.evaluation_: Evaluation | None = None
        self.fitted_at_: str | None = None
        self.data_until_: str | None = None
        self.data_summary_: dict[str, Any] = {}

    # ------------------------------------------------------------------ state
    @property
    def is_fitted(self) -> bool:
        return self.fitted_at_ is not None

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise ModelNotFittedError(f"{type(self).__name__} is not fitted: call fit(data) first")

    def _mark_fitted(self, *, data_until: date | datetime | None, **summary: Any) -> None:
        """Record the fit: now, the last day of the data it saw and a summary of that data."""
        self.fitted_at_ = datetime.now(UTC).isoformat(timespec="seconds")
        self.data_until_ = pd.Timestamp(data_until).date().isoformat() if data_until else None
        self.data_summary_ = to_jsonable({"data_until": self.data_until_} | summary)
        self.evaluation_ = None

    def _evaluated(self, evaluation: Evaluation) -> Evaluation:
        """Keep ``evaluation`` (saved in ``<name>.json``) and return it."""
        self.evaluation_ = evaluation
        return evaluation

    def evaluate(self) -> Evaluation:
        """The model's backtest against a naive baseline (see each model)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ persistence
    def metadata(self) -> dict[str, Any]:
        return to_jsonable(
            {
                "model": self.name,
                "class": type(self).__name__,
                "fitted_at": self.fitted_at_,
                "config": self.config,
                "data": self.data_summary_,
                "metrics": ev.to_dict() if (ev := getattr(self, "evaluation_", None)) else None,
            }
        )

    def save(self, folder: str | Path = DEFAULT_MODELS_DIR) -> Path:
        """Write ``<name>.joblib`` and ``<name>.json`` (with the metrics) into ``folder``."""
        self._check_fitted()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.name}.joblib"
        joblib.dump(self, path, compress=3)
        (folder / f"{self.name}.json").write_text(json.dumps(self.metadata(), indent=2))
        return path


def load_model(name: str, folder: str | Path = DEFAULT_MODELS_DIR) -> BaseModel:
    """Load the model saved as ``<folder>/<name>.joblib`` (see :meth:`BaseModel.save`)."""
    path = Path(folder) / f"{name}.joblib"
    if not path.is_file():
        raise FileNotFoundError(
            f"no saved {name} model at {path}: run `sales-analytics train` first"
        )
    model = joblib.load(path)
    if not isinstance(model, BaseModel):
        raise ValueError(f"{path} does not hold a sales-analytics model")
    return model


def load_metadata(name: str, folder: str | Path = DEFAULT_MODELS_DIR) -> dict[str, Any]:
    path = Path(folder) / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"no saved {name} model metadata at {path}")
    return json.loads(path.read_text())
