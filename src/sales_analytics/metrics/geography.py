"""Geography: revenue, customers, AOV and growth per country or region; market penetration.

``region`` is the customer's state/region within a country (e.g. California, Bavaria), so region
rows carry their country too.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from sales_analytics.metrics.columns import COLUMNS
from sales_analytics.metrics.filters import Filters
from sales_analytics.metrics.rules import (
    as_of_table,
    count_where,
    customers,
    date_predicates,
    growth,
    is_completed,
    money,
    net_amount,
    orders,
    ratio,
)
from sales_analytics.metrics.source import TableSource
from sales_analytics.metrics.spec import Column, Param, declare

LEVELS: dict[str, tuple[str, ...]] = {"country": ("country",), "region": ("country", "region")}

#: Population in millions (2023, World Bank, rounded) for the customers-per-million figure.
POPULATION_MILLIONS: dict[str, float] = {
    "United States": 334.9,
    "United Kingdom": 68.4,
    "Germany": 84.5,
    "France": 68.2,
    "Canada": 40.1,
    "Spain": 48.4,
    "Italy": 59.0,
    "Netherlands": 17.9,
    "Australia": 26.6,
    "Sweden": 10.5,
    "Poland": 36.7,
    "Brazil": 216.4,
    "Mexico": 128.5,
    "Ireland": 5.3,
    "Denmark": 5.9,
}


def _keys(level: str) -> tuple[str, ...]:
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    return LEVELS[level]


LEVEL = Param("level", str, "country", "country or region (state within a country)",
              choices=tuple(LEVELS), expand=True)
AREA = (COLUMNS["country"], COLUMNS["region"].but(when={"level": ("region",)}))


@declare(
    "geography",
    label="Sales by area",
    domain="geography",
    grain="one row per country (or region) with sales in the window or the last two years",
    description="Net revenue, orders, customers and AOV in the window; growth compares the 365 "
    "days before the as-of day with the 365 days before those, whatever the window's start.",
    columns=AREA + (
        COLUMNS["revenue"], COLUMNS["orders"], COLUMNS["customers"], COLUMNS["aov"],
        COLUMNS["revenue_share"],
        Column("revenue_12m", "float64", "currency", "Revenue, last 12 months", "", True),
        Column("revenue_prev_12m", "float64", "currency", "Revenue, 12 months before", "", True),
        Column("growth_12m", "float64", "ratio", "Growth, 12 months", "", True),
    ),
    params=(LEVEL,),
    sort=lambda t: [ibis.desc(t.revenue), *[t[k] for k in ("country", "region") if k in t.columns]],
)
def geography(db: TableSource, f: Filters, *, level: str = "country") -> ir.Table:
    filters = f
    keys = _keys(level)
    c = customers(db, filters).select("customer_id", *keys)
    o = orders(db, filters, dates=False)
    o = o.filter(is_completed(o))
    o = o.mutate(net=net_amount(o)).join(c, "customer_id").cross_join(as_of_table(db, filters))
    o = o.mutate(days_ago=o.as_of.delta(o.order_date.date(), unit="day"))
    window = date_predicates(o.order_date, filters)
    in_window = ibis.and_(*window) if window else o.order_date.notnull()
    recent = o.days_ago.between(1, 365)
    previous = o.days_ago.between(366, 730)
    g = o.group_by(list(keys)).aggregate(
        revenue=money(o.net.sum(where=in_window)),
        orders=count_where(in_window),
        customers=o.customer_id.nunique(where=in_window).cast("int64"),
        revenue_12m=money(o.net.sum(where=recent)),
        revenue_prev_12m=money(o.net.sum(where=previous)),
    )
    g = g.filter((g.orders > 0) | (g.revenue_12m > 0) | (g.revenue_prev_12m > 0))
    return g.select(
        *keys,
        revenue=g.revenue,
        orders=g.orders,
        customers=g.customers,
        aov=ratio(g.revenue, g.orders),
        revenue_share=ratio(g.revenue, g.revenue.sum().over()),
        revenue_12m=g.revenue_12m,
        revenue_prev_12m=g.revenue_prev_12m,
        growth_12m=growth(g.revenue_12m, g.revenue_prev_12m),
    )


@declare(
    "penetration",
    label="Market penetration",
    domain="geography",
    grain="one row per country (or region) with registered customers",
    description="registered = customers signed up by the window's end; buyers = those with a "
    "completed order in the window; buyers per million inhabitants at country level (2023 "
    "population, World Bank).",
    columns=AREA + (
        Column("registered", "int64", "count", "Registered customers", "", True),
        Column("buyers", "int64", "count", "Buyers", "Customers with a completed order", True),
        Column("activation_rate", "float64", "ratio", "Activation rate", "Buyers / registered",
               True),
        Column("buyer_share", "float64", "ratio", "Share of buyers"),
        Column("population_millions", "float64", "number", "Population (millions)"),
        Column("buyers_per_million", "float64", "number", "Buyers per million inhabitants", "",
               True),
    ),
    params=(LEVEL,),
    sort=lambda t: [ibis.desc(t.buyers), *[t[k] for k in ("country", "region") if k in t.columns]],
)
def penetration(db: TableSource, f: Filters, *, level: str = "country") -> ir.Table:
    filters = f
    keys = _keys(level)
    c = customers(db, filters)
    if filters.end is not None:
        c = c.filter(*date_predicates(c.created_at, Filters(end=filters.end)))
    o = orders(db, filters)
    buyers = o.filter(is_completed(o)).select("customer_id").distinct()
    buyers = buyers.mutate(is_buyer=ibis.literal(1))
    j = c.left_join(buyers, c.customer_id == buyers.customer_id)
    j = j.select(*[c[k] for k in keys], is_buyer=buyers.is_buyer.fill_null(0))
    g = j.group_by(list(keys)).aggregate(
        registered=j.count().cast("int64"), buyers=j.is_buyer.sum().cast("int64")
    )
    if level == "country":
        pop = g.country.cases(*POPULATION_MILLIONS.items(), else_=ibis.null("float64"))
        per_million = ratio(g.buyers, pop)
    else:
        pop = per_million = ibis.null("float64")
    return g.select(
        *keys,
        registered=g.registered,
        buyers=g.buyers,
        activation_rate=ratio(g.buyers, g.registered),
        buyer_share=ratio(g.buyers, g.buyers.sum().over()),
        population_millions=pop,
        buyers_per_million=per_million,
    )
