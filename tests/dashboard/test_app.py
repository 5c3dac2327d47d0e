"""AppTest: every page renders without an exception, filters drive the numbers, drill-downs and
their captions reconcile with the KPIs, both states of the Predictions page, and the metric
explorer lists the catalogue (a metric added to it appears with no other edit)."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from sales_analytics import metrics
from sales_analytics.dashboard import data, ui
from sales_analytics.metrics import Column, Filters, Metric, Param
from sales_analytics.present import captions
from sales_analytics.present import format as fmt
from sales_analytics.storage import connect
from tests.dashboard.conftest import APP

PAGES = {  # view file -> title
    "revenue": "Revenue",
    "customers": "Customers",
    "products": "Products",
    "geography": "Geography",
    "predictions": "Predictions",
    "explorer": "Metric explorer",
}
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


def money(v) -> str:
    return fmt.value(v, "currency")


def default_filters(url: str) -> Filters:
    with connect(url) as db:
        k = metrics.kpis(db)
    last = k["last_order_at"].date()
    first = k["first_order_at"].date()
    return Filters(start=max(first, last - pd.Timedelta(days=364).to_pytimedelta()), end=last)


def caption_texts(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


@pytest.mark.parametrize("page", list(PAGES))
def test_page_renders(app_env, page):
    at = open_page(page)
    assert [t.value for t in at.title] == [PAGES[page]]
    if page == "predictions":
        assert any("sales-analytics train" in i.value for i in at.info)
    elif page == "explorer":
        assert at.dataframe and at.get("download_button")
    else:
        assert at.get("plotly_chart"), "every page shows at least one chart"
        assert at.get("download_button"), "tables and charts can be exported"


def test_revenue_kpis_equal_the_metric_layer(app_env, shop_url):
    at = open_page("revenue")
    f = default_filters(shop_url)
    with connect(shop_url) as db:
        k = metrics.kpis(db, f)
    values = metric_values(at)
    labels = {c.name: c.label for c in metrics.get("kpis").columns}
    assert values[labels["revenue"]] == money(k["revenue"]) and values["Net revenue"].startswith("$")
    assert values[labels["orders"]] == fmt.value(k["orders"], "count")
    assert values[labels["return_rate"]] == fmt.value(k["return_rate"], "ratio")
    deltas = {m.label: m.delta for m in at.metric}
    assert deltas["Net revenue"].endswith("%") and deltas["Return rate"].endswith(" pts")


def test_tables_are_formatted_and_exports_raw(app_env, shop_url):
    at = open_page("revenue")
    n = len(at.dataframe)
    at.toggle(key="data_orders_and_average_order_value_per_month").set_value(True).run()
    assert len(at.dataframe) == n + 1  # a chart's data is shown when asked for
    monthly = at.dataframe[1].value  # after the KPI table: the data behind orders and AOV
    declared = metrics.get("revenue").columns
    assert list(monthly.columns) == [c.label for c in declared]
    f = default_filters(shop_url)
    with connect(shop_url) as db:
        raw = metrics.compute(db, "revenue", f, grain="month")
    pd.testing.assert_frame_equal(monthly, fmt.frame(raw, declared))
    assert monthly["Net revenue"].iloc[0].startswith("$")


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
    assert germany["Net revenue"] == money(k["revenue"])
    # a date range and a segment narrow it further; the other pages follow the same filters
    at.sidebar.date_input(key="f_dates").set_value((date(2024, 1, 1), date(2024, 12, 31))).run()
    at.sidebar.multiselect(key="f_segments").set_value(["Champions"]).run()
    narrowed = metric_values(at)
    assert narrowed["Net revenue"] != germany["Net revenue"]
    with connect(shop_url) as db:
        k = metrics.kpis(
            db, Filters("2024-01-01", "2024-12-31", countries=("Germany",), segments=("Champions",))
        )
    assert narrowed["Net revenue"] == money(k["revenue"])
    at.switch_page("views/customers.py").run()
    assert not at.exception
    head = at.markdown[0].value  # the page head: data as of, then the filters shown
    assert "Data as of" in head and "Germany" in head and "Champions" in head


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
        k = metrics.kpis(db, Filters(chosen.date(), end.date()))
    in_month = o[(o.order_date >= chosen) & (o.order_date < end + pd.Timedelta(days=1))]
    assert len(orders_table) == len(in_month) > 0
    assert set(orders_table["Order"]) == {str(i) for i in in_month["order_id"]}
    # the caption reconciles the rows with the Orders KPI of the same month
    assert captions.orders(k, len(in_month)) in caption_texts(at)
    assert len(in_month) == k["orders"] + k["cancelled_orders"] + k["returned_orders"]


def test_customers_drill_down_by_segment(app_env, shop_url):
    at = open_page("customers")
    f = default_filters(shop_url)
    with connect(shop_url) as db:
        seg = metrics.compute(db, "segment_summary", f).set_index("segment")
    box = at.selectbox(key="cust_segment")
    for segment in box.options[:2]:
        at.selectbox(key="cust_segment").set_value(segment).run()
        assert not at.exception
        table = at.dataframe[-1].value
        row = seg.loc[segment]
        assert len(table) == row["customers"] > 0 and set(table["Segment"]) == {segment}
        text = captions.segment_customers(segment, row.to_dict(), f.end, len(table))
        assert text in caption_texts(at)


def test_germany_champions_q4_reconcile(app_env, shop_url):
    """The issue's filter set on the small shop: the Customers KPI, the segment chart's data and
    the segment drill-down tell one story."""
    at = open_page("customers")
    at.sidebar.multiselect(key="f_countries").set_value(["Germany"]).run()
    at.sidebar.multiselect(key="f_segments").set_value(["Champions"]).run()
    at.sidebar.date_input(key="f_dates").set_value((date(2025, 10, 1), date(2025, 12, 31))).run()
    assert not at.exception and not at.error
    f = Filters("2025-10-01", "2025-12-31", countries=("Germany",), segments=("Champions",))
    with connect(shop_url) as db:
        k = metrics.kpis(db, f)
        seg = metrics.compute(db, "segment_summary", f)
    assert list(seg["segment"]) == ["Champions"]
    assert metric_values(at)["Customers"] == fmt.value(k["customers"], "count")
    assert seg["active_customers"].sum() == k["customers"]
    assert seg["revenue"].sum() == pytest.approx(k["revenue"])
    members = at.dataframe[-1].value
    assert len(members) == seg["customers"].iloc[0]
    assert (members["Orders"] != "0").sum() == k["customers"]
    row = seg.iloc[0].to_dict()
    assert captions.segment_customers("Champions", row, f.end, len(members)) in caption_texts(at)


def test_products_and_geography_drill_downs(app_env, shop_url):
    at = open_page("products")
    cat = at.selectbox(key="prod_category").options[-1]
    at.selectbox(key="prod_category").set_value(cat).run()
    assert not at.exception
    assert at.selectbox(key="prod_product").options
    lines = at.dataframe[-1].value
    assert len(lines) > 0 and {"Order", "Units", "Line total"} <= set(lines.columns)
    product_id = int(at.selectbox(key="prod_product").value)
    f = default_filters(shop_url)
    with connect(shop_url) as db:
        perf = metrics.compute(db, "product_performance", f).set_index("product_id")
    text = captions.product_lines(perf.loc[product_id].to_dict(), len(lines), len(lines))
    assert any(c.endswith(text) for c in caption_texts(at))

    at = open_page("geography")
    config = json.loads(at.get("plotly_chart")[0].proto.config)  # the map's outlines: no CDN
    assert config["topojsonURL"] == "/app/static/"
    country = at.selectbox(key="geo_country").options[1]
    at.selectbox(key="geo_country").set_value(country).run()
    assert not at.exception
    customers, orders = at.dataframe[-2].value, at.dataframe[-1].value
    assert set(customers["Country"]) == {country} and set(orders["Country"]) == {country}
    with connect(shop_url) as db:
        k = metrics.kpis(db, Filters(f.start, f.end, countries=(country,)))
    # "710 orders: 637 completed (the Orders KPI), ..." on the orders tab
    total = k["orders"] + k["cancelled_orders"] + k["returned_orders"]
    assert captions.orders(k, total) in caption_texts(at)
    # a long table is cut at SHOWN_ROWS, most recent first; the caption says the downloads have all
    assert total > ui.SHOWN_ROWS and len(orders) == ui.SHOWN_ROWS
    assert ui.truncated(total) in caption_texts(at)
    assert list(orders["Ordered at"]) == sorted(orders["Ordered at"], reverse=True)
    assert (customers["Orders"] != "0").sum() == k["customers"]


def test_predictions_with_saved_models(app_env, monkeypatch, trained_models):
    monkeypatch.setenv("SA_MODELS_DIR", str(trained_models))
    at = open_page("predictions")
    assert not at.info, [i.value for i in at.info]
    titles = [s.value for s in at.subheader]
    assert "Revenue forecast" in titles and "Customer value and churn risk" in titles
    assert len(at.get("plotly_chart")) >= 4  # forecast, accuracy, scatter, risk matrix
    at.toggle(key="data_revenue_forecast").set_value(True).run()
    tables = [d.value for d in at.dataframe]
    backtest = next(t for t in tables if "Error vs naive" in t.columns)
    assert {"Model", "MAE", "80% coverage", "95% coverage"} <= set(backtest.columns)
    assert backtest.set_index("Model").loc["seasonal_naive", "Error vs naive"] == "100.0%"
    forecast = next(t for t in tables if "Forecast" in t.columns)
    assert {"80% low", "80% high", "95% low", "95% high"} <= set(forecast.columns)
    assert len(forecast) == 28
    at.selectbox(key="pred_value").set_value("high").run()
    at.selectbox(key="pred_risk").set_value("low").run()
    assert not at.exception
    cell = [d.value for d in at.dataframe if "Value tier" in d.value.columns][-1]
    assert set(cell["Value tier"]) <= {"high"} and set(cell["Churn risk"]) <= {"low"}
    # action lists: the same frames as the CLI and API, with a CSV download
    assert "Action lists" in titles
    at.radio(key="pred_action_list").set_value("second-purchase").run()
    assert not at.exception
    shown = at.dataframe[-1].value
    assert len(shown) > 0 and {"email", "reason", "suggested_timing"} <= set(shown.columns)


# ------------------------------------------------------------------------------------ explorer
def test_explorer_lists_the_catalogue_and_computes_with_params(app_env, shop_url):
    at = open_page("explorer")
    listed = at.table[-1].value
    assert list(listed["Name"]) == [m.name for m in metrics.public()]
    assert list(listed.index) == [m.label for m in metrics.public()]
    options = at.selectbox(key="mx_metric").options
    assert len(options) == len(metrics.public())
    at.selectbox(key="mx_metric").set_value("geography").run()
    at.selectbox(key="mx_geography_level").set_value("region").run()
    assert not at.exception and not at.error
    f = default_filters(shop_url)
    with connect(shop_url) as db:
        raw = metrics.compute(db, "geography", f, level="region")
    pd.testing.assert_frame_equal(at.dataframe[0].value, fmt.frame(raw, metrics.get("geography").columns))
    assert "Region" in at.dataframe[0].value.columns
    # a required param without a value asks for it instead of failing
    at.selectbox(key="mx_metric").set_value("product_lines").run()
    assert not at.exception and any("product_id" in i.value for i in at.info)


def _orders_by_status(source, filters, *, status: str = "all"):
    """A test metric: orders per status (built on the catalogue's own orders drill-down)."""
    o = metrics.get("orders").builder(source, filters)
    o = o if status == "all" else o.filter(o.status == status)
    return o.group_by("status").aggregate(orders=o.count().cast("int64"))


def test_a_registered_metric_appears_with_no_other_edit(app_env):
    metric = Metric(
        name="test_orders_by_status",
        builder=_orders_by_status,
        label="Orders by status (test)",
        grain="one row per order status",
        description="Registered by a test.",
        columns=(
            Column("status", "string", "text", "Status"),
            Column("orders", "int64", "count", "Orders"),
        ),
        params=(Param("status", str, "all", "Which orders", choices=("all", "returned")),),
        sort=("status",),
    )
    metrics.register(metric)
    try:
        at = open_page("explorer")
        assert any(o.startswith("Orders by status (test)") for o in at.selectbox(key="mx_metric").options)
        at.selectbox(key="mx_metric").set_value("test_orders_by_status").run()
        assert not at.exception and not at.error
        assert at.selectbox(key="mx_test_orders_by_status_status").options == ["all", "returned"]
        table = at.dataframe[0].value
        assert list(table.columns) == ["Status", "Orders"] and len(table) == 3
        at.selectbox(key="mx_test_orders_by_status_status").set_value("returned").run()
        assert list(at.dataframe[0].value["Status"]) == ["returned"]
    finally:
        metrics.unregister("test_orders_by_status")
        data.clear_caches()


def test_missing_database_or_schema_is_one_line(monkeypatch, tmp_path):
    missing = tmp_path / "nothing" / "sales.duckdb"
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{missing}")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        f"no DuckDB database at {missing}: create one with `sales-analytics build`"
    ]
    assert not missing.parent.exists()  # a reader creates nothing

    import duckdb

    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    monkeypatch.setenv("DATABASE_URL", f"duckdb:///{empty}")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert [e.value for e in at.error] == [
        f"no sales-analytics schema in duckdb:///{empty}: run `sales-analytics build` first"
    ]


def test_app_on_each_backend(loaded_db, monkeypatch, tmp_path):
    """The same app on DuckDB and PostgreSQL: KPI cards equal the metric layer's."""
    monkeypatch.setenv("DATABASE_URL", loaded_db.url)
    monkeypatch.setenv("SA_MODELS_DIR", str(tmp_path))
    at = open_page("revenue")
    k = metrics.kpis(loaded_db)
    last, first = k["last_order_at"].date(), k["first_order_at"].date()
    f = Filters(start=max(first, last - pd.Timedelta(days=364).to_pytimedelta()), end=last)
    assert metric_values(at)["Net revenue"] == money(metrics.kpis(loaded_db, f)["revenue"])
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


# ------------------------------------------------------------------------------------ URL state
def test_filters_round_trip_through_the_url(app_env, shop_url):
    """A shared link opens its page with its filters, and the app writes the same link back."""
    from sales_analytics.dashboard import state

    f = Filters(date(2024, 1, 1), date(2024, 6, 30), countries=("Germany",), segments=("Champions",))
    link = state.url(f, "customers", "http://host:8501")
    assert link == ("http://host:8501/?page=customers&start=2024-01-01&end=2024-06-30"
                    "&country=Germany&segment=Champions")  # fmt: skip
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for k, v in state.params(f, "customers").items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["Customers"]
    assert at.session_state["filters"] == f
    with connect(shop_url) as db:
        k = metrics.kpis(db, f)
    assert metric_values(at)["Customers"] == fmt.value(k["customers"], "count")
    assert {k: v if isinstance(v, list) else [v] for k, v in at.query_params.items()} == {
        "page": ["customers"], "start": ["2024-01-01"], "end": ["2024-06-30"],
        "country": ["Germany"], "segment": ["Champions"],
    }  # fmt: skip
    # a filter changed in the page is written back; values not in the data are dropped
    at.sidebar.multiselect(key="f_countries").set_value(["Germany", "France"]).run()
    assert at.query_params["country"] == ["Germany", "France"]
    bad = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    bad.query_params["country"] = ["Atlantis"]
    bad.query_params["start"] = ["yesterday"]
    bad.run()
    assert not bad.exception and bad.session_state["filters"].countries == ()
    assert {t.value for t in bad.toast} >= {"Link: country='Atlantis' is not in the data: ignored"}
