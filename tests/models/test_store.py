"""The one ModelStore: load by name, reload on a new file, staleness, one-line errors; the one list
of model names; the typed Evaluation every model returns."""

from __future__ import annotations

import json
from datetime import date, timedelta

import joblib
import pandas as pd
import pytest

from sales_analytics.models import (
    MODEL_NAMES,
    MODELS,
    Evaluation,
    ModelMissing,
    ModelStore,
    ModelUnusable,
    SegmentationModel,
)

FAST = {"k_range": (2, 3), "n_init": 2, "stability_runs": 1}


@pytest.fixture(scope="module")
def seg(tx) -> SegmentationModel:
    return SegmentationModel(FAST).fit(tx)


def test_one_list_of_model_names():
    assert MODEL_NAMES == ("forecast", "clv", "churn", "segments", "demand")
    assert tuple(MODELS) == MODEL_NAMES
    assert all(cls.name == name for name, cls in MODELS.items())


def test_missing_model_is_one_line(tmp_path):
    store = ModelStore(tmp_path)
    assert store.saved() == () and store.optional("churn") is None
    with pytest.raises(ModelMissing) as err:
        store.get("churn")
    assert str(err.value) == (
        f"no trained churn model in {tmp_path}: run `sales-analytics train` first"
    )
    with pytest.raises(ModelMissing):
        store.staleness("churn")
    with pytest.raises(ValueError, match="unknown model 'prophet': choose from forecast, clv"):
        store.get("prophet")


@pytest.mark.parametrize("content", [b"not a model", b"", None], ids=["junk", "empty", "foreign"])
def test_unusable_file_is_one_line(tmp_path, content):
    path = tmp_path / "clv.joblib"
    if content is None:
        joblib.dump({"not": "a model"}, path)
    else:
        path.write_bytes(content)
    with pytest.raises(ModelUnusable) as err:
        ModelStore(tmp_path).get("clv")
    message = str(err.value)
    assert "\n" not in message and f"({err.value.cause})" in message
    if content is None:
        assert err.value.cause.startswith("ValueError: ") and "does not hold" in message
    assert message.startswith(f"the saved clv model at {path} cannot be loaded (")
    assert message.endswith("retrain it with `sales-analytics train`")
    with pytest.raises(ModelUnusable):
        ModelStore(tmp_path).optional("clv")  # unusable is not missing


def test_load_once_and_reload_when_the_file_changes(seg, tx, tmp_path):
    seg.save(tmp_path)
    store = ModelStore(tmp_path)
    assert store.saved() == ("segments",) and [s[0] for s in store.stamp()] == ["segments"]
    first = store.get("segments")
    assert store.get("segments") is first and store.model("segments") is first.model
    calls = []
    assert first.cached("x", lambda: calls.append(1) or 41) == 41
    assert first.cached("x", lambda: calls.append(1) or 42) == 41 and calls == [1]
    stamp = store.stamp()
    SegmentationModel(FAST | {"k_range": (2, 2)}).fit(tx).save(tmp_path)
    second = store.get("segments")
    assert second is not first and second.model.k_ == 2 and store.stamp() != stamp
    assert "x" not in second.cache


def test_a_model_that_cannot_predict_is_unusable(seg, tmp_path):
    seg.save(tmp_path)
    loaded = ModelStore(tmp_path).get("segments")

    def broken():
        raise RuntimeError("first line\nsecond line")

    with pytest.raises(ModelUnusable) as err:
        loaded.cached("scores", broken)
    assert str(err.value) == (
        "the saved segments model cannot predict (RuntimeError: first line): "
        "retrain it with `sales-analytics train`"
    )


def test_staleness_from_the_metadata(seg, tx, tmp_path):
    seg.save(tmp_path)
    store = ModelStore(tmp_path)
    last_day = tx["order_date"].max().date()
    age = store.staleness("segments")
    assert age.data_until == last_day and age.fitted_at is not None
    assert age.days_behind is None and not age.is_stale
    assert store.staleness("segments", last_day).describe().endswith("(up to date)")
    later = store.staleness("segments", pd.Timestamp(last_day + timedelta(days=3)))
    assert later.days_behind == 3 and later.is_stale
    assert later.describe() == (
        f"segments fitted {age.fitted_at:%Y-%m-%d %H:%M} UTC on data until {last_day} "
        "(3 days behind the data)"
    )
    # without the JSON the store reads the model itself
    (tmp_path / "segments.json").unlink()
    assert ModelStore(tmp_path).staleness("segments", date.max).data_until == last_day
    assert ModelStore(tmp_path).metadata("segments") == {}


def test_unreadable_metadata_is_unusable(seg, tmp_path):
    seg.save(tmp_path)
    (tmp_path / "segments.json").write_text("{broken")
    with pytest.raises(ModelUnusable, match="metadata .* cannot be read"):
        ModelStore(tmp_path).metadata("segments")


def test_evaluation_is_typed_and_saved(seg, tmp_path):
    ev = seg.evaluate()
    assert isinstance(ev, Evaluation) and seg.evaluation_ is ev
    assert ev.best in set(ev.table["model"]) and ev.table.columns[0] == "model"
    assert all(isinstance(s, str) for s in ev.summary)
    with pytest.raises(AttributeError):
        ev.best = "other"  # frozen
    seg.save(tmp_path)
    meta = json.loads((tmp_path / "segments.json").read_text())
    assert meta["metrics"]["best"] == ev.best and meta["metrics"]["summary"] == ev.summary
    assert meta["metrics"]["table"][0]["model"] == ev.table["model"].iloc[0]
    assert meta["metrics"]["k"] == seg.k_ and meta["data"]["data_until"] == seg.data_until_
