"""Churn: will a customer place no order in the ``window_days`` after a cutoff?

Label: no purchase in ``[cutoff, cutoff + window_days)``; features: :func:`customer_features`
strictly before the cutoff. A class-balanced RandomForest is calibrated (isotonic, cross-fitted);
the decision threshold maximises F1 on the precision-recall curve of out-of-fold probabilities;
risk tiers: ``high`` at or above that threshold, ``medium`` down to the threshold that still
catches ``medium_recall`` of the churners, ``low`` below.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    precision_recall_curve,
    roc_auc_score,
)
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from sales_analytics.models.base import BaseModel, Evaluation
from sales_analytics.models.data import prepare_transactions
from sales_analytics.models.features import (
    DAY,
    FEATURES,
    customer_features,
    default_end,
    window_totals,
)

TIERS: tuple[str, ...] = ("high", "medium", "low")


def churn_dataset(
    data: pd.DataFrame, cutoff, window_days: int, active_days: int | None = None
) -> pd.DataFrame:
    """Features before ``cutoff`` plus ``churned`` (no order in the window after it).

    ``active_days`` keeps only customers with an order in the ``active_days`` before the cutoff
    (long-lapsed customers are trivially "churned" and would flatter every model).
    """
    cutoff = pd.Timestamp(cutoff)
    X = customer_features(data, cutoff)
    if active_days is not None:
        X = X[X["recency_days"] <= active_days].reset_index(drop=True)
    bought = window_totals(data, cutoff, cutoff + window_days * DAY)["customer_id"]
    return X.assign(churned=(~X["customer_id"].isin(bought)).astype(int))


def f1_threshold(y: np.ndarray, score: np.ndarray) -> float:
    """The score threshold with the best F1 on the precision-recall curve."""
    precision, recall, thresholds = precision_recall_curve(y, score)
    f1 = 2 * precision * recall / np.clip(precision + recall, 1e-12, None)
    return float(thresholds[int(np.argmax(f1[:-1]))])


def recall_threshold(y: np.ndarray, score: np.ndarray, recall_target: float) -> float:
    """The highest threshold whose recall still reaches ``recall_target``."""
    _precision, recall, thresholds = precision_recall_curve(y, score)
    ok = np.nonzero(recall[:-1] >= recall_target)[0]
    return float(thresholds[ok[-1]]) if ok.size else float(thresholds[0])


def classification_metrics(y: np.ndarray, score: np.ndarray, threshold: float) -> dict[str, float]:
    pred = score >= threshold
    tp = float(np.sum(pred & (y == 1)))
    precision = tp / max(pred.sum(), 1)
    recall = tp / max((y == 1).sum(), 1)
    return {
        "pr_auc": float(average_precision_score(y, score)),
        "roc_auc": float(roc_auc_score(y, score)),
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
    }


class ChurnModel(BaseModel):
    """Calibrated, class-balanced RandomForest churn classifier with risk tiers."""

    name: ClassVar[str] = "churn"
    default_config: ClassVar[dict[str, Any]] = {
        "window_days": 90,
        "active_days": 365,
        "n_estimators": 200,
        "min_samples_leaf": 10,
        "max_features": "sqrt",
        "calibration": "isotonic",
        "cv_folds": 3,
        "medium_recall": 0.95,
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

    def fit(self, data: pd.DataFrame, *, cutoff=None) -> ChurnModel:
        """Train at ``cutoff`` (default: ``window_days`` before the data's end)."""
        tx = prepare_transactions(data)
        window = self.config["window_days"]
        cutoff = pd.Timestamp(cutoff) if cutoff is not None else default_end(tx) - window * DAY
        ds = churn_dataset(tx, cutoff, window, self.config["active_days"])
        X, y = ds[list(FEATURES)], ds["churned"].to_numpy()
        if len(np.unique(y)) < 2:
            raise ValueError("churn: the training labels have a single class; use a longer history")
        oof = cross_val_predict(self._classifier(), X, y, cv=self._folds(), method="predict_proba")[
            :, 1
        ]
        self.threshold_ = f1_threshold(y, oof)
        self.medium_threshold_ = min(
            recall_threshold(y, oof, self.config["medium_recall"]), self.threshold_
        )
        self.model_ = self._classifier().fit(X, y)
        self.cutoff_ = cutoff
        self._tx = tx
        self._mark_fitted(
            data_until=tx["order_date"].max(),
            cutoff=cutoff,
            customers=len(ds),
            churn_rate=float(y.mean()),
        )
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        self._check_fitted()
        return self.model_.predict_proba(X[list(FEATURES)])[:, 1]

    def tiers(self, proba: np.ndarray) -> np.ndarray:
        return np.where(
            proba >= self.threshold_,
            "high",
            np.where(proba >= self.medium_threshold_, "medium", "low"),
        )

    def predict(self, data: pd.DataFrame | None = None, *, at=None) -> pd.DataFrame:
        """Churn risk for the ``window_days`` after ``at`` (default: the end of ``data``).

        Returns ``customer_id, recency_days, frequency, churn_probability, churn_predicted,
        risk_tier`` (``high``/``medium``/``low``), highest risk first.
        """
        self._check_fitted()
        tx = self._tx if data is None else prepare_transactions(data)
        at = pd.Timestamp(at) if at is not None else default_end(tx)
        X = customer_features(tx, at)
        if self.config["active_days"] is not None:
            X = X[X["recency_days"] <= self.config["active_days"]].reset_index(drop=True)
        proba = self.predict_proba(X)
        out = pd.DataFrame(
            {
                "customer_id": X["customer_id"],
                "recency_days": X["recency_days"],
                "frequency": X["frequency"],
                "churn_probability": proba,
                "churn_predicted": proba >= self.threshold_,
                "risk_tier": self.tiers(proba),
            }
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
            pd.DataFrame({"feature": FEATURES, "importance": imp})
            .sort_values("importance", ascending=False)
            .reset_index(drop=True)
        )

    def evaluate(self) -> Evaluation:
        """Out-of-time backtest: train at ``end - 2*window``, test at ``end - window``.

        The recency-only baseline scores customers by days since their last order (its
        threshold is chosen on the same training period's PR curve). ``table`` has the rows
        model, pr_auc, roc_auc, precision, recall, f1, brier; ``details``: ``train_cutoff``,
        ``test_cutoff``, ``window_days``, ``test_customers``, ``churn_rate``, ``threshold``,
        ``tiers`` (churn rate per tier), ``calibration`` (mean predicted vs observed) and
        ``feature_importance``.
        """
        self._check_fitted()
        window = self.config["window_days"]
        test_cutoff = default_end(self._tx) - window * DAY
        train_cutoff = test_cutoff - window * DAY
        if train_cutoff <= self._tx["order_date"].min() + window * DAY:
            raise ValueError(f"churn evaluate: the data span is too short for window_days={window}")
        train_tx = self._tx[self._tx["order_date"] < test_cutoff]
        model = ChurnModel(self.config).fit(train_tx, cutoff=train_cutoff)
        test = churn_dataset(self._tx, test_cutoff, window, self.config["active_days"])
        y = test["churned"].to_numpy()
        proba = model.predict_proba(test)
        train = churn_dataset(train_tx, train_cutoff, window, self.config["active_days"])
        recency_thr = f1_threshold(train["churned"].to_numpy(), train["recency_days"].to_numpy())
        rf = classification_metrics(y, proba, model.threshold_) | {
            "brier": float(brier_score_loss(y, proba))
        }
        base = classification_metrics(y, test["recency_days"].to_numpy(), recency_thr) | {
            "brier": float("nan")
        }
        tiers = model.tiers(proba)
        tier_table = pd.DataFrame(
            [
                {
                    "tier": t,
                    "customers": int((tiers == t).sum()),
                    "predicted_rate": float(proba[tiers == t].mean())
                    if (tiers == t).any()
                    else float("nan"),
                    "observed_rate": float(y[tiers == t].mean())
                    if (tiers == t).any()
                    else float("nan"),
                }
                for t in TIERS
            ]
        )
        details = {
            "train_cutoff": train_cutoff,
            "test_cutoff": test_cutoff,
            "window_days": window,
            "test_customers": len(test),
            "churn_rate": float(y.mean()),
            "threshold": model.threshold_,
            "tiers": tier_table,
            "calibration": {"mean_predicted": float(proba.mean()), "observed": float(y.mean())},
            "feature_importance": self.feature_importance().head(8),
        }
        summary = [
            f"threshold {model.threshold_:.3f}; churn rate {y.mean():.1%}; "
            f"mean predicted {proba.mean():.1%}"
        ]
        return self._evaluated(
            Evaluation(
                best="random_forest_calibrated"
                if rf["pr_auc"] >= base["pr_auc"]
                else "recency_only",
                table=pd.DataFrame(
                    [{"model": "random_forest_calibrated"} | rf, {"model": "recency_only"} | base]
                ),
                summary=summary,
                details=details,
                tables={"churn: risk tiers (test period)": tier_table},
            )
        )
