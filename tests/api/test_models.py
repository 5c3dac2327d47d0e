"""Forecast and score endpoints: saved models (tiny, trained once), missing and broken ones."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from sales_analytics.models import load_model


def test_forecast_points_intervals_and_backtest(client, models_dir):
    body = client.get("/v1/forecast").json()
    model = load_model("forecast", models_dir)
    assert body["model"] == model.best_ and body["horizon"] == 90 and body["levels"] == [80, 95]
    points = pd.DataFrame(body["points"])
    assert len(points) == 90
    first = pd.Timestamp(body["history_end"]) + pd.Timedelta(days=1)
    assert list(pd.to_datetime(points["date"])) == list(pd.date_range(first, periods=90, freq="D"))
    assert (points["lo_95"] <= points["lo_80"]).all() and (points["lo_80"] <= points["yhat"]).all()
    assert (points["yhat"] <= points["hi_80"]).all() and (points["hi_80"] <= points["hi_95"]).all()
    expected = model.predict()
    assert points["yhat"].to_numpy() == pytest.approx(expected["yhat"].to_numpy())
    backtest = body["backtest"]
    assert {r["model"] for r in backtest["models"]} == {"linear", "seasonal_naive"}
    assert (
        backtest["best"] == body["model"]
        and backtest["most_accurate"] == backtest["models"][0]["model"]
    )
    assert backtest["switched_from"] in (None, backtest["most_accurate"])
    assert backtest["baseline"] == "seasonal_naive" and set(backtest["coverage"]) == {"80", "95"}
    naive = next(r for r in backtest["models"] if r["model"] == "seasonal_naive")
    assert naive["mae_vs_naive"] == pytest.approx(1.0)

    short = client.get("/v1/forecast", params={"h": 7}).json()
    assert short["horizon"] == 7 and short["points"] == body["points"][:7]
    too_far = client.get("/v1/forecast", params={"h": 91})
    assert too_far.status_code == 422
    assert too_far.json()["detail"][0]["msg"] == "h=91 exceeds the trained horizon of 90 days"


def test_scores_match_the_models(client, models_dir, transactions):
    body = client.get("/v1/scores", params={"limit": 1000}).json()
    clv = load_model("clv", models_dir).predict().set_index("customer_id")
    churn = load_model("churn", models_dir).predict().set_index("customer_id")
    ids = [r["customer_id"] for r in body["items"]]
    assert ids == sorted(set(clv.index) | set(churn.index)) and body["total"] == len(ids)
    assert body["models"]["clv_horizon_days"] == 365 and body["models"]["churn_window_days"] == 90
    assert all(body["models"][m] for m in ("clv", "churn", "segments"))
    for row in body["items"]:
        cid = row["customer_id"]
        assert row["clv"] == pytest.approx(clv.loc[cid, "clv"])
        assert row["p_alive"] == pytest.approx(clv.loc[cid, "p_alive"])
        if cid in churn.index:
            assert row["churn_probability"] == pytest.approx(churn.loc[cid, "churn_probability"])
            assert row["risk_tier"] == churn.loc[cid, "risk_tier"]
        else:  # lapsed for longer than the churn model's active_days: not scored
            assert row["churn_probability"] is None and row["risk_tier"] is None
        assert row["cluster"] is not None and row["cluster_name"]

    high = client.get("/v1/scores", params={"risk_tier": "high", "limit": 1000}).json()
    assert high["total"] == int((churn["risk_tier"] == "high").sum())
    assert {r["risk_tier"] for r in high["items"]} == {"high"}
    top = client.get("/v1/scores", params={"sort": "clv", "order": "desc", "limit": 5}).json()
    assert [r["customer_id"] for r in top["items"]] == list(
        clv.sort_values("clv", ascending=False, kind="stable").index[:5]
    )


def test_scores_country_filter_and_one_customer(client, small_frames):
    customers = small_frames["customers"].to_pandas()
    german = set(customers.loc[customers["country"] == "Germany", "customer_id"])
    body = client.get("/v1/scores", params={"country": "Germany", "limit": 1000}).json()
    assert body["items"] and {r["customer_id"] for r in body["items"]} <= german
    one = client.get(f"/v1/customers/{body['items'][0]['customer_id']}/scores").json()
    assert one == body["items"][0] | {"models": body["models"]}


def test_models_listing(client):
    items = {m["name"]: m for m in client.get("/v1/models").json()["items"]}
    assert set(items) == {"forecast", "clv", "churn", "segments", "demand"}
    assert all(m["available"] and m["status"] == "ok" and m["fitted_at"] for m in items.values())
    assert items["forecast"]["class_name"] == "RevenueForecaster"


def test_demand_reorder_advice(client, models_dir, loaded_db):
    from sales_analytics.models.data import products
    from sales_analytics.models.reorder import advice

    body = client.get("/v1/models/demand", params={"limit": 1000}).json()
    expected = advice(load_model("demand", models_dir).predict(), products(loaded_db))
    assert body["total"] == len(expected) and body["horizon_weeks"] == 8
    got = pd.DataFrame(body["items"])
    assert got["product_id"].tolist() == expected["product_id"].tolist()
    assert got["reorder_point"].to_numpy() == pytest.approx(expected["reorder_point"].to_numpy())
    assert got["order_quantity"].tolist() == expected["order_quantity"].tolist()
    now = client.get("/v1/models/demand", params={"status": "reorder now"}).json()
    assert {r["status"] for r in now["items"]} <= {"reorder now"}
    assert now["total"] == int((expected["status"] == "reorder now").sum())
    bad = client.get("/v1/models/demand", params={"status": "later"})
    assert bad.status_code == 422


def test_no_trained_model_is_404(loaded_db, make_client, tmp_path):
    c = make_client(loaded_db.url, models_dir=tmp_path / "empty")
    for path in ("/v1/forecast", "/v1/scores", "/v1/customers/1/scores", "/v1/models/demand"):
        r = c.get(path)
        assert r.status_code == 404, path
        assert "run `sales-analytics train` first" in r.json()["detail"]
    listing = c.get("/v1/models").json()["items"]
    assert {m["status"] for m in listing} == {"missing"}


def test_one_score_model_is_enough(loaded_db, make_client, tmp_path, models_dir):
    folder = tmp_path / "churn-only"
    folder.mkdir()
    for ext in ("joblib", "json"):
        shutil.copy(models_dir / f"churn.{ext}", folder)
    body = make_client(loaded_db.url, models_dir=folder).get("/v1/scores").json()
    assert body["models"]["clv"] is None and body["models"]["churn"]
    assert all(r["clv"] is None and r["churn_probability"] is not None for r in body["items"])


def test_broken_model_file_is_409_and_a_retrained_one_is_picked_up(
    loaded_db, make_client, tmp_path, models_dir
):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "forecast.joblib").write_bytes(b"not a model")
    (folder / "clv.joblib").write_bytes(b"")
    c = make_client(loaded_db.url, models_dir=folder)
    for path in ("/v1/forecast", "/v1/scores"):
        r = c.get(path)
        assert r.status_code == 409, path
        assert "cannot be loaded" in r.json()["detail"] and "retrain" in r.json()["detail"]
    shutil.copy(models_dir / "forecast.joblib", folder / "forecast.joblib")
    assert c.get("/v1/forecast").status_code == 200


def test_action_lists_json_and_csv(client, models_dir, loaded_db):
    """The same lists as the CLI: a JSON page and the whole list as an import CSV."""
    import io

    from sales_analytics.models import ModelStore
    from sales_analytics.models.actions import saved_action_lists

    expected = saved_action_lists(ModelStore(models_dir), loaded_db, names=("second-purchase",))
    want = expected["second-purchase"]
    body = client.get("/v1/actions/second-purchase", params={"limit": 5}).json()
    assert body["list"] == "second-purchase" and body["total"] == len(want) > 0
    assert [r["customer_id"] for r in body["items"]] == want["customer_id"].head(5).tolist()
    assert body["value_at_stake"] == pytest.approx(want["value_at_stake"].sum())
    assert body["items"][0]["reason"] and body["items"][0]["suggested_timing"]
    csv = client.get("/v1/actions/second-purchase", params={"format": "csv"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert 'filename="second-purchase.csv"' in csv.headers["content-disposition"]
    frame = pd.read_csv(io.StringIO(csv.text))
    assert list(frame.columns[:3]) == ["Email Address", "First Name", "Last Name"]
    assert len(frame) == len(want)
    assert client.get("/v1/actions/vip").status_code == 422


def test_action_lists_need_a_clv_model(make_client, loaded_db):
    missing = make_client(loaded_db.url).get("/v1/actions/win-back")
    assert missing.status_code == 404 and "clv" in missing.json()["detail"]
