"""Issue 12's schema: money columns with defaults, refunds, order events, shop settings."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pyarrow as pa
import pytest

from sales_analytics.present import format as fmt
from sales_analytics.storage import ShopSettings, StorageError
from tests.storage.test_schema import customers, items, orders, products

T1 = datetime(2024, 1, 9, 8, 0)


def refunds(rows: list[tuple[int, int, str, str]]) -> pa.Table:
    return pa.table(
        {
            "refund_id": [r[0] for r in rows],
            "order_id": [r[1] for r in rows],
            "refunded_at": [T1] * len(rows),
            "amount": [Decimal(r[2]) for r in rows],
            "dated_by": [r[3] for r in rows],
        }
    )


def base() -> dict[str, pa.Table]:
    return {
        "customers": customers(1),
        "products": products(10),
        "orders": orders([(100, 1, "completed", "20.00"), (101, 1, "returned", "10.00")]),
        "order_items": items([(1, 100, 10, 2, "10.00"), (2, 101, 10, 1, "10.00")]),
    }


def test_old_frames_get_the_defaults_and_refunds_load(db):
    db.load(base() | {"refunds": refunds([(1, 101, "10.00", "source")])})
    row = db.query("SELECT discount_amount, shipping_amount, tax_amount, refunded_amount, "
                   "discount_code, cancelled_at FROM orders WHERE order_id = 100")[0]
    assert [float(v) for v in row[:4]] == [0, 0, 0, 0] and row[4:] == (None, None)
    assert db.query("SELECT refunded_at, amount, shipping_amount, dated_by FROM refunds") == [
        (T1, Decimal("10.00"), Decimal("0.00"), "source")]
    for bad, fragment in (
        (refunds([(2, 999, "1.00", "source")]), "foreign key"),  # no such order
        (refunds([(2, 100, "1.00", "guess")]), "constraint"),  # dated_by vocabulary
        (refunds([(2, 100, "-1.00", "source")]), "constraint"),  # money >= 0
    ):
        with pytest.raises(StorageError, match="nothing was written") as err:
            db.load({"refunds": bad})
        assert fragment in str(err.value).lower()


def test_orders_referenced_by_items_and_refunds_can_be_updated(db):
    """An import's update of status, refunds and cancellation (DuckDB refuses updates of indexed
    columns of referenced rows: orders.status has no index there)."""
    db.load(base() | {"refunds": refunds([(1, 101, "10.00", "import")])})
    with db.transaction() as cur:
        cur.execute("UPDATE orders SET status = 'cancelled', refunded_amount = 20, "
                    "cancelled_at = TIMESTAMP '2024-01-06 09:00:00' WHERE order_id = 100")
        cur.execute("INSERT INTO order_events (event_id, order_id, recorded_at, kind, detail) "
                    "VALUES (1, 100, TIMESTAMP '2024-01-06 09:00:00', 'cancel', "
                    "'{\"status\": [\"completed\", \"cancelled\"]}')")
    assert db.query("SELECT status, refunded_amount FROM orders WHERE order_id = 100") == [
        ("cancelled", Decimal("20.00"))]
    assert db.query("SELECT kind FROM order_events") == [("cancel",)]


def test_shop_settings_one_row_defaults_and_currency(db, monkeypatch):
    monkeypatch.setenv("SA_CURRENCY", "GBP")
    monkeypatch.setenv("SA_FISCAL_YEAR_START", "4")
    assert db.shop_settings() == ShopSettings("GBP", "UTC", 4, stored=False)
    db.write({"shop_settings": ShopSettings("EUR", "Europe/Berlin", 7).table()})
    db.write({"shop_settings": ShopSettings("EUR", "Europe/Berlin", 10).table()})  # replaces
    assert db.shop_settings() == ShopSettings("EUR", "Europe/Berlin", 10, stored=True)
    assert db.query("SELECT count(*) FROM shop_settings") == [(1,)]
    assert fmt.money(1234.5) == "€1,234.50"  # the database's currency wins over SA_CURRENCY
    with pytest.raises(StorageError, match="nothing was changed|nothing was written"):
        db.write({"shop_settings": ShopSettings("EUR", "UTC", 13).table()})
    assert db.shop_settings().fiscal_year_start_month == 10


def test_a_database_of_an_older_version_is_told_to_rebuild(db):
    db.load(base())
    with db.transaction() as cur:  # as a version before issue 12 left it
        cur.execute(db.dialect.drop_table.format(name="refunds"))
        cur.execute(db.dialect.drop_table.format(name="shop_settings"))
    assert not db.has_schema()
    with pytest.raises(StorageError, match=r"older version \(no refunds, shop_settings\): rebuild "
                       r"it with `sales-analytics build --replace`"):
        db.create_schema()
    db.create_schema(replace=True)
    assert db.has_schema() and db.counts()["orders"] == 0
