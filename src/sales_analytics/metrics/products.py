"""Product metrics: performance, margin and profit, category/brand rollups, ABC classes (stock in
:mod:`.stock`, products bought together in :mod:`.baskets`).

Sales are completed orders (net); ``units_returned`` counts units of returned orders. Cost is units
sold times the product's current ``unit_cost``; profit = revenue - cost.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from sales_analytics.metrics.columns import COLUMNS, cols
from sales_analytics.metrics.filters import Filters
from sales_analytics.metrics.preagg import (
    key_names,
    month_rows,
    narrow_money,
    sales_items,
    sales_measures,
    summed_months,
)
from sales_analytics.metrics.rules import is_completed, money, ratio
from sales_analytics.metrics.source import TableSource, table, use
from sales_analytics.metrics.spec import Column, Param, declare


def _sales_live(db: TableSource, key: str, f: Filters) -> ir.Table:
    """Per ``key`` (``product_id``, ``category`` or ``brand``) with order items in the window (any
    status): distinct completed ``orders`` (and ``products_sold`` per category or brand), units sold
    and returned, decimal revenue and cost (at the product's current ``unit_cost``); sums are NULL
    without completed (returned) items. Computed from the order items (see :func:`_sales`); a
    category or brand grouped by its whole-number id, the names joined back (:func:`key_names`)."""
    j = sales_items(db, f, key)
    if key == "product_id":
        return j.group_by(key).aggregate(**sales_measures(j))
    g = j.group_by("key_id").aggregate(
        products_sold=j.product_id.nunique(where=is_completed(j)).cast("int64"),
        **sales_measures(j),
    )
    g = g.join(key_names(db, key), "key_id")
    return g.select(key, *[c for c in g.columns if c not in ("key_id", key)])


def _sales(db: TableSource, key: str, f: Filters) -> ir.Table:
    """:func:`_sales_live`, the same rows and types; under a filter of dates only summed from the
    per-month copies (:mod:`.preagg`): per product ``product_month_sales``; per category or
    brand ``rollup_month_sales``, and the products sold (what does not add up over months) as
    the distinct products with a completed order in ``product_month_sales``' window rows."""
    live = _sales_live(db, key, f)
    if key == "product_id":
        s = summed_months(db, "product_month_sales", f, (key,), ("last_sold_at",))
        if s is None:
            return live
        s = s.rename(orders="order_count")
    else:
        s = summed_months(
            db, "rollup_month_sales", f, ("name",), ("last_sold_at",), where={"level": key}
        )
        if s is None:
            return live
        rows = month_rows(db, "product_month_sales", f)
        rows = rows.filter(rows.order_count > 0).select("product_id").distinct()
        p = table(db, "products").select("product_id", key)
        j = rows.join(p, "product_id")
        sold = j.group_by(sold_key=j[key]).aggregate(products_sold=j.count())
        r = s.left_join(sold, s.name == sold.sold_key)
        sums = {c: r[c] for c in s.columns if c != "name"}
        s = r.select(**{key: r.name}, products_sold=r.products_sold.fill_null(0), **sums)
    return s.select(*[s[c].cast(t) for c, t in live.schema().items()])


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
    s = _sales(db, "product_id", f)
    return s.select(
        "product_id", order_count=s.orders, units_sold=s.units_sold,
        units_returned=s.units_returned, revenue=narrow_money(s.revenue),
        cost=narrow_money(s.cost), last_sold_at=s.last_sold_at,
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
    sales = _sales(db, key, f)
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
