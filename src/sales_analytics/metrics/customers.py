"""Customer metrics: the customer summary, RFM scores and named segments, cohorts, new vs returning.

RFM
---
Per customer with at least one completed order in the window: ``recency_days`` = days from the last
completed order's date to ``as_of`` (the day after the window or the data, so the latest buyers have
recency 1), ``frequency`` = completed orders, ``monetary`` = their total.

Scores are quintiles 1-5 (5 = best: most recent, most frequent, highest spend) computed from ranks
with ties kept together: ``score = 1 + floor(5 * rank / n)`` where ``rank`` is the 0-based *minimum*
rank (the number of customers with a strictly worse value) and ``n`` the number of customers scored.
Equal values always get equal scores, so a quintile can hold more or fewer than 20% of customers
(e.g. every one-order customer gets the same frequency score).

Named segments follow the R ``rfm`` package's ``rfm_segment`` rules (:data:`RFM_SEGMENT_RULES`),
evaluated in order, first match wins, ``Others`` when none matches.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import ibis
import ibis.expr.types as ir

from sales_analytics.metrics._base import (
    CANCELLED,
    NO_FILTERS,
    OTHER_SEGMENT,
    RETURNED,
    RFM_SEGMENT_RULES,
    SEGMENT_NAMES,
    Filters,
    TableSource,
    as_of_table,
    check_grain,
    count_where,
    customers,
    date_predicates,
    is_completed,
    materialized,
    money,
    orders,
    period,
    period_key,
    ratio,
)


def customer_summary(db: TableSource, filters: Filters = NO_FILTERS) -> ir.Table:
    """One row per (filtered) customer, like the seed's ``customer_summary`` view, over the window.

    Customers without orders in the window are included with zero counts. Revenue counts completed
    orders only. Money is float64 and ``avg_order_value`` is not rounded. Unfiltered, read from
    ``mv_customer_summary`` when the source has it (same rows and values).

    Returns
    -------
    ibis.Table
        ``customer_id``, ``first_name``, ``last_name``, ``email``, ``country``, ``region``,
        ``city``, ``created_at``, ``order_count``, ``cancelled_count``, ``returned_count``,
        ``total_spent``, ``avg_order_value``, ``first_order_at``, ``last_order_at``.
    """
    mv = materialized(db, "mv_customer_summary", filters)
    if mv is not None:
        # the view's rows and counts; its rounded avg_order_value is recomputed unrounded
        return mv.select(
            "customer_id", "first_name", "last_name", "email", "country", "region", "city",
            "created_at", "order_count", "cancelled_count", "returned_count",
            total_spent=money(mv.total_spent),
            avg_order_value=ratio(mv.total_spent, mv.order_count),
            first_order_at=mv.first_order_at,
            last_order_at=mv.last_order_at,
        ).order_by("customer_id")  # fmt: skip
    c = customers(db, filters)
    o = orders(db, filters)
    done = is_completed(o)
    by = o.group_by("customer_id").aggregate(
        order_count=count_where(done),
        cancelled_count=count_where(o.status == CANCELLED),
        returned_count=count_where(o.status == RETURNED),
        total_spent=money(o.total_amount.sum(where=done)),
        first_order_at=o.order_date.min(where=done),
        last_order_at=o.order_date.max(where=done),
    )
    j = c.left_join(by, c.customer_id == by.customer_id)
    return j.select(
        customer_id=c.customer_id,
        first_name=c.first_name,
        last_name=c.last_name,
        email=c.email,
        country=c.country,
        region=c.region,
        city=c.city,
        created_at=c.created_at,
        order_count=by.order_count.fill_null(0),
        cancelled_count=by.cancelled_count.fill_null(0),
        returned_count=by.returned_count.fill_null(0),
        total_spent=by.total_spent.fill_null(0.0),
        avg_order_value=ratio(by.total_spent, by.order_count),
        first_order_at=by.first_order_at,
        last_order_at=by.last_order_at,
    ).order_by("customer_id")


# ---------------------------------------------------------------------------------------------- RFM
def quintile(value: ir.Value, n: ir.IntegerValue, *, descending: bool = False) -> ir.IntegerValue:
    """1-5 from the 0-based minimum rank: ``1 + floor(5 * rank / n)`` (ties share a score)."""
    rank = ibis.rank().over(order_by=ibis.desc(value) if descending else value)
    return (1 + (rank * 5) // n).cast("int64")


def segment_case(r: ir.IntegerValue, f: ir.IntegerValue, m: ir.IntegerValue) -> ir.StringValue:
    """The named segment for scores (r, f, m): the first rule of :data:`RFM_SEGMENT_RULES` that holds."""
    branches = [
        (r.between(rl, ru) & f.between(fl, fu) & m.between(ml, mu), name)
        for name, ((rl, ru), (fl, fu), (ml, mu)) in RFM_SEGMENT_RULES.items()
    ]
    return ibis.cases(*branches, else_=OTHER_SEGMENT)


def _rfm_scored(db: TableSource, filters: Filters, as_of: date | None) -> ir.Table:
    """RFM values, scores and segments for the date/country population (segments not applied)."""
    population = replace(filters, segments=())
    o = orders(db, population)
    done = o.filter(is_completed(o))
    per = done.group_by("customer_id").aggregate(
        last_order_at=done.order_date.max(),
        frequency=done.count().cast("int64"),
        monetary_dec=done.total_amount.sum(),
    )
    ref = as_of_table(db, population, as_of)
    j = per.cross_join(ref)
    base = j.select(
        "customer_id",
        "as_of",
        "last_order_at",
        recency_days=j.as_of.delta(j.last_order_at.date(), unit="day").cast("int64"),
        frequency=j.frequency,
        monetary_dec=j.monetary_dec,
    )
    n = base.customer_id.count().over()
    scored = base.mutate(
        r_score=quintile(base.recency_days, n, descending=True),
        f_score=quintile(base.frequency, n),
        m_score=quintile(base.monetary_dec, n),
    )
    return scored.select(
        "customer_id",
        "as_of",
        "last_order_at",
        "recency_days",
        "frequency",
        monetary=scored.monetary_dec.cast("float64"),
        r_score=scored.r_score,
        f_score=scored.f_score,
        m_score=scored.m_score,
        rfm_score=scored.r_score * 100 + scored.f_score * 10 + scored.m_score,
        segment=segment_case(scored.r_score, scored.f_score, scored.m_score),
    )


def rfm_segments(
    db: TableSource, as_of: date | None = None, filters: Filters = NO_FILTERS
) -> ir.Table:
    """RFM values, quintile scores and the R ``rfm`` named segment per customer.

    Parameters
    ----------
    as_of
        Reference day for recency; default the day after ``filters.end``, else the day after the
        last order in the data.
    filters
        Dates and countries choose the customers scored (quintiles are relative to them);
        ``segments`` keeps the rows whose computed segment is listed.

    Returns
    -------
    ibis.Table
        ``customer_id``, ``as_of``, ``last_order_at``, ``recency_days``, ``frequency``,
        ``monetary``, ``r_score``, ``f_score``, ``m_score``, ``rfm_score`` (e.g. 545), ``segment``;
        ordered by ``customer_id``.
    """
    t = _rfm_scored(db, filters, as_of)
    if filters.segments:
        t = t.filter(t.segment.isin(filters.segments))
    return t.order_by("customer_id")


def rfm(db: TableSource, as_of: date | None = None, filters: Filters = NO_FILTERS) -> ir.Table:
    """RFM values and quintile scores per customer (:func:`rfm_segments` without ``segment``)."""
    return rfm_segments(db, as_of, filters).drop("segment")


def segment_members(db: TableSource, segments: tuple[str, ...] | list[str]) -> ir.Table:
    """``customer_id`` of the customers whose segment over all customers and all history is listed.

    This is what ``Filters.segments`` means for every metric other than the RFM ones.
    """
    t = _rfm_scored(db, NO_FILTERS, None)
    return t.filter(t.segment.isin(tuple(segments))).select("customer_id")


def segment_summary(
    db: TableSource, as_of: date | None = None, filters: Filters = NO_FILTERS
) -> ir.Table:
    """Customers, orders, revenue and averages per named segment (like ``rfm_segment_summary``).

    Returns
    -------
    ibis.Table
        ``segment``, ``customers``, ``orders``, ``revenue``, ``aov``, ``avg_recency_days``,
        ``avg_frequency``, ``avg_monetary``, ``customer_share``, ``revenue_share``; segments in
        rule order, ``Others`` last; segments without customers are absent.
    """
    t = rfm_segments(db, as_of, filters)
    g = t.group_by("segment").aggregate(
        customers=t.count().cast("int64"),
        orders=t.frequency.sum().cast("int64"),
        revenue=t.monetary.sum(),
        avg_recency_days=t.recency_days.mean(),
        avg_frequency=t.frequency.mean(),
        avg_monetary=t.monetary.mean(),
    )
    rank = g.segment.cases(*[(s, i) for i, s in enumerate(SEGMENT_NAMES)], else_=len(SEGMENT_NAMES))
    return (
        g.select(
            "segment",
            "customers",
            "orders",
            "revenue",
            aov=ratio(g.revenue, g.orders),
            avg_recency_days=g.avg_recency_days,
            avg_frequency=g.avg_frequency,
            avg_monetary=g.avg_monetary,
            customer_share=ratio(g.customers, g.customers.sum().over()),
            revenue_share=ratio(g.revenue, g.revenue.sum().over()),
            _rank=rank,
        )
        .order_by("_rank")
        .drop("_rank")
    )


# ------------------------------------------------------------------------------- cohorts and more
def first_orders(db: TableSource, filters: Filters = NO_FILTERS) -> ir.Table:
    """Each (filtered) customer's first completed order ever: ``customer_id``, ``first_order_at``.

    Dates in ``filters`` do not apply: acquisition is the first order over the whole history.
    """
    o = orders(db, filters, dates=False)
    done = o.filter(is_completed(o))
    return done.group_by("customer_id").aggregate(first_order_at=done.order_date.min())


def cohorts(db: TableSource, filters: Filters = NO_FILTERS) -> ir.Table:
    """Monthly acquisition cohorts: retention and revenue by months since the first order.

    A customer's cohort is the month of their first completed order ever; cohorts acquired in the
    window are shown, with their completed orders in the window.

    Returns
    -------
    ibis.Table
        ``cohort`` (first day of the month), ``months_since`` (0 = acquisition month),
        ``cohort_size``, ``active_customers``, ``retention`` (active / size), ``orders``,
        ``revenue``, ``revenue_per_customer`` (revenue / size), ``cumulative_revenue_per_customer``;
        only (cohort, month) pairs with activity; ordered by cohort, months_since.
    """
    firsts = first_orders(db, filters)
    firsts = firsts.filter(*date_predicates(firsts.first_order_at, filters)) if (
        filters.start or filters.end
    ) else firsts
    firsts = firsts.mutate(cohort=period(firsts.first_order_at, "month"))
    sizes = firsts.group_by("cohort").aggregate(cohort_size=firsts.count().cast("int64"))
    o = orders(db, filters)
    act = o.filter(is_completed(o)).select("customer_id", "order_date", "total_amount")
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
        "cohort",
        "months_since",
        "cohort_size",
        "active_customers",
        retention=ratio(k.active_customers, k.cohort_size),
        orders=k.orders,
        revenue=k.revenue,
        revenue_per_customer=ratio(k.revenue, k.cohort_size),
        cumulative_revenue_per_customer=ratio(cum, k.cohort_size),
    ).order_by(["cohort", "months_since"])


def new_vs_returning(
    db: TableSource, grain: str = "month", filters: Filters = NO_FILTERS
) -> ir.Table:
    """Per period: customers, orders and revenue from new vs returning customers.

    A customer is *new* in the period (day/week/month) of their first completed order ever and
    *returning* in every later period. Completed orders only.

    Returns
    -------
    ibis.Table
        ``period``, ``new_customers``, ``returning_customers``, ``new_orders``,
        ``returning_orders``, ``new_revenue``, ``returning_revenue``, ``returning_revenue_share``.
    """
    check_grain(grain)
    firsts = first_orders(db, filters)
    o = orders(db, filters)
    done = o.filter(is_completed(o))
    j = done.join(firsts, "customer_id")
    j = j.mutate(
        period=period(j.order_date, grain),
        is_new=period(j.order_date, grain) == period(j.first_order_at, grain),
    )
    g = j.group_by("period").aggregate(
        new_customers=j.customer_id.nunique(where=j.is_new).cast("int64"),
        returning_customers=j.customer_id.nunique(where=~j.is_new).cast("int64"),
        new_orders=count_where(j.is_new),
        returning_orders=count_where(~j.is_new),
        new_revenue=money(j.total_amount.sum(where=j.is_new)),
        returning_revenue=money(j.total_amount.sum(where=~j.is_new)),
    )
    return g.mutate(
        returning_revenue_share=ratio(g.returning_revenue, g.new_revenue + g.returning_revenue)
    ).order_by("period")
