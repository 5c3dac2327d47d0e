"""Schema, constraints, loads and the materialized copies on every backend."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from sales_analytics import metrics
from sales_analytics.storage import TABLES, StorageError, connect
from sales_analytics.storage.dialects import COPY_WORK_MEM
from sales_analytics.storage.schema import secondary_indexes
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


COPIES = {f"mv_{m.name}" for m in metrics.CATALOG.values() if m.materialize}


def test_schema_objects_exist(db):
    assert set(TABLES) | {"sa_materialized"} <= db.existing_tables()
    metrics.refresh(db)
    assert COPIES <= db.existing_tables()
    assert set(db.materialized_digests()) == COPIES
    expected = set(secondary_indexes(db.dialect.skip_indexes))
    if db.dialect.declared_keys:  # DuckDB checks the copies' keys by query: no ART index
        expected |= {
            "mv_customer_summary_customer_id_uq",
            "mv_product_sales_product_id_uq",
            "mv_customer_summary_country_idx",
        }
    assert expected <= index_names(db)


def test_create_schema_is_idempotent(db):
    db.load({"customers": customers(1)})
    db.create_schema()  # no replace: keeps the data
    assert db.counts()["customers"] == 1
    db.create_schema(replace=True)
    assert db.counts()["customers"] == 0


def test_valid_load_and_views(db):
    metrics.load(
        db,
        {
            "customers": customers(1, 2),
            "products": products(10, 11),
            "orders": orders(
                [
                    (100, 1, "completed", "25.00"),
                    (101, 1, "returned", "10.00"),
                    (102, 2, "cancelled", "10.00"),
                ]
            ),
            "order_items": items(
                [
                    (1, 100, 10, 2, "10.00"),
                    (2, 100, 11, 1, "5.00"),
                    (3, 101, 10, 1, "10.00"),
                    (4, 102, 11, 1, "10.00"),
                ]
            ),
        },
    )
    summary = {
        r[0]: r
        for r in db.query(
            "SELECT customer_id, order_count, cancelled_count, returned_count, total_spent,"
            " avg_order_value FROM mv_customer_summary ORDER BY customer_id"
        )
    }
    assert summary[1][1:] == (1, 0, 1, 25.0, 25.0)
    assert summary[2][1:] == (0, 1, 0, 0.0, None)
    perf = metrics.compute(db, "product_performance").set_index("product_id")
    cols = ["units_sold", "units_returned", "revenue", "cost", "profit", "margin_pct"]
    assert list(perf.loc[10, cols]) == [2, 1, 20.0, 13.0, 7.0, 35.0]
    assert list(perf.loc[11, cols]) == [1, 0, 5.0, 6.5, -1.5, -30.0]
    # the bulk path (empty tables) drops and rebuilds FKs and indexes: they are all back
    # (DuckDB declares none: its keys are checked by query, see storage.key_checks)
    wanted = {"idx_orders_customer_id", "idx_order_items_product_id"}
    assert wanted - set(db.dialect.skip_indexes) <= index_names(db)
    with pytest.raises(StorageError, match="nothing was written"):
        db.load({"order_items": items([(9, 100, 999, 1, "1.00")])})


@pytest.mark.parametrize(
    "frames, fragment",
    [
        ({"orders": orders([(1, 999, "completed", "1.00")])}, "foreign key"),
        ({"customers": customers(2, email="c1@example.com")}, "unique"),
        ({"orders": orders([(1, 1, "shipped", "1.00")])}, "shipped"),
        (
            {
                "products": products(5),
                "orders": orders([(1, 1, "completed", "1.00")]),
                "order_items": items([(1, 1, 5, 0, "1.00")]),
            },
            "check",
        ),
    ],
    ids=["fk", "unique-email", "status-enum", "quantity-check"],
)
def test_constraints_reject_bad_rows_and_load_nothing(db, frames, fragment):
    db.load({"customers": customers(1)})
    before = db.counts()
    with pytest.raises(StorageError) as err:
        db.load(frames)
    assert "nothing was written" in str(err.value)
    assert (
        fragment in str(err.value).lower()
        or fragment == "check"
        and "constraint" in str(err.value).lower()
    )
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


def test_copies_follow_every_load(db):
    metrics.load(db, {"customers": customers(1)})
    assert db.query("SELECT count(*) FROM mv_customer_summary")[0][0] == 1
    db.load({"customers": customers(2, 3)})  # a load without copies drops them: never stale
    assert db.materialized_digests() == {} and "mv_customer_summary" not in db.existing_tables()
    metrics.refresh(db)
    assert db.query("SELECT count(*) FROM mv_customer_summary")[0][0] == 3
    if db.dialect.declared_keys:  # DuckDB: the key is checked by query (no ART index)
        assert "mv_customer_summary_customer_id_uq" in index_names(db)


class FakeCopy:
    def __init__(self, name: str, sql: str, key=("customer_id",), digest="d1"):
        self.name, self.sql, self.key, self.indexed, self.digest = name, sql, key, (), digest


def test_refresh_is_one_transaction(db):
    """A copy that fails to build leaves every earlier copy and record as it was."""
    metrics.load(db, {"customers": customers(1, 2)})
    before = db.materialized_digests()
    good = FakeCopy("mv_fake", "SELECT customer_id FROM customers")
    bad = FakeCopy("mv_broken", "SELECT no_such_column FROM customers")
    with pytest.raises(Exception):  # noqa: B017 - the driver's own error
        db.refresh([good, bad])
    assert db.materialized_digests() == before
    assert "mv_fake" not in db.existing_tables()
    assert db.query("SELECT count(*) FROM mv_customer_summary")[0][0] == 2
    db.refresh([good])
    assert db.materialized_digests() == {"mv_fake": "d1"}
    assert "mv_customer_summary" not in db.existing_tables()  # copies not asked for go


def test_pair_units_and_last_sale_copies(db):
    metrics.load(
        db,
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
    cols = "product_a, product_b, orders_together, orders_a, orders_b, baskets"
    assert db.query(f"SELECT {cols} FROM mv_pair_counts") == [(10, 11, 2, 3, 2, 3)]
    assert db.query("SELECT day, units FROM mv_daily_units") == [(T0.date(), 9)]
    last = dict(db.query("SELECT product_id, last_sold_at FROM mv_product_sales"))
    assert last == {10: T0, 11: T0, 12: T0}
    if db.dialect.declared_keys:
        assert "mv_pair_counts_product_a_product_b_uq" in index_names(db)


def test_refresh_replaces_what_an_earlier_version_made(db):
    """Views and copies of the version before the catalogue go; a copy recorded with another
    definition's digest is not read, and the next refresh rebuilds it."""
    metrics.load(db, {"customers": customers(1)})
    with db.transaction() as cur:  # as the earlier version left it
        cur.execute("CREATE VIEW daily_units AS SELECT 1 AS day")
        cur.execute(
            db.dialect.create_copy.format(
                name="mv_product_performance", sql="SELECT product_id FROM products"
            )
        )
        cur.execute("UPDATE sa_materialized SET digest = 'old' WHERE name = 'mv_customer_summary'")
    assert "mv_customer_summary" not in str(
        db.ibis.compile(metrics.expression(db, "customer_summary"))
    )
    metrics.refresh(db)
    names = db.existing_tables()
    assert "daily_units" not in names and "mv_product_performance" not in names
    assert "mv_customer_summary" in str(db.ibis.compile(metrics.expression(db, "customer_summary")))


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
            metrics.load(database, small_frames)
            for view in sorted(COPIES):  # read through the catalogue: the declared types
                results[(kind, view)] = metrics.compute(database, view[3:])
    for view in sorted(COPIES):
        duck, pg = results[("duckdb", view)], results[("postgres", view)]
        assert list(duck.columns) == list(pg.columns)
        assert len(duck) == len(pg) > 0
        for col in duck.columns:
            as_text = [
                [None if v is None or v != v else str(v) for v in f[col]] for f in (duck, pg)
            ]
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


@pytest.mark.parametrize(
    ("url", "master", "port", "path", "options"),
    [
        ("spark://master.example:7077/shared/lake", "spark://master.example:7077", 7077,
         "/shared/lake", {}),
        ("spark://Master.Example/shared/lake", "spark://master.example:7077", 7077,
         "/shared/lake", {}),
        ("spark://10.0.0.5:7078/mnt/lake?spark.executor.memory=8g&spark.executor.cores=4",
         "spark://10.0.0.5:7078", 7078, "/mnt/lake",
         {"spark.executor.memory": "8g", "spark.executor.cores": "4"}),
        ("spark://[::1]:7077/lake", "spark://[::1]:7077", 7077, "/lake", {}),
        ("spark://m:7077/Volumes/main/shop/my%20lake", "spark://m:7077", 7077,
         "/Volumes/main/shop/my lake", {}),
        ("spark:////data/lake?master=local[2]", "local[2]", None, "/data/lake", {}),
        ("spark:///rel/lake", "local[*]", None, "rel/lake", {}),
    ],
)  # fmt: skip
def test_spark_cluster_urls(url, master, port, path, options):
    """``spark://HOST:PORT/PATH``: the standalone master (port 7077 by default) and the lake's
    absolute path on the shared storage; ``spark.*`` options are Spark settings. No cluster."""
    from sales_analytics.storage import parse_url

    parsed = parse_url(url)
    assert (parsed.kind, parsed.host, parsed.port, parsed.path) == ("spark", master, port, path)
    assert dict(parsed.options) == options


@pytest.mark.parametrize(
    "url",
    ["spark://master:7077", "spark://master:7077/", "spark://master:x/lake",
     "spark://user@master:7077/lake", "spark:///"],
)  # fmt: skip
def test_bad_spark_urls_are_one_line(url):
    from sales_analytics.storage import StorageError, parse_url

    with pytest.raises(StorageError, match="bad database URL") as err:
        parse_url(url)
    assert "\n" not in str(err.value)


def test_duckdb_checks_its_keys_by_query_without_indexes(tmp_path):
    """DuckDB declares no keys or indexes (its ART indexes must fit in memory); every write
    checks them by query, counts the rows that break one, and writes nothing then."""
    with connect(f"duckdb:///{tmp_path}/shop.duckdb") as db:
        db.create_schema()
        db.load({"customers": customers(1, 2), "products": products(10)})
        assert index_names(db) == set()
        keys = db.query(
            "SELECT table_name FROM duckdb_constraints() WHERE constraint_type IN "
            "('PRIMARY KEY', 'UNIQUE', 'FOREIGN KEY')"
        )
        assert not {r[0] for r in keys} & set(TABLES)
        bad = {
            "orders": orders(
                [
                    (100, 1, "completed", "1.00"),
                    (100, 2, "completed", "1.00"),
                    (101, 7, "completed", "1.00"),
                    (102, 8, "completed", "1.00"),
                ]
            ),
        }
        with pytest.raises(StorageError) as err:
            db.load(bad)
        assert str(err.value) == (
            "load failed, nothing was written: orders: 1 rows break PRIMARY KEY (order_id) "
            "(and 1 more)"
        )
        assert db.counts()["orders"] == 0
        with pytest.raises(StorageError, match="2 rows break FOREIGN KEY .customer_id."):
            db.load(
                {"orders": orders([(101, 7, "completed", "1.00"), (102, 8, "completed", "1.00")])}
            )


def test_copy_with_a_broken_key_fails_the_write(db):
    """A copy whose rows repeat its key fails the refresh whole (a UNIQUE index on PostgreSQL,
    a grouped count on DuckDB); rows with a NULL in the key do not count, as under UNIQUE."""
    db.load({"customers": customers(1, 2, 3)})
    fine = FakeCopy(
        "mv_test_fine",
        "SELECT customer_id, NULL AS k FROM customers UNION ALL SELECT NULL, NULL",
        ("customer_id",),
    )
    db.refresh([fine])
    assert db.query("SELECT count(*) FROM mv_test_fine") == [(4,)]
    bad = FakeCopy("mv_test_bad", "SELECT country FROM customers", ("country",))
    with pytest.raises(StorageError, match="refresh failed, nothing was changed") as err:
        db.refresh([bad])
    if not db.dialect.declared_keys:
        assert str(err.value).endswith("mv_test_bad: 2 rows break its key (country)")
    assert db.materialized_digests() == {"mv_test_fine": "d1"}


def test_copies_are_built_under_the_dialects_settings(db):
    """PostgreSQL builds the copies with COPY_WORK_MEM (transaction-local: the session keeps its
    own), DuckDB on its copy_threads."""
    db.load({"customers": customers(1, 2)})
    setting = "work_mem" if db.kind == "postgres" else "threads"
    db.refresh(
        [FakeCopy("mv_setting", f"SELECT 1 AS customer_id, current_setting('{setting}') AS v")]
    )
    built = db.query("SELECT v FROM mv_setting")[0][0]
    if db.kind == "postgres":
        assert built == COPY_WORK_MEM
        assert db.query("SELECT current_setting('work_mem')")[0][0] != COPY_WORK_MEM
    else:
        assert int(built) == db.dialect.copy_threads == 1


def test_duckdb_copies_have_no_art_index(tmp_path):
    """Issue 14: the copies' ART indexes (UNIQUE on the key, plain on ``indexed``) must fit in
    memory and are built at COMMIT: ~140 MB at scale 100, past the writer's 1 GB memory_limit
    at scale 1000 ("Out of Memory Error: could not allocate block"). No copy gets one."""
    with connect(f"duckdb:///{tmp_path}/shop.duckdb") as db:
        db.create_schema()
        db.load({"customers": customers(1, 2), "products": products(10)})
        metrics.refresh(db)
        assert COPIES <= db.existing_tables()
        assert index_names(db) == set()
