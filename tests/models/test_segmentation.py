from __future__ import annotations

import pandas as pd
import pytest

from sales_analytics.models import ModelNotFittedError, SegmentationModel, load_model


@pytest.fixture(scope="module")
def seg(tx):
    return SegmentationModel({"k_range": (2, 5), "n_init": 4, "stability_runs": 2}).fit(tx)


def test_segments_predict_and_profiles(seg, tx):
    pred = seg.predict()
    assert list(pred.columns) == [
        "customer_id",
        "recency_days",
        "frequency",
        "monetary_total",
        "segment",
        "segment_name",
    ]
    assert pred["customer_id"].is_unique and len(pred) == tx["customer_id"].nunique()
    assert 2 <= seg.k_ <= 5 and seg.k_ == max(seg.silhouettes_, key=seg.silhouettes_.get)
    prof = seg.profiles()
    assert prof["customers"].sum() == len(pred)
    assert prof["revenue_share"].sum() == pytest.approx(1.0)
    # segment 0 is the most valuable on average
    means = pred.groupby("segment")["monetary_total"].mean()
    assert means.idxmax() == 0


def test_segments_evaluate_vs_quartile_baseline(seg):
    ev = seg.evaluate()
    table = ev.table.set_index("model")
    assert ev.best == f"kmeans_k{seg.k_}" and ev.details["k"] == seg.k_
    assert list(ev.tables) == [f"segments: profiles (k={seg.k_})"]
    assert set(table.index) == {f"kmeans_k{seg.k_}", "rfm_quartiles"}
    assert table.loc[f"kmeans_k{seg.k_}", "silhouette"] > table.loc["rfm_quartiles", "silhouette"]
    assert 0 <= table.loc[f"kmeans_k{seg.k_}", "stability_ari"] <= 1


def test_segments_reproducible(tx, seg):
    again = SegmentationModel({"k_range": (2, 5), "n_init": 4, "stability_runs": 2}).fit(tx)
    pd.testing.assert_frame_equal(again.predict(), seg.predict())


def test_segments_save_load(seg, tmp_path):
    seg.evaluate()
    seg.save(tmp_path)
    loaded = load_model("segments", tmp_path)
    pd.testing.assert_frame_equal(loaded.predict(), seg.predict())
    assert (tmp_path / "segments.json").read_text().count("silhouette") >= 1


def test_segments_not_fitted_and_bad_config():
    with pytest.raises(ModelNotFittedError):
        SegmentationModel().predict()
    with pytest.raises(ValueError, match="unknown config key"):
        SegmentationModel({"k": 3})
