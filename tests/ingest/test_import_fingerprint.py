"""Re-importing a Shopify export: orders whose lines are as last imported (same fingerprint) are
unchanged without being checked again; changed, previously rejected and fingerprint-less orders
take the full path; the summary and the reject file are the same either way."""

from __future__ import annotations

from datetime import datetime

import sales_analytics.ingest.shop as shop
from sales_analytics.ingest.shop import import_orders
from tests.ingest.conftest import table
from tests.ingest.shop_fixtures import HEADER, row

TZ = "America/Los_Angeles"


def _export(refunded: str = "0.00", status: str = "paid") -> str:
    return "\n".join([
        HEADER,
        row("#1001", "2024-03-01 10:00:00 -0800", 1, "Mug", "20.00", "MUG-1",
            email="ada@example.com", subtotal="20.00", total="20.00"),
        row("#1001", "2024-03-01 10:00:00 -0800", 2, "Tee", "5.00", "TEE-1", first=False),
        row("#1002", "2024-03-02 10:00:00 -0800", 1, "Tee", "30.00", "TEE-1", email="bob@example.com",
            subtotal="30.00", total="30.00", refunded=refunded, status=status),
        row("#1003", "2024-03-02 11:00:00 -0800", 0, "Cap", "9.00", "CAP-1",  # quantity 0: rejected
            email="cy@example.com", subtotal="0.00", total="0.00"),
    ]) + "\n"  # fmt: skip


def _lines_checked(monkeypatch) -> list[int]:
    seen: list[int] = []
    real = shop.build

    def spy(src, *args):
        seen.append(src.n)
        return real(src, *args)

    monkeypatch.setattr(shop, "build", spy)
    return seen


def _first_import(db, tmp_path):
    """The export imported once (2 orders in, #1003 rejected); its path."""
    path = tmp_path / "orders_export.csv"
    path.write_text(_export())
    import_orders(db, path, "shopify", now=datetime(2024, 3, 3, 9), timezone=TZ)
    return path


def _summary(r):
    return (r.rows, r.inserted, r.updated, r.unchanged, r.rejected_orders, r.rejected, r.events)


def test_unchanged_orders_are_not_checked_again(db, tmp_path, monkeypatch):
    path = tmp_path / "orders_export.csv"
    path.write_text(_export())
    first = import_orders(db, path, "shopify", now=datetime(2024, 3, 3, 9), timezone=TZ)
    assert _summary(first) == (4, 2, 0, 0, 1, 1, 2)
    assert table(db, "orders")["source_fingerprint"].notna().all()
    rejects = (tmp_path / "orders_export.rejects.csv").read_text()

    seen = _lines_checked(monkeypatch)
    again = import_orders(db, path, "shopify", now=datetime(2024, 3, 4, 9))
    assert _summary(again) == (4, 0, 0, 2, 1, 1, 0)
    assert seen == [1]  # only the rejected order's line is read and checked again
    assert (tmp_path / "orders_export.rejects.csv").read_text() == rejects


def test_a_changed_order_still_updates(db, tmp_path, monkeypatch):
    path = _first_import(db, tmp_path)
    path.write_text(_export(refunded="10.00", status="partially_refunded"))
    seen = _lines_checked(monkeypatch)
    r = import_orders(db, path, "shopify", now=datetime(2024, 3, 4, 9))
    assert _summary(r) == (4, 0, 1, 1, 1, 1, 1)
    assert seen == [2]  # #1002 and the rejected #1003
    assert table(db, "order_events", "event_id")["kind"].tolist()[-1] == "refund"
    assert len(table(db, "refunds")) == 1
    # the update stored the new fingerprint: the same file again checks #1003 only
    seen.clear()
    r = import_orders(db, path, "shopify", now=datetime(2024, 3, 5, 9))
    assert _summary(r) == (4, 0, 0, 2, 1, 1, 0)
    assert seen == [1]


def test_orders_without_a_fingerprint_take_the_full_path(db, tmp_path, monkeypatch):
    path = _first_import(db, tmp_path)
    db.execute("UPDATE orders SET source_fingerprint = NULL")  # as another path writes them
    seen = _lines_checked(monkeypatch)
    r = import_orders(db, path, "shopify", now=datetime(2024, 3, 4, 9))
    assert _summary(r) == (4, 0, 0, 2, 1, 1, 0)
    assert seen == [4]


def test_other_rates_or_settings_change_every_fingerprint(db, tmp_path, monkeypatch):
    path = _first_import(db, tmp_path)
    rates = tmp_path / "rates.csv"
    rates.write_text("currency,rate\nEUR,1.08\n")
    seen = _lines_checked(monkeypatch)
    r = import_orders(db, path, "shopify", rates=rates, now=datetime(2024, 3, 4, 9))
    assert _summary(r) == (4, 0, 0, 2, 1, 1, 0)
    assert seen == [4]
