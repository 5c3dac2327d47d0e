"""Leakage: nothing after the cutoff reaches a feature; labels only see the window after it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sales_analytics.models.churn import churn_dataset
from sales_analytics.models.features import FEATURES, customer_features


def _cutoff(tx) -> pd.Timestamp:
    return tx["order_date"].min() + (tx["order_date"].max() - tx["order_date"].min()) * 0.6


def test_features_ignore_everything_after_the_cutoff(tx):
    cutoff = _cutoff(tx)
    full = customer_features(tx, cutoff)
    truncated = customer_features(tx[tx["order_date"] < cutoff], cutoff)
    pd.testing.assert_frame_equal(full, truncated)
    # scrambling the future (amounts, dates, new customers) changes nothing
    future = tx["order_date"] >= cutoff
    scrambled = tx.copy()
    scrambled.loc[future, "amount"] *= 100
    scrambled.loc[future, "customer_id"] = scrambled.loc[future, "customer_id"] + 10**6
    pd.testing.assert_frame_equal(full, customer_features(scrambled, cutoff))


def test_features_are_pre_cutoff_quantities(tx):
    cutoff = _cutoff(tx)
    feats = customer_features(tx, cutoff).set_index("customer_id")
    before = tx[tx["order_date"] < cutoff]
    assert set(feats.index) == set(before["customer_id"])
    assert (feats["recency_days"] > 0).all()
    assert (feats["recency_days"] <= feats["tenure_days"]).all()
    cid = before["customer_id"].iloc[0]
    mine = before[before["customer_id"] == cid]
    assert feats.loc[cid, "frequency"] == len(mine)
    assert np.isclose(feats.loc[cid, "monetary_total"], mine["amount"].sum())
    assert list(feats.columns) == list(FEATURES)


def test_churn_labels_use_only_the_window(tx):
    cutoff = _cutoff(tx)
    ds = churn_dataset(tx, cutoff, 90).set_index("customer_id")
    window = tx[(tx["order_date"] >= cutoff) & (tx["order_date"] < cutoff + pd.Timedelta(days=90))]
    bought = set(window["customer_id"])
    assert ((ds["churned"] == 0) == ds.index.isin(bought)).all()
    # orders after the window do not change labels
    later = tx[tx["order_date"] < cutoff + pd.Timedelta(days=90)]
    pd.testing.assert_frame_equal(churn_dataset(later, cutoff, 90), ds.reset_index())
