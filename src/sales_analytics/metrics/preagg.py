"""Pre-aggregates by day and by month: what makes date-filtered product metrics fast, exactly.

A date filter cannot read a metric's materialized copy (the copy is the whole history). These
internal metrics keep measures **per day** or **per month**, materialized like every other copy
(``materialize=True``: the builder's own expression, compiled per dialect, recorded with its
digest). A metric under a filter of dates only sums the days of its window with
:func:`dated_copy`, or the whole months of its window from the copy plus the edge days before the
first and after the last whole month computed live by the copy's own builder with
:func:`summed_months`; it computes live otherwise (countries or segments, no current copy, or
inside ``live_only``).

Exact, not estimated: every measure adds up over days and months. Sums do; a maximum does; and a
distinct count of **orders** (baskets) per product, category or brand does too, because an order
falls on exactly one day, so the distinct orders of a window are the sum of each day's (month's)
distinct orders. What does not add up (distinct products per category) is counted from the
window's per-product rows. Product pairs keep their (pair, day) counts for the pairs bought
together in at least two baskets over all dates: a pair with two baskets in a window has two over
all dates, so a window's pairs with ``min_orders >= 2`` are all there. Per product the copy is by
month: a (product, day) copy is nearly as long as the window's order items (a product sells on
about one order per day) and summing it was measured slower than the live join
(docs/benchmarks.md).
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import ibis.expr.types as ir

from sales_analytics.metrics.columns import COLUMNS, cols
from sales_analytics.metrics.filters import Filters
from sales_analytics.metrics.rules import (
    CANCELLED,
    RETURNED,
    is_completed,
    items,
    line_value,
    period,
)
from sales_analytics.metrics.source import TableSource, materialized_table, table
from sales_analytics.metrics.spec import Column, declare

#: the levels of :func:`rollup_month_sales`
ROLLUP_LEVELS: tuple[str, ...] = ("category", "brand")
MONTH = Column("month", "date", "date", "Month", "First day of the month of the order")
#: Money in the per-product and per-month copies: 64-bit decimals (exact to 10^16), which a
#: database sums many times faster than the 128-bit ones it infers for a sum
MONEY = "decimal(18, 2)"


def narrow_money(value: ir.NumericValue) -> ir.NumericValue:
    """A decimal money sum as :data:`MONEY` (the same value; one that does not fit fails)."""
    return value.cast(MONEY)


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


def _next_month(d: date) -> date:
    return date(d.year + d.month // 12, d.month % 12 + 1, 1)


def whole_months(f: Filters) -> tuple[date | None, date | None, list[Filters]]:
    """``f``'s window split into whole months ``[lo, hi)`` (``None``: open; ``lo == hi``: none)
    and the filters of the edge days outside them (at most one before and one after)."""
    lo = f.start if f.start is None or f.start.day == 1 else _next_month(f.start)
    after = None if f.end is None else f.end + timedelta(days=1)
    hi = after if after is None or after.day == 1 else after.replace(day=1)
    if lo is not None and hi is not None and hi <= lo:  # no whole month: every day is an edge
        return lo, lo, [f]
    edges = []
    if f.start is not None and f.start < lo:
        edges.append(Filters(start=f.start, end=lo - timedelta(days=1)))
    if f.end is not None and hi < after:
        edges.append(Filters(start=hi, end=f.end))
    return lo, hi, edges


def month_rows(
    db: TableSource, name: str, f: Filters, where: dict[str, str] | None = None
) -> ir.Table | None:
    """The rows of the per-month pre-aggregate ``name`` over ``f``'s window (not yet summed):
    its whole months read from the current copy, its edge days computed live by ``name``'s
    builder; only rows with the values ``where`` (column -> value), those columns dropped.
    ``None`` (compute live) as for :func:`dated_copy`."""
    if f.countries or f.segments or (f.start is None and f.end is None):
        return None
    t = materialized_table(db, name)
    if t is None:
        return None
    from sales_analytics.metrics.catalog import get

    lo, hi, edges = whole_months(f)
    preds = [t.month >= lo] if lo is not None else []
    preds += [t.month < hi] if hi is not None else []
    builder = get(name).builder
    parts = [] if lo is not None and lo == hi else [t.filter(*preds) if preds else t]
    parts += [builder(db, e).select(*t.columns) for e in edges]
    u = ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]
    if where:
        u = u.filter(*[u[c] == v for c, v in where.items()]).drop(*where)
    return u


def summed_months(
    db: TableSource,
    name: str,
    f: Filters,
    key: tuple[str, ...],
    maxes: tuple[str, ...] = (),
    where: dict[str, str] | None = None,
) -> ir.Table | None:
    """Per ``key``: :func:`month_rows` of ``name`` over ``f``'s window, the other columns
    summed (``maxes``: their maximum). ``None`` (compute live) as for :func:`dated_copy`."""
    u = month_rows(db, name, f, where)
    if u is None:
        return None
    measures = [c for c in u.columns if c not in (*key, "month")]
    return u.group_by(list(key)).aggregate(
        **{c: u[c].max() if c in maxes else u[c].sum() for c in measures}
    )


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


def key_ids(db: TableSource, key: str) -> ir.Table:
    """The products with ``key_id``: an exact whole-number id of their ``key`` (category or
    brand), the dense rank of its value. Grouping order items by it rather than by the text
    keeps a distinct count of orders per category within the writer's memory limit at scale
    1000 (docs/benchmarks.md); :func:`key_names` joins the names back."""
    p = table(db, "products")
    return p.mutate(key_id=ibis.dense_rank().over(order_by=p[key]))


def key_names(db: TableSource, key: str) -> ir.Table:
    """``key_id`` and its ``key`` value (one row per value), to join back to rows grouped by
    :func:`key_ids`' id."""
    return key_ids(db, key).select("key_id", key).distinct()


def sales_items(db: TableSource, f: Filters, key: str = "product_id") -> ir.Table:
    """Order items of ``f`` joined to their order and the product's ``unit_cost`` and
    ``product_id``, or for a ``key`` of category or brand its ``key_id`` (:func:`key_ids`)."""
    if key == "product_id":
        p = table(db, "products").select("product_id", "unit_cost")
    else:
        p = key_ids(db, key).select("product_id", "key_id", "unit_cost")
    return items(db, f).join(p, "product_id")


@declare(
    "product_month_sales",
    label="Sales per product and month",
    domain="internal",
    grain="one row per product and month with order items (any status)",
    description="Product sales per month: date-filtered product sales, performance, ABC "
    "classes, rollups and product pairs sum the whole months of their window (edge days live).",
    columns=(
        COLUMNS["product_id"],
        MONTH,
        COLUMNS["order_count"],
        Column("baskets", "int64", "count", "Baskets", "Orders that were not cancelled"),
        COLUMNS["units_sold"],
        COLUMNS["units_returned"],
        COLUMNS["revenue"].but(dtype="decimal"),
        COLUMNS["cost"].but(dtype="decimal"),
        COLUMNS["last_sold_at"],
    ),
    sort=("month", "product_id"),
    materialize=True,
    key=("month", "product_id"),
)
def product_month_sales(db: TableSource, f: Filters) -> ir.Table:
    j = sales_items(db, f)
    m = sales_measures(j)
    s = j.group_by("product_id", month=period(j.order_date, "month")).aggregate(
        **m, baskets=j.order_id.nunique(where=j.status != CANCELLED).cast("int64")
    )
    return s.select(
        "product_id", "month", order_count=s.orders, baskets=s.baskets, units_sold=s.units_sold,
        units_returned=s.units_returned, revenue=narrow_money(s.revenue),
        cost=narrow_money(s.cost), last_sold_at=s.last_sold_at,
    )  # fmt: skip


@declare(
    "rollup_month_sales",
    label="Sales per category or brand and month",
    domain="internal",
    grain="one row per level (category or brand), its value and month with order items "
    "(any status)",
    description="Sales per category and per brand and month (distinct completed orders: an "
    "order counts once per category or brand): a date-filtered category or brand rollup sums "
    "these; only its products sold come from the per-product months.",
    columns=(
        Column("level", "string", "text", "Level", "category or brand", technical=True),
        Column("name", "string", "text", "Category or brand"),
        MONTH,
        COLUMNS["orders"].but(description="Distinct completed orders"),
        COLUMNS["units_sold"],
        COLUMNS["units_returned"],
        COLUMNS["revenue"].but(dtype="decimal"),
        COLUMNS["cost"].but(dtype="decimal"),
        COLUMNS["last_sold_at"],
    ),
    sort=("level", "month", "name"),
    materialize=True,
    key=("level", "month", "name"),
)
def rollup_month_sales(db: TableSource, f: Filters) -> ir.Table:
    parts = []
    for key in ROLLUP_LEVELS:
        j = sales_items(db, f, key)
        g = j.group_by("key_id", month=period(j.order_date, "month")).aggregate(
            **sales_measures(j)
        )
        g = g.join(key_names(db, key), "key_id")
        parts.append(
            g.select(
                level=ibis.literal(key), name=g[key], month=g.month, orders=g.orders,
                units_sold=g.units_sold, units_returned=g.units_returned,
                revenue=narrow_money(g.revenue), cost=narrow_money(g.cost),
                last_sold_at=g.last_sold_at,
            )  # fmt: skip
        )
    return ibis.union(*parts, distinct=False)


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
