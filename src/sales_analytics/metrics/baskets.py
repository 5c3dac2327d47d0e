"""Market baskets: products bought together in the same order."""

from __future__ import annotations

import ibis.expr.types as ir

from sales_analytics.metrics.columns import cols
from sales_analytics.metrics.filters import Filters
from sales_analytics.metrics.preagg import dated_copy, summed_months
from sales_analytics.metrics.rules import CANCELLED, items, ratio
from sales_analytics.metrics.source import TableSource, table, use
from sales_analytics.metrics.spec import Column, Param, declare


def _baskets(db: TableSource, f: Filters, *extra: str) -> ir.Table:
    """A product once per basket (an order that was not cancelled), with ``extra`` columns of
    the order."""
    it = items(db, f)
    it = it.filter(it.status != CANCELLED)
    return it.select("order_id", "product_id", *extra).distinct()


def _pairs(basket: ir.Table, *by: str) -> ir.Table:
    """Baskets per pair of products (a < b), per ``by`` of the first product's rows."""
    a = basket
    b = basket.view()
    # (product ids can use all 64 bits, as imported ones do: no packing of a pair into one key)
    pairs = a.join(b, [a.order_id == b.order_id, a.product_id < b.product_id]).select(
        product_a=a.product_id, product_b=b.product_id, **{k: a[k] for k in by}
    )
    return pairs.group_by(["product_a", "product_b", *by]).aggregate(
        orders_together=pairs.count().cast("int64")
    )


def _pair_counts(db: TableSource, f: Filters, min_orders: int) -> ir.Table:
    if min_orders >= 2:  # from the (pair, day) copy when it serves f's dates (see preagg)
        from_days = _pair_counts_from_days(db, f, min_orders)
        if from_days is not None:
            return from_days
    basket = _baskets(db, f)
    n = basket.aggregate(baskets=basket.order_id.nunique().cast("int64"))
    single = basket.group_by("product_id").aggregate(orders=basket.count().cast("int64"))
    pairs = _pairs(basket)
    pairs = pairs.filter(pairs.orders_together >= min_orders)
    return _with_singles(pairs, single, n)


def _with_singles(pairs: ir.Table, single: ir.Table, n: ir.Table) -> ir.Table:
    sa = single.select(pa_id="product_id", orders_a="orders")
    sb = single.select(pb_id="product_id", orders_b="orders")
    j = (
        pairs.join(sa, pairs.product_a == sa.pa_id)
        .join(sb, pairs.product_b == sb.pb_id)
        .cross_join(n)
    )
    return j.select("product_a", "product_b", "orders_together", "orders_a", "orders_b", "baskets")


def _pair_counts_from_days(db: TableSource, f: Filters, min_orders: int) -> ir.Table | None:
    days = dated_copy(db, "pair_day_counts", f)
    singles = summed_months(db, "product_month_sales", f, ("product_id",), ("last_sold_at",))
    totals = dated_copy(db, "daily_baskets", f)
    if days is None or singles is None or totals is None:
        return None
    pairs = days.group_by("product_a", "product_b").aggregate(
        orders_together=days.orders_together.sum().cast("int64")
    )
    pairs = pairs.filter(pairs.orders_together >= min_orders)
    single = singles.select("product_id", orders=singles.baskets.cast("int64"))
    n = totals.aggregate(baskets=totals.baskets.sum().cast("int64"))
    return _with_singles(pairs, single, n)


PAIR_COLUMNS = (
    Column("product_a", "int64", "id", "Product A", technical=True),
    Column("product_b", "int64", "id", "Product B", technical=True),
    Column("orders_together", "int64", "count", "Orders with both", "", True),
    Column("orders_a", "int64", "count", "Orders with A"),
    Column("orders_b", "int64", "count", "Orders with B"),
)


@declare(
    "pair_counts",
    label="Baskets per product pair",
    domain="internal",
    grain="one row per pair of products (a < b) bought together in at least two baskets",
    description="A basket is an order that was not cancelled; a product counts once per basket.",
    columns=PAIR_COLUMNS + (Column("baskets", "int64", "count", "Baskets", "All baskets"),),
    sort=("-orders_together", "product_a", "product_b"),
    materialize=True,
    key=("product_a", "product_b"),
)
def pair_counts(db: TableSource, f: Filters) -> ir.Table:
    return _pair_counts(db, f, 2)


@declare(
    "pair_day_counts",
    label="Baskets per product pair and day",
    domain="internal",
    grain="one row per pair of products (a < b) and day, for the pairs bought together in at "
    "least two baskets over all days of the filter",
    description="Date-filtered product pairs sum the days of their window: a pair with two "
    "baskets in a window has two over all days, so every pair a window can show is here.",
    columns=PAIR_COLUMNS[:2] + cols("day") + PAIR_COLUMNS[2:3],
    sort=("day", "product_a", "product_b"),
    materialize=True,
    key=("day", "product_a", "product_b"),
)
def pair_day_counts(db: TableSource, f: Filters) -> ir.Table:
    basket = _baskets(db, f, "order_date")
    basket = basket.mutate(day=basket.order_date.date()).drop("order_date")
    per_day = _pairs(basket, "day")
    total = per_day.orders_together.sum().over(group_by=["product_a", "product_b"])
    per_day = per_day.mutate(total=total)
    return per_day.filter(per_day.total >= 2).select(
        "product_a", "product_b", "day", "orders_together"
    )


@declare(
    "product_pairs",
    label="Bought together",
    domain="products",
    grain="one row per pair of products bought together in at least min_orders baskets",
    description="support = baskets with both / all baskets; confidence_a_b = P(b | a); "
    "lift = support / (support(a) * support(b)). Baskets are orders that were not cancelled.",
    columns=PAIR_COLUMNS[:2] + (
        Column("product_a_name", "string", "text", "Product A"),
        Column("product_b_name", "string", "text", "Product B"),
    ) + PAIR_COLUMNS[2:] + (
        Column("support", "float64", "ratio", "Support", "Share of baskets with both", True),
        Column("confidence_a_b", "float64", "ratio", "Confidence A -> B", "P(B | A)", True),
        Column("confidence_b_a", "float64", "ratio", "Confidence B -> A", "P(A | B)", True),
        Column("lift", "float64", "number", "Lift", "> 1: bought together more than by chance",
               True),
    ),  # fmt: skip
    params=(
        Param("min_orders", int, 2, "Fewest baskets with both products", minimum=1),
        Param("limit", int, 100, "Most pairs returned, the most frequent first", minimum=1),
    ),
    sort=("-orders_together", "-lift", "product_a", "product_b"),
)
def product_pairs(db: TableSource, f: Filters, *, min_orders: int = 2) -> ir.Table:
    if min_orders >= 2:  # the (materialized) counts keep the pairs of at least 2 baskets
        pairs = use(db, "pair_counts", f)
        pairs = pairs.filter(pairs.orders_together >= min_orders)
    else:
        pairs = _pair_counts(db, f, min_orders)
    names = table(db, "products").select("product_id", "product_name")
    na = names.select(na_id="product_id", product_a_name="product_name")
    nb = names.select(nb_id="product_id", product_b_name="product_name")
    j = pairs.join(na, pairs.product_a == na.na_id)
    j = j.join(nb, j.product_b == nb.nb_id)  # (j's column: pairs may be a join itself)
    return j.select(
        "product_a", "product_b", "product_a_name", "product_b_name", "orders_together",
        "orders_a", "orders_b",
        support=ratio(j.orders_together, j.baskets),
        confidence_a_b=ratio(j.orders_together, j.orders_a),
        confidence_b_a=ratio(j.orders_together, j.orders_b),
        lift=ratio(j.orders_together * j.baskets, j.orders_a * j.orders_b),
    )  # fmt: skip
