"""Fulfilment status: stored per order from Shopify (Fulfillment Status), WooCommerce (its status)
and mapping files; a re-import where only the fulfilment changed updates the order and records
one 'fulfilment' event; the same file again changes nothing."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from sales_analytics.ingest import IngestError
from sales_analytics.ingest.shop import import_orders
from sales_analytics.storage import connect
from tests.ingest.conftest import table
from tests.ingest.shop_fixtures import HEADER, row
from tests.ingest.test_import_woo_mapping import woo_order

TZ = "America/Los_Angeles"


def _export(a: str, b: str) -> str:
    return "\n".join([
        HEADER,
        row("#1001", "2024-03-01 10:00:00 -0800", 1, "Mug", "20.00", "MUG-1",
            email="ada@example.com", subtotal="20.00", total="20.00", fulfillment=a),
        row("#1002", "2024-03-02 10:00:00 -0800", 1, "Tee", "30.00", "TEE-1",
            email="bob@example.com", subtotal="30.00", total="30.00", fulfillment=b),
    ]) + "\n"  # fmt: skip


def test_a_fulfilment_change_is_an_update_with_one_event(db, tmp_path):
    first, second = tmp_path / "orders_1.csv", tmp_path / "orders_2.csv"
    first.write_text(_export("", "unfulfilled"))
    second.write_text(_export("Fulfilled", "unfulfilled"))
    r = import_orders(db, first, "shopify", now=datetime(2024, 3, 3, 9), timezone=TZ)
    assert (r.inserted, r.updated) == (2, 0)
    assert table(db, "orders", "order_date")["fulfilment_status"].tolist() == [None, "unfulfilled"]

    r = import_orders(db, second, "shopify", now=datetime(2024, 3, 4, 9))
    assert (r.inserted, r.updated, r.unchanged, r.events) == (0, 1, 1, 1)
    orders = table(db, "orders", "order_date")
    assert orders["fulfilment_status"].tolist() == ["fulfilled", "unfulfilled"]
    events = table(db, "order_events", "event_id")
    change = events[events["kind"] != "created"]
    assert change["kind"].tolist() == ["fulfilment"]
    assert json.loads(change["detail"].iloc[0]) == {"fulfilment_status": [None, "fulfilled"]}
    assert len(table(db, "refunds")) == 0

    version = db.data_version()
    r = import_orders(db, second, "shopify", now=datetime(2024, 3, 5, 9))
    assert (r.inserted, r.updated, r.unchanged, r.events) == (0, 0, 2, 0)
    assert db.data_version() == version
    assert len(table(db, "order_events")) == len(events)


def test_woocommerce_fulfilment_follows_its_status(tmp_path):
    path = tmp_path / "orders.json"
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    with connect(url) as db:
        path.write_text(json.dumps([woo_order(1, status="processing"), woo_order(2, status="pending")]))
        import_orders(db, path, "woocommerce", now=datetime(2024, 3, 20, 12), timezone="UTC",
                      currency="EUR")
        assert table(db, "orders", "order_id")["fulfilment_status"].tolist() == ["unfulfilled", None]
        path.write_text(json.dumps([woo_order(1, status="completed"), woo_order(2, status="pending")]))
        r = import_orders(db, path, "woocommerce", now=datetime(2024, 3, 21, 12))
        assert (r.updated, r.unchanged) == (1, 1)
        assert table(db, "orders", "order_id")["fulfilment_status"].tolist() == ["fulfilled", None]
        kinds = table(db, "order_events", "event_id")["kind"].tolist()
        assert kinds.count("fulfilment") == 1


def test_a_mapping_file_reads_the_fulfilment_column(tmp_path):
    mapping = tmp_path / "shop.yaml"
    mapping.write_text(
        "columns:\n  order_id: Nr\n  order_date: Datum\n  quantity: Menge\n  unit_price: Preis\n"
        "  product_name: Artikel\n  fulfillment: Versandstatus\n"
    )
    export = tmp_path / "export.csv"
    export.write_text("Nr,Datum,Artikel,Menge,Preis,Versandstatus\n1,2024-03-01T10:00:00,Tasse,1,5.00,Partial\n")
    with connect(f"duckdb:///{tmp_path / 'm.duckdb'}") as db:
        import_orders(db, export, mapping=mapping, now=datetime(2024, 3, 20, 12), timezone="UTC")
        assert table(db, "orders")["fulfilment_status"].tolist() == ["partial"]


def test_a_database_without_the_column_is_one_line(tmp_path, monkeypatch):
    """A database built before the column: the import says to rebuild it, writes nothing."""
    from sales_analytics.storage import schema

    path = tmp_path / "orders.csv"
    path.write_text(_export("", ""))
    with connect(f"duckdb:///{tmp_path / 'old.duckdb'}") as db:
        old = schema.TABLE_DDL.replace(",\n    fulfilment_status VARCHAR(32)", "")
        assert old != schema.TABLE_DDL
        monkeypatch.setattr(schema, "TABLE_DDL", old)  # the schema as built before the column
        db.create_schema()
        monkeypatch.undo()
        with pytest.raises(IngestError, match=r"older version \(no orders.fulfilment_status\)"):
            import_orders(db, path, "shopify", now=datetime(2024, 3, 3, 9), timezone=TZ)
        assert db.counts()["orders"] == 0
