from __future__ import annotations

import pandas as pd
import pytest

from sales_analytics.models import CLVModel, ModelNotFittedError, SegmentationModel, load_model

FAST = {"k_range": (2, 5), "n_init": 4, "stability_runs": 2}


@pytest.fixture(scope="module")
def clv(tx):
    return CLVModel({"regressor": False, "interval_draws": 0}).fit(tx)


@pytest.fixture(scope="module")
def seg(tx, clv):
    return SegmentationModel(FAST | {"purchase_model": clv.family_}).fit(tx)


def test_segments_predict_and_profiles(seg, tx):
    pred = seg.predict()
    assert list(pred.columns) == [
        "customer_id",
        "recency_days",
        "frequency",
        "monetary_total",
        "segment",
        "segment_name",
        "p_alive",
    ]
    assert pred["customer_id"].is_unique and len(pred) == tx["customer_id"].nunique()
    best = max(seg.silhouettes_, key=seg.silhouettes_.get)
    assert 3 <= seg.k_ <= 5 or seg.k_ == best
    assert seg.silhouettes_[seg.k_] >= seg.silhouettes_[best] - 0.01
    prof = seg.profiles()
    assert prof["customers"].sum() == len(pred)
    assert prof["revenue_share"].sum() == pytest.approx(1.0)
    # segment 0 is the most valuable on average
    means = pred.groupby("segment")["monetary_total"].mean()
    assert means.idxmax() == 0


def test_no_lapsed_champion_or_loyal(seg, clv):
    """No customer the CLV model gives P(alive) < 5% is called champion or loyal; names come
    from the centroids, recency included (the most recent cluster is not lapsed)."""
    pred = seg.predict().merge(clv.predict()[["customer_id", "p_alive"]], on="customer_id",
                               suffixes=("", "_clv"))  # fmt: skip
    active = pred["segment_name"].str.match(r"^(champions|loyal)")
    assert active.any()
    assert not (active & (pred["p_alive_clv"] < 0.05)).any()
    centres = seg.centroids_.set_index("segment_name")
    assert centres["recency_days"].idxmin().startswith(("champions", "loyal", "new"))
    for name in centres.index:
        if name.startswith(("champions", "loyal")):
            assert centres.loc[name, "recency_days"] <= pred["recency_days"].median()


def test_k_prefers_interpretable_sizes_when_close():
    model = SegmentationModel()
    assert model._choose_k({2: 0.338, 3: 0.334, 4: 0.329, 5: 0.30}) == 3
    assert model._choose_k({2: 0.40, 3: 0.30, 4: 0.29}) == 2  # not close: the best
    assert model._choose_k({2: 0.30, 3: 0.31, 7: 0.32}) == 3


def test_segments_evaluate_vs_quartile_baseline(seg):
    ev = seg.evaluate()
    table = ev.table.set_index("model")
    assert ev.best == f"kmeans_k{seg.k_}" and ev.details["k"] == seg.k_
    assert list(ev.tables) == [f"segments: profiles (k={seg.k_})"]
    assert set(table.index) == {f"kmeans_k{seg.k_}", "rfm_quartiles"}
    assert table.loc[f"kmeans_k{seg.k_}", "silhouette"] > table.loc["rfm_quartiles", "silhouette"]
    assert 0 <= table.loc[f"kmeans_k{seg.k_}", "stability_ari"] <= 1


def test_segments_reproducible(tx, seg):
    again = SegmentationModel(FAST | {"purchase_model": seg.config["purchase_model"]}).fit(tx)
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
