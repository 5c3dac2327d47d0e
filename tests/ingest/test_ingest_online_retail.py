"""`import_csv(..., "online-retail")`: UCI Online Retail II cancellations, returns, ids, totals."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from sales_analytics.ingest import import_csv, stable_id
from tests.ingest.conftest import RETAIL_HEADER, money, rejects, table

RETAIL = f"""
    {RETAIL_HEADER}
    489434,85048,15CM CHRISTMAS GLASS BALL 20 LIGHTS,12,2009-12-01 07:45:00,6.95,13085.0,United Kingdom
    489434,79323P,PINK CHERRY LIGHTS,12,2009-12-01 07:45:00,6.75,13085.0,United Kingdom
    489434,79323P,PINK CHERRY LIGHTS,12,2009-12-01 07:45:00,6.75,13085.0,United Kingdom
    489434,79323P,PINK CHERRY LIGHTS,6,2009-12-01 07:46:00,6.75,13085.0,United Kingdom
    489435,22350,CAT BOWL ,12,2009-12-01 07:46:00,2.55,13085.0,United Kingdom
    489436,48173C,DOOR MAT BLACK FLOCK ,10,2009-12-01 09:06:00,5.95,,United Kingdom
    C489449,22087,PAPER BUNTING WHITE LACE,-12,2009-12-01 10:33:00,2.95,16321.0,Australia
    C489449,85206A,CREAM FELT EASTER EGG BASKET,-6,2009-12-01 10:33:00,1.65,16321.0,Australia
    489450,22087,PAPER BUNTING WHITE LACE,-2,2009-12-01 10:40:00,2.95,16321.0,Australia
    489451,22087,PAPER BUNTING WHITE LACE,-2,2009-12-01 10:41:00,2.95,16321.0,Australia
    489451,22350,CAT BOWL,3,2009-12-01 10:41:00,2.55,16321.0,Australia
    C489452,22350,CAT BOWL,4,2009-12-01 10:50:00,2.55,16321.0,Australia
    A506401,B,Adjust bad debt,1,2010-04-29 13:36:00,-53594.36,,United Kingdom
"""


def test_cancellations_returns_and_rejects(db, write_csv):
    result = import_csv(db, write_csv(RETAIL), "online-retail")

    assert rejects(result) == {
        4: "duplicate line: same as line 3",
        7: "missing Customer ID",
        11: "Invoice mixes sales and returns: '489451' (positive and negative Quantity)",
        12: "Invoice mixes sales and returns: '489451' (positive and negative Quantity)",
        13: "cancellation Invoice with a positive Quantity: 'C489452'",
        14: "missing Customer ID; negative Price: '-53594.36'",
    }
    assert result.rejected_orders == 4  # 489436, 489451, C489452, A506401
    assert result.loaded == {"customers": 2, "products": 5, "orders": 4, "order_items": 7}

    orders = table(db, "orders").set_index("order_id")
    # the exact duplicate (line 4) is dropped; the invoice keeps its other lines and the
    # earliest of its timestamps
    assert orders.loc[489434, "status"] == "completed"
    assert money(orders.loc[489434, "total_amount"]) == Decimal("204.90")
    assert orders.loc[489434, "order_date"] == pd.Timestamp("2009-12-01 07:45:00")
    # C-invoices are cancellations, stored with positive quantities
    cancel = stable_id("C489449")
    assert cancel >= 2**62
    assert orders.loc[cancel, "status"] == "cancelled"
    assert money(orders.loc[cancel, "total_amount"]) == Decimal("45.30")
    # negative quantities on an ordinary invoice are a return
    assert orders.loc[489450, "status"] == "returned"
    assert money(orders.loc[489450, "total_amount"]) == Decimal("5.90")
    assert (orders["payment_method"] == "unknown").all()

    items = table(db, "order_items")
    assert (items["quantity"] > 0).all()
    cancel_items = items[items["order_id"] == cancel].sort_values("quantity")
    assert cancel_items["quantity"].tolist() == [6, 12]

    customers = table(db, "customers")
    assert customers[["customer_id", "email", "country"]].values.tolist() == [
        [13085, "customer-13085@import.invalid", "United Kingdom"],
        [16321, "customer-16321@import.invalid", "Australia"],
    ]
    names = dict(table(db, "products")[["product_id", "product_name"]].values.tolist())
    assert names == {
        85048: "15CM CHRISTMAS GLASS BALL 20 LIGHTS",
        22350: "CAT BOWL",
        22087: "PAPER BUNTING WHITE LACE",
        stable_id("79323P"): "PINK CHERRY LIGHTS [79323P]",
        stable_id("85206A"): "CREAM FELT EASTER EGG BASKET [85206A]",
    }


def test_product_name_is_the_most_frequent_description(db, write_csv):
    path = write_csv(
        f"""
        {RETAIL_HEADER}
        1,85123A,WHITE HANGING HEART T-LIGHT HOLDER,1,2010-01-01 10:00:00,2.55,1.0,United Kingdom
        2,85123A,CREAM HANGING HEART T-LIGHT HOLDER,1,2010-01-02 10:00:00,2.55,1.0,United Kingdom
        3,85123A,CREAM HANGING HEART T-LIGHT HOLDER,1,2010-01-03 10:00:00,2.95,1.0,United Kingdom
        4,85123A,,1,2010-01-04 10:00:00,2.95,1.0,United Kingdom
        """
    )
    result = import_csv(db, path, "online-retail")
    assert result.rejected == 0
    product = table(db, "products").iloc[0]
    assert product["product_name"] == "CREAM HANGING HEART T-LIGHT HOLDER [85123A]"
    assert money(product["unit_price"]) == Decimal("2.95")  # the latest line's price


def test_the_older_online_retail_layout_and_dates(db, write_csv):
    path = write_csv(
        """
        InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country
        536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850,United Kingdom
        536366,22633,HAND WARMER UNION JACK,6,12/1/2010 8:28,1.85,17850,United Kingdom
        """
    )
    result = import_csv(db, path, "online-retail")
    assert result.rejected == 0
    orders = table(db, "orders")
    assert orders["order_date"].tolist() == [
        pd.Timestamp("2010-12-01 08:26"),
        pd.Timestamp("2010-12-01 08:28"),
    ]


def _retail_export(seed: int, n_invoices: int = 150) -> pd.DataFrame:
    """Online Retail II-like lines: cancellations, returns, guests without id, duplicates."""
    rng = np.random.default_rng(seed)
    codes = ["85123A", "22423", "85099B", "POST", "47566", "20725", "84879", "22720", "M"]
    rows = []
    for number in range(500_000, 500_000 + n_invoices):
        kind = rng.choice(["sale"] * 8 + ["cancel", "return"])
        invoice = f"C{number}" if kind == "cancel" else str(number)
        sign = 1 if kind == "sale" else -1
        customer = "" if rng.random() < 0.1 else f"{rng.integers(12_000, 12_040)}.0"
        when = pd.Timestamp("2010-01-01") + pd.Timedelta(minutes=int(rng.integers(0, 400_000)))
        for code in rng.choice(codes, size=int(rng.integers(1, 5)), replace=False):
            rows.append(
                {
                    "Invoice": invoice,
                    "StockCode": code,
                    "Description": f"ITEM {code}",
                    "Quantity": sign * int(rng.integers(1, 25)),
                    "InvoiceDate": when.strftime("%Y-%m-%d %H:%M:%S"),
                    "Price": f"{rng.integers(10, 2_000) / 100:.2f}",
                    "Customer ID": customer,
                    "Country": "United Kingdom",
                }
            )
            if rng.random() < 0.05:
                rows.append(dict(rows[-1]))  # an exact duplicate line, as in the real export
    return pd.DataFrame(rows)


def test_round_trip_totals_equal_the_csv_sums(db, tmp_path):
    path = tmp_path / "online_retail_II.csv"
    _retail_export(seed=3).to_csv(path, index=False)

    result = import_csv(db, path, "online-retail")

    # the expectation, from the CSV with pandas: the usual cleaning steps, then abs(qty) * price
    csv = pd.read_csv(path, dtype={"Invoice": str, "StockCode": str})
    kept = csv.dropna(subset=["Customer ID"]).drop_duplicates()
    kept = kept.assign(cents=(kept["Quantity"].abs() * kept["Price"] * 100).round().astype(int))
    expected = kept.groupby("Invoice")["cents"].sum()
    expected.index = [stable_id(invoice) for invoice in expected.index]
    orders = table(db, "orders").set_index("order_id")
    got = orders["total_amount"].map(lambda v: int(money(v) * 100))
    pd.testing.assert_series_equal(
        got.sort_index(), expected.sort_index(), check_names=False, check_dtype=False
    )
    items = table(db, "order_items")
    item_cents = items["quantity"] * items["unit_price"].map(lambda v: int(money(v) * 100))
    pd.testing.assert_series_equal(
        item_cents.groupby(items["order_id"]).sum().sort_index(),
        got.sort_index(),
        check_names=False,
        check_dtype=False,
    )
    status = kept.groupby("Invoice")["Quantity"].first()
    cancelled = {stable_id(i) for i in status.index if i.startswith("C")}
    returned = {stable_id(i) for i in status.index if not i.startswith("C") and status[i] < 0}
    assert set(orders.index[orders["status"] == "cancelled"]) == cancelled
    assert set(orders.index[orders["status"] == "returned"]) == returned
    assert result.rejected == len(csv) - len(kept)
    assert result.reasons.keys() == {"missing Customer ID", "duplicate line"}

    again = import_csv(db, path, "online-retail")
    assert sum(again.loaded.values()) == 0
    assert again.skipped == result.loaded
