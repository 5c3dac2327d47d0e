"""`sales-analytics train` and `predict`: tables printed, models saved with metrics, CSV written."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from sales_analytics.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def shop_url(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli_models")
    url = f"duckdb:///{folder / 'shop.duckdb'}"
    result = run("build", "--scale", "0.2", "--seed", "9", "-d", url)
    assert result.exit_code == 0, result.output
    return url, folder


def test_train_and_predict_churn_segments(shop_url):
    url, folder = shop_url
    models_dir = folder / "models"
    result = run("train", "--models", "segments,churn", "--models-dir", str(models_dir), "-d", url)
    assert result.exit_code == 0, result.output
    assert "segments: backtest" in result.output and "rfm_quartiles" in result.output
    assert "churn: backtest" in result.output and "recency_only" in result.output
    meta = json.loads((models_dir / "churn.json").read_text())
    assert meta["model"] == "churn" and meta["metrics"]["table"][0]["pr_auc"] > 0
    for name in ("segments", "churn"):
        out = folder / f"{name}.csv"
        pred = run(
            "predict",
            "--model",
            name,
            "--out",
            str(out),
            "--models-dir",
            str(models_dir),
            "-d",
            url,
        )
        assert pred.exit_code == 0, pred.output
        frame = pd.read_csv(out)
        assert len(frame) > 0 and "customer_id" in frame


def test_action_lists_for_email_tools(shop_url):
    """`predict --list`: a CSV whose headers Klaviyo and Mailchimp audience imports accept."""
    url, folder = shop_url
    models_dir = folder / "models"  # churn and segments trained above
    result = run("train", "--models", "clv", "--models-dir", str(models_dir), "-d", url)
    assert result.exit_code == 0, result.output
    for name in ("win-back", "high-value-at-risk", "second-purchase"):
        out = folder / f"{name}.csv"
        done = run("predict", "--list", name, "--out", str(out), "--models-dir", str(models_dir),
                   "-d", url)  # fmt: skip
        assert done.exit_code == 0, done.output
        assert f"on the {name} list written to" in done.output
        frame = pd.read_csv(out)
        assert list(frame.columns[:4]) == ["Email Address", "First Name", "Last Name", "Country"]
        assert {"Last Product", "Value At Stake", "Reason", "Suggested Timing", "Tags"} <= set(
            frame.columns
        )
        assert len(frame) > 0 and (frame["Tags"] == name).all()
        assert frame["Email Address"].str.contains("@").all()
    bad = run("predict", "--list", "vip", "--out", str(folder / "x.csv"), "-d", url)
    assert bad.exit_code == 1 and "unknown action list 'vip'" in bad.output
    both = run("predict", "--out", str(folder / "x.csv"), "-d", url)
    assert both.exit_code == 1 and "give either --model or --list" in both.output


def test_train_predict_errors(shop_url, tmp_path):
    url, _ = shop_url
    bad = run("train", "--models", "prophet", "-d", url)
    assert bad.exit_code == 1 and "unknown model(s): prophet" in bad.output
    missing = run(
        "predict",
        "--model",
        "clv",
        "--out",
        str(tmp_path / "x.csv"),
        "--models-dir",
        str(tmp_path),
        "-d",
        url,
    )
    assert missing.exit_code == 1 and "run `sales-analytics train` first" in missing.output
    assert "Traceback" not in missing.output


@pytest.mark.slow
def test_train_and_predict_clv_forecast(shop_url):
    url, folder = shop_url
    models_dir = folder / "models"
    result = run(
        "train",
        "--models",
        "clv,forecast",
        "--horizon",
        "30",
        "--models-dir",
        str(models_dir),
        "-d",
        url,
    )
    assert result.exit_code == 0, result.output
    assert "_gamma_gamma" in result.output and "naive_last_period" in result.output
    assert "P(alive) vs planted dropouts" in result.output  # truth.parquet found next to the file
    assert "seasonal_naive" in result.output and "feature importance" in result.output
    meta = json.loads((models_dir / "forecast.json").read_text())
    assert meta["metrics"]["best"] in {r["model"] for r in meta["metrics"]["table"]}
    out = folder / "forecast.csv"
    pred = run("predict", "--model", "forecast", "--out", str(out), "--models-dir", str(models_dir))
    assert pred.exit_code == 0, pred.output
    assert len(pd.read_csv(out)) == 30
    out = folder / "clv.csv"
    pred = run(
        "predict", "--model", "clv", "--out", str(out), "--models-dir", str(models_dir), "-d", url
    )
    assert pred.exit_code == 0, pred.output
    assert {"p_alive", "clv", "clv_rf"} <= set(pd.read_csv(out).columns)


def test_train_and_predict_demand_reorder_advice(shop_url):
    url, folder = shop_url
    models_dir = folder / "demand_models"
    result = run("train", "--models", "demand", "--models-dir", str(models_dir), "-d", url)
    assert result.exit_code == 0, result.output
    assert "demand: backtest" in result.output and "per_sku" in result.output
    assert "products:" in result.output and "backtested" in result.output
    out = folder / "reorder.csv"
    pred = run("predict", "--model", "demand", "--out", str(out), "--models-dir", str(models_dir), "-d", url)  # fmt: skip
    assert pred.exit_code == 0, pred.output
    advice = pd.read_csv(out)
    assert len(advice) == 200 and advice["product_id"].is_unique  # every product of scale 0.2
    assert {"reorder_point", "safety_stock", "order_quantity", "days_of_cover", "status"} <= set(advice.columns)
    assert set(advice["status"]) <= {"reorder now", "ok", "no demand"}
    assert (advice.loc[advice["status"] == "reorder now", "order_quantity"] > 0).all()


def test_train_with_a_bad_promotions_file_is_one_line(shop_url, tmp_path):
    url, _ = shop_url
    bad = tmp_path / "promos.csv"
    bad.write_text("name,date\nSale,2025-13-01\n")
    result = run("train", "--models", "forecast", "--promotions", str(bad), "-d", url)
    assert result.exit_code == 1
    assert f"{bad}: row 2: date '2025-13-01' is not a date written YYYY-MM-DD" in result.output
    assert "Traceback" not in result.output
