"""`import --format shopify`: a first and a second export, reconciled by hand with Shopify's sales
report definitions, on DuckDB and PostgreSQL; updates, events, idempotency, rejects."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pandas as pd
import pytest

from sales_analytics import metrics
from sales_analytics.ingest import IngestError
from sales_analytics.ingest.shop import import_orders
from sales_analytics.storage import connect
from tests.ingest.conftest import rejects, table
from tests.ingest.shop_fixtures import HEADER, first_export, full_export, row, second_export

TZ = "America/Los_Angeles"
FIRST_IMPORT = datetime(2024, 3, 5, 12, 0)
SECOND_IMPORT = datetime(2024, 3, 8, 9, 0)
MONEY = ("gross_sales", "discounts", "returns", "net_sales", "shipping", "taxes", "total_sales")


def day(gross=0, discounts=0, returns=0, shipping=0, taxes=0, orders=0) -> dict:
    """One day of Shopify's sales report from its parts, by its definitions: net sales = gross
    sales - discounts - returns; total sales = net sales + shipping + taxes (shipping and taxes
    net of what was refunded)."""
    net = gross - discounts - returns
    values = dict(
        gross_sales=gross, discounts=discounts, returns=returns, net_sales=net,
        shipping=shipping, taxes=taxes, total_sales=net + shipping + taxes,
    )  # fmt: skip
    return {"orders": orders} | {k: Decimal(str(v)).quantize(Decimal("0.01")) for k, v in values.items()}


# worked out by hand from the fixture rows (see shop_fixtures.py for the times)
AFTER_FIRST = {
    # A: 2*20 + 10 = 50 gross, 5 line discount, shipping 5, taxes 4.50; B (guest, +05:00): 30
    "2024-03-01": day(gross=50 + 30, discounts=5, shipping=5, taxes=4.50, orders=2),
    # C: 40, shipping 6, taxes 3.20 (its refund is booked on the import day)
    "2024-03-02": day(gross=40, shipping=6, taxes=3.20, orders=1),
    # D: 10 + 20 = 30 gross, order discount 3, taxes 2.70
    "2024-03-03": day(gross=30, discounts=3, taxes=2.70, orders=1),
    # E: 20 gross + 5 shipping, cancelled and refunded the same day (Cancelled at)
    "2024-03-04": day(gross=20, returns=20, shipping=5 - 5, orders=1),
    # import day: C refunded in full (40 / 6 / 3.20); D's 9.90 split in proportion of its
    # merchandise 27 and taxes 2.70: 9.00 returns + 0.90 taxes
    "2024-03-05": day(returns=40 + 9, shipping=-6, taxes=-3.20 - 0.90),
}
AFTER_SECOND = AFTER_FIRST | {
    # B cancelled at 2024-03-07 01:00 +05:00 with its payment voided (nothing refunded): never
    # charged, so Shopify's report leaves it out altogether: only A is left on 03-01
    "2024-03-01": day(gross=50, discounts=5, shipping=5, taxes=4.50, orders=1),
    # F: 40 gross, 4 discount (SPRING5), at 23:59 -08:00
    "2024-03-07": day(gross=40, discounts=4, orders=1),
    # second import day: A refunds 11.00 = 10.00 returns + 1.00 taxes (45 : 4.50); D the rest
    # of 29.70: 27 - 9 = 18 returns and 2.70 - 0.90 = 1.80 taxes
    "2024-03-08": day(returns=10 + 18, taxes=-1.00 - 1.80),
}


def report(db, grain: str = "day") -> dict[str, dict]:
    frame = metrics.compute(db, "sales_report", grain=grain)
    out = {}
    for rec in frame.to_dict("records"):
        key = pd.Timestamp(rec[frame.columns[0]]).strftime("%Y-%m-%d")
        values = {k: Decimal(str(rec[k])).quantize(Decimal("0.01")) for k in MONEY}
        out[key] = {"orders": int(rec["orders"])} | values
    return out


@pytest.fixture
def duck(tmp_path):
    """A DuckDB file (the checks below do not depend on the backend)."""
    with connect(f"duckdb:///{tmp_path / 'shop.duckdb'}") as db:
        yield db


def _import(db, path, now, **kw):
    return import_orders(db, path, "shopify", now=now, timezone=TZ, **kw)


def test_two_exports_reconcile_with_shopify_by_hand(db, tmp_path):
    first = tmp_path / "orders_export_1.csv"
    first.write_text(first_export())
    result = _import(db, first, FIRST_IMPORT)
    assert (result.inserted, result.updated, result.unchanged, result.rejected) == (5, 0, 0, 0)
    assert _nonzero(report(db)) == _nonzero(AFTER_FIRST)
    # identity: A and D are one customer (email); the guest of #1002 one of their own
    customers = table(db, "customers")
    assert len(customers) == 4 and "ada@example.com" in set(customers["email"])
    guest = customers[customers["email"].str.endswith("@import.invalid")].iloc[0]
    assert (guest["first_name"], guest["last_name"], guest["country"]) == ("Guest", "Person", "PK")
    orders = table(db, "orders", "order_date")
    assert orders["discount_code"].fillna("").tolist() == ["", "SPRING5", "", "WELCOME", ""]

    second = tmp_path / "orders_export_2.csv"
    second.write_text(second_export())
    result = _import(db, second, SECOND_IMPORT)
    assert (result.inserted, result.updated, result.unchanged) == (1, 3, 2)
    assert _nonzero(report(db)) == _nonzero(AFTER_SECOND)

    refunds = table(db, "refunds", "refunded_at")
    assert sorted(refunds["dated_by"].value_counts().items()) == [("import", 4), ("source", 1)]
    events = table(db, "order_events", "event_id")
    assert events["kind"].value_counts().to_dict() == {"created": 6, "refund": 2, "cancel": 1}
    cancel = events[events["kind"] == "cancel"].iloc[0]
    assert json.loads(cancel["detail"])["status"] == ["completed", "cancelled"]
    assert pd.Timestamp(cancel["happened_at"]) == pd.Timestamp("2024-03-06 12:00")
    assert json.loads(cancel["detail"])["cancelled_at"] == [None, "2024-03-06 12:00:00"]

    # weeks (Monday start) and months of the shop's days: the hand-worked days summed
    for grain, start_of in (("week", lambda d: d - pd.Timedelta(days=d.weekday())), ("month", lambda d: d.replace(day=1))):
        summed: dict[str, dict] = {}
        for key, values in AFTER_SECOND.items():
            period = start_of(pd.Timestamp(key)).strftime("%Y-%m-%d")
            summed[period] = {k: summed.get(period, {}).get(k, 0) + v for k, v in values.items()}
        assert _nonzero(report(db, grain)) == _nonzero(summed), grain

    # the same file again: nothing changes, no new events or refunds, no new data version
    version = db.data_version()
    again = _import(db, second, datetime(2024, 3, 9, 9, 0))
    assert (again.inserted, again.updated, again.unchanged, again.events) == (0, 0, 6, 0)
    assert db.data_version() == version
    assert len(table(db, "order_events")) == len(events)
    assert _nonzero(report(db)) == _nonzero(AFTER_SECOND)


def _nonzero(days: dict) -> dict:
    """Days with any figure (a backend may list empty days of the range)."""
    return {k: v for k, v in days.items() if any(v.values())}


def test_rejects_name_the_line_and_reason(duck, tmp_path):
    db = duck
    text = "\n".join(
        [
            HEADER,
            row("#2001", "2024-03-01 10:00:00 -0800", 1, "Mug", "10.00", "MUG-1", email="a@x.com"),
            row("#2001", "2024-03-01 10:00:00 -0800", "two", "Lamp", "40.00", "LAMP-1", first=False),
            row("#2002", "", 1, "Mug", "10.00", "MUG-1", email="b@x.com"),
            row("#2003", "2024-03-01 10:00:00 -0800", 1, "Mug", "10.00", "MUG-1", currency="EUR"),
            row("#2004", "2024-03-01 10:00:00 -0800", 1, "Mug", "10.00", "MUG-1", status="paid"),
            row("#2004", "2024-03-01 10:00:00 -0800", 1, "Mug", "10.00", "MUG-1", status="refunded"),
            row("#2005", "2024-03-01 10:00:00 -0800", 1, "Mug", "10.00", "MUG-1", status="lost"),
            row("#2006", "2024-03-01 10:00:00 -0800", 1, "Mug", "10.00", "MUG-1", refunded="99.00"),
            row("#2007", "2024-03-01 10:00:00 -0800", 1, "Mug", "10.00", "MUG-1", email="g@x.com"),
        ]
    )  # fmt: skip
    path = tmp_path / "bad.csv"
    path.write_text(text + "\n")
    result = _import(db, path, FIRST_IMPORT)
    assert (result.inserted, result.rejected_orders, result.rejected) == (1, 6, 8)
    got = rejects(result)
    assert got[3] == "non-numeric Lineitem quantity: 'two'"
    assert got[2] == "another line of the order is rejected: Name '#2001', see line(s) 3"
    assert got[4] == "missing Created at: '#2002'"
    assert got[5].startswith("currency without a rate: '#2003': EUR is not the shop's currency")
    assert got[6] == got[7] == "lines of one Name disagree on Financial Status: '#2004'"
    assert got[8].startswith("unknown Financial Status: '#2005': 'lost' (expected paid,")
    assert got[9] == "Refunded Amount exceeds the order's total: '#2006': 99.00 vs 10.00"
    # only the mapped columns were held in memory; the reject file still has every column
    frame = pd.read_csv(result.reject_path, dtype=str, keep_default_na=False)
    assert list(frame.columns) == ["line", "reason", *HEADER.split(",")]
    line3 = frame[frame["line"] == "3"].iloc[0]
    assert (line3["Lineitem quantity"], line3["Lineitem sku"], line3["Vendor"]) == (
        "two", "LAMP-1", "Acme")  # fmt: skip


def test_a_rejected_order_gets_its_own_reasons_only(duck, tmp_path):
    """An order rejected for its email is not also said to refund more than it charged (its
    totals without its rejected lines would be 0); a file whose every order is rejected imports
    nothing (it used to stop with an IndexError)."""
    path = tmp_path / "bad_email.csv"
    path.write_text(HEADER + "\n" + row("#2101", "2024-03-01 10:00:00 -0800", 2, "Mug", "10.00", "MUG-1",
                                        email="not-an-email", status="refunded", shipping="5.00",
                                        discount="2.00", line_discount="2.00", refunded="23.00") + "\n")  # fmt: skip
    result = _import(duck, path, FIRST_IMPORT)
    assert rejects(result) == {2: "invalid Email: '#2101': 'not-an-email'"}
    assert (result.inserted, result.rejected_orders) == (0, 1)


def test_the_full_documented_header_is_read(duck, tmp_path):
    """Every column of Shopify's export (75+), a byte order mark, quoted multi-line notes, and both
    province columns: the same orders and report as the short fixture; the province's name is the
    region, its code where the name is empty."""
    path = tmp_path / "orders_export_full.csv"
    path.write_text(full_export(first_export()), encoding="utf-8")
    result = _import(duck, path, FIRST_IMPORT)
    assert (result.inserted, result.rejected) == (5, 0)
    assert _nonzero(report(duck)) == _nonzero(AFTER_FIRST)
    regions = table(duck, "customers").set_index("email")["region"].to_dict()
    assert (regions["ada@example.com"], regions["cy@example.com"]) == ("Oregon", "OR")


def test_rates_convert_every_amount(duck, tmp_path):
    db = duck
    rates = tmp_path / "rates.csv"
    rates.write_text("currency,rate\nEUR,1.10\n")
    path = tmp_path / "eur.csv"
    path.write_text(
        HEADER + "\n"
        + row("#3001", "2024-03-01 10:00:00 +0100", 2, "Mug", "10.00", "MUG-1", currency="EUR",
              shipping="5.00", taxes="1.00", discount="2.00", line_discount="2.00",
              refunded="0.00") + "\n"
    )  # fmt: skip
    result = _import(db, path, FIRST_IMPORT, rates=rates)
    assert result.inserted == 1
    order = table(db, "orders").iloc[0]
    assert (order["total_amount"], order["discount_amount"], order["shipping_amount"]) == (
        Decimal("19.80"), Decimal("2.20"), Decimal("5.50"))  # fmt: skip
    assert table(db, "order_items")["unit_price"].tolist() == [Decimal("11.00")]


def test_bad_rates_file_and_conflicting_settings_are_one_line(duck, tmp_path):
    db = duck
    path = tmp_path / "orders.csv"
    path.write_text(first_export())
    bad = tmp_path / "rates.csv"
    bad.write_text("currency,rate\nEUR,abc\n")
    with pytest.raises(IngestError, match=r"line 2: rate 'abc' is not a positive number"):
        _import(db, path, FIRST_IMPORT, rates=bad)
    _import(db, path, FIRST_IMPORT)
    with pytest.raises(IngestError, match="--timezone Europe/Paris conflicts with the shop's"):
        import_orders(db, path, "shopify", timezone="Europe/Paris")


@pytest.mark.parametrize("step", ["after_load"])
def test_kill_9_during_an_updating_import_changes_nothing(backend_url, tmp_path, step):
    """An import that updates orders (deletes and inserts their rows) killed mid-write: the
    database is exactly as before (DuckDB: its copy is discarded; PostgreSQL: rolled back)."""
    from tests.storage.snapshot import CLI, kill9, run_until_paused, state

    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text(first_export())
    second.write_text(second_export())
    with connect(backend_url) as db:
        _import(db, first, FIRST_IMPORT)
    before = state(backend_url)
    refunds = _rows(backend_url, "refunds")
    kill9(run_until_paused(["import", str(second), "--format", "shopify"], backend_url, step))
    assert state(backend_url) == before
    assert _rows(backend_url, "refunds") == refunds
    import subprocess

    done = subprocess.run([CLI, "import", str(second), "--format", "shopify", "-d", backend_url],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "1 inserted, 3 updated, 2 unchanged" in done.stdout


def _rows(url: str, name: str) -> list:
    with connect(url, read_only=True) as db:
        return sorted(db.query(f"SELECT * FROM {name}"))
