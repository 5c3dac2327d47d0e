"""The dashboard and the report read saved models through the one ModelStore: the models folder
from the settings, predictions cached per saved file, an unusable model as one line."""

from __future__ import annotations

import pytest

from sales_analytics.dashboard import data


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


def test_report_reads_the_forecast_through_the_store(trained_models, tmp_path):
    """The report's (and digest's) forecast outlook comes from the one ModelStore: none saved,
    an unusable file and a saved model each give their one-line message or the total."""
    from sales_analytics.insights import outlook
    from sales_analytics.models import ModelStore

    none = outlook.forecast_outlook(ModelStore(tmp_path))
    assert not none.available and none.message == "No forecast model is trained: run `sales-analytics train`."
    (tmp_path / "forecast.joblib").write_bytes(b"not a model")
    broken = outlook.forecast_outlook(ModelStore(tmp_path))
    assert not broken.available and "cannot be used" in broken.message and "\n" not in broken.message
    fc = outlook.forecast_outlook(ModelStore(trained_models))
    assert fc.model in set(fc.table["model"]) and len(fc.forecast) == fc.days == 28
    assert fc.total == pytest.approx(float(fc.forecast["yhat"].sum())) and 0 <= fc.low <= fc.high
    assert fc.range_from == "backtest"
