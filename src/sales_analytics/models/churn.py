"""Churn: will a customer place no order in the ``window_days`` after a cutoff?

Label: no purchase in ``[cutoff, cutoff + window_days)``; features strictly before the cutoff:
the shared behavioural ones plus the purchase model's P(alive) and expected purchases, the days
since the last order relative to the customer's usual gap, the spend trend and returns
(:mod:`.churn_features`). A class-balanced RandomForest is calibrated (sigmoid, cross-fitted:
isotonic steps tie scores and cost ranking quality; see docs/models.md).
The backtest compares it with recency alone and with 1 - P(alive) and says when it does not beat
them. Risk tiers are never empty: ``high`` at or above the best-F1 threshold, ``medium`` down to
the threshold that still catches ``medium_recall`` of the churners, ``low`` below; thresholds that
would leave a tier with fewer than ``min_tier_share`` of the training customers fall back to
terciles of the scores. Each customer gets its top reasons in plain words.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from sales_analytics.models import btyd
from sales_analytics.models.base import BaseModel, Evaluation
from sales_analytics.models.churn_eval import (
    classification_metrics,
    evaluate_churn,
    f1_threshold,
    recall_threshold,
)
from sales_analytics.models.churn_features import CHURN_FEATURES, churn_features, reasons
from sales_analytics.models.data import prepare_transactions
from sales_analytics.models.features import DAY, default_end, window_totals

TIERS: tuple[str, ...] = ("high", "medium", "low")

__all__ = ["TIERS", "ChurnModel", "churn_dataset", "classification_metrics", "f1_threshold"]


def churn_dataset(
    data: pd.DataFrame,
    cutoff,
    window_days: int,
    active_days: int | None = None,
    *,
    family: str = "mbgnbd",
    returns: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Features before ``cutoff`` plus ``churned`` (no order in the window after it).

    ``active_days`` keeps only customers with an order in the ``active_days`` before the cutoff
    (long-lapsed customers are trivially "churned" and would flatter every model).
    """
    cutoff = pd.Timestamp(cutoff)
    X, _fit = churn_features(data, cutoff, window_days=window_days, family=family, returns=returns)
    if active_days is not None:
        X = X[X["recency_days"] <= active_days].reset_index(drop=True)
    bought = window_totals(data, cutoff, cutoff + window_days * DAY)["customer_id"]
    return X.assign(churned=(~X["customer_id"].isin(bought)).astype(int))


class ChurnModel(BaseModel):
    """Calibrated, class-balanced RandomForest churn classifier with risk tiers and reasons.

    ``fit(tx, *, cutoff=None, returns=None)``: ``returns`` are the customers' returned orders
    (``customer_id, order_date``; optional, for the returns features).
    """

    name: ClassVar[str] = "churn"
    default_config: ClassVar[dict[str, Any]] = {
        "window_days": 90,
        "active_days": 365,
        "purchase_model": "mbgnbd",
        "n_estimators": 200,
        "min_samples_leaf": 30,
        "max_features": "sqrt",
        "calibration": "sigmoid",
        "cv_folds": 3,
        "medium_recall": 0.95,
        "min_tier_share": 0.05,
        "reasons": 2,
        "n_jobs": 2,
        "random_seed": 42,
    }

    def _classifier(self) -> CalibratedClassifierCV:
        c = self.config
        forest = RandomForestClassifier(
            n_estimators=c["n_estimators"],
            min_samples_leaf=c["min_samples_leaf"],
            max_features=c["max_features"],
            class_weight="balanced",
            n_jobs=c["n_jobs"],
            random_state=c["random_seed"],
        )
        return CalibratedClassifierCV(forest, method=c["calibration"], cv=c["cv_folds"])

    def _folds(self) -> StratifiedKFold:
        return StratifiedKFold(
            self.config["cv_folds"], shuffle=True, random_state=self.config["random_seed"]
        )

    def dataset(self, tx: pd.DataFrame, cutoff, returns=None) -> pd.DataFrame:
        c = self.config
        return churn_dataset(
            tx, cutoff, c["window_days"], c["active_days"],
            family=c["purchase_model"], returns=returns,
        )  # fmt: skip

    def fit(self, data: pd.DataFrame, *, cutoff=None, returns=None) -> ChurnModel:
        """Train at ``cutoff`` (default: ``window_days`` before the data's end)."""
        tx = prepare_transactions(data)
        btyd.check_family(self.config["purchase_model"])
        window = self.config["window_days"]
        cutoff = pd.Timestamp(cutoff) if cutoff is not None else default_end(tx) - window * DAY
        ds = self.dataset(tx, cutoff, returns)
        X, y = ds[list(CHURN_FEATURES)], ds["churned"].to_numpy()
        if len(np.unique(y)) < 2:
            raise ValueError("churn: the training labels have a single class; use a longer history")
        oof = cross_val_predict(self._classifier(), X, y, cv=self._folds(), method="predict_proba")[
            :, 1
        ]
        self._set_thresholds(y, oof)
        self.model_ = self._classifier().fit(X, y)
        self.reference_ = ds.loc[ds["churned"] == 0, list(CHURN_FEATURES)].median()
        self.cutoff_ = cutoff
        self._tx = tx
        self._returns = None if returns is None else returns[["customer_id", "order_date"]].copy()
        self._mark_fitted(
            data_until=tx["order_date"].max(),
            cutoff=cutoff,
            customers=len(ds),
            churn_rate=float(y.mean()),
        )
        return self

    def _set_thresholds(self, y: np.ndarray, score: np.ndarray) -> None:
        """Best-F1 and recall thresholds; terciles when a tier would be (nearly) empty."""
        high = f1_threshold(y, score)
        medium = min(recall_threshold(y, score, self.config["medium_recall"]), high)
        share = self.config["min_tier_share"]
        shares = [(score >= high).mean(), ((score >= medium) & (score < high)).mean(),
                  (score < medium).mean()]  # fmt: skip
        self.tier_rule_ = "best F1 / 95% recall"
        if min(shares) < share:
            medium, high = np.quantile(score, [1 / 3, 2 / 3])
            if high <= medium:  # calibrated scores come in steps: take the next step up
                above = np.unique(score[score > medium])
                high = above[0] if above.size else high
            self.tier_rule_ = "terciles of the scores"
        self.threshold_, self.medium_threshold_ = float(high), float(medium)
        tiers = self.tiers(score)
        self.tier_rates_ = {
            t: {"customers": int((tiers == t).sum()),
                "churn_rate": float(y[tiers == t].mean()) if (tiers == t).any() else float("nan")}
            for t in TIERS
        }  # fmt: skip

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        self._check_fitted()
        return self.model_.predict_proba(X[list(CHURN_FEATURES)])[:, 1]

    def tiers(self, proba: np.ndarray) -> np.ndarray:
        return np.where(
            proba >= self.threshold_,
            "high",
            np.where(proba >= self.medium_threshold_, "medium", "low"),
        )

    def features(self, data=None, *, at=None, returns=None) -> pd.DataFrame:
        """The feature frame at ``at`` (default: the end of ``data``) of the active customers."""
        tx = self._tx if data is None else prepare_transactions(data)
        returns = self._returns if data is None and returns is None else returns
        at = pd.Timestamp(at) if at is not None else default_end(tx)
        X, _fit = churn_features(
            tx, at, window_days=self.config["window_days"],
            family=self.config["purchase_model"], returns=returns,
        )  # fmt: skip
        if self.config["active_days"] is not None:
            X = X[X["recency_days"] <= self.config["active_days"]].reset_index(drop=True)
        return X

    def predict(self, data: pd.DataFrame | None = None, *, at=None, returns=None) -> pd.DataFrame:
        """Churn risk for the ``window_days`` after ``at`` (default: the end of ``data``).

        Returns ``customer_id, recency_days, frequency, p_alive, churn_probability,
        churn_predicted, risk_tier, tier_churn_rate`` (the churn rate of the customer's tier in
        training) and ``reasons`` (plain words), highest risk first.
        """
        self._check_fitted()
        return self.rank(self.score_features(self.features(data, at=at, returns=returns)))

    def score_features(self, X: pd.DataFrame) -> pd.DataFrame:
        """``customer_id, recency_days, frequency, p_alive, churn_probability, reasons`` of the
        feature rows ``X``: row by row, so any split of the customers gives the same rows."""
        self._check_fitted()
        proba = self.predict_proba(X)
        words = reasons(
            X, proba, self.predict_proba, getattr(self, "reference_", X.median(numeric_only=True)),
            top=self.config["reasons"],
        )  # fmt: skip
        return pd.DataFrame(
            {
                "customer_id": X["customer_id"].to_numpy(),
                "recency_days": X["recency_days"].to_numpy(),
                "frequency": X["frequency"].to_numpy(),
                "p_alive": X["p_alive"].to_numpy(),
                "churn_probability": proba,
                "reasons": words,
            }
        )

    def rank(self, scored: pd.DataFrame) -> pd.DataFrame:
        """:meth:`predict`'s frame from :meth:`score_features` rows of every scored customer:
        risk tiers (from terciles of these scores when the training thresholds leave a tier
        empty: a population unlike the training one), highest risk first."""
        proba = scored["churn_probability"].to_numpy()
        tier = self.tiers(proba)
        if len(proba) >= 3 and len(set(tier)) < len(TIERS):
            medium, high = np.quantile(proba, [1 / 3, 2 / 3])
            tier = np.where(proba >= high, "high", np.where(proba >= medium, "medium", "low"))
        out = scored.drop(columns=["reasons"]).assign(
            churn_predicted=tier == "high",
            risk_tier=tier,
            tier_churn_rate=[self.tier_rates_[t]["churn_rate"] for t in tier],
            reasons=scored["reasons"].to_numpy(),
        )
        return out.sort_values("churn_probability", ascending=False, kind="stable").reset_index(
            drop=True
        )

    def feature_importance(self) -> pd.DataFrame:
        self._check_fitted()
        imp = np.mean(
            [c.estimator.feature_importances_ for c in self.model_.calibrated_classifiers_], axis=0
        )
        return (
            pd.DataFrame({"feature": CHURN_FEATURES, "importance": imp})
            .sort_values("importance", ascending=False)
            .reset_index(drop=True)
        )

    def evaluate(self) -> Evaluation:
        """Out-of-time backtest: train at ``end - 2*window``, test at ``end - window``, against
        recency alone and 1 - P(alive) (see :func:`.churn_eval.evaluate_churn`)."""
        self._check_fitted()
        return self._evaluated(evaluate_churn(self))
