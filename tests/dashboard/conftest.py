"""Dashboard fixtures: a small DuckDB file, fast-trained saved models, the app's environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sales_analytics import metrics
from sales_analytics.storage import connect

APP = Path(__file__).resolve().parents[2] / "src" / "sales_analytics" / "dashboard" / "app.py"

#: Small model configs: seconds to train, same code paths as `sales-analytics train`.
FAST_MODELS = {
    "forecast": {"models": ("linear", "seasonal_naive"), "horizon": 28, "cv_windows": 2},
    "churn": {"n_estimators": 30},
    "clv": {"regressor": False},
}


@pytest.fixture(scope="session")
def shop_file(tmp_path_factory, small_frames) -> Path:
    """A DuckDB file holding the small synthetic shop and the catalogue's materialized copies
    (closed: other processes may open it)."""
    path = tmp_path_factory.mktemp("dash") / "shop.duckdb"
    with connect(f"duckdb:///{path}") as db:
        db.create_schema()
        metrics.load(db, small_frames)
    return path


@pytest.fixture(scope="session")
def shop_url(shop_file) -> str:
    return f"duckdb:///{shop_file}"


@pytest.fixture(scope="session")
def trained_models(tmp_path_factory, shop_url) -> Path:
    """The forecast, CLV and churn models fitted on the small shop and saved like `train` does."""
    from sales_analytics.models import MODELS, daily_revenue, transactions

    folder = tmp_path_factory.mktemp("models")
    with connect(shop_url) as db:
        tx = transactions(db)
        revenue = daily_revenue(db)
    for name, config in FAST_MODELS.items():
        model = MODELS[name](config).fit(revenue if name == "forecast" else tx)
        if name == "forecast":
            model.evaluate()
        model.save(folder)
    return folder


@pytest.fixture
def app_env(monkeypatch, shop_url, tmp_path) -> Iterator[dict[str, str]]:
    """DATABASE_URL = the small shop, SA_MODELS_DIR = an empty folder (no models)."""
    env = {"DATABASE_URL": shop_url, "SA_MODELS_DIR": str(tmp_path / "no-models")}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    yield env
