"""Sales metrics: revenue time series, KPIs, growth, seasonality profiles and decomposition.

Revenue rule (see :mod:`sales_analytics.metrics._base`): ``revenue`` is net revenue, the total of
completed orders; ``gross_revenue`` adds returned orders (refunded later); cancelled orders count
nowhere except ``cancelled_orders``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from sales_analytics.metrics._base import (
    CANCELLED,
    NO_FILTERS,
    RETURNED,
    Filters,
    TableSource,
    check_grain,
    count_where,
    growth,
    is_completed,
    items,
    materialized,
    money,
    orders,
    period,
    period_key,
    ratio,
)

#: Periods back for "the same period last year": 52 weeks for days and weeks keeps the weekday.
YOY_SHIFT: dict[str, int] = {"day": 364, "week": 364, "month": 12}
#: Periods back for "the previous period" (in :func:`~sales_analytics.metrics._base.period_key` steps).
POP_SHIFT: dict[str, int] = {"day": 1, "week": 7, "month": 1}
WEEKDAYS: tuple[str, ...] = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS: tuple[str, ...] = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
#: Seasonal period used by :func:`decomposition` per grain.
SEASONAL_PERIOD: dict[str, int] = {"day": 7, "week": 52, "month": 12}


def _order_aggregates(o: ir.Table) -> dict[str, ir.Value]:
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


def units_by_day(db: TableSource, filters: Filters = NO_FILTERS) -> ir.Table:
    """Units of completed orders per order day in the window: ``day`` (date), ``units``.

    Without country or segment filters it reads ``mv_daily_units`` when the source has it (the
    date window is a range of its days), so the order items are not joined to their orders.
    """
    mv = materialized(db, "mv_daily_units", filters.without_dates())
    if mv is not None:
        preds = []
        if filters.start is not None:
            preds.append(mv.day >= filters.start)
        if filters.end is not None:
            preds.append(mv.day <= filters.end)
        return mv.filter(*preds) if preds else mv
    it = items(db, filters)
    it = it.filter(is_completed(it))
    return it.group_by(day=it.order_date.date()).aggregate(units=it.quantity.sum().cast("int64"))


def revenue_timeseries(
    db: TableSource, grain: str = "day", filters: Filters = NO_FILTERS
) -> ir.Table:
    """Sales per day, week (Monday start) or month.

    Returns
    -------
    ibis.Table
        ``period`` (date), ``orders``, ``revenue``, ``aov``, ``units``, ``customers`` (completed
        orders: net), ``gross_orders``, ``gross_revenue``, ``cancelled_orders``,
        ``returned_orders``, ``returned_revenue``; one row per period with at least one order,
        ordered by ``period``.
    """
    return _timeseries(db, grain, filters, units=True)


def _timeseries(db: TableSource, grain: str, filters: Filters, *, units: bool) -> ir.Table:
    """:func:`revenue_timeseries`; without ``units`` the order items are not read (much cheaper)."""
    check_grain(grain)
    o = orders(db, filters)
    o = o.mutate(period=period(o.order_date, grain))
    by_period = o.group_by("period").aggregate(**_order_aggregates(o))
    if not units:
        return by_period.order_by("period")
    u = units_by_day(db, filters)
    per_period = u.group_by(period=period(u.day, grain)).aggregate(
        units=u.units.sum().cast("int64")
    )
    joined = by_period.left_join(per_period, "period")
    return (
        joined.select(
            "period",
            "orders",
            "revenue",
            aov=ratio(joined.revenue, joined.orders),
            units=joined.units.fill_null(0),
            customers=joined.customers,
            gross_orders=joined.gross_orders,
            gross_revenue=joined.gross_revenue,
            cancelled_orders=joined.cancelled_orders,
            returned_orders=joined.returned_orders,
            returned_revenue=joined.returned_revenue,
        )
        .order_by("period")
    )


def kpi_table(db: TableSource, filters: Filters = NO_FILTERS) -> ir.Table:
    """The headline KPIs as a one-row table (see :func:`kpis`)."""
    o = orders(db, filters)
    agg = o.aggregate(
        **_order_aggregates(o),
        all_orders=o.count().cast("int64"),
        first_order_at=o.order_date.min(),
        last_order_at=o.order_date.max(),
    )
    u = units_by_day(db, filters)
    units = u.aggregate(units=u.units.sum().cast("int64"))
    # customers whose first completed order ever falls in the window are new
    allo = orders(db, filters, dates=False)
    firsts = (
        allo.filter(is_completed(allo))
        .group_by("customer_id")
        .aggregate(first_at=allo.order_date.min())
    )
    buyers = o.filter(is_completed(o)).select("customer_id").distinct()
    nb = buyers.join(firsts, "customer_id")
    if filters.start is None:
        is_new = nb.first_at.notnull()
    else:
        is_new = nb.first_at >= ibis.timestamp(datetime.combine(filters.start, time.min))
    new = nb.aggregate(new_customers=count_where(is_new))
    out = agg.cross_join(units).cross_join(new)
    return out.select(
        "revenue",
        "gross_revenue",
        "returned_revenue",
        "orders",
        aov=ratio(out.revenue, out.orders),
        units=out.units.fill_null(0),
        customers=out.customers,
        new_customers=out.new_customers,
        returning_customers=out.customers - out.new_customers,
        revenue_per_customer=ratio(out.revenue, out.customers),
        gross_orders=out.gross_orders,
        cancelled_orders=out.cancelled_orders,
        returned_orders=out.returned_orders,
        cancel_rate=ratio(out.cancelled_orders, out.all_orders),
        return_rate=ratio(out.returned_orders, out.gross_orders),
        first_order_at=out.first_order_at,
        last_order_at=out.last_order_at,
    )


def kpis(db: TableSource, filters: Filters = NO_FILTERS) -> dict[str, Any]:
    """Headline KPIs for the filter window, as plain Python values.

    Keys: ``revenue`` (net), ``gross_revenue``, ``returned_revenue``, ``orders`` (completed),
    ``aov``, ``units``, ``customers`` (with a completed order), ``new_customers`` (first completed
    order ever in the window), ``returning_customers``, ``revenue_per_customer``, ``gross_orders``,
    ``cancelled_orders``, ``returned_orders``, ``cancel_rate`` (of all orders), ``return_rate``
    (of gross orders), ``first_order_at``, ``last_order_at``.
    """
    row = kpi_table(db, filters).to_pandas().iloc[0]
    out: dict[str, Any] = {}
    for key, value in row.items():
        if pd.isna(value):
            out[key] = None
        elif isinstance(value, pd.Timestamp):
            out[key] = value.to_pydatetime()
        elif hasattr(value, "item"):
            out[key] = value.item()
        else:
            out[key] = value
    return out


# ------------------------------------------------------------------------------------------ growth
def _compare(
    db: TableSource, grain: str, filters: Filters, shift: int, suffix: str
) -> ir.Table:
    cur = _timeseries(db, grain, filters, units=False).select("period", "revenue", "orders")
    # the comparison periods may lie before the window's start: take them without a start bound
    prev = _timeseries(db, grain, replace(filters, start=None), units=False)
    prev = prev.select(
        prev_key=period_key(prev.period, grain) + shift,
        # float64 so that "no comparison period" is NaN in pandas, not an object column
        **{f"revenue_{suffix}": prev.revenue, f"orders_{suffix}": prev.orders.cast("float64")},
    )
    cur = cur.mutate(key=period_key(cur.period, grain))
    j = cur.left_join(prev, cur.key == prev.prev_key)
    return j.select(
        "period",
        "revenue",
        j[f"revenue_{suffix}"],
        revenue_growth=growth(j.revenue, j[f"revenue_{suffix}"]),
        orders=j.orders,
        **{f"orders_{suffix}": j[f"orders_{suffix}"]},
        orders_growth=growth(j.orders, j[f"orders_{suffix}"]),
    ).order_by("period")


def yoy_growth(db: TableSource, grain: str = "month", filters: Filters = NO_FILTERS) -> ir.Table:
    """Year-over-year growth per period.

    The comparison period is 12 months back (month grain) or 52 weeks = 364 days back (day and week
    grains, so weekdays line up). It is looked up even if it lies before ``filters.start``.

    Returns
    -------
    ibis.Table
        ``period``, ``revenue``, ``revenue_last_year``, ``revenue_growth``, ``orders``,
        ``orders_last_year``, ``orders_growth`` (growth = (now - then) / then; NULL without data a
        year back).
    """
    check_grain(grain)
    return _compare(db, grain, filters, YOY_SHIFT[grain], "last_year")


def period_over_period(
    db: TableSource, grain: str = "month", filters: Filters = NO_FILTERS
) -> ir.Table:
    """Growth against the previous day, week or month (NULL when that period has no orders).

    Returns
    -------
    ibis.Table
        ``period``, ``revenue``, ``revenue_previous``, ``revenue_growth``, ``orders``,
        ``orders_previous``, ``orders_growth``.
    """
    check_grain(grain)
    return _compare(db, grain, filters, POP_SHIFT[grain], "previous")


# ------------------------------------------------------------------------------------- seasonality
def _daily(db: TableSource, filters: Filters) -> ir.Table:
    return _timeseries(db, "day", filters, units=False).select("period", "revenue", "orders")


def weekday_profile(db: TableSource, filters: Filters = NO_FILTERS) -> ir.Table:
    """Average net revenue and orders per weekday.

    Averages are over the days that have at least one order. ``revenue_index`` is the weekday's
    average daily revenue over the average daily revenue of all days (1 = an average day).

    Returns
    -------
    ibis.Table
        ``weekday`` (0 = Monday), ``weekday_name``, ``days``, ``revenue``, ``orders``,
        ``avg_daily_revenue``, ``avg_daily_orders``, ``revenue_index``, ``revenue_share``.
    """
    d = _daily(db, filters)
    d = d.mutate(weekday=d.period.day_of_week.index().cast("int64"))
    g = d.group_by("weekday").aggregate(
        days=d.count().cast("int64"), revenue=d.revenue.sum(), orders=d.orders.sum().cast("int64")
    )
    overall = ratio(g.revenue.sum().over(), g.days.sum().over())
    name = g.weekday.cases(*[(i, n) for i, n in enumerate(WEEKDAYS)], else_=ibis.null("string"))
    return g.select(
        "weekday",
        weekday_name=name,
        days=g.days,
        revenue=g.revenue,
        orders=g.orders,
        avg_daily_revenue=ratio(g.revenue, g.days),
        avg_daily_orders=ratio(g.orders, g.days),
        revenue_index=ratio(g.revenue, g.days) / overall,
        revenue_share=ratio(g.revenue, g.revenue.sum().over()),
    ).order_by("weekday")


def month_profile(db: TableSource, filters: Filters = NO_FILTERS) -> ir.Table:
    """Average net revenue per calendar month, over the year-months present in the data.

    Returns
    -------
    ibis.Table
        ``month`` (1-12), ``month_name``, ``months`` (year-months averaged), ``revenue``, ``orders``,
        ``avg_monthly_revenue``, ``revenue_index`` (1 = an average month), ``revenue_share``.
    """
    m = _timeseries(db, "month", filters, units=False).select("period", "revenue", "orders")
    m = m.mutate(month=m.period.month().cast("int64"))
    g = m.group_by("month").aggregate(
        months=m.count().cast("int64"), revenue=m.revenue.sum(), orders=m.orders.sum().cast("int64")
    )
    overall = ratio(g.revenue.sum().over(), g.months.sum().over())
    name = g.month.cases(*[(i + 1, n) for i, n in enumerate(MONTHS)], else_=ibis.null("string"))
    return g.select(
        "month",
        month_name=name,
        months=g.months,
        revenue=g.revenue,
        orders=g.orders,
        avg_monthly_revenue=ratio(g.revenue, g.months),
        revenue_index=ratio(g.revenue, g.months) / overall,
        revenue_share=ratio(g.revenue, g.revenue.sum().over()),
    ).order_by("month")


def full_series(frame: pd.DataFrame, grain: str, column: str = "revenue") -> pd.Series:
    """A time series from a :func:`revenue_timeseries` frame, with empty periods filled with 0."""
    s = frame.set_index(pd.to_datetime(frame["period"]))[column].astype("float64").sort_index()
    if s.empty:
        return s
    freq = {"day": "D", "week": "W-MON", "month": "MS"}[grain]
    idx = pd.date_range(s.index.min(), s.index.max(), freq=freq)
    return s.reindex(idx, fill_value=0.0)


def decomposition(
    db: TableSource,
    grain: str = "day",
    filters: Filters = NO_FILTERS,
    *,
    period: int | None = None,
    robust: bool = True,
) -> pd.DataFrame:
    """Seasonal-trend decomposition (STL, additive) of net revenue; computed in pandas/statsmodels.

    Empty periods count as zero revenue. ``period`` defaults to 7 (day), 52 (week) or 12 (month).

    Returns
    -------
    pandas.DataFrame
        ``period`` (date), ``observed``, ``trend``, ``seasonal``, ``resid`` with
        ``observed == trend + seasonal + resid``.
    """
    from statsmodels.tsa.seasonal import STL

    check_grain(grain)
    season = period or SEASONAL_PERIOD[grain]
    ts = _timeseries(db, grain, filters, units=False).select("period", "revenue").to_pandas()
    s = full_series(ts, grain)
    if len(s) < 2 * season + 1:
        raise ValueError(
            f"decomposition needs at least {2 * season + 1} {grain}s of data for a seasonal "
            f"period of {season}, got {len(s)}"
        )
    res = STL(s.to_numpy(), period=season, robust=robust).fit()
    return pd.DataFrame(
        {
            "period": [d.date() for d in s.index],
            "observed": s.to_numpy(),
            "trend": res.trend,
            "seasonal": res.seasonal,
            "resid": res.resid,
        }
    )
