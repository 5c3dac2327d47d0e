"""Product metrics: performance, margin and profit, category/brand rollups, ABC classes, slow
movers, days of stock cover and products bought together.

Sales are completed orders (net); ``units_returned`` counts units of returned orders. Cost is units
sold times the product's current ``unit_cost``; profit = revenue - cost.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from sales_analytics.metrics.columns import COLUMNS, cols
from sales_analytics.metrics.filters import Filters
from sales_analytics.metrics.rules import (
    CANCELLED,
    RETURNED,
    as_of_table,
    is_completed,
    items,
    money,
    orders,
    ratio,
)
from sales_analytics.metrics.source import TableSource, table, use
from sales_analytics.metrics.spec import Column, Param, declare


def _sales_live(db: TableSource, key: str, f: Filters) -> ir.Table:
    """Per ``key`` (``product_id``, ``category`` or ``brand``) with order items in the window (any
    status): distinct completed ``orders`` (and ``products_sold`` per category or brand), units sold
    and returned, decimal revenue and cost (at the product's current ``unit_cost``); sums are NULL
    without completed (returned) items."""
    p = table(db, "products").select(*dict.fromkeys(("product_id", key, "unit_cost")))
    j = items(db, f).join(p, "product_id")
    done = is_completed(j)
    products_sold = {} if key == "product_id" else {
        "products_sold": j.product_id.nunique(where=done).cast("int64")
    }
    return j.group_by(key).aggregate(
        **products_sold,
        orders=j.order_id.nunique(where=done).cast("int64"),
        units_sold=j.quantity.sum(where=done).cast("int64"),
        units_returned=j.quantity.sum(where=j.status == RETURNED).cast("int64"),
        revenue=(j.quantity * j.unit_price).sum(where=done),
        cost=(j.quantity * j.unit_cost).sum(where=done),
        last_sold_at=j.order_date.max(where=done),
    )


@declare(
    "product_sales",
    label="Sales per product (exact)",
    domain="internal",
    grain="one row per product with order items in the window (any status)",
    description="Decimal revenue and cost per product: the base of product performance, ABC "
    "classes and the last sale of stock cover. Sums are empty without completed items.",
    columns=(
        COLUMNS["product_id"],
        COLUMNS["order_count"],
        COLUMNS["units_sold"],
        COLUMNS["units_returned"],
        COLUMNS["revenue"].but(dtype="decimal"),
        COLUMNS["cost"].but(dtype="decimal"),
        COLUMNS["last_sold_at"],
    ),
    sort=("product_id",),
    materialize=True,
    key=("product_id",),
)
def product_sales(db: TableSource, f: Filters) -> ir.Table:
    s = _sales_live(db, "product_id", f)
    return s.select(
        "product_id", order_count=s.orders, units_sold=s.units_sold,
        units_returned=s.units_returned, revenue=s.revenue, cost=s.cost,
        last_sold_at=s.last_sold_at,
    )  # fmt: skip


@declare(
    "product_performance",
    label="Product performance",
    domain="products",
    grain="one row per product (products without sales included, with zeros)",
    description="Units, orders, returns, revenue, cost, profit and margin per product.",
    columns=cols(
        "product_id", "product_name", "category", "brand", "unit_price", "unit_cost",
        "stock_quantity", "units_sold", "order_count", "units_returned", "revenue", "cost",
        "profit", "margin_pct",
    ),  # fmt: skip
    sort=("product_id",),
)
def product_performance(db: TableSource, f: Filters) -> ir.Table:
    p = table(db, "products")
    s = use(db, "product_sales", f)
    j = p.left_join(s, p.product_id == s.product_id)
    revenue = money(s.revenue)
    cost = money(s.cost)
    return j.select(
        product_id=p.product_id, product_name=p.product_name, category=p.category,
        brand=p.brand, unit_price=p.unit_price.cast("float64"),
        unit_cost=p.unit_cost.cast("float64"), stock_quantity=p.stock_quantity.cast("int64"),
        units_sold=s.units_sold.fill_null(0), order_count=s.order_count.fill_null(0),
        units_returned=s.units_returned.fill_null(0),
        revenue=revenue, cost=cost, profit=revenue - cost,
        margin_pct=100 * ratio(s.revenue - s.cost, s.revenue),
    )  # fmt: skip


def _rollup(db: TableSource, key: str, f: Filters) -> ir.Table:
    p = table(db, "products")
    catalogue = p.group_by(key).aggregate(
        products=p.count().cast("int64"),
        stock_units=p.stock_quantity.sum().cast("int64"),
        stock_value=money((p.stock_quantity * p.unit_cost).sum()),
    )
    sales = _sales_live(db, key, f)
    r = catalogue.left_join(sales, catalogue[key] == sales[key])
    revenue = money(r.revenue)
    cost = money(r.cost)
    return r.select(
        catalogue[key],
        products=r.products,
        products_sold=r.products_sold.fill_null(0),
        orders=r.orders.fill_null(0),
        units_sold=r.units_sold.fill_null(0),
        units_returned=r.units_returned.fill_null(0),
        revenue=revenue,
        cost=cost,
        profit=revenue - cost,
        margin_pct=100 * ratio(r.revenue - r.cost, r.revenue),
        stock_units=r.stock_units,
        stock_value=r.stock_value,
        # the total in decimals: exact, so the share does not depend on the summation order
        revenue_share=ratio(revenue, r.revenue.sum().over()),
    )


def _rollup_columns(key: str) -> tuple[Column, ...]:
    return (
        COLUMNS[key],
        Column("products", "int64", "count", "Products", "Products in the catalogue"),
        Column("products_sold", "int64", "count", "Products sold", "", True),
        *cols("orders", "units_sold", "units_returned", "revenue", "cost", "profit", "margin_pct"),
        Column("stock_units", "int64", "count", "Units in stock"),
        COLUMNS["stock_value"],
        COLUMNS["revenue_share"],
    )


@declare(
    "category_rollup",
    label="Sales by category",
    domain="products",
    grain="one row per category of the catalogue",
    description="Sales, margin and stock per category; orders are distinct orders.",
    columns=_rollup_columns("category"),
    sort=("-revenue", "category"),
    materialize=True,
    key=("category",),
)
def category_rollup(db: TableSource, f: Filters) -> ir.Table:
    return _rollup(db, "category", f)


@declare(
    "brand_rollup",
    label="Sales by brand",
    domain="products",
    grain="one row per brand of the catalogue",
    description="Sales, margin and stock per brand; orders are distinct orders.",
    columns=_rollup_columns("brand"),
    sort=("-revenue", "brand"),
    materialize=True,
    key=("brand",),
)
def brand_rollup(db: TableSource, f: Filters) -> ir.Table:
    return _rollup(db, "brand", f)


def _share(name: str, default: float, text: str) -> Param:
    return Param(name, float, default, text, minimum=0.0, maximum=1.0)


@declare(
    "abc_classes",
    label="ABC classes",
    domain="products",
    grain="one row per product, ranked by net revenue",
    description="Pareto classes: a product is A while the revenue share of the products ranked "
    "before it is below a_share (so the product that crosses 80% is still A), B below b_share, "
    "else C; products without revenue are C.",
    columns=cols("product_id", "product_name", "category", "brand", "revenue") + (
        Column("rank", "int64", "count", "Rank", "1 = most revenue"),
        COLUMNS["revenue_share"],
        Column("cumulative_share", "float64", "ratio", "Cumulative share",
               "Share of revenue of this product and those ranked before it"),
        Column("abc_class", "string", "text", "Class", "A, B or C"),
    ),  # fmt: skip
    params=(
        _share("a_share", 0.8, "Revenue share covered by class A"),
        _share("b_share", 0.95, "Revenue share covered by classes A and B"),
    ),
    sort=("rank",),
)
def abc_classes(
    db: TableSource, f: Filters, *, a_share: float = 0.8, b_share: float = 0.95
) -> ir.Table:
    if not 0 < a_share <= b_share <= 1:
        raise ValueError("need 0 < a_share <= b_share <= 1")
    p = table(db, "products")
    s = use(db, "product_sales", f)
    j = p.left_join(s, p.product_id == s.product_id)
    base = j.select(
        product_id=p.product_id, product_name=p.product_name, category=p.category,
        brand=p.brand, revenue_dec=s.revenue.fill_null(0),
    )  # fmt: skip
    order = [ibis.desc(base.revenue_dec), base.product_id]
    ranked = base.mutate(
        rank=(ibis.row_number().over(order_by=order) + 1).cast("int64"),
        cum_dec=base.revenue_dec.cumsum(order_by=order),
        total_dec=base.revenue_dec.sum().over(),
    )
    before = ratio(ranked.cum_dec - ranked.revenue_dec, ranked.total_dec)
    cls = ibis.cases(
        (ranked.revenue_dec <= 0, "C"), (before < a_share, "A"), (before < b_share, "B"),
        else_="C",
    )  # fmt: skip
    return ranked.select(
        "product_id", "product_name", "category", "brand",
        revenue=ranked.revenue_dec.cast("float64"),
        rank=ranked.rank,
        revenue_share=ratio(ranked.revenue_dec, ranked.total_dec),
        cumulative_share=ratio(ranked.cum_dec, ranked.total_dec),
        abc_class=cls,
    )  # fmt: skip


# ------------------------------------------------------------------------------------ stock
WINDOW_DAYS = Param(
    "window_days", int, 90, "Days of demand before the as-of day", minimum=1, maximum=3650
)


def _window_units(db: TableSource, f: Filters, window_days: int, ref: ir.Table) -> ir.Table:
    """Per product sold in the window: completed units of orders 1..``window_days`` days before
    ``as_of`` (the orders are narrowed first, so only the window's items are aggregated)."""
    o = orders(db, f, dates=False)
    o = o.filter(is_completed(o)).cross_join(ref)
    days_ago = o.as_of.delta(o.order_date.date(), unit="day")
    recent = o.filter(days_ago >= 1, days_ago <= window_days).select("order_id")
    it = table(db, "order_items").join(recent, "order_id")
    return it.group_by("product_id").aggregate(units_window=it.quantity.sum().cast("int64"))


def _last_sold(db: TableSource, f: Filters, ref: ir.Table) -> ir.Table:
    """Per product ever sold before the as-of day: the last completed order's timestamp. Without
    an end date every order counts, so it is ``product_sales.last_sold_at`` over all dates."""
    if f.end is None:
        s = use(db, "product_sales", f.without_dates())
        return s.filter(s.last_sold_at.notnull()).select("product_id", "last_sold_at")
    it = items(db, f, dates=False)
    it = it.filter(is_completed(it)).cross_join(ref)
    it = it.filter(it.as_of.delta(it.order_date.date(), unit="day") >= 1)
    return it.group_by("product_id").aggregate(last_sold_at=it.order_date.max())


STOCK_COLUMNS = cols(
    "product_id", "product_name", "category", "brand", "stock_quantity", "stock_value",
    "units_window", "daily_demand",
) + (
    Column("days_of_cover", "float64", "days", "Days of cover",
           "Units in stock / units per day; empty without demand", True),
    *cols("last_sold_at", "days_since_last_sale", "as_of"),
)  # fmt: skip


def _stock_base(db: TableSource, f: Filters, window_days: int) -> ir.Table:
    p = table(db, "products")
    ref = as_of_table(db, f)
    w = _window_units(db, f, window_days, ref)
    last = _last_sold(db, f, ref)
    j = (
        p.left_join(w, p.product_id == w.product_id)
        .left_join(last, p.product_id == last.product_id)
        .cross_join(ref)
    )
    units = j.units_window.fill_null(0)
    demand = units.cast("float64") / window_days
    return j.select(
        product_id=p.product_id, product_name=p.product_name, category=p.category,
        brand=p.brand, stock_quantity=p.stock_quantity.cast("int64"),
        stock_value=(p.stock_quantity * p.unit_cost).cast("float64"),
        units_window=units, daily_demand=demand,
        days_of_cover=ratio(p.stock_quantity, demand),
        last_sold_at=j.last_sold_at,
        days_since_last_sale=j.as_of.delta(j.last_sold_at.date(), unit="day").cast("int64"),
        as_of=j.as_of,
    )  # fmt: skip


@declare(
    "stock_cover",
    label="Days of stock cover",
    domain="products",
    grain="one row per product",
    description="Units in stock / average daily units sold in the window_days before the as-of "
    "day (the window's start does not apply); empty cover means no demand.",
    columns=STOCK_COLUMNS,
    params=(WINDOW_DAYS,),
    sort=("days_of_cover", "product_id"),
)
def stock_cover(db: TableSource, f: Filters, *, window_days: int = 90) -> ir.Table:
    return _stock_base(db, f, window_days)


@declare(
    "slow_movers",
    label="Slow movers",
    domain="products",
    grain="one row per product in stock that sold at most max_units units in the demand window",
    description="Capital tied up in stock that does not sell, largest first.",
    columns=tuple(c for c in STOCK_COLUMNS if c.name != "days_of_cover"),
    params=(WINDOW_DAYS, Param("max_units", int, 1, "Most units sold in the window", minimum=0)),
    sort=("-stock_value", "product_id"),
)
def slow_movers(
    db: TableSource, f: Filters, *, window_days: int = 90, max_units: int = 1
) -> ir.Table:
    b = _stock_base(db, f, window_days).drop("days_of_cover")
    return b.filter(b.stock_quantity > 0, b.units_window <= max_units)


# ------------------------------------------------------------------------------------ baskets
def _pair_counts(db: TableSource, f: Filters, min_orders: int) -> ir.Table:
    it = items(db, f)
    basket = it.filter(it.status != CANCELLED).select("order_id", "product_id").distinct()
    n = basket.aggregate(baskets=basket.order_id.nunique().cast("int64"))
    single = basket.group_by("product_id").aggregate(orders=basket.count().cast("int64"))
    a = basket
    b = basket.view()
    # (product ids can use all 64 bits, as imported ones do: no packing of a pair into one key)
    pairs = a.join(b, [a.order_id == b.order_id, a.product_id < b.product_id]).select(
        product_a=a.product_id, product_b=b.product_id
    )
    pairs = pairs.group_by(["product_a", "product_b"]).aggregate(
        orders_together=pairs.count().cast("int64")
    )
    pairs = pairs.filter(pairs.orders_together >= min_orders)
    sa = single.select(pa_id="product_id", orders_a="orders")
    sb = single.select(pb_id="product_id", orders_b="orders")
    j = (
        pairs.join(sa, pairs.product_a == sa.pa_id)
        .join(sb, pairs.product_b == sb.pb_id)
        .cross_join(n)
    )
    return j.select("product_a", "product_b", "orders_together", "orders_a", "orders_b", "baskets")


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
    j = pairs.join(na, pairs.product_a == na.na_id).join(nb, pairs.product_b == nb.nb_id)
    return j.select(
        "product_a", "product_b", "product_a_name", "product_b_name", "orders_together",
        "orders_a", "orders_b",
        support=ratio(j.orders_together, j.baskets),
        confidence_a_b=ratio(j.orders_together, j.orders_a),
        confidence_b_a=ratio(j.orders_together, j.orders_b),
        lift=ratio(j.orders_together * j.baskets, j.orders_a * j.orders_b),
    )  # fmt: skip
