"""Shared data for the model tests: one small synthetic shop per session (fixed seed)."""

from __future__ import annotations

import pandas as pd
import pytest

from sales_analytics.models.data import daily_revenue, orders_to_transactions
from sales_analytics.synth import generate

SEED = 11


@pytest.fixture(scope="session")
def shop():
    return generate(scale=0.3, seed=SEED)


@pytest.fixture(scope="session")
def tx(shop) -> pd.DataFrame:
    """Completed orders of the small shop as a transactions frame."""
    return orders_to_transactions(shop.tables["orders"])


@pytest.fixture(scope="session")
def revenue(tx) -> pd.DataFrame:
    return daily_revenue(tx)
