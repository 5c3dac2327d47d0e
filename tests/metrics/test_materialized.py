"""Unfiltered metrics read materialized views: identical to the live computation.

``product_performance``, ``abc_classes`` and the category/brand rollups take their sales from
``mv_product_performance`` / ``mv_category_sales`` / ``mv_brand_sales``, ``customer_summary`` its
rows from ``mv_customer_summary``, ``product_pairs`` its counts from ``mv_product_pairs``,
``stock_cover`` / ``slow_movers`` the last sale from ``mv_product_performance``, and the sales time
series and KPIs their units from ``mv_daily_units`` (also under a date-only filter), when called
without filters (see ``docs/metrics.md``). The live path is forced by making ``materialized`` find
nothing.
"""

from __future__ import annotations

from decimal import Decimal as D

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from sales_analytics import metrics as M
from sales_analytics.metrics import Filters, _base
from sales_analytics.metrics import customers as C
from sales_analytics.metrics import products as P
from sales_analytics.metrics import sales as S

#: metric -> (function, the materialized view it reads unfiltered, a table only the live path reads
#: or None when both read it)
FAST = {
    "product_performance": (M.product_performance, "mv_product_performance", "order_items"),
    "category_rollup": (M.category_rollup, "mv_category_sales", "order_items"),
    "brand_rollup": (M.brand_rollup, "mv_brand_sales", "order_items"),
    "abc_classes": (M.abc_classes, "mv_product_performance", "order_items"),
    "customer_summary": (M.customer_summary, "mv_customer_summary", "orders"),
    "product_pairs": (
        lambda db, *f: M.product_pairs(db, *f, limit=None), "mv_product_pairs", "order_items"
    ),
    "stock_cover": (M.stock_cover, "mv_product_performance", None),
    "slow_movers": (
        lambda db, *f: M.slow_movers(db, *f, max_units=3), "mv_product_performance", None
    ),
    "revenue_monthly": (
        lambda db, *f: M.revenue_timeseries(db, "month", *f), "mv_daily_units", "order_items"
    ),
    "revenue_weekly": (
        lambda db, *f: M.revenue_timeseries(db, "week", *f), "mv_daily_units", "order_items"
    ),
    "kpis": (M.kpi_table, "mv_daily_units", "order_items"),
}


def live(monkeypatch, fn, db, filters=None):
    with monkeypatch.context() as m:
        for module in (P, C, S):
            m.setattr(module, "materialized", lambda *_: None)
        args = () if filters is None else (filters,)
        return fn(db, *args).to_pandas()


def assert_identical(fast: pd.DataFrame, slow: pd.DataFrame) -> None:
    """Same columns, dtypes, row order and values (exact; NaN == NaN)."""
    pd.testing.assert_frame_equal(
        fast.reset_index(drop=True), slow.reset_index(drop=True), check_exact=True
    )


@pytest.mark.parametrize("name", FAST)
def test_unfiltered_reads_materialized_view(loaded_db, monkeypatch, name):
    fn, mv, source = FAST[name]
    sql = str(loaded_db.ibis.compile(fn(loaded_db)))
    assert mv in sql
    if source is not None:
        assert f'"{source}"' not in sql
    fast = fn(loaded_db).to_pandas()
    assert len(fast) > 0
    assert_identical(fast, live(monkeypatch, fn, loaded_db))


@pytest.mark.parametrize("name", FAST)
def test_filtered_computes_live(loaded_db, name):
    fn, mv, source = FAST[name]
    sql = str(loaded_db.ibis.compile(fn(loaded_db, Filters(countries=("Germany",)))))
    assert mv not in sql
    assert f'"{source or "order_items"}"' in sql


@pytest.mark.parametrize("grain", ["day", "week", "month"])
def test_date_window_reads_daily_units(loaded_db, monkeypatch, grain):
    window = Filters(start="2024-02-10", end="2024-11-20")
    expr = M.revenue_timeseries(loaded_db, grain, window)
    sql = str(loaded_db.ibis.compile(expr))
    assert "mv_daily_units" in sql and '"order_items"' not in sql
    fast = expr.to_pandas()
    assert fast.units.sum() > 0
    slow = live(monkeypatch, lambda db, f: M.revenue_timeseries(db, grain, f), loaded_db, window)
    assert_identical(fast, slow)
    kpi = M.kpi_table(loaded_db, window).to_pandas()
    assert_identical(kpi, live(monkeypatch, M.kpi_table, loaded_db, window))
    assert kpi.units.iloc[0] == fast.units.sum()


def test_stock_cover_ignores_start_and_reads_last_sale(loaded_db, monkeypatch):
    f = Filters(start="2024-06-01")
    expr = M.stock_cover(loaded_db, f)
    assert "mv_product_performance" in str(loaded_db.ibis.compile(expr))
    fast = expr.to_pandas()
    assert_identical(fast, live(monkeypatch, M.stock_cover, loaded_db, f))
    assert_identical(fast, M.stock_cover(loaded_db).to_pandas())


def test_explicit_as_of_computes_last_sale_live(loaded_db, monkeypatch):
    from datetime import date

    expr = M.stock_cover(loaded_db, as_of=date(2024, 6, 1))
    assert "mv_product_performance" not in str(loaded_db.ibis.compile(expr))
    fast = expr.to_pandas()
    assert fast.last_sold_at.max() < pd.Timestamp("2024-06-01")


def test_source_without_the_view_computes_live(loaded_db):
    class TablesOnly:  # like the PySpark test adapter: only ``table``
        def table(self, name):
            return loaded_db.table(name)

    assert _base.materialized(TablesOnly(), "mv_product_performance", Filters()) is None
    assert _base.materialized(loaded_db, "mv_product_performance", Filters()) is not None
    assert _base.materialized(loaded_db, "mv_no_such_view", Filters()) is None


def _edge_frames(small_frames) -> dict[str, pa.Table]:
    """The small data set plus products never ordered, ordered only in cancelled / only in returned
    orders, sold at price 0, and a category and brand with no completed sales at all."""
    products = small_frames["products"]
    orders = small_frames["orders"]
    items = small_frames["order_items"]
    pid = pc.max(products["product_id"]).as_py() + 1
    oid = pc.max(orders["order_id"]).as_py() + 1
    iid = pc.max(items["order_item_id"]).as_py() + 1
    cust = orders["customer_id"][0].as_py()
    when = orders["order_date"][0].as_py()
    new_products = pa.table(
        {
            "product_id": [pid, pid + 1, pid + 2, pid + 3],
            "product_name": ["Never", "Only cancelled", "Only returned", "Free"],
            "category": ["ZZ Edge", "ZZ Edge", "ZZ Edge", "ZZ Free"],
            "brand": ["ZZ Brand", "ZZ Brand", "ZZ Brand", "ZZ Free"],
            "unit_price": [D(10), D(20), D(30), D(0)],
            "unit_cost": [D(5), D(10), D(15), D(1)],
            "stock_quantity": [1, 2, 3, 4],
            "created_at": [when] * 4,
        }
    )
    new_orders = pa.table(
        {
            "order_id": [oid, oid + 1, oid + 2],
            "customer_id": [cust] * 3,
            "order_date": [when] * 3,
            "status": ["cancelled", "returned", "completed"],
            "payment_method": ["paypal"] * 3,
            "total_amount": [D(40), D(30), D(0)],
        }
    )
    new_items = pa.table(
        {
            "order_item_id": [iid, iid + 1, iid + 2],
            "order_id": [oid, oid + 1, oid + 2],
            "product_id": [pid + 1, pid + 2, pid + 3],
            "quantity": [2, 1, 3],
            "unit_price": [D(20), D(30), D(0)],
        }
    )

    def cat(a: pa.Table, b: pa.Table) -> pa.Table:
        return pa.concat_tables([a, b.select(a.schema.names).cast(a.schema)])

    return {
        "customers": small_frames["customers"],
        "products": cat(products, new_products),
        "orders": cat(orders, new_orders),
        "order_items": cat(items, new_items),
    }


def test_edge_cases_identical(db, small_frames, monkeypatch):
    db.load(_edge_frames(small_frames))
    perf = M.product_performance(db).to_pandas().set_index("product_name")
    assert perf.loc["Only cancelled", "units_sold"] == 0
    assert perf.loc["Only returned", "units_returned"] == 1
    assert pd.isna(perf.loc["Free", "margin_pct"]) and perf.loc["Free", "units_sold"] == 3
    assert "ZZ Edge" in set(M.category_rollup(db).to_pandas().category)
    for fn, *_ in FAST.values():
        assert_identical(fn(db).to_pandas(), live(monkeypatch, fn, db))


def test_load_refreshes_the_views(db, small_frames, monkeypatch):
    frames = small_frames
    half = {"customers": frames["customers"], "products": frames["products"]}
    orders = frames["orders"].slice(0, 1000)
    items = frames["order_items"].filter(
        pc.is_in(frames["order_items"]["order_id"], orders["order_id"])
    )
    db.load({**half, "orders": orders, "order_items": items})
    first = M.product_performance(db).to_pandas()
    assert_identical(first, live(monkeypatch, M.product_performance, db))

    rest = frames["orders"].slice(1000)
    rest_items = frames["order_items"].filter(
        pc.is_in(frames["order_items"]["order_id"], rest["order_id"])
    )
    # without a refresh the views (and the unfiltered calls) still show the last refresh
    db.load({"orders": rest, "order_items": rest_items}, refresh=False)
    assert_identical(M.product_performance(db).to_pandas(), first)
    assert not live(monkeypatch, M.product_performance, db).equals(first)
    db.refresh()
    for fn, *_ in FAST.values():
        assert_identical(fn(db).to_pandas(), live(monkeypatch, fn, db))
