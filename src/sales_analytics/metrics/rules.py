"""The business rules, each written once, and the filtered base tables every metric starts from.

* **What counts as a sale.** The headline ``revenue`` is **net**: over the orders not cancelled,
  ``total_amount - refunded_amount`` (merchandise after discounts, less the product value refunded;
  an order ``returned`` without a recorded refund counts as refunded in full), booked on the order
  date; ``orders`` counts the ``completed`` ones. ``gross`` sales are the orders not cancelled at
  their ``total_amount``, so ``net revenue = gross revenue - returned revenue``. See
  :func:`order_measures` and :func:`net_amount`.
* **Shopify's sales report** (:func:`sales_lines`, metric ``sales_report``): gross sales,
  discounts, returns, net sales, shipping, taxes, total sales; returns on the refund date (default)
  or on the order date; a cancelled order never charged (no refund) is left out ("voided"), one that
  was charged is a sale on its date and its refund a return. Definitions and sources: docs/rules.md.
* **Fiscal periods** (:func:`period`): quarters and years counted from the shop's
  ``fiscal_year_start_month``, named by their first day.
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
from datetime import date, datetime, timedelta

import ibis
import ibis.expr.types as ir
import pandas as pd

from sales_analytics.metrics.filters import (
    NO_FILTERS,
    OTHER_SEGMENT,
    Filters,
)
from sales_analytics.metrics.rfm_rules import active_rules
from sales_analytics.metrics.source import TableSource, materialized_table, table

COMPLETED = "completed"
CANCELLED = "cancelled"
RETURNED = "returned"

#: Truncation unit per time grain.
GRAINS: dict[str, str] = {"day": "D", "week": "W", "month": "M"}
#: Grains of months counted from a year's first month: months per period (calendar quarters and
#: years start in January, fiscal ones in the shop's ``fiscal_year_start_month``).
MONTH_GRAINS: dict[str, int] = {"quarter": 3, "year": 12, "fiscal_quarter": 3, "fiscal_year": 12}


def check_grain(grain: str, *, months: bool = False) -> str:
    valid = [*GRAINS, *MONTH_GRAINS] if months else list(GRAINS)
    if grain not in valid:
        raise ValueError(f"grain must be one of {', '.join(valid)}, not {grain!r}")
    return grain


def fiscal_start(db: TableSource) -> int:
    """The month (1-12) the shop's fiscal year starts in: the database's setting, else
    ``SA_FISCAL_YEAR_START`` (a source without settings, such as a test adapter)."""
    settings = getattr(db, "shop_settings", None)
    if settings is not None:
        return int(settings().fiscal_year_start_month)
    from sales_analytics.config import get_settings

    return get_settings().fiscal_year_start


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


def refunded(o: ir.Table) -> ir.NumericValue:
    """The product value refunded on each order: ``refunded_amount``, or the whole
    ``total_amount`` for an order ``returned`` without a recorded refund (sources that give only a
    status)."""
    implied = (o.status == RETURNED) & (o.refunded_amount == 0)
    return ibis.ifelse(implied, o.total_amount, o.refunded_amount)


def net_amount(o: ir.Table) -> ir.NumericValue:
    """Each order's net sales: ``total_amount`` (after discounts, before shipping and tax) less
    the product value refunded (:func:`refunded`)."""
    return o.total_amount - refunded(o)


def order_measures(o: ir.Table) -> dict[str, ir.Value]:
    """Net and gross sales of the orders ``o`` as aggregations (the one revenue rule)."""
    done = is_completed(o)
    gross = o.status != CANCELLED
    returned = o.status == RETURNED
    return {
        "orders": count_where(done),
        "revenue": money(net_amount(o).sum(where=gross)),
        "customers": o.customer_id.nunique(where=done).cast("int64"),
        "gross_orders": count_where(gross),
        "gross_revenue": money(o.total_amount.sum(where=gross)),
        "cancelled_orders": count_where(o.status == CANCELLED),
        "returned_orders": count_where(returned),
        "returned_revenue": money(refunded(o).sum(where=gross)),
    }


# ------------------------------------------------------------------------------------ sales report
#: Where a return is booked: on its refund's date (Shopify's default) or on its order's date.
ATTRIBUTIONS: tuple[str, ...] = ("refund_date", "order_date")
#: The sales report's money columns, each a sum of :func:`sales_lines`.
REPORT_MONEY: tuple[str, ...] = ("gross_sales", "discounts", "returns", "shipping", "taxes")


def is_voided(o: ir.Table) -> ir.BooleanValue:
    """A cancelled order that was never charged (nothing refunded): not in the sales report."""
    return (o.status == CANCELLED) & (o.refunded_amount == 0)


def sales_lines(
    db: TableSource, f: Filters = NO_FILTERS, *, attribution: str = "refund_date"
) -> ir.Table:
    """Shopify's sales report as lines ``at, orders, gross_sales, discounts, returns, shipping,
    taxes`` (DECIMAL): one sale per order on its order date (gross = ``total_amount +
    discount_amount``, i.e. quantity x unit price; shipping and taxes charged) and one return per
    refund (product value, shipping and taxes refunded, as negative shipping and taxes) at its
    ``refunded_at`` (``attribution="refund_date"``) or its order's date (``"order_date"``). An order
    ``returned`` without a recorded refund is refunded in full on its order date. ``f``'s window
    applies to each line's date."""
    if attribution not in ATTRIBUTIONS:
        raise ValueError(f"attribution must be one of {', '.join(ATTRIBUTIONS)}, not {attribution!r}")
    zero = ibis.literal(0, type="decimal(12, 2)")
    o = orders(db, f, dates=False)
    o = o.filter(~is_voided(o))
    sales = _line(
        o, o.order_date, 1, gross_sales=o.total_amount + o.discount_amount,
        discounts=o.discount_amount, returns=zero, shipping=o.shipping_amount, taxes=o.tax_amount,
    )  # fmt: skip
    r = table(db, "refunds").join(o.select("order_id", "order_date"), "order_id")
    recorded = _line(
        r, r.refunded_at if attribution == "refund_date" else r.order_date, 0,
        gross_sales=zero, discounts=zero, returns=r.amount, shipping=-r.shipping_amount,
        taxes=-r.tax_amount,
    )  # fmt: skip
    whole = o.filter((o.status == RETURNED) & (o.refunded_amount == 0))
    implied = _line(
        whole, whole.order_date, 0, gross_sales=zero, discounts=zero, returns=whole.total_amount,
        shipping=zero, taxes=zero,
    )  # fmt: skip
    lines = ibis.union(sales, recorded, implied)
    preds = date_predicates(lines.at, f)
    return lines.filter(*preds) if preds else lines


def _line(t: ir.Table, at: ir.TimestampValue, orders: int, **amounts: ir.Value) -> ir.Table:
    """One kind of sales-report line, in the types every kind shares (for the union)."""
    return t.select(
        at=at.cast("timestamp"), orders=ibis.literal(orders, type="int64"),
        **{k: v.cast("decimal(14, 2)") for k, v in amounts.items()},
    )  # fmt: skip


def report_measures(t: ir.Table) -> dict[str, ir.Value]:
    """The sales report's columns over lines of :func:`sales_lines` (net = gross - discounts -
    returns; total = net + shipping + taxes)."""
    sums = {c: t[c].sum() for c in REPORT_MONEY}
    net = sums["gross_sales"] - sums["discounts"] - sums["returns"]
    return {
        "orders": t.orders.sum().fill_null(0).cast("int64"),
        **{c: money(v) for c, v in sums.items()},
        "net_sales": money(net),
        "total_sales": money(net + sums["shipping"] + sums["taxes"]),
    }


def line_value(it: ir.Table) -> ir.NumericValue:
    """What an order line sold for (decimal): units x unit price less the line's share of the
    order's discounts. The lines of an order add up to its ``total_amount``; product, category and
    brand revenue are sums of it over completed orders (partial refunds are order-level: they
    reduce the headline revenue, not a product's)."""
    return it.quantity * it.unit_price - it.discount_amount


def first_orders(db: TableSource, f: Filters = NO_FILTERS) -> ir.Table:
    """Each (filtered) customer's first completed order ever: ``customer_id``, ``first_order_at``.

    Dates in ``f`` do not apply: acquisition is the first order over the whole history.
    """
    if not (f.countries or f.segments):  # every customer's: the copy when it is current
        copy = materialized_table(db, "customer_first_orders")
        if copy is not None:
            return copy
    return first_orders_live(db, f)


def first_orders_live(db: TableSource, f: Filters = NO_FILTERS) -> ir.Table:
    """:func:`first_orders` computed from the orders (the copy ``customer_first_orders``)."""
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
    per = customer_totals(db, population)
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


def last_order_day(db: TableSource) -> date | None:
    """The day of the last order in the data (any status), asked of the database; ``None``
    without orders."""
    last = table(db, "orders").order_date.max().execute()
    return None if last is None or pd.isna(last) else pd.Timestamp(last).date()


def customer_totals(db: TableSource, f: Filters = NO_FILTERS) -> ir.Table:
    """Per customer with a completed order up to ``f.end`` (nothing else of ``f`` applies): the
    last one's ``last_order_at``, ``frequency`` (completed orders) and ``monetary_dec`` (their
    ``total_amount``, DECIMAL(18, 2)). The copy ``customer_totals`` (every order) when it is
    current and the end is open or on or after the last order's day; else from the orders."""
    if f.end is None or (
        materialized_table(db, "customer_totals") is not None
        and (last := last_order_day(db)) is not None
        and f.end >= last
    ):
        copy = materialized_table(db, "customer_totals")
        if copy is not None:
            return copy
    return customer_totals_live(db, f)


def customer_totals_live(db: TableSource, f: Filters = NO_FILTERS) -> ir.Table:
    """:func:`customer_totals` computed from the orders."""
    o = orders(db, Filters(end=f.end))
    done = o.filter(is_completed(o))
    return done.group_by("customer_id").aggregate(
        last_order_at=done.order_date.max(),
        frequency=done.count().cast("int64"),
        monetary_dec=done.total_amount.sum().cast("decimal(18, 2)"),
    )


def segment_members(db: TableSource, f: Filters) -> ir.Table:
    """``customer_id`` of the customers whose segment as of ``f``'s end is in ``f.segments``."""
    t = rfm_as_of(db, f)
    return t.filter(t.segment.isin(f.segments)).select("customer_id")


def without_segments(f: Filters) -> Filters:
    return replace(f, segments=())


# ------------------------------------------------------------------------------------ arithmetic
def period(ts: ir.TimestampValue, grain: str, first_month: int = 1) -> ir.DateValue:
    """The first day of the day/week (Monday)/month holding ``ts``; for the grains of
    :data:`MONTH_GRAINS` the first day of the quarter/year holding it, fiscal ones counted from
    ``first_month`` (``fiscal_start(db)``)."""
    if grain not in MONTH_GRAINS:
        return ts.truncate(GRAINS[check_grain(grain)]).cast("date")
    size = MONTH_GRAINS[grain]
    offset = first_month - 1 if grain.startswith("fiscal_") else 0
    shifted = ts.year() * 12 + ts.month() - 1 - offset  # months since year 0, from the first month
    start = shifted - shifted % size + offset
    return ibis.date(start // 12, start % 12 + 1, 1)


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
