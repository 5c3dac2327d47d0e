"""The dashboard and the report read saved models through the one ModelStore: the models folder
from the settings, predictions cached per saved file, an unusable model as one line."""

from __future__ import annotations

import pytest

from sales_analytics.dashboard import data
from sales_analytics.reports import executive
from sales_analytics.storage import connect


@pytest.fixture
def models_env(monkeypatch):
    """``models_env(folder)``: point SA_MODELS_DIR at ``folder``."""

    def point(folder) -> None:
        monkeypatch.setenv("SA_MODELS_DIR", str(folder))

    return point


def test_models_folder_and_saved_models_follow_the_settings(models_env, tmp_path, trained_models):
    assert data.MODEL_NAMES == ("forecast", "clv", "churn")
    models_env(tmp_path / "none")
    assert data.models_dir() == tmp_path / "none" and data.saved_models() == ()
    models_env(trained_models)
    assert data.models_dir() == trained_models
    assert data.saved_models() == ("forecast", "clv", "churn")


def test_forecast_and_scores_from_the_store(models_env, trained_models):
    models_env(trained_models)
    fc = data.forecast()
    assert len(fc["forecast"]) == 28 and fc["best"] in set(fc["table"]["model"])
    assert fc["coverage"]["level"].tolist() == [80, 95] and fc["cv_windows"] == 2
    assert fc["fitted_at"] and fc["data"]["data_until"]
    assert data.forecast() is not fc  # st.cache_data hands out copies of the cached result
    scores = data._customer_scores(str(trained_models), data._stamp(trained_models))
    assert {"customer_id", "clv", "churn_probability"} <= set(scores.columns) and len(scores)


def test_an_unusable_model_is_one_line(models_env, tmp_path):
    (tmp_path / "forecast.joblib").write_bytes(b"not a model")
    models_env(tmp_path)
    assert data.saved_models() == ("forecast",)
    with pytest.raises(data.ModelUnavailable) as err:
        data.forecast()
    message = str(err.value)
    assert message.startswith("the saved forecast model at ") and "cannot be loaded" in message
    assert message.endswith("retrain it with `sales-analytics train`") and "\n" not in message


def test_report_reads_the_forecast_through_the_store(shop_url, trained_models, tmp_path):
    with connect(shop_url) as db:
        assert executive._forecast(db, tmp_path) is None  # none saved
        (tmp_path / "forecast.joblib").write_bytes(b"not a model")
        broken = executive._forecast(db, tmp_path)
        fc = executive._forecast(db, trained_models)
    assert set(broken) == {"error"} and "\n" not in broken["error"]
    assert "retrain" not in broken["error"]  # the report adds its own advice around the cause
    assert fc["best"] in set(fc["table"]["model"]) and len(fc["forecast"]) == 28
    assert {"ds", "y"} <= set(fc["history"].columns)
