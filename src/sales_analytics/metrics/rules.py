"""The business rules, each written once, and the filtered base tables every metric starts from.

* **What counts as a sale.** ``completed`` orders are the shop's **net** sales (the headline
  ``revenue``/``orders``/``aov``); ``gross`` sales are the orders that were not cancelled
  (completed + returned); returned orders are refunded in full, cancelled orders were never
  charged, so ``net revenue = gross revenue - returned revenue``. See :func:`order_measures`.
* **New vs returning.** A customer is *new* in the period holding their first completed order
  ever, and *returning* afterwards (:func:`first_orders`).
* **A customer's segment as of a date.** RFM over every customer's whole history up to the as-of
  day (the day after the window's end, or after the last order), quintiles over all customers, the
  named segments of the rules in force (:mod:`.rfm_rules`: our default, every segment reachable,
  or a YAML file) (:func:`rfm_as_of`). A segment filter means this segment, everywhere.
* **The as-of day** (:func:`as_of_table`): the day after ``filters.end``, else after the last order.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import ibis
import ibis.expr.types as ir

from sales_analytics.metrics.filters import (
    NO_FILTERS,
    OTHER_SEGMENT,
    Filters,
)
from sales_analytics.metrics.rfm_rules import active_rules
from sales_analytics.metrics.source import TableSource, table

COMPLETED = "completed"
CANCELLED = "cancelled"
RETURNED = "returned"

#: Truncation unit per time grain.
GRAINS: dict[str, str] = {"day": "D", "week": "W", "month": "M"}


def check_grain(grain: str) -> str:
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {', '.join(GRAINS)}, not {grain!r}")
    return grain


# ------------------------------------------------------------------------------------ base tables
def date_predicates(ts: ir.TimestampValue, f: Filters) -> list[ir.BooleanValue]:
    """``start <= ts < end + 1 day`` as ibis predicates (empty when the window is open)."""
    preds = []
    if f.start is not None:
        preds.append(ts >= ibis.timestamp(datetime.combine(f.start, datetime.min.time())))
    if f.end is not None:
        end_excl = datetime.combine(f.end + timedelta(days=1), datetime.min.time())
        preds.append(ts < ibis.timestamp(end_excl))
    return preds


def customers(db: TableSource, f: Filters = NO_FILTERS) -> ir.Table:
    """Customers in the filtered countries and segments (dates choose only the segments' as-of)."""
    c = table(db, "customers")
    preds = []
    if f.countries:
        preds.append(c.country.isin(f.countries))
    if f.segments:
        preds.append(c.customer_id.isin(segment_members(db, f).customer_id))
    return c.filter(*preds) if preds else c


def orders(db: TableSource, f: Filters = NO_FILTERS, *, dates: bool = True) -> ir.Table:
    """Orders of the filtered customers, in the filter window unless ``dates=False``."""
    o = table(db, "orders")
    preds = date_predicates(o.order_date, f) if dates else []
    if f.countries or f.segments:
        preds.append(o.customer_id.isin(customers(db, f).customer_id))
    return o.filter(*preds) if preds else o


def items(db: TableSource, f: Filters = NO_FILTERS, *, dates: bool = True) -> ir.Table:
    """Order items joined to their (filtered) order: adds customer_id, order_date and status."""
    o = orders(db, f, dates=dates).select("order_id", "customer_id", "order_date", "status")
    return table(db, "order_items").join(o, "order_id")


def as_of_table(db: TableSource, f: Filters = NO_FILTERS) -> ir.Table:
    """A one-row table with column ``as_of`` (a date): the day after ``f.end``, else the day after
    the last order in the data (any status, all customers), so results never depend on today."""
    o = table(db, "orders")
    if f.end is not None:
        # a reduction keeps it to one row; the constant replaces it
        day = f.end + timedelta(days=1)
        return o.aggregate(n=o.count()).select(as_of=ibis.literal(day, type="date"))
    return o.aggregate(as_of=o.order_date.max().date() + ibis.interval(days=1))


# ------------------------------------------------------------------------------------ sales rule
def is_completed(t: ir.Table) -> ir.BooleanValue:
    return t.status == COMPLETED


def order_measures(o: ir.Table) -> dict[str, ir.Value]:
    """Net and gross sales of the orders ``o`` as aggregations (the one revenue rule)."""
    done = is_completed(o)
    gross = o.status != CANCELLED
    returned = o.status == RETURNED
    return {
        "orders": count_where(done),
        "revenue": money(o.total_amount.sum(where=done)),
        "customers": o.customer_id.nunique(where=done).cast("int64"),
        "gross_orders": count_where(gross),
        "gross_revenue": money(o.total_amount.sum(where=gross)),
        "cancelled_orders": count_where(o.status == CANCELLED),
        "returned_orders": count_where(returned),
        "returned_revenue": money(o.total_amount.sum(where=returned)),
    }


def first_orders(db: TableSource, f: Filters = NO_FILTERS) -> ir.Table:
    """Each (filtered) customer's first completed order ever: ``customer_id``, ``first_order_at``.

    Dates in ``f`` do not apply: acquisition is the first order over the whole history.
    """
    o = orders(db, f, dates=False)
    done = o.filter(is_completed(o))
    return done.group_by("customer_id").aggregate(first_order_at=done.order_date.min())


# ------------------------------------------------------------------------------------ RFM rule
def quintile(value: ir.Value, n: ir.IntegerValue, *, descending: bool = False) -> ir.IntegerValue:
    """1-5 from the 0-based minimum rank: ``1 + floor(5 * rank / n)`` (ties share a score)."""
    rank = ibis.rank().over(order_by=ibis.desc(value) if descending else value)
    return (1 + (rank * 5) // n).cast("int64")


def segment_case(r: ir.IntegerValue, f: ir.IntegerValue, m: ir.IntegerValue) -> ir.StringValue:
    """The named segment for scores (r, f, m): the first of the rules in force
    (:func:`~sales_analytics.metrics.rfm_rules.active_rules`) that holds, else ``Others``."""
    branches = [
        (r.between(rl, ru) & f.between(fl, fu) & m.between(ml, mu), name)
        for name, ((rl, ru), (fl, fu), (ml, mu)) in active_rules().items()
    ]
    return ibis.cases(*branches, else_=OTHER_SEGMENT)


def rfm_as_of(db: TableSource, f: Filters = NO_FILTERS) -> ir.Table:
    """RFM values, scores and segment of every customer with a completed order before the as-of
    day of ``f`` (its end; countries, segments and start do not apply: one truth per customer).

    Scores are quintiles over all those customers (5 = best); equal values share a score.
    """
    population = Filters(end=f.end)
    o = orders(db, population)
    done = o.filter(is_completed(o))
    per = done.group_by("customer_id").aggregate(
        last_order_at=done.order_date.max(),
        frequency=done.count().cast("int64"),
        monetary_dec=done.total_amount.sum(),
    )
    j = per.cross_join(as_of_table(db, population))
    base = j.select(
        "customer_id",
        "as_of",
        "last_order_at",
        recency_days=j.as_of.delta(j.last_order_at.date(), unit="day").cast("int64"),
        frequency=j.frequency,
        monetary_dec=j.monetary_dec,
    )
    n = base.customer_id.count().over()
    s = base.mutate(
        r_score=quintile(base.recency_days, n, descending=True),
        f_score=quintile(base.frequency, n),
        m_score=quintile(base.monetary_dec, n),
    )
    return s.select(
        "customer_id", "as_of", "last_order_at", "recency_days", "frequency",
        monetary=s.monetary_dec.cast("float64"),
        r_score=s.r_score, f_score=s.f_score, m_score=s.m_score,
        rfm_score=s.r_score * 100 + s.f_score * 10 + s.m_score,
        segment=segment_case(s.r_score, s.f_score, s.m_score),
    )  # fmt: skip


def segment_members(db: TableSource, f: Filters) -> ir.Table:
    """``customer_id`` of the customers whose segment as of ``f``'s end is in ``f.segments``."""
    t = rfm_as_of(db, f)
    return t.filter(t.segment.isin(f.segments)).select("customer_id")


def without_segments(f: Filters) -> Filters:
    return replace(f, segments=())


# ------------------------------------------------------------------------------------ arithmetic
def period(ts: ir.TimestampValue, grain: str) -> ir.DateValue:
    """The first day of the day/week (Monday)/month holding ``ts``."""
    return ts.truncate(GRAINS[check_grain(grain)]).cast("date")


def period_key(p: ir.DateValue, grain: str) -> ir.IntegerValue:
    """An integer that steps by one per month (month grain) or per day (day and week grains)."""
    if grain == "month":
        return p.year() * 12 + p.month() - 1
    return p.epoch_days()


def money(value: ir.NumericValue) -> ir.FloatingValue:
    """A DECIMAL money sum as float64, 0 when there was nothing to sum."""
    return value.cast("float64").fill_null(0.0)


def ratio(num: ir.NumericValue, den: ir.NumericValue) -> ir.FloatingValue:
    """``num / den`` as float64; NULL when ``den`` is 0 or NULL."""
    den_f = den.cast("float64")
    return ibis.ifelse(den_f == 0, ibis.null("float64"), num.cast("float64") / den_f)


def growth(current: ir.NumericValue, previous: ir.NumericValue) -> ir.FloatingValue:
    """``(current - previous) / previous``; NULL without a (non-zero) previous value."""
    return ratio(current.cast("float64") - previous.cast("float64"), previous)


def count_where(cond: ir.BooleanValue) -> ir.IntegerValue:
    return ibis.ifelse(cond, 1, 0).sum().fill_null(0).cast("int64")
