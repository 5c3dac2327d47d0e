from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sales_analytics.models import ChurnModel, load_model
from sales_analytics.models.churn_features import CHURN_FEATURES, churn_features
from sales_analytics.models.data import orders_to_transactions
from sales_analytics.synth import generate

FAST = {"n_estimators": 60}


@pytest.fixture(scope="module")
def returns(shop):
    return orders_to_transactions(shop.tables["orders"], statuses=("returned",))


@pytest.fixture(scope="module")
def churn(tx, returns):
    return ChurnModel(FAST).fit(tx, returns=returns)


def test_churn_predict_probabilities_and_tiers(churn, tx):
    pred = churn.predict()
    assert list(pred.columns) == [
        "customer_id",
        "recency_days",
        "frequency",
        "p_alive",
        "churn_probability",
        "churn_predicted",
        "risk_tier",
        "tier_churn_rate",
        "reasons",
    ]
    # tiers never empty, each with its stated (training) churn rate, highest for "high"
    assert set(pred["risk_tier"]) == {"high", "medium", "low"}
    rates = pred.groupby("risk_tier")["tier_churn_rate"].first()
    assert rates["high"] > rates["medium"] > rates["low"]
    # reasons in plain words, with the customer's own numbers
    top = pred.iloc[0]
    assert (
        top["reasons"].startswith("no order")
        and str(int(round(top["recency_days"]))) in top["reasons"]
    )
    assert (pred["reasons"].str.len() > 0).all()
    assert pred["churn_probability"].between(0, 1).all()
    assert pred["churn_probability"].is_monotonic_decreasing
    assert set(pred["risk_tier"]) <= {"high", "medium", "low"}
    assert (pred["recency_days"] <= churn.config["active_days"]).all()
    high = pred["risk_tier"] == "high"
    assert (pred.loc[high, "churn_probability"] >= churn.threshold_).all()
    assert (pred["churn_predicted"] == high).all()
    assert 0 < churn.medium_threshold_ <= churn.threshold_ < 1


def test_churn_trains_strictly_before_the_window(churn, tx):
    end = tx["order_date"].max().normalize() + pd.Timedelta(days=1)
    assert churn.cutoff_ == end - pd.Timedelta(days=90)


@pytest.fixture(scope="module")
def evaluation(churn):
    return churn.evaluate()


def test_churn_evaluate_table(evaluation):
    ev = evaluation
    m, table = ev.details, ev.table.set_index("model")
    assert set(table.index) == {"random_forest_calibrated", "recency_only", "one_minus_p_alive"}
    assert ev.best in table.index and ev.summary[0].startswith("threshold ")
    # the product says whether the model beats each baseline
    assert ev.summary[1].startswith("vs recency alone: PR-AUC")
    assert ev.summary[2].startswith("vs 1 - P(alive): PR-AUC")
    assert m["lift"]["vs_recency_pr_auc"] == pytest.approx(
        table.loc["random_forest_calibrated", "pr_auc"] - table.loc["recency_only", "pr_auc"]
    )
    assert (m["tiers"]["customers"] > 0).all()
    assert list(ev.tables) == ["churn: risk tiers (test period)"]
    assert m["train_cutoff"] + pd.Timedelta(days=90) == m["test_cutoff"]
    rf = table.loc["random_forest_calibrated"]
    assert rf["pr_auc"] > m["churn_rate"]  # better than a random ranking
    assert m["tiers"]["customers"].sum() == m["test_customers"]


def test_churn_margin_over_recency(evaluation):
    """Stated margin on the small synthetic shop: at least 0.005 PR-AUC over recency alone
    (measured +0.016 at scale 0.3; 1 - P(alive) alone is as good: the docs say so)."""
    table = evaluation.table.set_index("model")
    gain = table.loc["random_forest_calibrated", "pr_auc"] - table.loc["recency_only", "pr_auc"]
    assert gain > 0.005


def test_churn_features_see_only_the_past(tx, returns):
    cutoff = tx["order_date"].max().normalize() - pd.Timedelta(days=120)
    X, _ = churn_features(tx, cutoff, window_days=90, family="mbgnbd", returns=returns)
    later = tx["order_date"] >= cutoff
    scrambled = tx.copy()
    scrambled.loc[later, "amount"] = scrambled.loc[later, "amount"] * 7 + 1
    ret = returns.copy()
    ret.loc[ret["order_date"] >= cutoff, "customer_id"] = ret["customer_id"].iloc[0]
    Y, _ = churn_features(scrambled, cutoff, window_days=90, family="mbgnbd", returns=ret)
    pd.testing.assert_frame_equal(X, Y)
    assert list(X.columns) == ["customer_id", *CHURN_FEATURES]
    assert (X["returned_orders"] > 0).any()


def test_tiers_fall_back_to_terciles():
    model = ChurnModel(FAST)
    y = np.array([1] * 90 + [0] * 10)
    score = np.linspace(0, 1, 100)
    model._set_thresholds(y, score)
    tiers = model.tiers(score)
    assert model.tier_rule_ == "terciles of the scores"
    assert all((tiers == t).sum() >= 30 for t in ("high", "medium", "low"))


def test_churn_reproducible_and_persisted(churn, tx, returns, tmp_path):
    again = ChurnModel(FAST).fit(tx, returns=returns)
    pd.testing.assert_frame_equal(again.predict(), churn.predict())
    churn.save(tmp_path)
    pd.testing.assert_frame_equal(load_model("churn", tmp_path).predict(), churn.predict())


def test_churn_single_class_rejected(tx):
    one = tx[tx["customer_id"] == tx["customer_id"].iloc[0]]
    with pytest.raises(ValueError):
        ChurnModel(FAST).fit(one)


@pytest.mark.slow
def test_churn_backtest_vs_recency_only():
    data = generate(scale=1, seed=23)
    model = ChurnModel().fit(orders_to_transactions(data.tables["orders"]))
    ev = model.evaluate()
    m, table = ev.details, ev.table.set_index("model")
    rf, base = table.loc["random_forest_calibrated"], table.loc["recency_only"]
    # recency is nearly sufficient in a BG/NBD world: the forest must at least match it
    assert rf["pr_auc"] >= base["pr_auc"] - 0.01
    assert rf["pr_auc"] > 0.85 and rf["roc_auc"] > 0.8
    # calibrated: mean predicted churn within 5 points of the observed rate
    assert abs(m["calibration"]["mean_predicted"] - m["calibration"]["observed"]) < 0.05
    tiers = m["tiers"].set_index("tier")["observed_rate"]
    assert tiers["high"] > tiers["medium"] > tiers["low"] or np.isnan(tiers["low"])
