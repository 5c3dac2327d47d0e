"""Drill-downs: the rows behind a summary (orders of a window, customers of a segment, the order
lines of a product). Each states how it adds up to its KPI (:mod:`sales_analytics.present.captions`).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from sales_analytics.metrics.columns import COLUMNS, cols
from sales_analytics.metrics.customers import scored_customers
from sales_analytics.metrics.filters import Filters
from sales_analytics.metrics.rules import is_completed, line_value, money, orders
from sales_analytics.metrics.source import TableSource, table
from sales_analytics.metrics.spec import Column, Param, declare

LIMIT = Param("limit", int, 5000, "Most rows returned", minimum=1, maximum=1_000_000)
STATUS = Column("status", "string", "text", "Status", "completed, cancelled or returned")
ORDER_COLUMNS = (
    Column("order_id", "int64", "id", "Order"),
    Column("order_date", "timestamp", "timestamp", "Ordered at"),
    STATUS,
    Column("payment_method", "string", "text", "Payment"),
    Column("total_amount", "float64", "currency", "Order total"),
    *cols("customer_id", "first_name", "last_name", "country", "city"),
)


def _who(db: TableSource) -> ir.Table:
    """Names and places of customers (the orders are filtered already)."""
    c = table(db, "customers")
    return c.select("customer_id", "first_name", "last_name", "country", "city")


@declare(
    "orders",
    label="Orders",
    domain="detail",
    grain="one row per order of the filter's customers in the window, any status",
    description="Completed orders are the Orders KPI; cancelled and returned orders are listed "
    "too, so the rows add up to completed + cancelled + returned.",
    columns=ORDER_COLUMNS,
    params=(LIMIT,),
    sort=("-order_date", "order_id"),
)
def order_list(db: TableSource, f: Filters) -> ir.Table:
    o = orders(db, f)
    j = o.join(_who(db), "customer_id")
    return j.select(
        "order_id", "order_date", "status", "payment_method",
        total_amount=j.total_amount.cast("float64"),
        customer_id=j.customer_id, first_name=j.first_name, last_name=j.last_name,
        country=j.country, city=j.city,
    )  # fmt: skip


@declare(
    "customers",
    label="Customers",
    domain="detail",
    grain="one row per customer of the filter with a completed order before the window's end",
    description="The customer base of the filter (as in the segment summary) with what each "
    "bought in the window; those with window orders are the Customers KPI.",
    columns=cols("customer_id", "first_name", "last_name", "email", "country", "city", "segment")
    + (
        COLUMNS["orders"].but(description="Completed orders in the window"),
        COLUMNS["revenue"].but(description="Net revenue in the window"),
        *cols("recency_days", "frequency", "monetary", "last_order_at"),
    ),
    params=(LIMIT,),
    sort=("-revenue", "-monetary", "customer_id"),
)
def customer_list(db: TableSource, f: Filters) -> ir.Table:
    r = scored_customers(db, f)
    o = orders(db, f)
    o = o.filter(is_completed(o))
    w = o.group_by("customer_id").aggregate(
        w_orders=o.count().cast("int64"), w_revenue=o.total_amount.sum()
    )
    c = table(db, "customers")
    j = r.join(c, r.customer_id == c.customer_id).left_join(w, r.customer_id == w.customer_id)
    return j.select(
        customer_id=r.customer_id, first_name=c.first_name, last_name=c.last_name,
        email=c.email, country=c.country, city=c.city, segment=r.segment,
        orders=j.w_orders.fill_null(0), revenue=money(j.w_revenue),
        recency_days=r.recency_days, frequency=r.frequency, monetary=r.monetary,
        last_order_at=r.last_order_at,
    )  # fmt: skip


@declare(
    "product_lines",
    label="Order lines of a product",
    domain="detail",
    grain="one row per order line of the product in the window, any order status",
    description="Lines of completed orders add up to the product's units sold and revenue.",
    columns=(
        Column("order_item_id", "int64", "id", "Line"),
        COLUMNS["product_id"],
        Column("quantity", "int64", "count", "Units"),
        COLUMNS["unit_price"].but(label="Unit price", description="Price paid per unit"),
        Column("line_discount", "float64", "currency", "Discount", "The line's share of the order's discounts"),
        Column("line_total", "float64", "currency", "Line total", "Units x unit price less the discount"),
    ) + ORDER_COLUMNS,
    params=(
        Param("product_id", int, None, "The product", required=True),
        LIMIT,
    ),
    sort=("-order_date", "order_item_id"),
)
def product_lines(db: TableSource, f: Filters, *, product_id: int) -> ir.Table:
    it = table(db, "order_items")
    it = it.filter(it.product_id == ibis.literal(int(product_id), type="int64"))
    o = orders(db, f).join(_who(db), "customer_id")
    j = it.join(o, it.order_id == o.order_id)
    price = it.unit_price.cast("float64")
    return j.select(
        order_item_id=it.order_item_id, product_id=it.product_id,
        quantity=it.quantity.cast("int64"), unit_price=price,
        line_discount=it.discount_amount.cast("float64"),
        line_total=line_value(it).cast("float64"),
        order_id=o.order_id, order_date=o.order_date, status=o.status,
        payment_method=o.payment_method, total_amount=o.total_amount.cast("float64"),
        customer_id=o.customer_id, first_name=o.first_name, last_name=o.last_name,
        country=o.country, city=o.city,
    )  # fmt: skip
