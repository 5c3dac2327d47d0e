"""Pre-aggregates by day: what makes date-filtered product pairs fast, exactly.

A date filter cannot read a metric's materialized copy (the copy is the whole history). These
internal metrics keep measures **per day**, materialized like every other copy
(``materialize=True``: the builder's own expression, compiled per dialect, recorded with its
digest). A metric under a filter of dates only sums the days of its window with
:func:`dated_copy`, and computes live otherwise (countries or segments, no current copy, or inside
``live_only``).

Exact, not estimated: every measure adds up over days. Sums do; a maximum does; and a distinct
count of **orders** (baskets) does too, because an order falls on exactly one day, so the distinct
orders of a window are the sum of each day's distinct orders. Product pairs keep their (pair, day)
counts for the pairs bought together in at least two baskets over all dates: a pair with two
baskets in a window has two over all dates, so a window's pairs with ``min_orders >= 2`` are all
there. Product sales and the category/brand rollups stay live under a date filter: their
(product, day) copy is nearly as long as the window's order items (a product sells on about one
order per day), and summing it was measured slower than the live join (docs/benchmarks.md); a
(product, month) copy with the edge days live is the next step.
"""

from __future__ import annotations

import ibis.expr.types as ir

from sales_analytics.metrics.columns import COLUMNS, cols
from sales_analytics.metrics.filters import Filters
from sales_analytics.metrics.rules import CANCELLED, RETURNED, is_completed, items, line_value
from sales_analytics.metrics.source import TableSource, materialized_table, table
from sales_analytics.metrics.spec import Column, declare


def dated_copy(db: TableSource, name: str, f: Filters) -> ir.Table | None:
    """The current copy of the per-day pre-aggregate ``name`` cut to ``f``'s days, when ``f``
    filters by dates only; ``None`` (compute live) for no dates, countries or segments, or when
    the copy is missing or was made by another definition."""
    if f.countries or f.segments or (f.start is None and f.end is None):
        return None
    t = materialized_table(db, name)
    if t is None:
        return None
    preds = [t.day >= f.start] if f.start is not None else []
    preds += [t.day <= f.end] if f.end is not None else []
    return t.filter(*preds)


def sales_measures(j: ir.Table) -> dict[str, ir.Value]:
    """Per group of order items ``j`` (joined to their orders and the product's ``unit_cost``):
    distinct completed orders, units sold and returned, decimal revenue and cost (at the current
    unit cost; NULL without completed items) and the last completed order."""
    done = is_completed(j)
    return {
        "orders": j.order_id.nunique(where=done).cast("int64"),
        "units_sold": j.quantity.sum(where=done).cast("int64"),
        "units_returned": j.quantity.sum(where=j.status == RETURNED).cast("int64"),
        "revenue": line_value(j).sum(where=done),
        "cost": (j.quantity * j.unit_cost).sum(where=done),
        "last_sold_at": j.order_date.max(where=done),
    }


def sales_items(db: TableSource, f: Filters, key: str = "product_id") -> ir.Table:
    """Order items of ``f`` joined to their order and the product's ``key`` and ``unit_cost``."""
    p = table(db, "products").select(*dict.fromkeys(("product_id", key, "unit_cost")))
    return items(db, f).join(p, "product_id")


@declare(
    "product_day_sales",
    label="Sales per product and day",
    domain="internal",
    grain="one row per product and day with order items (any status)",
    description="Product sales per day: date-filtered product pairs sum its baskets per product "
    "over the days of their window.",
    columns=(
        COLUMNS["product_id"],
        COLUMNS["day"],
        COLUMNS["order_count"],
        Column("baskets", "int64", "count", "Baskets", "Orders that were not cancelled"),
        COLUMNS["units_sold"],
        COLUMNS["units_returned"],
        COLUMNS["revenue"].but(dtype="decimal"),
        COLUMNS["cost"].but(dtype="decimal"),
        COLUMNS["last_sold_at"],
    ),
    sort=("day", "product_id"),
    materialize=True,
    key=("day", "product_id"),
)
def product_day_sales(db: TableSource, f: Filters) -> ir.Table:
    j = sales_items(db, f)
    m = sales_measures(j)
    s = j.group_by("product_id", day=j.order_date.date()).aggregate(
        **m, baskets=j.order_id.nunique(where=j.status != CANCELLED).cast("int64")
    )
    return s.select(
        "product_id", "day", order_count=s.orders, baskets=s.baskets, units_sold=s.units_sold,
        units_returned=s.units_returned, revenue=s.revenue, cost=s.cost,
        last_sold_at=s.last_sold_at,
    )  # fmt: skip


@declare(
    "daily_baskets",
    label="Baskets per day",
    domain="internal",
    grain="one row per day with order items of orders that were not cancelled",
    description="Orders with items that were not cancelled, per day: the baskets of a "
    "date-filtered product pairs metric.",
    columns=cols("day") + (Column("baskets", "int64", "count", "Baskets", "All baskets"),),
    sort=("day",),
    materialize=True,
    key=("day",),
)
def daily_baskets(db: TableSource, f: Filters) -> ir.Table:
    it = items(db, f)
    it = it.filter(it.status != CANCELLED)
    return it.group_by(day=it.order_date.date()).aggregate(
        baskets=it.order_id.nunique().cast("int64")
    )
