"""Shopify's sales report on a hand-built shop, worked out by hand from Shopify's definitions
(docs/rules.md): gross sales = quantity x price; discounts (line + order) on the order date; returns
(product value refunded) on the refund date or the order date; net = gross - discounts - returns;
shipping and taxes charged on the order date less those refunded; total = net + shipping + taxes.
A cancelled order that was charged is a sale and its refund a return; one never charged is left out.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal as D

import pyarrow as pa
import pytest

from sales_analytics import metrics as M
from sales_analytics.present import format as fmt
from sales_analytics.storage import ShopSettings

T = datetime.fromisoformat

ORDERS = [  # id, customer, order date (shop time), status, total, discount, code, shipping, tax,
    #           refunded, cancelled_at;  total = sum(qty x price) - discount
    (1, 1, T("2024-03-30 10:00"), "completed", "33.00", "7.00", "WELCOME10", "5.00", "6.27",
     "10.00", None),  # 2x10 + 20 = 40 gross; line discount 2 + code 5; one unit refunded later
    (2, 2, T("2024-03-31 18:00"), "returned", "20.00", "0.00", None, "4.90", "3.80", "20.00", None),
    (3, 3, T("2024-03-31 09:00"), "cancelled", "10.00", "0.00", None, "0.00", "1.90", "10.00",
     T("2024-03-31 12:00")),  # charged, cancelled, refunded the next day
    (4, 1, T("2024-04-01 11:00"), "cancelled", "20.00", "0.00", None, "0.00", "3.80", "0.00",
     T("2024-04-01 11:30")),  # never charged: voided, in no report
    (5, 2, T("2024-04-01 15:00"), "completed", "24.00", "6.00", "BFCM20", "0.00", "4.56", "0.00",
     None),  # 3 x 10 = 30 gross, code 6
    (6, 3, T("2024-04-02 10:00"), "completed", "10.00", "0.00", None, "3.00", "1.90", "0.00", None),
]  # fmt: skip
ITEMS = [  # id, order, product, quantity, unit price, line discount
    (1, 1, 10, 2, "10.00", "2.00"), (2, 1, 11, 1, "20.00", "0.00"), (3, 2, 11, 1, "20.00", "0.00"),
    (4, 3, 10, 1, "10.00", "0.00"), (5, 4, 11, 1, "20.00", "0.00"), (6, 5, 10, 3, "10.00", "0.00"),
    (7, 6, 10, 1, "10.00", "0.00"),
]  # fmt: skip
REFUNDS = [  # id, order, refunded at, product value, shipping, tax
    (1, 1, T("2024-04-02 09:00"), "10.00", "0.00", "1.90"),  # partial, a later day
    (2, 2, T("2024-04-05 16:00"), "20.00", "4.90", "3.80"),  # full, shipping too
    (3, 3, T("2024-04-01 08:00"), "10.00", "0.00", "1.90"),  # the cancellation's refund
]  # fmt: skip

COLS = ("orders", "gross_sales", "discounts", "returns", "net_sales", "shipping", "taxes",
        "total_sales")  # fmt: skip
#: by hand, per day: sales on the order date, returns on the refund date
BY_REFUND_DATE = {
    date(2024, 3, 30): (1, 40, 7, 0, 33, 5, 6.27, 44.27),  # order 1
    date(2024, 3, 31): (2, 30, 0, 0, 30, 4.90, 5.70, 40.60),  # orders 2 and 3 (3.80 + 1.90 tax)
    date(2024, 4, 1): (1, 30, 6, 10, 14, 0, 2.66, 16.66),  # order 5; refund 3 (4.56 - 1.90 tax)
    date(2024, 4, 2): (1, 10, 0, 10, 0, 3, 0, 3),  # order 6 (tax 1.90); refund 1 (tax -1.90)
    date(2024, 4, 5): (0, 0, 0, 20, -20, -4.90, -3.80, -28.70),  # refund 2
}
#: by hand, per day: every refund on its order's date
BY_ORDER_DATE = {
    date(2024, 3, 30): (1, 40, 7, 10, 23, 5, 4.37, 32.37),  # order 1 less refund 1
    date(2024, 3, 31): (2, 30, 0, 30, 0, 0, 0, 0),  # orders 2, 3 less refunds 2, 3
    date(2024, 4, 1): (1, 30, 6, 0, 24, 0, 4.56, 28.56),  # order 5
    date(2024, 4, 2): (1, 10, 0, 0, 10, 3, 1.90, 14.90),  # order 6
}


def _table(rows, names, types) -> pa.Table:
    cols = list(zip(*rows, strict=True))
    return pa.table({n: pa.array([D(v) if t == "m" and v is not None else v for v in c],
                                 type=pa.decimal128(12, 2) if t == "m" else None)
                     for n, c, t in zip(names, cols, types, strict=True)})  # fmt: skip


def shop() -> dict[str, pa.Table]:
    people = [(i, f"N{i}", "L", f"c{i}@example.com", "Germany", "Berlin", "Berlin", T("2024-01-01"))
              for i in (1, 2, 3)]  # fmt: skip
    goods = [(i, f"P{i}", "Books", "Nord", p, "5.00", 9, T("2024-01-01"))
             for i, p in ((10, "10.00"), (11, "20.00"))]  # fmt: skip
    return {
        "customers": _table(people, ("customer_id", "first_name", "last_name", "email", "country",
                                     "region", "city", "created_at"), "........"),
        "products": _table(goods, ("product_id", "product_name", "category", "brand", "unit_price",
                                   "unit_cost", "stock_quantity", "created_at"), "....mm.."),
        "orders": _table(
            [(*o[:4], "paypal", *o[4:]) for o in ORDERS],
            ("order_id", "customer_id", "order_date", "status", "payment_method", "total_amount",
             "discount_amount", "discount_code", "shipping_amount", "tax_amount",
             "refunded_amount", "cancelled_at"), ".....mm.mmm."),
        "order_items": _table(ITEMS, ("order_item_id", "order_id", "product_id", "quantity",
                                      "unit_price", "discount_amount"), "....mm"),
        "refunds": _table([(*r, "source") for r in REFUNDS],
                          ("refund_id", "order_id", "refunded_at", "amount", "shipping_amount",
                           "tax_amount", "dated_by"), "...mmm."),
        "shop_settings": ShopSettings("EUR", "Europe/Berlin", 4).table(),
    }  # fmt: skip


@pytest.fixture
def shop_db(db):
    M.load(db, shop())
    return db


def rows(frame, key: str = "period") -> dict:
    return {r[key].date() if hasattr(r[key], "date") else r[key]:
            tuple(round(float(r[c]), 2) for c in COLS) for _, r in frame.iterrows()}  # fmt: skip


def test_sales_report_per_day_equals_the_hand_worked_figures(shop_db):
    assert rows(M.compute(shop_db, "sales_report")) == BY_REFUND_DATE
    by_order = M.compute(shop_db, "sales_report", attribution="order_date")
    assert rows(by_order) == BY_ORDER_DATE
    # on order dates, net sales per day are the headline net revenue per day
    revenue = M.compute(shop_db, "revenue", grain="day")
    assert dict(zip(revenue.period.dt.date, revenue.revenue.round(2), strict=True)) == {
        d: v[4] for d, v in BY_ORDER_DATE.items()}
    # a window keeps the returns dated in it (refund 2 of an order before the window)
    window = M.Filters(start=date(2024, 4, 3), end=date(2024, 4, 30))
    assert rows(M.compute(shop_db, "sales_report", window)) == {
        date(2024, 4, 5): BY_REFUND_DATE[date(2024, 4, 5)]}


def test_fiscal_grains_count_from_the_shops_fiscal_year_start(shop_db):
    # fiscal year from April: March 2024 is in the year that began 2023-04-01
    by_year = rows(M.compute(shop_db, "sales_report", grain="fiscal_year"))
    assert by_year == {
        date(2023, 4, 1): (3, 70, 7, 0, 63, 9.90, 11.97, 84.87),
        date(2024, 4, 1): (2, 40, 6, 40, -6, -1.90, -1.14, -9.04),
    }
    revenue = M.compute(shop_db, "revenue", grain="fiscal_year")
    assert list(revenue.revenue.round(2)) == [23.0, 34.0]
    quarters = M.compute(shop_db, "revenue", grain="fiscal_quarter")
    assert list(quarters.period.dt.date) == [date(2024, 1, 1), date(2024, 4, 1)]
    calendar = M.compute(shop_db, "revenue", grain="year")
    assert list(calendar.period.dt.date) == [date(2024, 1, 1)] and calendar.revenue[0] == 57.0


def test_discount_metrics_and_the_shops_currency(shop_db):
    codes = M.compute(shop_db, "discount_codes")
    assert codes.discount_code.tolist() == ["BFCM20", "WELCOME10"]
    assert codes[["orders", "revenue", "gross_sales", "discounts"]].values.tolist() == [
        [1, 24.0, 30.0, 6.0], [1, 23.0, 40.0, 7.0]]
    assert codes.discount_rate.round(3).tolist() == [0.2, 0.175]
    s = M.compute(shop_db, "discount_summary").iloc[0]
    # completed orders 1, 5, 6; net revenue 23 + 0 (order 2) + 24 + 10; gross of orders not cancelled
    assert (s.orders, s.revenue, s.discounted_orders, s.gross_sales, s.discounts) == (
        3, 57.0, 2, 100.0, 13.0)
    assert (s.discount_rate, s.aov_with_discount, s.aov_without_discount) == (0.13, 23.5, 10.0)
    shown = fmt.frame(M.compute(shop_db, "sales_report"), M.get("sales_report").columns)
    assert shown["Total sales"].iloc[0] == "€44.27"  # the database's currency, not SA_CURRENCY
