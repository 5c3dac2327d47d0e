"""The churn backtest: the model against recency alone and 1 - P(alive), tiers and lift."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    precision_recall_curve,
    roc_auc_score,
)

from sales_analytics.models.features import DAY, default_end

if TYPE_CHECKING:  # pragma: no cover
    from sales_analytics.models.churn import ChurnModel

#: PR-AUC points the model must gain over a baseline to be called "clearly better"
CLEAR_MARGIN = 0.01


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
    """PR-AUC, ROC-AUC, precision/recall/F1 at ``threshold`` and the top-decile lift (churn
    rate of the 10% highest scores / the overall churn rate)."""
    pred = score >= threshold
    tp = float(np.sum(pred & (y == 1)))
    precision = tp / max(pred.sum(), 1)
    recall = tp / max((y == 1).sum(), 1)
    top = np.argsort(-score, kind="stable")[: max(1, len(y) // 10)]
    return {
        "pr_auc": float(average_precision_score(y, score)),
        "roc_auc": float(roc_auc_score(y, score)),
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "top_decile_lift": float(y[top].mean() / max(y.mean(), 1e-12)),
    }


def verdict(model_row: pd.Series, base_row: pd.Series, name: str) -> str:
    gain = model_row["pr_auc"] - base_row["pr_auc"]
    head = (
        f"vs {name}: PR-AUC {model_row['pr_auc']:.3f} vs {base_row['pr_auc']:.3f} "
        f"({gain:+.3f}), F1 {model_row['f1']:.3f} vs {base_row['f1']:.3f}"
    )
    if gain >= CLEAR_MARGIN:
        return head + ": the model is clearly better"
    if gain > -CLEAR_MARGIN:
        return head + f": NOT clearly better (within {CLEAR_MARGIN:.2f}); {name} ranks as well"
    return head + f": the model is WORSE; {name} ranks better"


def evaluate_churn(model: ChurnModel):
    """Train at ``end - 2*window`` and test at ``end - window``.

    ``table`` has the rows ``random_forest_calibrated``, ``recency_only`` (days since the last
    order) and ``one_minus_p_alive`` (the purchase model alone), each with pr_auc, roc_auc,
    precision, recall, f1, top_decile_lift and brier (thresholds chosen on the training period).
    ``details``: ``train_cutoff``, ``test_cutoff``, ``window_days``, ``test_customers``,
    ``churn_rate``, ``threshold``, ``tier_rule``, ``tiers`` (customers, predicted and observed
    churn rate per tier: never empty), ``lift`` (PR-AUC gains), ``calibration`` and
    ``feature_importance``.
    """
    from sales_analytics.models.base import Evaluation
    from sales_analytics.models.churn import TIERS, ChurnModel

    window = model.config["window_days"]
    tx, returns = model._tx, model._returns
    test_cutoff = default_end(tx) - window * DAY
    train_cutoff = test_cutoff - window * DAY
    if train_cutoff <= tx["order_date"].min() + window * DAY:
        raise ValueError(f"churn evaluate: the data span is too short for window_days={window}")
    train_tx = tx[tx["order_date"] < test_cutoff]
    past = ChurnModel(model.config).fit(train_tx, cutoff=train_cutoff, returns=returns)
    test = model.dataset(tx, test_cutoff, returns)
    train = model.dataset(train_tx, train_cutoff, returns)
    y, y_train = test["churned"].to_numpy(), train["churned"].to_numpy()
    proba = past.predict_proba(test)
    rows = {
        "random_forest_calibrated": classification_metrics(y, proba, past.threshold_)
        | {"brier": float(brier_score_loss(y, proba))},
    }
    for name, col, sign in (
        ("recency_only", "recency_days", 1),
        ("one_minus_p_alive", "p_alive", -1),
    ):
        score, train_score = sign * test[col].to_numpy(), sign * train[col].to_numpy()
        thr = f1_threshold(y_train, train_score)
        brier = float(brier_score_loss(y, 1 - test[col])) if col == "p_alive" else float("nan")
        rows[name] = classification_metrics(y, score, thr) | {"brier": brier}
    table = pd.DataFrame([{"model": k} | v for k, v in rows.items()])
    t = table.set_index("model")
    tiers = past.tiers(proba)
    tier_table = pd.DataFrame(
        [
            {
                "tier": tier,
                "customers": int((tiers == tier).sum()),
                "predicted_rate": float(proba[tiers == tier].mean()) if (tiers == tier).any() else np.nan,
                "observed_rate": float(y[tiers == tier].mean()) if (tiers == tier).any() else np.nan,
            }
            for tier in TIERS
        ]
    )  # fmt: skip
    rf = t.loc["random_forest_calibrated"]
    lift = {
        "vs_recency_pr_auc": float(rf["pr_auc"] - t.loc["recency_only", "pr_auc"]),
        "vs_p_alive_pr_auc": float(rf["pr_auc"] - t.loc["one_minus_p_alive", "pr_auc"]),
    }
    summary = [
        f"threshold {past.threshold_:.3f}; churn rate {y.mean():.1%}; "
        f"mean predicted {proba.mean():.1%}",
        verdict(rf, t.loc["recency_only"], "recency alone"),
        verdict(rf, t.loc["one_minus_p_alive"], "1 - P(alive)"),
        "tiers (" + past.tier_rule_ + "): " + ", ".join(
            f"{r.tier} {r.customers:,} customers, {r.observed_rate:.0%} churned"
            for r in tier_table.itertuples()
        ),
    ]  # fmt: skip
    details = {
        "train_cutoff": train_cutoff,
        "test_cutoff": test_cutoff,
        "window_days": window,
        "test_customers": len(test),
        "churn_rate": float(y.mean()),
        "threshold": past.threshold_,
        "tier_rule": past.tier_rule_,
        "tiers": tier_table,
        "lift": lift,
        "calibration": {"mean_predicted": float(proba.mean()), "observed": float(y.mean())},
        "feature_importance": model.feature_importance().head(8),
    }
    return Evaluation(
        best=str(table.sort_values("pr_auc", ascending=False).iloc[0]["model"]),
        table=table,
        summary=summary,
        details=details,
        tables={"churn: risk tiers (test period)": tier_table},
    )
