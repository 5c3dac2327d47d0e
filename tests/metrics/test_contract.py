"""The catalogue's contract, for every entry on every backend (PySpark: ``test_contract_spark``).

* Declared columns and dtypes hold, for every choice of the params ``analyze`` expands.
* A materialized read and a live read of the same metric give identical frames: every metric, with
  no filters, against :func:`~sales_analytics.metrics.source.live_only` (which never reads a copy),
  also on edge cases and after loads. Metrics that materialize read their copy unfiltered.
"""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal as D

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from sales_analytics import metrics as M
from sales_analytics.metrics import Filters
from sales_analytics.metrics.source import live_only
from sales_analytics.storage import StorageError
from sales_analytics.storage.schema import DEFAULTS

NAMES = list(M.CATALOG)
#: what a required param takes in these tests
REQUIRED = {"product_id": 1}
WINDOW = Filters(start=date(2024, 2, 10), end=date(2024, 11, 20))


def variants(metric: M.Metric) -> list[dict]:
    """Every combination of the expanded params' choices (required params filled in)."""
    fixed = {p.name: REQUIRED[p.name] for p in metric.params if p.required}
    expanded = [p for p in metric.params if p.expand]
    combos = itertools.product(*[p.choices for p in expanded])
    return [fixed | dict(zip([p.name for p in expanded], c, strict=True)) for c in combos]


def dtype_ok(declared: str, actual) -> bool:
    """The declared dtype, whatever length or precision a backend adds (PostgreSQL: string(100))."""
    if declared in ("int64", "float64"):
        return str(actual) == declared
    return getattr(actual, f"is_{declared}")()


def assert_identical(fast: pd.DataFrame, slow: pd.DataFrame) -> None:
    """Same columns, dtypes, row order and values (exact; NaN == NaN)."""
    pd.testing.assert_frame_equal(
        fast.reset_index(drop=True), slow.reset_index(drop=True), check_exact=True
    )


def check_declared(db, name: str) -> None:
    metric = M.get(name)
    # the decomposition needs two seasons of data: the whole history
    filters = WINDOW if metric.engine == "sql" else Filters()
    for params in variants(metric):
        declared = metric.output(params)
        frame = M.compute(db, name, filters, **params)
        assert list(frame.columns) == [c.name for c in declared], (name, params)
        if metric.engine == "sql":
            schema = M.expression(db, name, filters, **params).schema()
            wrong = {c.name: str(schema[c.name]) for c in declared if not dtype_ok(c.dtype, schema[c.name])}
            assert not wrong, f"{name} {params}: declared dtypes differ: {wrong}"


@pytest.mark.parametrize("name", NAMES)
def test_declared_columns_and_dtypes(loaded_db, name):
    check_declared(loaded_db, name)


@pytest.mark.parametrize("name", NAMES)
def test_materialized_equals_live(loaded_db, name):
    metric = M.get(name)
    for params in variants(metric):
        fast = M.compute(loaded_db, name, **params)
        with live_only():
            slow = M.compute(loaded_db, name, **params)
        assert_identical(fast, slow)
    if metric.materialize:
        assert len(fast) > 0
        sql = str(loaded_db.ibis.compile(M.expression(loaded_db, name)))
        assert f"mv_{name}" in sql, "an unfiltered call reads the copy"
        filtered = M.expression(loaded_db, name, Filters(countries=("Germany",)))
        assert f"mv_{name}" not in str(loaded_db.ibis.compile(filtered))


@pytest.mark.parametrize("grain", ["day", "week", "month"])
def test_date_window_reads_daily_units(loaded_db, grain):
    expr = M.expression(loaded_db, "revenue", WINDOW, grain=grain)
    sql = str(loaded_db.ibis.compile(expr))
    assert "mv_daily_units" in sql and '"order_items"' not in sql
    fast = M.compute(loaded_db, "revenue", WINDOW, grain=grain)
    with live_only():
        assert_identical(fast, M.compute(loaded_db, "revenue", WINDOW, grain=grain))
    assert M.kpis(loaded_db, WINDOW)["units"] == fast.units.sum() > 0


#: metrics that sum the day and month copies under a filter of dates only (see metrics/preagg.py)
PAIRS = ("mv_pair_day_counts", "mv_product_month_sales", "mv_daily_baskets")
PRODUCTS = ("mv_product_month_sales",)
DAY_COPY_READERS = {
    "pair_counts": PAIRS,
    "product_pairs": PAIRS,
    "product_sales": PRODUCTS,
    "product_performance": PRODUCTS,
    "abc_classes": PRODUCTS,
    "category_rollup": (*PRODUCTS, "mv_rollup_month_sales"),
    "brand_rollup": (*PRODUCTS, "mv_rollup_month_sales"),
    "stock_cover": PRODUCTS,  # the last sale up to the window's end (their demand is live)
    "slow_movers": PRODUCTS,
}
READ_ITEMS = ("stock_cover", "slow_movers")
#: windows: edge days on both sides, open on either side, whole months only, within one month,
#: across a month's end without a whole month
WINDOWS = (
    WINDOW,
    Filters(start=WINDOW.start),
    Filters(end=WINDOW.end),
    Filters(start=date(2024, 3, 1), end=date(2024, 10, 31)),
    Filters(start=date(2024, 2, 10), end=date(2024, 2, 20)),
    Filters(start=date(2024, 2, 10), end=date(2024, 3, 5)),
)


@pytest.mark.parametrize("name", list(DAY_COPY_READERS))
def test_date_window_from_day_copies_equals_live(loaded_db, name):
    """Under a filter of dates only the day and month copies are read (the order items only for
    the edge days outside whole months), and the result is the live one exactly; with a country
    filter the metric computes live."""
    sql = str(loaded_db.ibis.compile(M.expression(loaded_db, name, WINDOW)))
    assert all(copy in sql for copy in DAY_COPY_READERS[name])
    months = str(loaded_db.ibis.compile(M.expression(loaded_db, name, WINDOWS[3])))
    assert all(copy in months for copy in DAY_COPY_READERS[name])
    assert name in READ_ITEMS or '"order_items"' not in months
    for flt in WINDOWS:
        fast = M.compute(loaded_db, name, flt)
        with live_only():
            assert_identical(fast, M.compute(loaded_db, name, flt))
        assert len(fast) > 0
    country = Filters(start=WINDOW.start, countries=("Germany",))
    sql = str(loaded_db.ibis.compile(M.expression(loaded_db, name, country)))
    assert "_day_" not in sql and "_month_" not in sql
    if name == "product_pairs":  # a higher minimum from the days too; min_orders=1 is live
        for min_orders in (1, 3):
            fast = M.compute(loaded_db, name, WINDOW, min_orders=min_orders)
            with live_only():
                assert_identical(fast, M.compute(loaded_db, name, WINDOW, min_orders=min_orders))


@pytest.mark.parametrize("window_days", [30, 90, 365])
@pytest.mark.parametrize("flt", [Filters(), WINDOW, Filters(end=date(2024, 6, 30))], ids=str)
def test_stock_demand_from_month_copy_equals_live(loaded_db, flt, window_days):
    """The demand window of stock cover and slow movers (the days before the as-of day, also
    without an end date) sums the per-month copy plus its edge days live: the live result
    exactly (62 days or more always hold a whole month read from the copy)."""
    for name in ("stock_cover", "slow_movers"):
        expr = M.expression(loaded_db, name, flt, window_days=window_days)
        sql = str(loaded_db.ibis.compile(expr))
        assert window_days < 62 or "mv_product_month_sales" in sql
        fast = M.compute(loaded_db, name, flt, window_days=window_days)
        with live_only():
            assert_identical(fast, M.compute(loaded_db, name, flt, window_days=window_days))
    assert (fast.units_window > 0).any() if len(fast) else True


CUSTOMER_COPY_READERS = {
    "kpis": "mv_customer_first_orders",
    "cohorts": "mv_customer_first_orders",
    "new_vs_returning": "mv_customer_first_orders",
    "rfm_segments": "mv_customer_totals",
    "segment_summary": "mv_customer_totals",
    "customers": "mv_customer_totals",
}


@pytest.mark.parametrize("name", list(CUSTOMER_COPY_READERS))
def test_customer_copies_equal_live(loaded_db, name):
    """First orders per customer come from their copy without countries or segments; the RFM
    totals per customer from theirs when the window's end is open or on or after the last
    order's day (and live before it): the live result exactly, under every filter kind."""
    from sales_analytics.metrics.rules import last_order_day

    last = last_order_day(loaded_db)
    copy = CUSTOMER_COPY_READERS[name]
    reads = [Filters(), Filters(start=date(2024, 1, 1), end=last), Filters(end=date(2100, 1, 1))]
    for flt in reads:
        assert copy in str(loaded_db.ibis.compile(M.expression(loaded_db, name, flt))), flt
    live = [WINDOW, Filters(countries=("Germany",)), Filters(segments=("Champions",))]
    if copy == "mv_customer_totals":  # an end before the last order's day: live
        assert copy not in str(loaded_db.ibis.compile(M.expression(loaded_db, name, WINDOW)))
    for flt in reads + live:
        fast = M.compute(loaded_db, name, flt)
        with live_only():
            assert_identical(fast, M.compute(loaded_db, name, flt))


def test_copies_stored_in_declared_types(loaded_db):
    """Every copy's integer and sized decimal columns are stored in the types its expression
    declares (not the wider ones a database infers for sums: HUGEINT, NUMERIC), so a read
    neither converts them nor sums 128-bit values."""
    from sales_analytics.metrics.run import definitions

    for d in definitions(loaded_db):
        stored = loaded_db.table(d.name).schema()
        for col, dtype in d.schema.items():
            if dtype.is_integer() or (dtype.is_decimal() and dtype.precision is not None):
                assert stored[col] == dtype, (d.name, col, stored[col], dtype)


def test_copy_of_another_definition_is_not_read(loaded_db, monkeypatch):
    """A copy whose recorded digest differs (made by another version) is never read."""
    from sales_analytics.metrics import source

    assert source.materialized_table(loaded_db, "customer_summary") is not None
    stale = {k: "0" * 16 for k in loaded_db.materialized_digests()}
    monkeypatch.setattr(loaded_db, "materialized_digests", lambda: stale)
    assert source.materialized_table(loaded_db, "customer_summary") is None

    class TablesOnly:  # like the PySpark adapter: only ``table``
        def table(self, name):
            return loaded_db.table(name)

    assert source.materialized_table(TablesOnly(), "customer_summary") is None


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

    def cat(name: str, a: pa.Table, b: pa.Table) -> pa.Table:
        for col, default in DEFAULTS.get(name, {}).items():  # no discount, no refund, ...
            if col not in b.column_names:
                b = b.append_column(col, pa.array([default] * b.num_rows, a.schema.field(col).type))
        return pa.concat_tables([a, b.select(a.schema.names).cast(a.schema)])

    return {
        "customers": small_frames["customers"],
        "products": cat("products", products, new_products),
        "orders": cat("orders", orders, new_orders),
        "order_items": cat("order_items", items, new_items),
    }


def all_identical(db, filters: Filters = Filters(), names=NAMES) -> None:
    for name in names:
        metric = M.get(name)
        if metric.engine != "sql":  # computed in pandas from live series only
            continue
        for params in variants(metric):
            fast = M.compute(db, name, filters, **params)
            with live_only():
                assert_identical(fast, M.compute(db, name, filters, **params))


def test_edge_cases_identical(db, small_frames):
    M.load(db, _edge_frames(small_frames))
    perf = M.compute(db, "product_performance").set_index("product_name")
    assert perf.loc["Only cancelled", "units_sold"] == 0
    assert perf.loc["Only returned", "units_returned"] == 1
    assert pd.isna(perf.loc["Free", "margin_pct"]) and perf.loc["Free", "units_sold"] == 3
    assert "ZZ Edge" in set(M.compute(db, "category_rollup").category)
    all_identical(db)
    day = small_frames["orders"]["order_date"][0].as_py().date()  # the edge orders' day
    all_identical(db, Filters(start=day, end=day), DAY_COPY_READERS)


def test_loads_keep_copies_current(db, small_frames):
    """A load through the catalogue rebuilds the copies in its transaction; a bare load drops
    them (they would be stale), so unfiltered reads are live until the next refresh."""
    frames = small_frames
    head = frames["orders"].slice(0, 1000)
    rest = frames["orders"].slice(1000)

    def items_of(orders):
        return frames["order_items"].filter(
            pc.is_in(frames["order_items"]["order_id"], orders["order_id"])
        )

    M.load(db, {"customers": frames["customers"], "products": frames["products"],
                "orders": head, "order_items": items_of(head)})  # fmt: skip
    assert set(db.materialized_digests()) == {f"mv_{m.name}" for m in M.CATALOG.values()
                                              if m.materialize}  # fmt: skip
    all_identical(db)

    db.load({"orders": rest, "order_items": items_of(rest)})  # no copies given: they go
    assert db.materialized_digests() == {}
    assert M.kpis(db)["orders"] == M.kpis(db, Filters(end=date(2100, 1, 1)))["orders"]
    assert "mv_customer_summary" not in str(db.ibis.compile(M.expression(db, "customer_summary")))
    M.refresh(db)
    assert "mv_customer_summary" in str(db.ibis.compile(M.expression(db, "customer_summary")))
    all_identical(db)


def test_failed_load_keeps_data_and_copies(db, small_frames):
    M.load(db, small_frames)
    before = M.compute(db, "customer_summary")
    digests = db.materialized_digests()
    bad = small_frames["orders"].slice(0, 1)  # an order id that exists: the key rejects it
    with pytest.raises(StorageError):
        M.load(db, {"orders": bad})
    assert db.materialized_digests() == digests
    assert_identical(M.compute(db, "customer_summary"), before)
