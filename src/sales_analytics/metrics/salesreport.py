"""Shopify's sales report and the discount metrics.

Rules: :func:`sales_analytics.metrics.rules.sales_lines` (the report's lines, both attributions)
and :func:`~sales_analytics.metrics.rules.net_amount` (net revenue per order); definitions and
their sources in docs/rules.md.
"""

from __future__ import annotations

import ibis.expr.types as ir

from sales_analytics.metrics.columns import COLUMNS, cols
from sales_analytics.metrics.filters import Filters
from sales_analytics.metrics.rules import (
    ATTRIBUTIONS,
    CANCELLED,
    count_where,
    is_completed,
    money,
    net_amount,
    orders,
    period,
    ratio,
    report_measures,
    sales_lines,
)
from sales_analytics.metrics.sales import first_month, grain_param
from sales_analytics.metrics.source import TableSource
from sales_analytics.metrics.spec import Column, Param, declare


def _money(name: str, label: str, description: str, better: bool | None) -> Column:
    return Column(name, "float64", "currency", label, description, better)


REPORT_COLUMNS = (
    COLUMNS["period"],
    Column("orders", "int64", "count", "Orders",
           "Orders placed in the period (cancelled orders never charged left out)", True),
    _money("gross_sales", "Gross sales", "Quantity x unit price of the orders placed", True),
    _money("discounts", "Discounts", "Line and order discounts of the orders placed", False),
    _money("returns", "Returns", "Product value refunded (on the refund or the order date)", False),
    _money("net_sales", "Net sales", "Gross sales - discounts - returns", True),
    _money("shipping", "Shipping", "Shipping charged - shipping refunded", None),
    _money("taxes", "Taxes", "Taxes charged - taxes refunded", None),
    _money("total_sales", "Total sales", "Net sales + shipping + taxes", True),
)  # fmt: skip


@declare(
    "sales_report",
    label="Sales report (Shopify definitions)",
    grain="one row per day, week (Monday start), month, quarter or year (calendar or fiscal) "
    "with a sale or a return",
    description="Gross sales, discounts, returns, net sales, shipping, taxes and total sales as "
    "Shopify's sales reports define them: sales on the order date, returns on the refund date "
    "(attribution=refund_date) or on the order date (attribution=order_date: net sales then equal "
    "the net revenue of the `revenue` metric).",
    columns=REPORT_COLUMNS,
    params=(
        grain_param("day", months=True),
        Param("attribution", str, "refund_date", "book returns on the refund_date (Shopify's "
              "default) or on the order_date", choices=ATTRIBUTIONS),
    ),
    sort=("period",),
)  # fmt: skip
def sales_report(
    db: TableSource, f: Filters, *, grain: str = "day", attribution: str = "refund_date"
) -> ir.Table:
    lines = sales_lines(db, f, attribution=attribution)
    lines = lines.mutate(period=period(lines.at, grain, first_month(db, grain)))
    g = lines.group_by("period").aggregate(**report_measures(lines))
    return g.select(*(c.name for c in REPORT_COLUMNS))


# ------------------------------------------------------------------------------------ discounts
def _discount_measures(o: ir.Table, where: ir.BooleanValue | None = None) -> dict[str, ir.Value]:
    """Orders, net revenue, gross sales and discounts of the orders ``o`` (where ``where``)."""
    sale = o.status != CANCELLED
    done = is_completed(o)
    if where is not None:
        sale, done = sale & where, done & where
    return {
        "orders": count_where(done),
        "revenue": money(net_amount(o).sum(where=sale)),
        "gross_sales": money((o.total_amount + o.discount_amount).sum(where=sale)),
        "discounts": money(o.discount_amount.sum(where=sale)),
    }


DISCOUNT_RATE = Column("discount_rate", "float64", "ratio", "Discount rate",
                       "Discounts / gross sales (orders not cancelled)", False)  # fmt: skip


@declare(
    "discount_codes",
    label="Revenue by discount code",
    grain="one row per discount code (as the order lists it) used on an order not cancelled",
    description="Orders, net revenue, gross sales, discounts, discount rate and average order "
    "value per discount code; orders with several codes count under their combined codes.",
    columns=(
        Column("discount_code", "string", "text", "Discount code"),
        *cols("orders", "revenue", "aov"),
        REPORT_COLUMNS[2], REPORT_COLUMNS[3], DISCOUNT_RATE,
    ),
    sort=("-revenue", "discount_code"),
)  # fmt: skip
def discount_codes(db: TableSource, f: Filters) -> ir.Table:
    o = orders(db, f)
    o = o.filter(o.discount_code.notnull() & (o.status != CANCELLED))
    g = o.group_by("discount_code").aggregate(**_discount_measures(o))
    return g.select(
        "discount_code", "orders", "revenue", aov=ratio(g.revenue, g.orders),
        gross_sales=g.gross_sales, discounts=g.discounts,
        discount_rate=ratio(g.discounts, g.gross_sales),
    )  # fmt: skip


@declare(
    "discount_summary",
    label="Discounts at a glance",
    grain="one row: the whole filter window",
    description="Discount rate, the share of orders with a discount, and the average order value "
    "with and without a discount (net revenue / completed orders of each kind).",
    columns=(
        *cols("orders", "revenue", "aov"),
        Column("discounted_orders", "int64", "count", "Orders with a discount",
               "Completed orders with a discount", None),
        Column("discounted_share", "float64", "ratio", "Share of orders with a discount",
               "Orders with a discount / orders", None),
        REPORT_COLUMNS[2], REPORT_COLUMNS[3], DISCOUNT_RATE,
        Column("aov_with_discount", "float64", "currency", "Average order value with a discount",
               "Net revenue / orders, of the orders with a discount", True),
        Column("aov_without_discount", "float64", "currency",
               "Average order value without a discount",
               "Net revenue / orders, of the orders without a discount", True),
    ),
)  # fmt: skip
def discount_summary(db: TableSource, f: Filters) -> ir.Table:
    o = orders(db, f)
    has = o.discount_amount > 0
    with_ = {f"{k}_with": v for k, v in _discount_measures(o, has).items()}
    without = {f"{k}_without": v for k, v in _discount_measures(o, ~has).items()}
    a = o.aggregate(**_discount_measures(o), **with_, **without)
    return a.select(
        "orders", "revenue", aov=ratio(a.revenue, a.orders),
        discounted_orders=a.orders_with,
        discounted_share=ratio(a.orders_with, a.orders),
        gross_sales=a.gross_sales, discounts=a.discounts,
        discount_rate=ratio(a.discounts, a.gross_sales),
        aov_with_discount=ratio(a.revenue_with, a.orders_with),
        aov_without_discount=ratio(a.revenue_without, a.orders_without),
    )  # fmt: skip
