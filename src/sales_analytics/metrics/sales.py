"""Sales metrics: KPIs, revenue over time, growth, seasonality profiles and decomposition.

Revenue rule: :func:`sales_analytics.metrics.rules.order_measures` (``revenue`` is net revenue:
the orders not cancelled less the value refunded, on the order date; on the synthetic shop the total
of completed orders). Shopify's sales report: :mod:`.salesreport`.
"""

from __future__ import annotations

from datetime import datetime, time

import ibis
import ibis.expr.types as ir
import pandas as pd

from sales_analytics.metrics.columns import COLUMNS, cols
from sales_analytics.metrics.filters import NO_FILTERS, Filters
from sales_analytics.metrics.rules import (
    check_grain,
    count_where,
    first_orders,
    fiscal_start,
    growth,
    is_completed,
    items,
    order_measures,
    orders,
    period,
    period_key,
    ratio,
)
from sales_analytics.metrics.source import TableSource, use
from sales_analytics.metrics.spec import Column, Param, declare

#: Periods back for "the same period last year": 52 weeks for days and weeks keeps the weekday.
YOY_SHIFT: dict[str, int] = {"day": 364, "week": 364, "month": 12}
#: Periods back for "the previous period" (in ``period_key`` steps).
POP_SHIFT: dict[str, int] = {"day": 1, "week": 7, "month": 1}
WEEKDAYS: tuple[str, ...] = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS: tuple[str, ...] = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
#: Seasonal period used by :func:`decomposition` per grain.
SEASONAL_PERIOD: dict[str, int] = {"day": 7, "week": 52, "month": 12}


def grain_param(default: str, *, months: bool = False) -> Param:
    """The ``grain`` param; ``months`` adds calendar and fiscal quarters and years."""
    if months:
        return Param(
            "grain", str, default, "day, week (Monday start), month, quarter, year, or "
            "fiscal_quarter / fiscal_year (from the shop's fiscal year start month)",
            choices=("day", "week", "month", "quarter", "year", "fiscal_quarter", "fiscal_year"),
            expand=True,
        )  # fmt: skip
    return Param(
        "grain", str, default, "day, week (Monday start) or month",
        choices=("day", "week", "month"), expand=True,
    )  # fmt: skip


def first_month(db: TableSource, grain: str) -> int:
    """The month periods of ``grain`` start from (the settings are read for fiscal grains only)."""
    return fiscal_start(db) if grain.startswith("fiscal_") else 1


SERIES = cols(
    "period", "orders", "revenue", "aov", "units", "customers", "gross_orders", "gross_revenue",
    "cancelled_orders", "returned_orders", "returned_revenue",
)  # fmt: skip


# ------------------------------------------------------------------------------------ units
@declare(
    "daily_units",
    label="Units sold per day",
    domain="internal",
    grain="one row per calendar day with completed order items",
    description="The units of revenue and KPIs; its materialized copy serves every date window.",
    columns=cols("day", "units"),
    sort=("day",),
    materialize=True,
    key=("day",),
)
def daily_units(db: TableSource, f: Filters) -> ir.Table:
    it = items(db, f)
    it = it.filter(is_completed(it))
    return it.group_by(day=it.order_date.date()).aggregate(units=it.quantity.sum().cast("int64"))


def units_by_day(db: TableSource, f: Filters) -> ir.Table:
    """Units of completed orders per day of ``f``: the materialized days cut to the window when
    there are no country or segment filters, else computed for ``f``."""
    if f.countries or f.segments:
        return use(db, "daily_units", f)
    u = use(db, "daily_units", NO_FILTERS)
    preds = [u.day >= f.start] if f.start is not None else []
    preds += [u.day <= f.end] if f.end is not None else []
    return u.filter(*preds) if preds else u


# ------------------------------------------------------------------------------------ series
def _by_period(db: TableSource, grain: str, f: Filters, first: int = 1) -> ir.Table:
    """Order measures per period (no units: the order items are not read)."""
    o = orders(db, f)
    o = o.mutate(period=period(o.order_date, check_grain(grain, months=True), first))
    return o.group_by("period").aggregate(**order_measures(o))


@declare(
    "revenue",
    label="Revenue over time",
    grain="one row per day, week (Monday start), month, quarter or year (calendar or fiscal) "
    "with at least one order",
    description="Net and gross sales per period.",
    columns=SERIES,
    params=(grain_param("day", months=True),),
    sort=("period",),
)
def revenue(db: TableSource, f: Filters, *, grain: str = "day") -> ir.Table:
    first = first_month(db, grain)
    by_period = _by_period(db, grain, f, first)
    u = units_by_day(db, f)
    per_period = u.group_by(period=period(u.day, grain, first)).aggregate(
        units=u.units.sum().cast("int64")
    )
    j = by_period.left_join(per_period, "period")
    return j.select(
        "period", "orders", "revenue",
        aov=ratio(j.revenue, j.orders),
        units=j.units.fill_null(0),
        customers=j.customers, gross_orders=j.gross_orders, gross_revenue=j.gross_revenue,
        cancelled_orders=j.cancelled_orders, returned_orders=j.returned_orders,
        returned_revenue=j.returned_revenue,
    )  # fmt: skip


@declare(
    "kpis",
    label="Headline KPIs",
    grain="one row: the whole filter window",
    description="Net and gross sales, customers new and returning, cancel and return rates.",
    columns=cols(
        "revenue", "gross_revenue", "returned_revenue", "orders", "aov", "units", "customers",
        "new_customers", "returning_customers", "revenue_per_customer", "gross_orders",
        "cancelled_orders", "returned_orders", "cancel_rate", "return_rate",
    ) + (
        COLUMNS["first_order_at"].but(label="First order", description="First order (any status)"),
        COLUMNS["last_order_at"].but(label="Last order", description="Last order (any status)"),
    ),
)
def kpis(db: TableSource, f: Filters) -> ir.Table:
    o = orders(db, f)
    agg = o.aggregate(
        **order_measures(o),
        all_orders=o.count().cast("int64"),
        first_order_at=o.order_date.min(),
        last_order_at=o.order_date.max(),
    )
    u = units_by_day(db, f)
    units = u.aggregate(units=u.units.sum().cast("int64"))
    buyers = o.filter(is_completed(o)).select("customer_id").distinct()
    nb = buyers.join(first_orders(db, f), "customer_id")
    if f.start is None:
        is_new = nb.first_order_at.notnull()
    else:
        is_new = nb.first_order_at >= ibis.timestamp(datetime.combine(f.start, time.min))
    new = nb.aggregate(new_customers=count_where(is_new))
    out = agg.cross_join(units).cross_join(new)
    return out.select(
        "revenue", "gross_revenue", "returned_revenue", "orders",
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
    )  # fmt: skip


# ------------------------------------------------------------------------------------ growth
def _compare(db: TableSource, grain: str, f: Filters, shift: int, suffix: str) -> ir.Table:
    cur = _by_period(db, grain, f).select("period", "revenue", "orders")
    # the comparison periods may lie before the window's start: take them without a start bound
    prev = _by_period(db, grain, Filters(None, f.end, f.countries, f.segments))
    prev = prev.select(
        prev_key=period_key(prev.period, grain) + shift,
        # float64 so that "no comparison period" is NaN in pandas, not an object column
        **{f"revenue_{suffix}": prev.revenue, f"orders_{suffix}": prev.orders.cast("float64")},
    )
    cur = cur.mutate(key=period_key(cur.period, grain))
    j = cur.left_join(prev, cur.key == prev.prev_key)
    return j.select(
        "period", "revenue", j[f"revenue_{suffix}"],
        revenue_growth=growth(j.revenue, j[f"revenue_{suffix}"]),
        orders=j.orders,
        **{f"orders_{suffix}": j[f"orders_{suffix}"]},
        orders_growth=growth(j.orders, j[f"orders_{suffix}"]),
    )  # fmt: skip


def _growth_columns(suffix: str, label: str) -> tuple[Column, ...]:
    return (
        COLUMNS["period"], COLUMNS["revenue"],
        Column(f"revenue_{suffix}", "float64", "currency", f"Revenue {label}", "", True),
        COLUMNS["revenue_growth"], COLUMNS["orders"],
        Column(f"orders_{suffix}", "float64", "count", f"Orders {label}", "", True),
        COLUMNS["orders_growth"],
    )  # fmt: skip


@declare(
    "yoy_growth",
    label="Year-over-year growth",
    grain="one row per period with orders, against the same period a year back",
    description="The comparison period is 12 months back (month grain) or 52 weeks = 364 days "
    "back (day and week grains, so weekdays line up); it is looked up even before the window.",
    columns=_growth_columns("last_year", "a year back"),
    params=(grain_param("month"),),
    sort=("period",),
)
def yoy_growth(db: TableSource, f: Filters, *, grain: str = "month") -> ir.Table:
    return _compare(db, check_grain(grain), f, YOY_SHIFT[grain], "last_year")


@declare(
    "period_over_period",
    label="Growth against the previous period",
    grain="one row per period with orders, against the period before",
    columns=_growth_columns("previous", "the period before"),
    params=(grain_param("month"),),
    sort=("period",),
)
def period_over_period(db: TableSource, f: Filters, *, grain: str = "month") -> ir.Table:
    return _compare(db, check_grain(grain), f, POP_SHIFT[grain], "previous")


# ------------------------------------------------------------------------------------ seasonality
@declare(
    "weekday_profile",
    label="Revenue by weekday",
    grain="one row per weekday (0 = Monday) with at least one order",
    description="Averages over the days that have at least one order.",
    columns=(
        Column("weekday", "int64", "id", "Weekday number", "0 = Monday", technical=True),
        Column("weekday_name", "string", "text", "Weekday"),
        Column("days", "int64", "count", "Days", "Days with orders"),
        *cols("revenue", "orders"),
        Column("avg_daily_revenue", "float64", "currency", "Average revenue per day", "", True),
        Column("avg_daily_orders", "float64", "number", "Average orders per day", "", True),
        *cols("revenue_index", "revenue_share"),
    ),
    sort=("weekday",),
)
def weekday_profile(db: TableSource, f: Filters) -> ir.Table:
    d = _by_period(db, "day", f).select("period", "revenue", "orders")
    d = d.mutate(weekday=d.period.day_of_week.index().cast("int64"))
    g = d.group_by("weekday").aggregate(
        days=d.count().cast("int64"), revenue=d.revenue.sum(), orders=d.orders.sum().cast("int64")
    )
    overall = ratio(g.revenue.sum().over(), g.days.sum().over())
    name = g.weekday.cases(*[(i, n) for i, n in enumerate(WEEKDAYS)], else_=ibis.null("string"))
    return g.select(
        "weekday", weekday_name=name, days=g.days, revenue=g.revenue, orders=g.orders,
        avg_daily_revenue=ratio(g.revenue, g.days),
        avg_daily_orders=ratio(g.orders, g.days),
        revenue_index=ratio(g.revenue, g.days) / overall,
        revenue_share=ratio(g.revenue, g.revenue.sum().over()),
    )  # fmt: skip


@declare(
    "month_profile",
    label="Revenue by calendar month",
    grain="one row per calendar month (1-12) with orders",
    description="Averages over the year-months present in the data.",
    columns=(
        Column("month", "int64", "id", "Month number", "1 = January", technical=True),
        Column("month_name", "string", "text", "Month"),
        Column("months", "int64", "count", "Months", "Year-months averaged"),
        *cols("revenue", "orders"),
        Column("avg_monthly_revenue", "float64", "currency", "Average revenue per month", "", True),
        *cols("revenue_index", "revenue_share"),
    ),
    sort=("month",),
)
def month_profile(db: TableSource, f: Filters) -> ir.Table:
    m = _by_period(db, "month", f).select("period", "revenue", "orders")
    m = m.mutate(month=m.period.month().cast("int64"))
    g = m.group_by("month").aggregate(
        months=m.count().cast("int64"), revenue=m.revenue.sum(), orders=m.orders.sum().cast("int64")
    )
    overall = ratio(g.revenue.sum().over(), g.months.sum().over())
    name = g.month.cases(*[(i + 1, n) for i, n in enumerate(MONTHS)], else_=ibis.null("string"))
    return g.select(
        "month", month_name=name, months=g.months, revenue=g.revenue, orders=g.orders,
        avg_monthly_revenue=ratio(g.revenue, g.months),
        revenue_index=ratio(g.revenue, g.months) / overall,
        revenue_share=ratio(g.revenue, g.revenue.sum().over()),
    )  # fmt: skip


def full_series(frame: pd.DataFrame, grain: str, column: str = "revenue") -> pd.Series:
    """A time series from a ``revenue`` frame, with empty periods filled with 0."""
    s = frame.set_index(pd.to_datetime(frame["period"]))[column].astype("float64").sort_index()
    if s.empty:
        return s
    freq = {"day": "D", "week": "W-MON", "month": "MS"}[grain]
    idx = pd.date_range(s.index.min(), s.index.max(), freq=freq)
    return s.reindex(idx, fill_value=0.0)


@declare(
    "decomposition",
    label="Trend and seasonality",
    grain="one row per period from the first to the last with orders (empty periods count as 0)",
    description="Seasonal-trend decomposition (STL, additive, robust) of net revenue: "
    "observed = trend + seasonal + residual. Seasonal period 7 days, 52 weeks or 12 months.",
    columns=(
        COLUMNS["period"],
        Column("observed", "float64", "currency", "Net revenue"),
        Column("trend", "float64", "currency", "Trend"),
        Column("seasonal", "float64", "currency", "Seasonal effect"),
        Column("resid", "float64", "currency", "Residual", "What trend and season do not explain"),
    ),
    params=(grain_param("day"),),
    sort=("period",),
    engine="pandas",
)
def decomposition(db: TableSource, f: Filters, *, grain: str = "day") -> pd.DataFrame:
    from statsmodels.tsa.seasonal import STL

    from sales_analytics.metrics.source import to_pandas

    season = SEASONAL_PERIOD[check_grain(grain)]
    s = full_series(to_pandas(_by_period(db, grain, f).select("period", "revenue")), grain)
    if len(s) < 2 * season + 1:
        raise ValueError(
            f"decomposition needs at least {2 * season + 1} {grain}s of data for a seasonal "
            f"period of {season}, got {len(s)}"
        )
    res = STL(s.to_numpy(), period=season, robust=True).fit()
    return pd.DataFrame(
        {
            "period": pd.to_datetime(s.index).date,
            "observed": s.to_numpy(),
            "trend": res.trend,
            "seasonal": res.seasonal,
            "resid": res.resid,
        }
    )
