"""The RandomForest CLV regressor and the spend metrics its backtest shares with BG/NBD.

:class:`CLVRegressor` predicts each customer's spend in the ``horizon_days`` after a cutoff from
behavioural features (:mod:`sales_analytics.models.features`); :class:`~sales_analytics.models.clv.
CLVModel` fits one next to BG/NBD + Gamma-Gamma and compares both with :func:`spend_metrics`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.ensemble import RandomForestRegressor

from sales_analytics.models.base import BaseModel, Evaluation
from sales_analytics.models.data import prepare_transactions
from sales_analytics.models.features import (
    DAY,
    FEATURES,
    customer_features,
    default_end,
    window_totals,
)


def spend_metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Per-customer spend errors plus ranking quality (top-decile share of actual spend)."""
    actual = np.asarray(actual, dtype=float)
    predicted = np.asarray(predicted, dtype=float)
    err = predicted - actual
    top = np.argsort(-predicted, kind="stable")[: max(1, len(predicted) // 10)]
    total = actual.sum()
    return {
        "mae": float(np.mean(np.abs(err))),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "total_error_pct": float(100 * (predicted.sum() - total) / total)
        if total
        else float("nan"),
        "spearman": float(spearmanr(actual, predicted).statistic)
        if len(actual) > 2
        else float("nan"),
        "top_decile_share": float(actual[top].sum() / total) if total else float("nan"),
    }


# ------------------------------------------------------------------------------------ regressor
class CLVRegressor(BaseModel):
    """RandomForest on behavioural features: spend in the ``horizon_days`` after a cutoff.

    Trained on a time split: features from orders before ``cutoff``, target = spend in
    ``[cutoff, cutoff + horizon_days)``; by default ``cutoff = end - horizon_days``.
    """

    name: ClassVar[str] = "clv_rf"
    default_config: ClassVar[dict[str, Any]] = {
        "horizon_days": 365,
        "n_estimators": 300,
        "min_samples_leaf": 5,
        "max_features": 0.5,
        "n_jobs": 2,
        "random_seed": 42,
    }

    def fit(self, data: pd.DataFrame, *, cutoff=None) -> CLVRegressor:
        tx = prepare_transactions(data)
        horizon = self.config["horizon_days"] * DAY
        cutoff = pd.Timestamp(cutoff) if cutoff is not None else default_end(tx) - horizon
        if cutoff <= tx["order_date"].min():
            raise ValueError(
                f"CLVRegressor: the data span is shorter than horizon_days={self.config['horizon_days']}"
            )
        X = customer_features(tx, cutoff)
        y = (
            window_totals(tx, cutoff, cutoff + horizon)
            .set_index("customer_id")["spend"]
            .reindex(X["customer_id"], fill_value=0.0)
            .to_numpy()
        )
        self.model_ = RandomForestRegressor(
            n_estimators=self.config["n_estimators"],
            min_samples_leaf=self.config["min_samples_leaf"],
            max_features=self.config["max_features"],
            n_jobs=self.config["n_jobs"],
            random_state=self.config["random_seed"],
        ).fit(X[list(FEATURES)], y)
        self.cutoff_ = cutoff
        self.end_ = default_end(tx)
        self._mark_fitted(
            data_until=tx["order_date"].max(),
            cutoff=cutoff,
            customers=len(X),
            target_mean=float(y.mean()),
        )
        return self

    def predict(self, data: pd.DataFrame, *, at=None) -> pd.DataFrame:
        """``customer_id, clv_rf``: expected spend in the next ``horizon_days`` after ``at``."""
        self._check_fitted()
        tx = prepare_transactions(data)
        at = pd.Timestamp(at) if at is not None else default_end(tx)
        X = customer_features(tx, at)
        return pd.DataFrame(
            {"customer_id": X["customer_id"], "clv_rf": self.model_.predict(X[list(FEATURES)])}
        )

    def feature_importance(self) -> pd.DataFrame:
        self._check_fitted()
        return (
            pd.DataFrame({"feature": FEATURES, "importance": self.model_.feature_importances_})
            .sort_values("importance", ascending=False)
            .reset_index(drop=True)
        )

    def evaluate(self) -> Evaluation:  # pragma: no cover - evaluated inside CLVModel
        raise NotImplementedError("CLVRegressor is evaluated by CLVModel.evaluate()")
