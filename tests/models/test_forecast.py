from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sales_analytics.models import RevenueForecaster, load_model
from sales_analytics.models.data import daily_revenue, orders_to_transactions
from sales_analytics.synth import generate

FAST = {
    "horizon": 28,
    "cv_windows": 2,
    "models": ("linear", "random_forest", "seasonal_naive"),
    "rf_n_estimators": 30,
}


@pytest.fixture(scope="module")
def fc(revenue):
    return RevenueForecaster(FAST).fit(revenue)


def test_forecast_predict_frame(fc, revenue):
    pred = fc.predict()
    assert list(pred.columns) == ["ds", "yhat", "lo_80", "hi_80", "lo_95", "hi_95", "model"]
    assert len(pred) == 28
    assert pred["ds"].iloc[0] == revenue["ds"].max() + pd.Timedelta(days=1)
    assert (pred["lo_95"] <= pred["lo_80"]).all() and (pred["lo_80"] <= pred["yhat"]).all()
    assert (pred["yhat"] <= pred["hi_80"]).all() and (pred["hi_80"] <= pred["hi_95"]).all()
    assert (pred["lo_95"] >= 0).all()
    assert pred["model"].unique().tolist() == [fc.best_]


def test_forecast_evaluate_selects_lowest_cv_mae(fc):
    ev = fc.evaluate()
    m, table = ev.details, ev.table
    assert table["model"].tolist()[0] == m["most_accurate"]
    assert ev.best == fc.best_ and fc.evaluation_ is ev
    if m["switched_from"] is None:
        assert ev.best == m["most_accurate"]
    else:  # switched for coverage: a model with good coverage and a close MAE
        row = table.set_index("model").loc[ev.best]
        assert row["mae"] <= table["mae"].min() * 1.1
        assert row["coverage_80"] >= 75 and row["coverage_95"] >= 90
    assert table["mae"].is_monotonic_increasing
    assert set(table["model"]) == set(FAST["models"])
    assert table.set_index("model").loc["seasonal_naive", "mae_vs_naive"] == 1.0
    assert {"coverage_80", "coverage_95", "rmse", "mape"} <= set(table.columns)
    for lv in (80, 95):
        cov = m["coverage"][lv]
        assert cov["factor"] >= 1.0
        assert cov["factor"] == 1.0 or cov["raw"] < lv - fc.config["coverage_tolerance"]
    assert len(m["cutoffs"]) == 2
    fi = m["feature_importance"]
    assert ev.tables == {"forecast: feature importance": fi}
    assert [s.split("%")[0] for s in ev.summary if "% interval of" in s] == ["80", "95"]
    assert {"trend", "lag7", "lag30", "dayofweek", "month", "quarter"} <= set(fi["feature"])
    assert fi["random_forest"].sum() == pytest.approx(1.0)


def test_forecast_cv_uses_only_the_past(fc):
    """Every CV forecast lies after its cutoff, and the windows roll forward by the horizon."""
    cv = fc.cv_
    assert (cv["ds"] > cv["cutoff"]).all()
    assert ((cv["ds"] - cv["cutoff"]).dt.days <= FAST["horizon"]).all()
    cutoffs = sorted(cv["cutoff"].unique())
    assert (np.diff(cutoffs) == np.timedelta64(FAST["horizon"], "D")).all()


def test_forecast_reproducible_and_persisted(fc, revenue, tmp_path):
    again = RevenueForecaster(FAST).fit(revenue)
    pd.testing.assert_frame_equal(again.predict(), fc.predict())
    fc.save(tmp_path)
    pd.testing.assert_frame_equal(load_model("forecast", tmp_path).predict(), fc.predict())


def test_forecast_validation_messages(revenue):
    with pytest.raises(ValueError) as err:
        RevenueForecaster(FAST).fit(revenue.rename(columns={"y": "revenue"}))
    assert str(err.value) == "daily revenue: required column(s) missing: y"
    with pytest.raises(ValueError, match="too short"):
        RevenueForecaster(FAST).fit(revenue.tail(100))
    with pytest.raises(ValueError, match="unknown model"):
        RevenueForecaster({"models": ("prophet", "seasonal_naive")}).fit(revenue)


@pytest.mark.slow
def test_forecast_full_backtest_beats_seasonal_naive():
    data = generate(scale=1, seed=31)
    series = daily_revenue(orders_to_transactions(data.tables["orders"]))
    fc = RevenueForecaster().fit(series)
    ev = fc.evaluate()
    table = ev.table.set_index("model")
    assert len(table) == 6
    assert table.loc[ev.best, "mae_vs_naive"] < 1.0
    for lv in (80, 95):
        cov = ev.details["coverage"][lv]
        # after widening (factor chosen on the other windows) coverage is within 12 points
        assert cov["widened_out_of_window"] >= lv - 12, cov
    pred = fc.predict()
    assert len(pred) == 90 and pred["yhat"].notna().all()
