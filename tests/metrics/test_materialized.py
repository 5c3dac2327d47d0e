"""Unfiltered product metrics read materialized views: identical to the live computation.

``product_performance``, ``abc_classes`` and the category/brand rollups take their sales from
``mv_product_performance`` / ``mv_category_sales`` / ``mv_brand_sales`` when called without filters
(see ``docs/metrics.md``). The live path is forced by making ``materialized`` find nothing.
"""

from __future__ import annotations

from decimal import Decimal as D

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from sales_analytics import metrics as M
from sales_analytics.metrics import Filters, _base
from sales_analytics.metrics import products as P

FAST = {
    "product_performance": (M.product_performance, "mv_product_performance"),
    "category_rollup": (M.category_rollup, "mv_category_sales"),
    "brand_rollup": (M.brand_rollup, "mv_brand_sales"),
    "abc_classes": (M.abc_classes, "mv_product_performance"),
}


def live(monkeypatch, fn, db, filters=None):
    with monkeypatch.context() as m:
        m.setattr(P, "materialized", lambda *_: None)
        args = () if filters is None else (filters,)
        return fn(db, *args).to_pandas()


def assert_identical(fast: pd.DataFrame, slow: pd.DataFrame) -> None:
    """Same columns, dtypes, row order and values (exact; NaN == NaN)."""
    pd.testing.assert_frame_equal(
        fast.reset_index(drop=True), slow.reset_index(drop=True), check_exact=True
    )


@pytest.mark.parametrize("name", FAST)
def test_unfiltered_reads_materialized_view(loaded_db, monkeypatch, name):
    fn, mv = FAST[name]
    sql = str(loaded_db.ibis.compile(fn(loaded_db)))
    assert mv in sql
    assert "order_items" not in sql
    fast = fn(loaded_db).to_pandas()
    assert len(fast) > 0
    assert_identical(fast, live(monkeypatch, fn, loaded_db))


@pytest.mark.parametrize("name", FAST)
def test_filtered_computes_live(loaded_db, name):
    fn, mv = FAST[name]
    sql = str(loaded_db.ibis.compile(fn(loaded_db, Filters(countries=("Germany",)))))
    assert mv not in sql
    assert "order_items" in sql


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
    for fn, _mv in FAST.values():
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
    for fn, _mv in FAST.values():
        assert_identical(fn(db).to_pandas(), live(monkeypatch, fn, db))
