"""The loaders: same frames from the database (both backends) as from the generator's tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sales_analytics.models.data import (
    daily_revenue,
    orders_to_transactions,
    prepare_transactions,
    series_frame,
    transactions,
)


def test_transactions_from_db_match_the_tables(loaded_db, small_frames):
    got = transactions(loaded_db)
    expected = orders_to_transactions(small_frames["orders"])
    assert list(got.columns) == ["customer_id", "order_id", "order_date", "amount"]
    assert got["amount"].dtype == np.float64
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_transactions_filters(loaded_db):
    full = transactions(loaded_db)
    start = full["order_date"].quantile(0.5)
    ids = full.loc[full["order_date"] >= start, "customer_id"].unique()[:3].tolist()
    some = transactions(loaded_db, {"start": start, "customer_ids": ids})
    assert len(some) > 0 and (some["order_date"] >= start).all()
    assert set(some["customer_id"]) == set(ids)
    assert transactions(loaded_db, {"customer_ids": [-1]}).empty
    with pytest.raises(ValueError, match="unknown transaction filter"):
        transactions(loaded_db, {"country": "DE"})


def test_daily_revenue_zero_filled_and_same_on_db_and_frame(loaded_db, small_frames):
    from_db = daily_revenue(loaded_db)
    from_frame = daily_revenue(orders_to_transactions(small_frames["orders"]))
    assert list(from_db.columns) == ["ds", "y"]
    assert from_db["ds"].diff().dropna().eq(pd.Timedelta(days=1)).all()
    pd.testing.assert_frame_equal(from_db, from_frame, check_exact=False, rtol=1e-9)


def test_prepare_transactions_exact_message():
    with pytest.raises(ValueError) as err:
        prepare_transactions(pd.DataFrame({"customer_id": [1], "date": ["2024-01-01"]}))
    assert str(err.value) == "transactions: required column(s) missing: order_date, amount"
    with pytest.raises(ValueError) as err:
        series_frame(pd.DataFrame({"ds": ["2024-01-01"]}))
    assert str(err.value) == "daily revenue: required column(s) missing: y"


def test_prepare_transactions_minimal_real_frame():
    raw = pd.DataFrame(
        {
            "customer_id": ["a", "b", "a"],
            "order_date": ["2024-01-03", "2024-01-01", "2024-01-02"],
            "amount": ["10.5", "3", "7"],
        }
    )
    tx = prepare_transactions(raw)
    assert tx["order_id"].tolist() == [2, 3, 1]  # numbered in input order, sorted by date
    assert tx["amount"].tolist() == [3.0, 7.0, 10.5]
