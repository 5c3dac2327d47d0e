"""Stock metrics: days of stock cover and slow movers, from the demand before the as-of day."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import ibis.expr.types as ir
import pandas as pd

from sales_analytics.metrics.columns import cols
from sales_analytics.metrics.filters import Filters
from sales_analytics.metrics.preagg import summed_months
from sales_analytics.metrics.rules import as_of_table, is_completed, items, orders, ratio
from sales_analytics.metrics.source import TableSource, materialized_table, table, use
from sales_analytics.metrics.spec import Column, Param, declare

WINDOW_DAYS = Param(
    "window_days", int, 90, "Days of demand before the as-of day", minimum=1, maximum=3650
)


def _demand_days(db: TableSource, f: Filters, window_days: int) -> Filters | None:
    """The days 1..``window_days`` before the as-of day as a filter of dates only, when the
    per-month copy can serve them (no countries or segments, the copy current); else ``None``.
    Without an end date the as-of day is asked of the database (the day after the last order,
    as :func:`~.rules.as_of_table` computes it)."""
    if f.countries or f.segments or materialized_table(db, "product_month_sales") is None:
        return None
    if f.end is not None:
        as_of = f.end + timedelta(days=1)
    else:
        last = table(db, "orders").order_date.max().execute()
        if last is None or pd.isna(last):
            return None
        as_of = pd.Timestamp(last).date() + timedelta(days=1)
    return Filters(start=as_of - timedelta(days=window_days), end=as_of - timedelta(days=1))


def _window_units(db: TableSource, f: Filters, window_days: int, ref: ir.Table) -> ir.Table:
    """Per product sold in the window: completed units of orders 1..``window_days`` days before
    ``as_of``: summed from the per-month copy (whole months) and the edge days live
    (:func:`~.preagg.summed_months`) when :func:`_demand_days` allows, else from the orders of
    those days (narrowed first, so only the window's items are aggregated)."""
    days = _demand_days(db, f, window_days)
    if days is not None:
        s = summed_months(db, "product_month_sales", days, ("product_id",), ("last_sold_at",))
        if s is not None:
            s = s.filter(s.units_sold.notnull())
            return s.select("product_id", units_window=s.units_sold.cast("int64"))
    o = orders(db, f, dates=False)
    o = o.filter(is_completed(o)).cross_join(ref)
    days_ago = o.as_of.delta(o.order_date.date(), unit="day")
    recent = o.filter(days_ago >= 1, days_ago <= window_days).select("order_id")
    it = table(db, "order_items").join(recent, "order_id")
    return it.group_by("product_id").aggregate(units_window=it.quantity.sum().cast("int64"))


def _last_sold(db: TableSource, f: Filters, ref: ir.Table) -> ir.Table:
    """Per product ever sold before the as-of day: the last completed order's timestamp, i.e.
    ``product_sales.last_sold_at`` over every day up to the end (its copy without an end date, its
    month copy with one, see :mod:`.preagg`), computed here for countries or segments up to an end
    date."""
    if f.end is None or not (f.countries or f.segments):
        s = use(db, "product_sales", replace(f, start=None))
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


