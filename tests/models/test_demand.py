"""Demand forecast per product and reorder advice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from sales_analytics.models import DemandModel, load_model
from sales_analytics.models.data import orders_to_weekly_units, product_demand, products
from sales_analytics.models.demand import DEMAND_MODELS, forecast_demand
from sales_analytics.models.reorder import (
    ReorderSettingsError,
    read_overrides,
    reorder_advice,
)


@pytest.fixture(scope="module")
def weekly(shop) -> pd.DataFrame:
    """Weekly units of 30 products of the small shop."""
    frame = orders_to_weekly_units(shop.tables["orders"], shop.tables["order_items"])
    return frame[frame["unique_id"] <= 30].reset_index(drop=True)


@pytest.fixture(scope="module")
def fitted(weekly) -> DemandModel:
    return DemandModel({"n_jobs": 1}).fit(weekly)


def test_model_chosen_per_sku_by_backtest(fitted, weekly):
    res = fitted.result_
    bt, ch = res.backtest, res.choice
    assert set(bt["model"]) == set(DEMAND_MODELS)
    best = bt.sort_values("mae").groupby("unique_id").head(1).set_index("unique_id")["mae"]
    done = ch[ch["status"] == "backtested"].set_index("unique_id")
    assert np.allclose(done["mae"], best.loc[done.index])  # lowest backtest MAE wins
    assert done["mase"].notna().all() and (done["mase"] > 0).all()
    fc = fitted.predict()
    assert list(fc.columns) == ["product_id", "ds", "yhat", "lo_80", "hi_80", "lo_95", "hi_95", "model"]
    assert (fc.groupby("product_id").size() == 8).all()
    assert fc["ds"].min() > weekly["ds"].max()  # the forecast starts after the history
    assert ((fc["lo_95"] <= fc["lo_80"]) & (fc["lo_80"] <= fc["yhat"]) & (fc["yhat"] <= fc["hi_80"])
            & (fc["hi_80"] <= fc["hi_95"])).all()  # fmt: skip
    ev = fitted.evaluate()
    table = ev.table.set_index("model")
    assert ev.best == "per_sku" and table.loc["seasonal_naive", "mae_vs_naive"] == 1.0
    # the per-product choice beats the seasonal naive in total (in-sample choice: optimistic)
    assert table.loc["per_sku", "mae_vs_naive"] < 1.0
    assert table.loc["per_sku", "skus_chosen"] == len(done)
    assert ev.summary[0].startswith("30 products: ")


def test_demand_reproducible_and_saved(fitted, weekly, tmp_path):
    again = forecast_demand(weekly, n_jobs=1)
    pd.testing.assert_frame_equal(again.forecast, fitted.result_.forecast)
    fitted.save(tmp_path)
    pd.testing.assert_frame_equal(load_model("demand", tmp_path).predict(), fitted.predict())


def test_short_and_unsold_products():
    ds = pd.date_range("2024-01-01", periods=40, freq="7D")
    frame = pd.concat([
        pd.DataFrame({"unique_id": 1, "ds": ds, "y": np.tile([0.0, 2.0, 0.0, 1.0], 10)}),
        pd.DataFrame({"unique_id": 2, "ds": ds[-10:], "y": [1.0] * 10}),
        pd.DataFrame({"unique_id": 3, "ds": ds, "y": 0.0}),
    ])  # fmt: skip
    res = forecast_demand(frame, n_jobs=1)
    status = res.choice.set_index("unique_id")["status"].to_dict()
    assert status == {1: "backtested", 2: "short history", 3: "no sales"}
    assert res.choice.set_index("unique_id").loc[2, "model"] == "croston"
    assert (res.forecast.loc[res.forecast["unique_id"] == 3, "yhat"] == 0).all()


def test_reorder_advice_arithmetic(tmp_path):
    sigma = 2.0
    weeks = pd.date_range("2026-01-05", periods=8, freq="7D")
    fc = pd.DataFrame({"product_id": np.repeat([1, 2, 3], 8), "ds": np.tile(weeks, 3),
                       "yhat": np.repeat([7.0, 7.0, 0.0], 8), "model": "tsb"})  # fmt: skip
    fc["hi_80"] = fc["yhat"] + norm.ppf(0.9) * np.repeat([sigma, sigma, 0.0], 8)
    stock = pd.DataFrame({"product_id": [1, 2, 3], "stock_quantity": [10, 100, 5]})
    path = tmp_path / "reorder.csv"
    path.write_text("product_id,lead_time_days,service_level\n2,7,0.9\n")
    out = reorder_advice(fc, stock, lead_time_days=14, service_level=0.95,
                         order_cycle_days=28, overrides=read_overrides(path)).set_index("product_id")  # fmt: skip
    one = out.loc[1]
    assert one["lead_time_demand"] == pytest.approx(14.0)
    assert one["safety_stock"] == pytest.approx(norm.ppf(0.95) * sigma * np.sqrt(2))
    assert one["reorder_point"] == pytest.approx(14.0 + one["safety_stock"])
    assert one["order_quantity"] == int(np.ceil(one["reorder_point"] + 28 - 10))
    assert one["days_of_cover"] == pytest.approx(10.0) and one["status"] == "reorder now"
    two = out.loc[2]  # overridden: 7 days at 90%
    assert (two["lead_time_days"], two["service_level"]) == (7.0, 0.9)
    assert two["safety_stock"] == pytest.approx(norm.ppf(0.9) * sigma)
    assert two["order_quantity"] == 0 and two["status"] == "ok"
    assert out.loc[3, "status"] == "no demand" and np.isnan(out.loc[3, "days_of_cover"])
    assert out.index[0] == 1  # reorder now first
    path.write_text("product_id,lead_time_days\n2,-1\n")
    with pytest.raises(ReorderSettingsError, match="row 2: lead_time_days must be >= 0"):
        read_overrides(path)


def test_product_demand_from_the_database(loaded_db, small_frames):
    weekly = product_demand(loaded_db)
    items = small_frames["order_items"].to_pandas()
    orders = small_frames["orders"].to_pandas()
    done = items.merge(orders.loc[orders["status"] == "completed", ["order_id"]], on="order_id")
    assert weekly["y"].sum() == done["quantity"].sum()
    pd.testing.assert_frame_equal(weekly, orders_to_weekly_units(orders, items), check_dtype=False)
    assert (weekly["ds"].dt.dayofweek == 0).all()  # weeks start on Monday
    per = weekly.groupby("unique_id")["ds"].agg(["min", "max", "size"])
    assert ((per["max"] - per["min"]).dt.days // 7 + 1 == per["size"]).all()  # no gaps
    stock = products(loaded_db)
    assert len(stock) == len(small_frames["products"]) and "stock_quantity" in stock


def test_near_ties_go_to_the_earlier_model_on_every_engine():
    """Backtest MAEs 1e-7 apart (float32 on Spark) are a tie: the earlier model wins either way;
    a real gap still picks the lower MAE."""
    from sales_analytics.models.demand import choose

    models = ["croston", "adida", "imapa"]
    rows = [(1, "croston", 2.0), (1, "adida", 1.0), (1, "imapa", 1.0 - 1e-7),  # tie: adida
            (2, "croston", 1.0 + 1e-7), (2, "adida", 1.0), (2, "imapa", 3.0),  # tie: croston
            (3, "croston", 1.2), (3, "adida", 1.1), (3, "imapa", 1.0)]  # fmt: skip
    bt = pd.DataFrame(rows, columns=["unique_id", "model", "mae"])
    picked = choose(bt, models).set_index("unique_id")["model"].to_dict()
    assert picked == {1: "adida", 2: "croston", 3: "imapa"}
    flipped = bt.copy()
    flipped.loc[flipped["unique_id"] == 1, "mae"] = [2.0, 1.0 - 1e-7, 1.0]  # the tie the other way
    assert choose(flipped, models).set_index("unique_id")["model"][1] == "adida"
