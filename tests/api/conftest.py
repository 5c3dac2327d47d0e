"""Fixtures for the API tests: tiny trained models and a TestClient per backend.

``models_dir``   the four models trained on ``small_frames`` with small settings (~15 s, once).
``client``       a TestClient over ``create_app(loaded_db.url, KEY, models_dir=...)`` on each backend,
                 sending the API key by default.
``as_json``      a metric's frame as the JSON rows the API should answer (dates as dates).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.encoders import jsonable_encoder
from fastapi.testclient import TestClient

from sales_analytics import metrics
from sales_analytics.api import create_app
from sales_analytics.api.service import records

KEY = "test-key-0123456789-abcdefghijkl"  # 32 characters: the shortest key accepted
AUTH = {"X-API-Key": KEY}


def as_json(name: str, frame) -> list[dict]:
    """Rows of ``metrics.compute(db, name, ...)`` as JSON values, each column as declared."""
    dates = [c.name for c in metrics.get(name).columns if c.dtype == "date"]
    rows = records(frame)
    for row in rows:
        for column in dates:
            if isinstance(row.get(column), datetime):
                row[column] = row[column].date()
    return jsonable_encoder(rows)


@pytest.fixture(scope="session")
def transactions(small_frames):
    from sales_analytics.models import orders_to_transactions

    return orders_to_transactions(small_frames["orders"])


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory, transactions, small_frames) -> Path:
    """Forecast, CLV, churn, segmentation and demand models saved by their own ``save()``."""
    from sales_analytics.models import (
        ChurnModel,
        CLVModel,
        RevenueForecaster,
        SegmentationModel,
        daily_revenue,
    )

    folder = tmp_path_factory.mktemp("models")
    RevenueForecaster({"models": ("linear", "seasonal_naive"), "cv_windows": 1}).fit(
        daily_revenue(transactions)
    ).save(folder)
    CLVModel({"regressor": False}).fit(transactions).save(folder)
    ChurnModel({"n_estimators": 20, "n_jobs": 1}).fit(transactions).save(folder)
    SegmentationModel({"k_range": (2, 4), "n_init": 2}).fit(transactions).save(folder)
    from sales_analytics.models import DemandModel
    from sales_analytics.models.data import orders_to_weekly_units

    weekly = orders_to_weekly_units(small_frames["orders"], small_frames["order_items"])
    DemandModel({"n_jobs": 1}).fit(weekly).save(folder)
    return folder


@pytest.fixture(scope="session")
def client(loaded_db, models_dir) -> Iterator[TestClient]:
    app = create_app(loaded_db.url, KEY, models_dir=models_dir)
    with TestClient(app, headers=AUTH) as c:
        yield c


@pytest.fixture
def make_client(tmp_path):
    """``make_client(url, models_dir=None, **kwargs)``: a TestClient over a fresh app."""
    clients: list[TestClient] = []

    def make(url: str, models_dir: Path | None = None, **kwargs) -> TestClient:
        kwargs.setdefault("api_key", KEY)
        app = create_app(url, models_dir=models_dir or tmp_path / "no-models", **kwargs)
        c = TestClient(app, headers=AUTH)
        c.__enter__()
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.__exit__(None, None, None)
