"""AppTest: every page renders without an exception, filters drive the numbers, drill-downs and
both states of the Predictions page."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from sales_analytics import metrics
from sales_analytics.metrics import Filters
from sales_analytics.storage import connect
from tests.dashboard.conftest import APP

PAGES = ["revenue", "customers", "products", "geography", "predictions"]
TIMEOUT = 120


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    if page != "revenue":
        at.switch_page(f"views/{page}.py")
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def metric_values(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def default_filters(url: str) -> Filters:
    with connect(url) as db:
        k = metrics.kpis(db)
    last = k["last_order_at"].date()
    first = k["first_order_at"].date()
    return Filters(start=max(first, last - pd.Timedelta(days=364).to_pytimedelta()), end=last)


@pytest.mark.parametrize("page", PAGES)
def test_page_renders(app_env, page):
    at = open_page(page)
    assert [t.value for t in at.title] == [page.capitalize()]
    if page == "predictions":
        assert any("sales-analytics train" in i.value for i in at.info)
    else:
        assert at.get("plotly_chart"), "every page shows at least one chart"
        assert at.get("download_button"), "tables and charts can be exported"


def test_revenue_kpis_equal_the_metric_layer(app_env, shop_url):
    at = open_page("revenue")
    f = default_filters(shop_url)
    with connect(shop_url) as db:
        k = metrics.kpis(db, f)
    values = metric_values(at)
    assert values["Net revenue"] == f"{k['revenue']:,.0f}"
    assert values["Orders"] == f"{k['orders']:,.0f}"
    deltas = {m.label: m.delta for m in at.metric}
    assert deltas["Net revenue"].endswith("%")


def test_filters_change_the_kpis(app_env, shop_url):
    at = open_page("revenue")
    before = metric_values(at)
    at.sidebar.multiselect(key="f_countries").set_value(["Germany"]).run()
    assert not at.exception
    germany = metric_values(at)
    assert germany["Net revenue"] != before["Net revenue"]
    f = default_filters(shop_url)
    with connect(shop_url) as db:
        k = metrics.kpis(db, Filters(start=f.start, end=f.end, countries=("Germany",)))
    assert germany["Net revenue"] == f"{k['revenue']:,.0f}"
    # a date range and a segment narrow it further; the other pages follow the same filters
    at.sidebar.date_input(key="f_dates").set_value((date(2024, 1, 1), date(2024, 12, 31))).run()
    at.sidebar.multiselect(key="f_segments").set_value(["Champions"]).run()
    narrowed = metric_values(at)
    assert narrowed["Net revenue"] != germany["Net revenue"]
    with connect(shop_url) as db:
        k = metrics.kpis(
            db, Filters("2024-01-01", "2024-12-31", countries=("Germany",), segments=("Champions",))
        )
    assert narrowed["Net revenue"] == f"{k['revenue']:,.0f}"
    at.switch_page("views/customers.py").run()
    assert not at.exception
    assert "Germany" in at.caption[0].value and "Champions" in at.caption[0].value


def test_revenue_drill_down_shows_the_month_orders(app_env, shop_url):
    at = open_page("revenue")
    label = at.selectbox(key="rev_month").options[2]  # e.g. "October 2025"
    at.selectbox(key="rev_month").set_value(pd.Timestamp(label).date()).run()
    assert not at.exception
    chosen = pd.Timestamp(at.selectbox(key="rev_month").value)
    end = chosen + pd.offsets.MonthEnd(0)
    orders_table = at.dataframe[-1].value
    with connect(shop_url) as db:
        o = db.table("orders").to_pandas()
    in_month = o[(o.order_date >= chosen) & (o.order_date < end + pd.Timedelta(days=1))]
    assert len(orders_table) == len(in_month) > 0
    assert set(orders_table["order_id"]) == set(in_month["order_id"])


def test_customers_drill_down_by_segment(app_env):
    at = open_page("customers")
    box = at.selectbox(key="cust_segment")
    for segment in box.options[:2]:
        at.selectbox(key="cust_segment").set_value(segment).run()
        assert not at.exception
        table = at.dataframe[-1].value
        assert len(table) > 0 and set(table["segment"]) == {segment}


def test_products_and_geography_drill_downs(app_env):
    at = open_page("products")
    cat = at.selectbox(key="prod_category").options[-1]
    at.selectbox(key="prod_category").set_value(cat).run()
    assert not at.exception
    assert at.selectbox(key="prod_product").options
    lines = at.dataframe[-1].value
    assert len(lines) > 0 and {"order_id", "quantity", "line_total"} <= set(lines.columns)

    at = open_page("geography")
    config = json.loads(at.get("plotly_chart")[0].proto.config)  # the map's outlines: no CDN
    assert config["topojsonURL"] == "/app/static/"
    country = at.selectbox(key="geo_country").options[1]
    at.selectbox(key="geo_country").set_value(country).run()
    assert not at.exception
    customers, orders = at.dataframe[-2].value, at.dataframe[-1].value
    assert set(customers["country"]) == {country} and set(orders["country"]) == {country}


def test_predictions_with_saved_models(app_env, monkeypatch, trained_models):
    monkeypatch.setenv("SA_MODELS_DIR", str(trained_models))
    at = open_page("predictions")
    assert not at.info, [i.value for i in at.info]
    titles = [s.value for s in at.subheader]
    assert "Revenue forecast" in titles and "Customer value and churn risk" in titles
    assert len(at.get("plotly_chart")) >= 4  # forecast, accuracy, scatter, risk matrix
    tables = [d.value for d in at.dataframe]
    backtest = next(t for t in tables if "mae_vs_naive" in t.columns)
    assert {"model", "mae", "coverage_80", "coverage_95"} <= set(backtest.columns)
    assert backtest.set_index("model").loc["seasonal_naive", "mae_vs_naive"] == 1.0
    forecast = next(t for t in tables if "yhat" in t.columns)
    assert {"lo_80", "hi_80", "lo_95", "hi_95"} <= set(forecast.columns) and len(forecast) == 28
    at.selectbox(key="pred_value").set_value("high").run()
    at.selectbox(key="pred_risk").set_value("low").run()
    assert not at.exception
    cell = at.dataframe[-1].value
    assert set(cell["value_tier"]) <= {"high"} and set(cell["risk_tier"]) <= {"low"}


def test_missing_schema_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{tmp_path / 'empty.duckdb'}")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        f"no sales-analytics schema in duckdb:///{tmp_path / 'empty.duckdb'}: "
        "run `sales-analytics build` first"
    ]


def test_app_on_each_backend(loaded_db, monkeypatch, tmp_path):
    """The same app on DuckDB and PostgreSQL: KPI cards equal the metric layer's."""
    monkeypatch.setenv("DATABASE_URL", loaded_db.url)
    monkeypatch.setenv("SA_MODELS_DIR", str(tmp_path))
    at = open_page("revenue")
    k = metrics.kpis(loaded_db)
    last, first = k["last_order_at"].date(), k["first_order_at"].date()
    f = Filters(start=max(first, last - pd.Timedelta(days=364).to_pytimedelta()), end=last)
    assert metric_values(at)["Net revenue"] == f"{metrics.kpis(loaded_db, f)['revenue']:,.0f}"
    at.switch_page("views/geography.py").run()
    assert not at.exception and at.get("plotly_chart")


def test_unusable_saved_model_is_a_warning(app_env, monkeypatch, tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    for name in ("forecast", "clv", "churn"):
        (folder / f"{name}.joblib").write_bytes(b"not a model")
    monkeypatch.setenv("SA_MODELS_DIR", str(folder))
    at = open_page("predictions")
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 2 and all("retrain it with `sales-analytics train`" in w for w in warnings)
