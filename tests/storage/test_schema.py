"""Schema, constraints, loads and views on every backend."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from sales_analytics.storage import MATERIALIZED, TABLES, VIEWS, StorageError, connect
from tests.conftest import BACKENDS, make_url

T0 = datetime(2024, 1, 5, 10, 30)


def customers(*ids: int, email: str | None = None) -> pa.Table:
    return pa.table(
        {
            "customer_id": list(ids),
            "first_name": ["Ann"] * len(ids),
            "last_name": ["Lee"] * len(ids),
            "email": [email or f"c{i}@example.com" for i in ids],
            "country": ["Germany"] * len(ids),
            "region": ["Berlin"] * len(ids),
            "city": ["Berlin"] * len(ids),
            "created_at": [T0] * len(ids),
        }
    )


def products(*ids: int) -> pa.Table:
    return pa.table(
        {
            "product_id": list(ids),
            "product_name": [f"P{i}" for i in ids],
            "category": ["Books"] * len(ids),
            "brand": ["Nord"] * len(ids),
            "unit_price": [Decimal("10.00")] * len(ids),
            "unit_cost": [Decimal("6.50")] * len(ids),
            "stock_quantity": [5] * len(ids),
            "created_at": [T0] * len(ids),
        }
    )


def orders(rows: list[tuple[int, int, str, str]]) -> pa.Table:
    return pa.table(
        {
            "order_id": [r[0] for r in rows],
            "customer_id": [r[1] for r in rows],
            "order_date": [T0] * len(rows),
            "status": [r[2] for r in rows],
            "payment_method": ["paypal"] * len(rows),
            "total_amount": [Decimal(r[3]) for r in rows],
        }
    )


def items(rows: list[tuple[int, int, int, int, str]]) -> pa.Table:
    return pa.table(
        {
            "order_item_id": [r[0] for r in rows],
            "order_id": [r[1] for r in rows],
            "product_id": [r[2] for r in rows],
            "quantity": [r[3] for r in rows],
            "unit_price": [Decimal(r[4]) for r in rows],
        }
    )


def index_names(db) -> set[str]:
    if db.kind == "duckdb":
        return {r[0] for r in db.query("SELECT index_name FROM duckdb_indexes()")}
    return {r[0] for r in db.query("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")}


def test_schema_objects_exist(db):
    names = db.existing_tables()
    assert set(TABLES) | set(VIEWS) | set(MATERIALIZED) <= names
    expected = {
        "idx_customers_country",
        "idx_products_category",
        "idx_orders_customer_id",
        "idx_orders_order_date",
        "idx_orders_status",
        "idx_order_items_order_id",
        "idx_order_items_product_id",
        "mv_customer_summary_customer_id_uq",
        "mv_product_performance_product_id_uq",
    }
    assert expected <= index_names(db)


def test_create_schema_is_idempotent(db):
    db.load({"customers": customers(1)})
    db.create_schema()  # no replace: keeps the data
    assert db.counts()["customers"] == 1
    db.create_schema(replace=True)
    assert db.counts()["customers"] == 0


def test_valid_load_and_views(db):
    db.load(
        {
            "customers": customers(1, 2),
            "products": products(10, 11),
            "orders": orders([(100, 1, "completed", "25.00"), (101, 1, "returned", "10.00"),
                              (102, 2, "cancelled", "10.00")]),
            "order_items": items([(1, 100, 10, 2, "10.00"), (2, 100, 11, 1, "5.00"),
                                  (3, 101, 10, 1, "10.00"), (4, 102, 11, 1, "10.00")]),
        }
    )
    summary = {r[0]: r for r in db.query(
        "SELECT customer_id, order_count, cancelled_count, returned_count, total_spent,"
        " avg_order_value FROM mv_customer_summary ORDER BY customer_id")}
    assert summary[1][1:] == (1, 0, 1, Decimal("25.00"), Decimal("25.00"))
    assert summary[2][1:] == (0, 1, 0, Decimal("0.00"), None)
    perf = {r[0]: r for r in db.query(
        "SELECT product_id, units_sold, units_returned, revenue, cost, profit, margin_pct"
        " FROM product_performance")}
    assert perf[10][1:] == (2, 1, Decimal("20.00"), Decimal("13.00"), Decimal("7.00"), Decimal("35.00"))
    assert perf[11][1:] == (1, 0, Decimal("5.00"), Decimal("6.50"), Decimal("-1.50"), Decimal("-30.00"))
    # the bulk path (empty tables) drops and rebuilds FKs and indexes: they are all back
    assert {"idx_orders_customer_id", "idx_order_items_product_id"} <= index_names(db)
    with pytest.raises(StorageError, match="nothing was written"):
        db.load({"order_items": items([(9, 100, 999, 1, "1.00")])})


@pytest.mark.parametrize(
    "frames, fragment",
    [
        ({"orders": orders([(1, 999, "completed", "1.00")])}, "foreign key"),
        ({"customers": customers(2, email="c1@example.com")}, "unique"),
        ({"orders": orders([(1, 1, "shipped", "1.00")])}, "shipped"),
        ({"products": products(5), "orders": orders([(1, 1, "completed", "1.00")]),
          "order_items": items([(1, 1, 5, 0, "1.00")])}, "check"),
    ],
    ids=["fk", "unique-email", "status-enum", "quantity-check"],
)
def test_constraints_reject_bad_rows_and_load_nothing(db, frames, fragment):
    db.load({"customers": customers(1)})
    before = db.counts()
    with pytest.raises(StorageError) as err:
        db.load(frames)
    assert "nothing was written" in str(err.value)
    assert fragment in str(err.value).lower() or fragment == "check" and "constraint" in str(err.value).lower()
    assert db.counts() == before


def test_load_is_one_transaction_across_tables(db):
    with pytest.raises(StorageError):
        db.load({"customers": customers(1, 2), "orders": orders([(1, 3, "completed", "1.00")])})
    assert db.counts() == {name: 0 for name in TABLES}


def test_bulk_load_of_all_tables_still_enforces_keys(db):
    frames = {
        "customers": customers(1, 2),
        "products": products(10),
        "orders": orders([(100, 1, "completed", "10.00")]),
        "order_items": items([(1, 100, 10, 1, "10.00")]),
    }
    for table, bad in (
        ("customers", pa.concat_tables([customers(1, 2), customers(1)])),  # duplicate key
        ("customers", pa.concat_tables([customers(1), customers(3, email="c1@example.com")])),
        ("order_items", items([(1, 100, 10, 1, "10.00"), (1, 100, 10, 2, "10.00")])),
    ):
        with pytest.raises(StorageError, match="nothing was written"):
            db.load(frames | {table: bad})
        assert db.counts() == {name: 0 for name in TABLES}
    db.load(frames)
    assert db.counts()["order_items"] == 1
    with pytest.raises(StorageError):  # keys are back after the bulk load
        db.load({"customers": customers(2)})


def test_refresh_updates_materialized_views(db):
    db.load({"customers": customers(1)}, refresh=False)
    db.refresh()
    assert db.query("SELECT count(*) FROM mv_customer_summary")[0][0] == 1
    db.load({"customers": customers(2, 3)}, refresh=False)
    assert db.query("SELECT count(*) FROM mv_customer_summary")[0][0] == 1  # stale until refresh
    db.refresh()
    assert db.query("SELECT count(*) FROM mv_customer_summary")[0][0] == 3
    assert "mv_customer_summary_customer_id_uq" in index_names(db)


def test_pair_units_and_last_sale_views(db):
    db.load(
        {
            "customers": customers(1),
            "products": products(10, 11, 12),
            "orders": orders([(200, 1, "completed", "1.00"), (201, 1, "returned", "1.00"),
                              (202, 1, "cancelled", "1.00"), (203, 1, "completed", "1.00")]),
            "order_items": items([(1, 200, 10, 1, "1.00"), (2, 200, 11, 2, "1.00"),
                                  (3, 200, 11, 1, "1.00"),  # same product twice in one order
                                  (4, 201, 10, 5, "1.00"), (5, 201, 11, 5, "1.00"),
                                  (6, 202, 10, 7, "1.00"), (7, 202, 11, 7, "1.00"),
                                  (8, 203, 10, 1, "1.00"), (9, 203, 12, 4, "1.00")]),
        }
    )  # fmt: skip
    # baskets = orders not cancelled (200, 201, 203); a product once per basket; >= 2 baskets only
    assert db.query("SELECT * FROM mv_product_pairs") == [(10, 11, 2, 3, 2, 3)]
    assert db.query("SELECT day, units FROM mv_daily_units") == [(T0.date(), 9)]
    last = dict(db.query("SELECT product_id, last_sold_at FROM mv_product_performance"))
    assert last == {10: T0, 11: T0, 12: T0}
    assert "mv_product_pairs_product_a_product_b_uq" in index_names(db)


def test_refresh_recreates_views_an_earlier_version_made(db):
    db.load({"customers": customers(1)})
    assert db.views_current()
    with db.transaction() as cur:  # as an earlier version left it: no daily_units, fewer columns
        cur.execute(db.dialect.drop_materialized.format(name="mv_daily_units"))
        cur.execute(db.dialect.drop_view.format(name="daily_units"))
        cur.execute(db.dialect.drop_materialized.format(name="mv_product_performance"))
        cur.execute(db.dialect.create_materialized.format(
            name="mv_product_performance",
            source="(SELECT product_id, units_sold FROM product_performance) AS old"))
    assert not db.views_current()
    db.refresh()
    assert db.views_current()
    assert "last_sold_at" in db.table("mv_product_performance").columns
    assert db.query("SELECT count(*) FROM mv_daily_units")[0][0] == 0


def test_load_rejects_missing_columns(db):
    with pytest.raises(StorageError, match="missing column"):
        db.load({"customers": customers(1).drop_columns(["email"])})


def test_bad_urls_give_one_line_errors():
    with pytest.raises(StorageError, match="unsupported database URL"):
        connect("mysql://localhost/x")
    with pytest.raises(StorageError, match="cannot connect to PostgreSQL at 127.0.0.1:1/"):
        connect("postgresql://postgres@127.0.0.1:1/nothing")


@pytest.mark.postgres
def test_views_identical_on_duckdb_and_postgres(small_frames, tmp_path, pg_databases):
    results = {}
    for param in BACKENDS:
        kind = param.values[0]
        with connect(make_url(kind, tmp_path, pg_databases)) as database:
            database.create_schema()
            database.load(small_frames)
            for view in ("customer_summary", "product_performance",
                         "mv_customer_summary", "mv_product_performance"):
                key = "customer_id" if "customer" in view else "product_id"
                frame = database.table(view).to_pandas().sort_values(key).reset_index(drop=True)
                results[(kind, view)] = frame
    for view in ("customer_summary", "product_performance",
                 "mv_customer_summary", "mv_product_performance"):
        duck, pg = results[("duckdb", view)], results[("postgres", view)]
        assert list(duck.columns) == list(pg.columns)
        assert len(duck) == len(pg) > 0
        for col in duck.columns:
            as_text = [[None if v is None or v != v else str(v) for v in f[col]] for f in (duck, pg)]
            assert as_text[0] == as_text[1], (view, col)


@pytest.mark.parametrize(
    "url, path",
    [
        ("duckdb:///data/sales.duckdb", "data/sales.duckdb"),
        ("duckdb:////tmp/x/sales.duckdb", "/tmp/x/sales.duckdb"),
        ("duckdb://", ":memory:"),
    ],
)
def test_duckdb_url_paths(url, path):
    from sales_analytics.storage import parse_url

    assert parse_url(url).path == path
