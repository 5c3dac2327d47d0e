"""Product metrics: performance, margin and profit, category/brand rollups, ABC classes, slow
movers, days of stock cover and products bought together.

Sales are completed orders (net); ``units_returned`` counts units of returned orders. Cost is units
sold times the product's current ``unit_cost``; profit = revenue - cost.
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir

from sales_analytics.metrics._base import (
    CANCELLED,
    NO_FILTERS,
    RETURNED,
    Filters,
    TableSource,
    as_of_table,
    is_completed,
    items,
    materialized,
    money,
    orders,
    ratio,
    table,
)


def _product_sales(db: TableSource, filters: Filters) -> ir.Table:
    """Per product: decimal revenue and cost, units, orders (callers left-join it to products).

    Unfiltered, read from ``mv_product_performance`` when the source has it: one row per product,
    zeros where the live aggregate has a NULL or no row (products never ordered, or ordered only in
    cancelled orders). Every caller fills NULLs with 0 and gives a NULL margin for a zero or NULL
    revenue, so both give identical results.
    """
    mv = materialized(db, "mv_product_performance", filters)
    if mv is not None:
        return mv.select(
            "product_id", "units_sold", "order_count", "units_returned",
            revenue_dec="revenue", cost_dec="cost",
        )  # fmt: skip
    return _sales_live(db, "product_id", filters).rename(order_count="orders")


def product_performance(db: TableSource, filters: Filters = NO_FILTERS) -> ir.Table:
    """One row per product, like the seed's ``product_performance`` view, over the window.

    Products without sales are included with zeros. ``margin_pct`` = 100 * profit / revenue
    (NULL without revenue), not rounded.

    Returns
    -------
    ibis.Table
        ``product_id``, ``product_name``, ``category``, ``brand``, ``unit_price``, ``unit_cost``,
        ``stock_quantity``, ``units_sold``, ``order_count``, ``units_returned``, ``revenue``,
        ``cost``, ``profit``, ``margin_pct``; ordered by ``product_id``.
    """
    p = table(db, "products")
    s = _product_sales(db, filters)
    j = p.left_join(s, p.product_id == s.product_id)
    revenue = money(s.revenue_dec)
    cost = money(s.cost_dec)
    return j.select(
        product_id=p.product_id,
        product_name=p.product_name,
        category=p.category,
        brand=p.brand,
        unit_price=p.unit_price.cast("float64"),
        unit_cost=p.unit_cost.cast("float64"),
        stock_quantity=p.stock_quantity.cast("int64"),
        units_sold=s.units_sold.fill_null(0),
        order_count=s.order_count.fill_null(0),
        units_returned=s.units_returned.fill_null(0),
        revenue=revenue,
        cost=cost,
        profit=revenue - cost,
        margin_pct=100 * ratio(s.revenue_dec - s.cost_dec, s.revenue_dec),
    ).order_by("product_id")


def _rollup(db: TableSource, key: str, filters: Filters) -> ir.Table:
    p = table(db, "products")
    catalogue = p.group_by(key).aggregate(
        products=p.count().cast("int64"),
        stock_units=p.stock_quantity.sum().cast("int64"),
        stock_value=money((p.stock_quantity * p.unit_cost).sum()),
    )
    sales = _group_sales(db, key, filters)
    r = catalogue.left_join(sales, catalogue[key] == sales[key])
    revenue = money(r.revenue_dec)
    cost = money(r.cost_dec)
    out = r.select(
        catalogue[key],
        products=r.products,
        products_sold=r.products_sold.fill_null(0),
        orders=r.orders.fill_null(0),
        units_sold=r.units_sold.fill_null(0),
        units_returned=r.units_returned.fill_null(0),
        revenue=revenue,
        cost=cost,
        profit=revenue - cost,
        margin_pct=100 * ratio(r.revenue_dec - r.cost_dec, r.revenue_dec),
        stock_units=r.stock_units,
        stock_value=r.stock_value,
        # the total in decimals: exact, so the share does not depend on the summation order
        revenue_share=ratio(revenue, r.revenue_dec.sum().over()),
    )
    return out.order_by([ibis.desc("revenue"), key])


def _group_sales(db: TableSource, key: str, filters: Filters) -> ir.Table:
    """Per ``key`` (category or brand) with order items in the window: the rollup's sales.

    Unfiltered, read from ``mv_{key}_sales`` when the source has it (same rows and values: the view
    is this aggregate in SQL, see ``storage/sql/{key}_sales.sql``).
    """
    mv = materialized(db, f"mv_{key}_sales", filters)
    if mv is not None:
        return mv.select(
            key, "products_sold", "orders", "units_sold", "units_returned",
            revenue_dec="revenue", cost_dec="cost",
        )  # fmt: skip
    return _sales_live(db, key, filters)


def _sales_live(db: TableSource, key: str, filters: Filters) -> ir.Table:
    """Per ``key`` (``product_id``, ``category`` or ``brand``) with order items in the window (any
    status): distinct completed ``orders`` (and ``products_sold`` per category or brand), units sold
    and returned, decimal revenue and cost (at the product's current ``unit_cost``); sums are NULL
    without completed (returned) items."""
    p = table(db, "products").select(*dict.fromkeys(("product_id", key, "unit_cost")))
    j = items(db, filters).join(p, "product_id")
    done = is_completed(j)
    products_sold = {} if key == "product_id" else {
        "products_sold": j.product_id.nunique(where=done).cast("int64")
    }
    return j.group_by(key).aggregate(
        **products_sold,
        orders=j.order_id.nunique(where=done).cast("int64"),
        units_sold=j.quantity.sum(where=done).cast("int64"),
        units_returned=j.quantity.sum(where=j.status == RETURNED).cast("int64"),
        revenue_dec=(j.quantity * j.unit_price).sum(where=done),
        cost_dec=(j.quantity * j.unit_cost).sum(where=done),
    )


def category_rollup(db: TableSource, filters: Filters = NO_FILTERS) -> ir.Table:
    """Sales, margin and stock per category (every category of the catalogue).

    Returns
    -------
    ibis.Table
        ``category``, ``products`` (in the catalogue), ``products_sold``, ``orders`` (distinct),
        ``units_sold``, ``units_returned``, ``revenue``, ``cost``, ``profit``, ``margin_pct``,
        ``stock_units``, ``stock_value`` (at cost), ``revenue_share``; by revenue, descending.
    """
    return _rollup(db, "category", filters)


def brand_rollup(db: TableSource, filters: Filters = NO_FILTERS) -> ir.Table:
    """Like :func:`category_rollup`, per ``brand``."""
    return _rollup(db, "brand", filters)


def abc_classes(
    db: TableSource,
    filters: Filters = NO_FILTERS,
    *,
    a_share: float = 0.8,
    b_share: float = 0.95,
) -> ir.Table:
    """ABC (Pareto) classes by net revenue.

    Products are ranked by revenue (descending, ties by ``product_id``). A product is class A when
    the revenue share of the products ranked *before* it is below ``a_share`` (so the product that
    crosses 80% is still A), B when below ``b_share``, else C. Products without revenue are C.

    Returns
    -------
    ibis.Table
        ``product_id``, ``product_name``, ``category``, ``brand``, ``revenue``, ``rank`` (1 = top),
        ``revenue_share``, ``cumulative_share``, ``abc_class``; ordered by ``rank``.
    """
    if not 0 < a_share <= b_share <= 1:
        raise ValueError("need 0 < a_share <= b_share <= 1")
    p = table(db, "products")
    s = _product_sales(db, filters)
    j = p.left_join(s, p.product_id == s.product_id)
    base = j.select(
        product_id=p.product_id,
        product_name=p.product_name,
        category=p.category,
        brand=p.brand,
        revenue_dec=s.revenue_dec.fill_null(0),
    )
    order = [ibis.desc(base.revenue_dec), base.product_id]
    ranked = base.mutate(
        rank=(ibis.row_number().over(order_by=order) + 1).cast("int64"),
        cum_dec=base.revenue_dec.cumsum(order_by=order),
        total_dec=base.revenue_dec.sum().over(),
    )
    before = ratio(ranked.cum_dec - ranked.revenue_dec, ranked.total_dec)
    cls = ibis.cases(
        (ranked.revenue_dec <= 0, "C"),
        (before < a_share, "A"),
        (before < b_share, "B"),
        else_="C",
    )
    return ranked.select(
        "product_id",
        "product_name",
        "category",
        "brand",
        revenue=ranked.revenue_dec.cast("float64"),
        rank=ranked.rank,
        revenue_share=ratio(ranked.revenue_dec, ranked.total_dec),
        cumulative_share=ratio(ranked.cum_dec, ranked.total_dec),
        abc_class=cls,
    ).order_by("rank")


def _window_units(
    db: TableSource, filters: Filters, window_days: int, ref: ir.Table
) -> ir.Table:
    """Per product sold in the window: completed units of orders 1..``window_days`` days before
    ``as_of`` (the orders are narrowed first, so only the window's items are aggregated)."""
    o = orders(db, filters, dates=False)
    o = o.filter(is_completed(o)).cross_join(ref)
    days_ago = o.as_of.delta(o.order_date.date(), unit="day")
    recent = o.filter(days_ago >= 1, days_ago <= window_days).select("order_id")
    it = table(db, "order_items").join(recent, "order_id")
    return it.group_by("product_id").aggregate(units_window=it.quantity.sum().cast("int64"))


def _last_sold(db: TableSource, filters: Filters, ref: ir.Table, as_of: date | None) -> ir.Table:
    """Per product ever sold before ``as_of``: the last completed order's timestamp.

    Without country or segment filters and with the default ``as_of`` (no ``as_of`` and no
    ``filters.end``: the day after the last order, so every order counts; ``filters.start`` does
    not apply) it is ``mv_product_performance.last_sold_at`` when the source has that view.
    """
    default_as_of = as_of is None and filters.end is None
    mv = materialized(db, "mv_product_performance", filters.without_dates()) if default_as_of else None
    if mv is not None and "last_sold_at" in mv.columns:  # (not in an earlier version's view)
        return mv.filter(mv.last_sold_at.notnull()).select("product_id", "last_sold_at")
    it = items(db, filters, dates=False)
    it = it.filter(is_completed(it)).cross_join(ref)
    it = it.filter(it.as_of.delta(it.order_date.date(), unit="day") >= 1)
    return it.group_by("product_id").aggregate(last_sold_at=it.order_date.max())


def _stock_base(
    db: TableSource, filters: Filters, window_days: int, as_of: date | None
) -> ir.Table:
    if window_days < 1:
        raise ValueError("window_days must be at least 1")
    p = table(db, "products")
    ref = as_of_table(db, filters, as_of)
    w = _window_units(db, filters, window_days, ref)
    last = _last_sold(db, filters, ref, as_of)
    j = (
        p.left_join(w, p.product_id == w.product_id)
        .left_join(last, p.product_id == last.product_id)
        .cross_join(ref)
    )
    units = j.units_window.fill_null(0)
    return j.select(
        product_id=p.product_id,
        product_name=p.product_name,
        category=p.category,
        brand=p.brand,
        stock_quantity=p.stock_quantity.cast("int64"),
        stock_value=(p.stock_quantity * p.unit_cost).cast("float64"),
        units_window=units,
        daily_demand=units.cast("float64") / window_days,
        last_sold_at=j.last_sold_at,
        days_since_last_sale=j.as_of.delta(j.last_sold_at.date(), unit="day").cast("int64"),
        as_of=j.as_of,
    )


def stock_cover(
    db: TableSource,
    filters: Filters = NO_FILTERS,
    *,
    window_days: int = 90,
    as_of: date | None = None,
) -> ir.Table:
    """Days of stock cover: ``stock_quantity`` / average daily units sold.

    Demand is the completed units of the (filtered) customers in the ``window_days`` days before
    ``as_of`` (default: the day after ``filters.end`` or after the last order; ``filters.start`` is
    not used). ``days_of_cover`` is NULL without demand (infinite cover).

    Returns
    -------
    ibis.Table
        ``product_id``, ``product_name``, ``category``, ``brand``, ``stock_quantity``,
        ``stock_value`` (at cost), ``units_window``, ``daily_demand``, ``days_of_cover``,
        ``last_sold_at``, ``days_since_last_sale``, ``as_of``; shortest cover first, NULLs last.
    """
    b = _stock_base(db, filters, window_days, as_of)
    b = b.mutate(days_of_cover=ratio(b.stock_quantity, b.daily_demand))
    return b.order_by(
        [b.days_of_cover.isnull(), b.days_of_cover, b.product_id]
    ).relocate("days_of_cover", after="daily_demand")


def slow_movers(
    db: TableSource,
    filters: Filters = NO_FILTERS,
    *,
    window_days: int = 90,
    max_units: int = 1,
    as_of: date | None = None,
) -> ir.Table:
    """Products in stock that sold at most ``max_units`` units in the last ``window_days`` days.

    Same demand window as :func:`stock_cover`. Ordered by the capital tied up (``stock_value``),
    largest first.

    Returns
    -------
    ibis.Table
        ``product_id``, ``product_name``, ``category``, ``brand``, ``stock_quantity``,
        ``stock_value``, ``units_window``, ``daily_demand``, ``last_sold_at``,
        ``days_since_last_sale`` (NULL if never sold), ``as_of``.
    """
    b = _stock_base(db, filters, window_days, as_of)
    b = b.filter(b.stock_quantity > 0, b.units_window <= max_units)
    return b.order_by([ibis.desc(b.stock_value), b.product_id])


_PAIR_BASE = 1 << 32


def product_pairs(
    db: TableSource,
    filters: Filters = NO_FILTERS,
    *,
    min_orders: int = 2,
    limit: int | None = 100,
) -> ir.Table:
    """Products bought together in the same order (market-basket pairs).

    Baskets are the orders that were not cancelled (a return does not undo the joint purchase); a
    product counts once per basket. ``support`` = baskets with both / all baskets,
    ``confidence_a_b`` = P(b | a), ``lift`` = support / (support(a) * support(b)).

    Returns
    -------
    ibis.Table
        ``product_a`` < ``product_b`` (ids), ``product_a_name``, ``product_b_name``,
        ``orders_together``, ``orders_a``, ``orders_b``, ``support``, ``confidence_a_b``,
        ``confidence_b_a``, ``lift``; pairs with at least ``min_orders`` baskets, the most frequent
        first, at most ``limit`` rows (``None``: all).

    Unfiltered (and ``min_orders`` >= 2), the counts are read from ``mv_product_pairs`` when the
    source has it: the basket self-join is the whole cost (18M pair rows at scale 100).
    """
    mv = materialized(db, "mv_product_pairs", filters) if min_orders >= 2 else None
    if mv is not None:  # the view keeps the pairs of at least 2 baskets
        pairs = mv.filter(mv.orders_together >= min_orders)
    else:
        pairs = _pair_counts(db, filters, min_orders)
    names = table(db, "products").select("product_id", "product_name")
    na = names.select(na_id="product_id", product_a_name="product_name")
    nb = names.select(nb_id="product_id", product_b_name="product_name")
    j = pairs.join(na, pairs.product_a == na.na_id)
    j = j.join(nb, j.product_b == nb.nb_id)
    support = ratio(j.orders_together, j.baskets)
    out = j.select(
        "product_a",
        "product_b",
        "product_a_name",
        "product_b_name",
        "orders_together",
        "orders_a",
        "orders_b",
        support=support,
        confidence_a_b=ratio(j.orders_together, j.orders_a),
        confidence_b_a=ratio(j.orders_together, j.orders_b),
        lift=ratio(j.orders_together * j.baskets, j.orders_a * j.orders_b),
    ).order_by([ibis.desc("orders_together"), ibis.desc("lift"), "product_a", "product_b"])
    return out.limit(limit) if limit is not None else out


def _pair_counts(db: TableSource, filters: Filters, min_orders: int) -> ir.Table:
    """The rows of ``mv_product_pairs`` computed live: ``product_a``, ``product_b``,
    ``orders_together`` (at least ``min_orders``), ``orders_a``, ``orders_b``, ``baskets``."""
    it = items(db, filters)
    basket = it.filter(it.status != CANCELLED).select("order_id", "product_id").distinct()
    n = basket.aggregate(baskets=basket.order_id.nunique().cast("int64"))
    single = basket.group_by("product_id").aggregate(orders=basket.count().cast("int64"))
    a = basket
    b = basket.view()
    # one BIGINT key per pair groups ~30% faster than two columns (product ids are < 2**32)
    pairs = a.join(b, [a.order_id == b.order_id, a.product_id < b.product_id]).select(
        pair=a.product_id * _PAIR_BASE + b.product_id
    )
    pairs = pairs.group_by("pair").aggregate(orders_together=pairs.count().cast("int64"))
    pairs = pairs.filter(pairs.orders_together >= min_orders)
    pairs = pairs.select(
        product_a=(pairs.pair // _PAIR_BASE).cast("int64"),
        product_b=(pairs.pair % _PAIR_BASE).cast("int64"),
        orders_together=pairs.orders_together,
    )
    sa = single.select(pa_id="product_id", orders_a="orders")
    sb = single.select(pb_id="product_id", orders_b="orders")
    j = (
        pairs.join(sa, pairs.product_a == sa.pa_id)
        .join(sb, pairs.product_b == sb.pb_id)
        .cross_join(n)
    )
    return j.select("product_a", "product_b", "orders_together", "orders_a", "orders_b", "baskets")
