"""The dashboard on a Spark lake (``spark:///PATH``): every data page renders, and its KPI cards
and metric values are those of the same app on DuckDB for the same shop."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from sales_analytics import metrics
from sales_analytics.storage import connect
from tests.dashboard.conftest import APP
from tests.dashboard.test_app import PAGES, default_filters, metric_values, money
from tests.spark_required import require_pyspark

#: seconds per page run: a Spark job costs about a second each on an idle machine, far more on a
#: loaded one
TIMEOUT = 900

pytestmark = pytest.mark.spark

require_pyspark()


@pytest.fixture(scope="module")
def lake_url(tmp_path_factory, small_frames):
    """The dashboard's small shop as a Spark lake (local[2]) with the catalogue's copies."""
    url = f"spark:///{tmp_path_factory.mktemp('dash-lake') / 'lake'}?master=local[2]"
    with connect(url + "&spark.sql.shuffle.partitions=2") as db:
        metrics.load(db, small_frames, replace=True)
    yield url + "&spark.sql.shuffle.partitions=2"
    from sales_analytics.storage.spark import stop

    stop()


def _pages(monkeypatch, url: str, models: str) -> dict[str, dict[str, str]]:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SA_MODELS_DIR", models)
    out = {}
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    for page in ("revenue", "customers", "products", "geography"):
        if page != "revenue":
            at.switch_page(f"views/{page}.py").run()
        assert not at.exception, [e.value for e in at.exception]
        assert not at.error, [e.value for e in at.error]
        assert [t.value for t in at.title] == [PAGES[page]], page
        assert at.get("plotly_chart"), page
        out[page] = metric_values(at)
    return out


def test_dashboard_on_spark_equals_duckdb(lake_url, shop_url, monkeypatch, tmp_path):
    spark = _pages(monkeypatch, lake_url, str(tmp_path))
    duck = _pages(monkeypatch, shop_url, str(tmp_path))
    assert spark == duck
    assert len(spark["revenue"]) >= 4
    f = default_filters(shop_url)
    with connect(shop_url, read_only=True) as db:
        k = metrics.kpis(db, f)
    assert spark["revenue"]["Net revenue"] == money(k["revenue"])
