"""`import_csv(..., "generic")` on DuckDB and PostgreSQL: rejects, whole orders, idempotency, totals."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from sales_analytics.ingest import IngestError, import_csv, stable_id
from tests.ingest.conftest import money, rejects, table

BAD_LINES = """
    order_id,customer_id,order_date,product_id,quantity,unit_price,email,status,product_name
    1,10,2024-01-05 10:00:00,100,2,9.99,a@example.com,completed,Mug
    2,11,2024-13-01,100,1,9.99,,completed,Mug
    3,11,2024-01-06,100,1,-5.00,,completed,Mug
    ,11,2024-01-06,100,1,5.00,,completed,Mug
    5,,2024-01-06,100,1,5.00,,completed,Mug
    6,11,2024-01-06,,1,5.00,,completed,Mug
    7,11,2024-01-06,100,1,5.00,,shipped,Mug
    8,11,2024-01-06,100,two,5.00,,completed,Mug
    9,11,2024-01-06,100,0,5.00,,completed,Mug
    10,11,2024-01-06,100,1.5,5.00,,completed,Mug
    11,11,2024-01-06,100,1,0.999,,completed,Mug
    12,11,2024-01-06,100,-1,5.00,,completed,Mug
    13,12,2024-01-06,100,1,5.00,not-an-email,completed,Mug
    14,11,2024-01-06,100,1,abc,,completed,Mug
    15,11,,100,1,5.00,,completed,Mug
    16,11,2024-01-06,100,1,5.00,,,Mug
    1,10,2024-01-05 10:00:00,101,1,3.50,a@example.com,completed,Cup
    18,13,2024-01-07,100,1,9.99,,completed,Mug
    18,13,2024-01-07,100,1,9.99,,completed,Mug
    19,13,2024-01-07,100,1,9.99,,completed,Mug
    19,13,2024-01-07,100,2,9.99,,completed,Mug
"""

EXPECTED_REJECTS = {
    3: "unparseable order_date: '2024-13-01' (expected ISO 8601 like 2024-03-01 14:05:00)",
    4: "negative unit_price: '-5.00'",
    5: "missing order_id",
    6: "missing customer_id",
    7: "missing product_id",
    8: "unknown status: 'shipped' (expected completed, cancelled or returned)",
    9: "non-numeric quantity: 'two'",
    10: "zero quantity",
    11: "quantity is not a whole number: '1.5'",
    12: "unit_price has more than 2 decimal places: '0.999'",
    13: "negative quantity: '-1' (a return is a positive quantity with status 'returned')",
    14: "invalid email: 'not-an-email'",
    15: "non-numeric unit_price: 'abc'",
    16: "missing order_date",
    17: "missing status",
    19: "another line of the order is rejected: order_id '18', see line(s) 20",
    20: "duplicate line: same as line 19",
    21: "another line of the order is rejected: order_id '19', see line(s) 22",
    22: "duplicate order line: order_id '19' with product_id '100' is already on line 21",
}


def test_every_bad_line_is_rejected_with_its_line_and_reason(db, write_csv):
    result = import_csv(db, write_csv(BAD_LINES), "generic")

    assert rejects(result) == EXPECTED_REJECTS
    assert result.rows == 21
    assert result.rejected == len(EXPECTED_REJECTS)
    assert result.reasons["duplicate line"] == 1
    assert result.reasons["another line of the order is rejected"] == 2
    assert result.loaded == {"customers": 1, "products": 2, "orders": 1, "order_items": 2}
    orders = table(db, "orders")
    assert orders["order_id"].tolist() == [1]
    assert money(orders["total_amount"].iloc[0]) == Decimal("23.48")  # 2 * 9.99 + 3.50


def test_reject_file_keeps_the_original_columns(db, write_csv, tmp_path):
    target = tmp_path / "out" / "bad.csv"
    result = import_csv(db, write_csv(BAD_LINES), "generic", reject_path=target)
    assert result.reject_path == target
    frame = pd.read_csv(target, dtype=str, keep_default_na=False)
    header = BAD_LINES.strip().splitlines()[0].strip().split(",")
    assert frame.columns.tolist() == ["line", "reason", *header]
    row = frame[frame["line"] == "9"].iloc[0]
    assert (row["order_id"], row["quantity"], row["status"]) == ("8", "two", "completed")


def test_malformed_rows_blank_lines_and_quoted_newlines_keep_physical_line_numbers(db, tmp_path):
    text = (
        "order_id,customer_id,order_date,product_id,quantity,unit_price,product_name\r\n"
        '1,10,2024-01-05,100,1,2.00,"Mug\r\nwith a line break"\r\n'  # lines 2-3
        "\r\n"  # line 4: blank, not a record
        "2,10,2024-01-05,100,1,2.00,Mug,extra\r\n"  # line 5: 8 fields
        "3,10,2024-01-05,100,x,2.00,Mug\r\n"  # line 6
    )
    path = tmp_path / "multi.csv"
    path.write_bytes(text.encode())

    result = import_csv(db, path, "generic")

    assert rejects(result) == {
        5: "wrong number of fields: expected 7, got 8",
        6: "non-numeric quantity: 'x'",
    }
    assert result.rows == 3
    assert table(db, "products")["product_name"].tolist() == ["Mug\r\nwith a line break"]


def test_an_order_with_one_bad_line_is_rejected_whole(db, write_csv):
    path = write_csv(
        """
        order_id,customer_id,order_date,product_id,quantity,unit_price
        1,10,2024-01-05,100,1,2.00
        1,10,2024-01-05,101,1,abc
        1,10,2024-01-05,102,3,1.00
        2,10,2024-01-06,100,1,2.00
        """
    )
    result = import_csv(db, path, "generic")

    assert rejects(result) == {
        2: "another line of the order is rejected: order_id '1', see line(s) 3",
        3: "non-numeric unit_price: 'abc'",
        4: "another line of the order is rejected: order_id '1', see line(s) 3",
    }
    assert result.rejected_orders == 1
    assert table(db, "orders")["order_id"].tolist() == [2]
    assert table(db, "order_items")["order_id"].tolist() == [2]
    assert table(db, "products")["product_id"].tolist() == [100]


def test_lines_of_one_order_must_agree(db, write_csv):
    path = write_csv(
        """
        order_id,customer_id,order_date,product_id,quantity,unit_price,status,payment_method
        1,10,2024-01-05,100,1,2.00,completed,paypal
        1,11,2024-01-05,101,1,2.00,completed,paypal
        2,10,2024-01-05,100,1,2.00,completed,paypal
        2,10,2024-01-06,101,1,2.00,completed,paypal
        3,10,2024-01-05,100,1,2.00,completed,paypal
        3,10,2024-01-05,101,1,2.00,returned,paypal
        4,10,2024-01-05,100,1,2.00,completed,paypal
        4,10,2024-01-05,101,1,2.00,completed,debit card
        5,10,2024-01-05,100,1,2.00,Completed,Credit Card
        5,10,2024-01-05,101,1,2.00,completed,
        """
    )
    result = import_csv(db, path, "generic")

    reasons = rejects(result)
    assert reasons[2] == reasons[3] == "lines of one order_id disagree on customer_id: '1'"
    assert reasons[4] == reasons[5] == "lines of one order_id disagree on order_date: '2'"
    assert reasons[6] == reasons[7] == "lines of one order_id disagree on status: '3'"
    assert reasons[8] == reasons[9] == "lines of one order_id disagree on payment_method: '4'"
    orders = table(db, "orders")
    assert orders[["order_id", "status", "payment_method"]].values.tolist() == [
        [5, "completed", "credit_card"]
    ]


def test_customer_and_product_attributes_must_agree_within_the_file(db, write_csv):
    path = write_csv(
        """
        order_id,customer_id,order_date,product_id,quantity,unit_price,email,product_name,cost
        1,10,2024-01-05,100,1,2.00,a@example.com,Mug,1.00
        2,10,2024-01-06,100,1,2.00,b@example.com,Mug,1.00
        3,11,2024-01-06,101,1,2.00,c@example.com,Cup,1.00
        4,12,2024-01-06,101,1,2.00,d@example.com,Cup,1.50
        5,13,2024-01-07,102,1,2.00,e@example.com,Plate,
        6,14,2024-01-07,102,1,2.00,E@example.com,Plate,0.50
        7,15,2024-01-07,102,1,2.00,,Plate,
        """
    )
    result = import_csv(db, path, "generic")

    assert rejects(result) == {
        2: "conflicting email for one customer_id: '10': 'a@example.com' vs 'b@example.com'",
        3: "conflicting email for one customer_id: '10': 'a@example.com' vs 'b@example.com'",
        4: "conflicting cost for one product_id: '101': '1.00' vs '1.50'",
        5: "conflicting cost for one product_id: '101': '1.00' vs '1.50'",
        6: "same email for several customers: 'e@example.com' for customer_id 13, 14",
        7: "same email for several customers: 'e@example.com' for customer_id 13, 14",
    }
    customers = table(db, "customers")
    assert customers[["customer_id", "email"]].values.tolist() == [
        [15, "customer-15@import.invalid"]
    ]
    products = table(db, "products")
    assert products[["product_id", "unit_cost"]].values.tolist() == [[102, Decimal("0.50")]]


def test_placeholders_for_what_the_export_does_not_have(db, write_csv):
    path = write_csv(
        """
        order_id,customer_id,order_date,product_id,quantity,unit_price
        7,42,2024-02-01T09:30:00+01:00,SKU-1,2,4.50
        """
    )
    result = import_csv(db, path, "generic")
    assert result.rejected == 0

    customer = table(db, "customers").iloc[0].to_dict()
    assert customer == {
        "customer_id": 42,
        "first_name": "Unknown",
        "last_name": "Unknown",
        "email": "customer-42@import.invalid",
        "country": "Unknown",
        "region": "Unknown",
        "city": "Unknown",
        "created_at": pd.Timestamp("2024-02-01 08:30:00"),
    }
    product = table(db, "products").iloc[0].to_dict()
    assert product["product_id"] == stable_id("SKU-1") >= 2**62
    assert product["product_name"] == "SKU-1"
    assert (product["category"], product["brand"]) == ("Uncategorised", "Unknown")
    assert (money(product["unit_price"]), money(product["unit_cost"])) == (
        Decimal("4.50"),
        Decimal("0.00"),
    )
    assert product["stock_quantity"] == 0
    order = table(db, "orders").iloc[0].to_dict()
    assert order["order_date"] == pd.Timestamp("2024-02-01 08:30:00")  # offset -> UTC
    assert (order["status"], order["payment_method"]) == ("completed", "unknown")
    assert money(order["total_amount"]) == Decimal("9.00")


def test_text_keys_become_stable_ids_and_the_code_stays_in_the_product_name(db, write_csv):
    path = write_csv(
        """
        order_id,customer_id,order_date,product_id,quantity,unit_price,product_name,status
        ORD-1,C-7,2024-03-01,SKU-1,1,10.00,Blue mug,Canceled
        ORD-1,C-7,2024-03-01,555,2,1.25,Spoon,Canceled
        """
    )
    import_csv(db, path, "generic")

    orders = table(db, "orders")
    assert orders[["order_id", "customer_id", "status"]].values.tolist() == [
        [stable_id("ORD-1"), stable_id("C-7"), "cancelled"]
    ]
    names = dict(table(db, "products")[["product_id", "product_name"]].values.tolist())
    assert names == {555: "Spoon", stable_id("SKU-1"): "Blue mug [SKU-1]"}


def _shop_export(seed: int, n_orders: int = 120) -> pd.DataFrame:
    """A clean generic export: several lines per order, a few customers and products."""
    rng = np.random.default_rng(seed)
    rows = []
    for order in range(1, n_orders + 1):
        customer = int(rng.integers(1, 30))
        date = pd.Timestamp("2024-01-01") + pd.Timedelta(minutes=int(rng.integers(0, 500_000)))
        status = rng.choice(["completed", "completed", "completed", "cancelled", "returned"])
        for product in rng.choice(np.arange(1, 40), size=int(rng.integers(1, 5)), replace=False):
            rows.append(
                {
                    "order_id": 1000 + order,
                    "customer_id": customer,
                    "order_date": date.strftime("%Y-%m-%d %H:%M:%S"),
                    "product_id": int(product),
                    "quantity": int(rng.integers(1, 6)),
                    "unit_price": f"{rng.integers(50, 20_000) / 100:.2f}",
                    "email": f"customer{customer}@example.com",
                    "country": ["DE", "FR", "IT"][customer % 3],
                    "product_name": f"Product {product}",
                    "category": ["Home", "Garden"][int(product) % 2],
                    "cost": f"{int(product) / 4:.2f}",
                    "status": status,
                    "payment_method": "paypal",
                }
            )
    return pd.DataFrame(rows)


def test_round_trip_totals_equal_the_csv_sums(db, tmp_path):
    export = _shop_export(seed=11)
    path = tmp_path / "shop.csv"
    export.to_csv(path, index=False)

    result = import_csv(db, path, "generic")
    assert result.rejected == 0

    # the expectation, computed from the CSV independently of the importer
    csv = pd.read_csv(path)
    csv["amount"] = (csv["quantity"] * csv["unit_price"] * 100).round().astype(int)
    expected = csv.groupby("order_id")["amount"].sum()
    orders = table(db, "orders").set_index("order_id")
    got = orders["total_amount"].map(lambda v: int(money(v) * 100))
    pd.testing.assert_series_equal(
        got.sort_index(), expected.sort_index(), check_names=False, check_dtype=False
    )
    items = table(db, "order_items")
    item_sums = (
        (items["quantity"] * items["unit_price"].map(money)).groupby(items["order_id"]).sum()
    )
    assert (item_sums.map(money) == orders["total_amount"].map(money).loc[item_sums.index]).all()
    assert len(items) == len(csv)
    assert result.loaded == {
        "customers": csv["customer_id"].nunique(),
        "products": csv["product_id"].nunique(),
        "orders": csv["order_id"].nunique(),
        "order_items": len(csv),
    }
    statuses = csv.groupby("order_id")["status"].first()
    assert orders["status"].astype(str).sort_index().tolist() == statuses.sort_index().tolist()


@pytest.mark.parametrize("lookup", ["in-list", "range-scan"])
def test_importing_the_same_file_twice_changes_nothing(db, tmp_path, monkeypatch, lookup):
    if lookup == "range-scan":  # what a large file does: existing keys read by range, not IN
        monkeypatch.setattr("sales_analytics.ingest.lookup.ISIN_LIMIT", 5)
    export = _shop_export(seed=5, n_orders=60)
    export.loc[3, "quantity"] = 0  # one bad line, so the reject file is not empty
    path = tmp_path / "shop.csv"
    export.to_csv(path, index=False)

    first = import_csv(db, path, "generic")
    counts = db.counts()
    first_rejects = rejects(first)
    second = import_csv(db, path, "generic")

    assert db.counts() == counts
    assert second.loaded == {"customers": 0, "products": 0, "orders": 0, "order_items": 0}
    assert second.skipped == first.loaded
    assert second.rejected == first.rejected > 0
    assert rejects(second) == first_rejects


def test_a_changed_order_already_in_the_database_is_rejected_not_updated(db, write_csv):
    header = "order_id,customer_id,order_date,product_id,quantity,unit_price,email\n"
    first = write_csv(
        header
        + "1,10,2024-01-05,100,1,2.00,a@example.com\n"
        + "2,10,2024-01-06,100,1,2.00,a@example.com\n",
        "first.csv",
    )
    import_csv(db, first, "generic")
    before = {name: table(db, name) for name in ("customers", "products", "orders", "order_items")}

    second = write_csv(
        header
        + "1,10,2024-01-05,100,1,2.00,a@example.com\n"  # identical: skipped
        + "2,10,2024-01-06,100,3,2.00,a@example.com\n",  # quantity changed
        "second.csv",
    )
    result = import_csv(db, second, "generic")

    assert rejects(result) == {
        3: "order_id already in the database with different content: "
        "2: total 6.00 in the file, 2.00 in the database, different items",
    }
    assert result.skipped == {"customers": 1, "products": 1, "orders": 1, "order_items": 1}
    assert result.loaded == {"customers": 0, "products": 0, "orders": 0, "order_items": 0}
    for name, frame in before.items():
        pd.testing.assert_frame_equal(table(db, name), frame)


def test_an_email_of_another_customer_in_the_database_is_rejected(db, write_csv):
    header = "order_id,customer_id,order_date,product_id,quantity,unit_price,email\n"
    import_csv(db, write_csv(header + "1,10,2024-01-05,100,1,2.00,a@example.com\n"), "generic")

    path = write_csv(header + "2,11,2024-01-06,100,1,2.00,a@example.com\n", "b.csv")
    result = import_csv(db, path, "generic")

    assert rejects(result) == {
        2: "email belongs to another customer: 'a@example.com' belongs to customer_id 10 "
        "in the database"
    }
    assert table(db, "customers")["customer_id"].tolist() == [10]


def test_a_customer_that_differs_from_the_database_is_rejected(db, write_csv):
    header = "order_id,customer_id,order_date,product_id,quantity,unit_price,email,city\n"
    import_csv(db, write_csv(header + "1,10,2024-01-05,100,1,2.00,a@example.com,Rome\n"), "generic")

    path = write_csv(header + "2,10,2024-02-05,100,1,2.00,A@example.com,Milan\n", "b.csv")
    result = import_csv(db, path, "generic")

    assert rejects(result) == {
        2: "customer_id differs from the database: 10: city 'Milan' in the file, "
        "'Rome' in the database"
    }
    assert table(db, "orders")["order_id"].tolist() == [1]


@pytest.mark.parametrize("preloaded", [False, True], ids=["empty-db", "preloaded-db"])
def test_a_failed_load_leaves_the_database_unchanged(db, write_csv, monkeypatch, preloaded):
    header = "order_id,customer_id,order_date,product_id,quantity,unit_price\n"
    if preloaded:
        import_csv(db, write_csv(header + "1,10,2024-01-05,100,1,2.00\n", "a.csv"), "generic")
    before = db.counts()
    real_write = db.write  # the one write every load goes through (metrics.load -> db.write)

    def write_with_a_duplicate_item(frames, **kwargs):
        # order_items is loaded last: customers, products and orders are already written in the
        # transaction when the duplicate primary key fails
        items = frames["order_items"]
        return real_write(
            {**frames, "order_items": pa.concat_tables([items, items.slice(0, 1)])}, **kwargs
        )

    monkeypatch.setattr(db, "write", write_with_a_duplicate_item)
    path = write_csv(
        header + "2,11,2024-01-06,101,1,3.00\n" + "3,12,2024-01-07,102,2,4.00\n", "b.csv"
    )
    with pytest.raises(IngestError, match="load failed, nothing was written"):
        import_csv(db, path, "generic")

    assert db.counts() == before
    assert 2 not in table(db, "orders")["order_id"].tolist()
