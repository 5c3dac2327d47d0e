"""Customer metrics: the customer summary, RFM scores and segments, cohorts, new vs returning.

RFM (:func:`sales_analytics.metrics.rules.rfm_as_of`): per customer with a completed order before
the as-of day (the day after the window's end, or after the last order): ``recency_days`` = days
from the last completed order's date to the as-of day, ``frequency`` = completed orders,
``monetary`` = their total, all over the customer's whole history up to that day. Scores are
quintiles 1-5 over all customers (5 = best) from ranks with ties kept together:
``score = 1 + floor(5 * rank / n)`` with ``rank`` the 0-based minimum rank. Named segments follow
the R ``rfm`` package's rules in order, first match wins, ``Others`` when none matches. A
customer has one segment as of a day, whatever the country, segment or start filter.
"""

from __future__ import annotations

import ibis.expr.types as ir

from sales_analytics.metrics.columns import COLUMNS, cols
from sales_analytics.metrics.filters import SEGMENT_NAMES, Filters
from sales_analytics.metrics.rules import (
    CANCELLED,
    RETURNED,
    check_grain,
    count_where,
    customer_totals_live,
    customers,
    date_predicates,
    first_orders,
    first_orders_live,
    is_completed,
    money,
    net_amount,
    orders,
    period,
    period_key,
    ratio,
    rfm_as_of,
    without_segments,
)
from sales_analytics.metrics.sales import grain_param
from sales_analytics.metrics.source import TableSource
from sales_analytics.metrics.spec import Column, declare

WINDOW = "in the window"


@declare(
    "customer_summary",
    label="Customers",
    domain="customers",
    grain="one row per customer of the filter (customers without orders in the window included, "
    "with zero counts)",
    description="Each customer's completed, cancelled and returned orders and spend in the window.",
    columns=cols(
        "customer_id", "first_name", "last_name", "email", "country", "region", "city",
        "created_at", "order_count",
    ) + (
        Column("cancelled_count", "int64", "count", "Cancelled orders", "", False),
        Column("returned_count", "int64", "count", "Returned orders", "", False),
        Column("total_spent", "float64", "currency", "Spent", "Total of completed orders", True),
        COLUMNS["aov"].but(name="avg_order_value"),
        *cols("first_order_at", "last_order_at"),
    ),  # fmt: skip
    sort=("customer_id",),
    materialize=True,
    key=("customer_id",),
    indexed=("country", "last_order_at"),
)
def customer_summary(db: TableSource, f: Filters) -> ir.Table:
    c = customers(db, f)
    o = orders(db, f)
    done = is_completed(o)
    by = o.group_by("customer_id").aggregate(
        order_count=count_where(done),
        cancelled_count=count_where(o.status == CANCELLED),
        returned_count=count_where(o.status == RETURNED),
        total_dec=net_amount(o).sum(where=done),
        first_order_at=o.order_date.min(where=done),
        last_order_at=o.order_date.max(where=done),
    )
    j = c.left_join(by, c.customer_id == by.customer_id)
    return j.select(
        customer_id=c.customer_id, first_name=c.first_name, last_name=c.last_name,
        email=c.email, country=c.country, region=c.region, city=c.city, created_at=c.created_at,
        order_count=by.order_count.fill_null(0),
        cancelled_count=by.cancelled_count.fill_null(0),
        returned_count=by.returned_count.fill_null(0),
        total_spent=money(by.total_dec),
        avg_order_value=ratio(by.total_dec, by.order_count),
        first_order_at=by.first_order_at,
        last_order_at=by.last_order_at,
    )  # fmt: skip


@declare(
    "customer_first_orders",
    label="First completed order per customer",
    domain="internal",
    grain="one row per customer with a completed order",
    description="Each customer's first completed order ever: new vs returning customers in the "
    "KPIs, cohorts and new_vs_returning read it (without country or segment filters).",
    columns=cols("customer_id", "first_order_at"),
    sort=("customer_id",),
    materialize=True,
    key=("customer_id",),
)
def customer_first_orders(db: TableSource, f: Filters) -> ir.Table:
    t = first_orders_live(db, f)
    return t.mutate(customer_id=t.customer_id.cast("int64"))  # (a nullable int64, as declared)


@declare(
    "customer_totals",
    label="Completed orders per customer",
    domain="internal",
    grain="one row per customer with a completed order up to the window's end",
    description="Last completed order, completed orders and their total per customer: the RFM "
    "values as of the window's end read it when the end is open or after the last order.",
    columns=cols("customer_id", "last_order_at", "frequency")
    + (Column("monetary_dec", "decimal", "currency", "Spent (all time)", "", True),),
    sort=("customer_id",),
    materialize=True,
    key=("customer_id",),
)
def customer_totals(db: TableSource, f: Filters) -> ir.Table:
    t = customer_totals_live(db, f)
    return t.mutate(customer_id=t.customer_id.cast("int64"))  # (a nullable int64, as declared)


RFM_COLUMNS = cols(
    "customer_id", "as_of", "last_order_at", "recency_days", "frequency", "monetary", "r_score",
    "f_score", "m_score", "rfm_score", "segment",
)  # fmt: skip


def scored_customers(db: TableSource, f: Filters) -> ir.Table:
    """:func:`rfm_as_of` for the customers of ``f`` (its countries and segments)."""
    t = rfm_as_of(db, f)
    preds = [t.segment.isin(f.segments)] if f.segments else []
    if f.countries:
        preds.append(t.customer_id.isin(customers(db, without_segments(f)).customer_id))
    return t.filter(*preds) if preds else t


@declare(
    "rfm_segments",
    label="RFM scores",
    domain="customers",
    grain="one row per customer of the filter with a completed order before the as-of day",
    description="Recency, frequency and monetary value as of the window's end, their quintile "
    "scores over all customers and the named segment.",
    columns=RFM_COLUMNS,
    sort=("customer_id",),
)
def rfm_segments(db: TableSource, f: Filters) -> ir.Table:
    return scored_customers(db, f)


def _window_spend(db: TableSource, f: Filters) -> ir.Table:
    o = orders(db, f)
    o = o.filter(is_completed(o))
    return o.group_by("customer_id").aggregate(
        w_orders=o.count().cast("int64"), w_revenue=net_amount(o).sum()
    )


def segment_order(t: ir.Table) -> list:
    """Segments in rule order, ``Others`` last."""
    return [t.segment.cases(*[(s, i) for i, s in enumerate(SEGMENT_NAMES)], else_=len(SEGMENT_NAMES))]


@declare(
    "segment_summary",
    label="RFM segments",
    domain="customers",
    grain="one row per RFM segment with customers as of the window's end",
    description="The customer base per segment as of the window's end, and what it bought in "
    "the window: active customers, orders and revenue add up to the KPIs of the same filters.",
    columns=(
        COLUMNS["segment"],
        COLUMNS["customers"].but(description="Customers in the segment as of the window's end"),
        Column("customer_share", "float64", "ratio", "Share of customers"),
        Column("active_customers", "int64", "count", "Active customers",
               f"Customers of the segment with a completed order {WINDOW}", True),
        COLUMNS["orders"], COLUMNS["revenue"], COLUMNS["aov"], COLUMNS["revenue_share"],
        Column("avg_recency_days", "float64", "days", "Average days since last order", "", False),
        Column("avg_frequency", "float64", "number", "Average orders (all time)", "", True),
        Column("avg_monetary", "float64", "currency", "Average spent (all time)", "", True),
    ),
    sort=segment_order,
)
def segment_summary(db: TableSource, f: Filters) -> ir.Table:
    r = scored_customers(db, f)
    w = _window_spend(db, f)
    j = r.left_join(w, r.customer_id == w.customer_id)
    g = j.group_by("segment").aggregate(
        customers=j.count().cast("int64"),
        active_customers=count_where(j.w_orders.notnull()),
        orders=j.w_orders.sum().fill_null(0).cast("int64"),
        revenue_dec=j.w_revenue.sum(),
        avg_recency_days=j.recency_days.mean(),
        avg_frequency=j.frequency.mean(),
        avg_monetary=j.monetary.mean(),
    )
    return g.select(
        "segment", "customers",
        customer_share=ratio(g.customers, g.customers.sum().over()),
        active_customers=g.active_customers,
        orders=g.orders,
        revenue=money(g.revenue_dec),
        aov=ratio(g.revenue_dec, g.orders),
        revenue_share=ratio(g.revenue_dec.fill_null(0), g.revenue_dec.sum().over()),
        avg_recency_days=g.avg_recency_days,
        avg_frequency=g.avg_frequency,
        avg_monetary=g.avg_monetary,
    )  # fmt: skip


@declare(
    "cohorts",
    label="Monthly cohorts",
    domain="customers",
    grain="one row per (acquisition month, months since) with activity",
    description="A customer's cohort is the month of their first completed order ever; cohorts "
    "acquired in the window are shown with their completed orders in the window.",
    columns=(
        Column("cohort", "date", "date", "Cohort", "Month of the first completed order"),
        Column("months_since", "int64", "count", "Months since first order", "0 = that month"),
        Column("cohort_size", "int64", "count", "Cohort size", "Customers acquired that month"),
        Column("active_customers", "int64", "count", "Active customers", "", True),
        Column("retention", "float64", "ratio", "Retention", "Active customers / cohort size",
               True),
        COLUMNS["orders"], COLUMNS["revenue"],
        COLUMNS["revenue_per_customer"].but(description="Revenue / cohort size"),
        Column("cumulative_revenue_per_customer", "float64", "currency",
               "Cumulative revenue per customer", "Revenue so far / cohort size", True),
    ),
    sort=("cohort", "months_since"),
)
def cohorts(db: TableSource, f: Filters) -> ir.Table:
    firsts = first_orders(db, f)
    window = date_predicates(firsts.first_order_at, f)
    firsts = firsts.filter(*window) if window else firsts
    firsts = firsts.mutate(cohort=period(firsts.first_order_at, "month"))
    sizes = firsts.group_by("cohort").aggregate(cohort_size=firsts.count().cast("int64"))
    o = orders(db, f)
    o = o.filter(is_completed(o))
    act = o.select("customer_id", "order_date", total_amount=net_amount(o))
    j = act.join(firsts.select("customer_id", "cohort"), "customer_id")
    j = j.mutate(
        months_since=(
            period_key(period(j.order_date, "month"), "month") - period_key(j.cohort, "month")
        ).cast("int64")
    )
    g = j.group_by(["cohort", "months_since"]).aggregate(
        active_customers=j.customer_id.nunique().cast("int64"),
        orders=j.count().cast("int64"),
        revenue=money(j.total_amount.sum()),
    )
    k = g.join(sizes, "cohort")
    cum = k.revenue.cumsum(group_by=k.cohort, order_by=k.months_since)
    return k.select(
        "cohort", "months_since", "cohort_size", "active_customers",
        retention=ratio(k.active_customers, k.cohort_size),
        orders=k.orders, revenue=k.revenue,
        revenue_per_customer=ratio(k.revenue, k.cohort_size),
        cumulative_revenue_per_customer=ratio(cum, k.cohort_size),
    )  # fmt: skip


@declare(
    "new_vs_returning",
    label="New vs returning customers",
    domain="customers",
    grain="one row per period with completed orders",
    description="A customer is new in the period of their first completed order ever and "
    "returning in every later period.",
    columns=(
        COLUMNS["period"],
        COLUMNS["new_customers"],
        COLUMNS["returning_customers"],
        Column("new_orders", "int64", "count", "Orders of new customers", "", True),
        Column("returning_orders", "int64", "count", "Orders of returning customers", "", True),
        Column("new_revenue", "float64", "currency", "Revenue from new customers", "", True),
        Column("returning_revenue", "float64", "currency", "Revenue from returning customers",
               "", True),
        Column("returning_revenue_share", "float64", "ratio", "Returning customers' share", "",
               True),
    ),
    params=(grain_param("month"),),
    sort=("period",),
)
def new_vs_returning(db: TableSource, f: Filters, *, grain: str = "month") -> ir.Table:
    check_grain(grain)
    o = orders(db, f)
    j = o.filter(is_completed(o)).join(first_orders(db, f), "customer_id")
    j = j.mutate(
        period=period(j.order_date, grain),
        is_new=period(j.order_date, grain) == period(j.first_order_at, grain),
    )
    g = j.group_by("period").aggregate(
        new_customers=j.customer_id.nunique(where=j.is_new).cast("int64"),
        returning_customers=j.customer_id.nunique(where=~j.is_new).cast("int64"),
        new_orders=count_where(j.is_new),
        returning_orders=count_where(~j.is_new),
        new_revenue=money(net_amount(j).sum(where=j.is_new)),
        returning_revenue=money(net_amount(j).sum(where=~j.is_new)),
    )
    return g.mutate(
        returning_revenue_share=ratio(g.returning_revenue, g.new_revenue + g.returning_revenue)
    )

