"""Independent pandas versions of every metric, written from the rules in docs/metrics.md.

Nothing here imports the ibis code under test except the ``Filters`` value object and the rule
constants (segment names and bounds, population table); money is handled in integer cents.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sales_analytics.metrics import POPULATION_MILLIONS, RFM_SEGMENT_RULES, Filters

DAY = pd.Timedelta(days=1)


@dataclass
class Data:
    customers: pd.DataFrame
    products: pd.DataFrame
    orders: pd.DataFrame
    items: pd.DataFrame


def _cents(arr: pa.ChunkedArray) -> np.ndarray:
    scaled = pc.multiply(arr.cast(pa.decimal128(18, 2)), pa.scalar(100, pa.decimal128(5, 0)))
    return np.asarray(scaled.cast(pa.int64()).to_numpy(), dtype=np.int64)


def load(frames: dict[str, pa.Table]) -> Data:
    c = frames["customers"].to_pandas()
    p = frames["products"].drop(["unit_price", "unit_cost"]).to_pandas()
    p["price_cents"] = _cents(frames["products"]["unit_price"])
    p["cost_cents"] = _cents(frames["products"]["unit_cost"])
    o = frames["orders"].drop(["total_amount"]).to_pandas()
    o["cents"] = _cents(frames["orders"]["total_amount"])
    i = frames["order_items"].drop(["unit_price"]).to_pandas()
    i["price_cents"] = _cents(frames["order_items"]["unit_price"])
    names = frames["order_items"].column_names
    i["discount_cents"] = (
        _cents(frames["order_items"]["discount_amount"]) if "discount_amount" in names else 0
    )
    for df in (c, p, o):
        for col in df.columns:
            if col.endswith("_at") or col == "order_date":
                df[col] = pd.to_datetime(df[col])
    return Data(c, p, o, i)


# ----------------------------------------------------------------------------------------- basics
def ts(d: date) -> pd.Timestamp:
    return pd.Timestamp(d)


def in_window(s: pd.Series, f: Filters) -> pd.Series:
    mask = pd.Series(True, index=s.index)
    if f.start is not None:
        mask &= s >= ts(f.start)
    if f.end is not None:
        mask &= s < ts(f.end) + DAY
    return mask


def customer_ids(D: Data, f: Filters) -> pd.Series:
    c = D.customers
    if f.countries:
        c = c[c.country.isin(f.countries)]
    if f.segments:
        c = c[c.customer_id.isin(segment_members(D, f))]
    return c.customer_id


def orders(D: Data, f: Filters, dates: bool = True) -> pd.DataFrame:
    o = D.orders
    if dates:
        o = o[in_window(o.order_date, f)]
    if f.countries or f.segments:
        o = o[o.customer_id.isin(customer_ids(D, f))]
    return o


def items(D: Data, f: Filters, dates: bool = True) -> pd.DataFrame:
    o = orders(D, f, dates)[["order_id", "customer_id", "order_date", "status"]]
    return D.items.merge(o, on="order_id")


def completed(o: pd.DataFrame) -> pd.DataFrame:
    return o[o.status == "completed"]


def div(a, b):
    """a / b with NaN where b is 0."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b == 0, np.nan, a / np.where(b == 0, 1, b))


def default_as_of(D: Data, f: Filters, as_of: date | None = None) -> pd.Timestamp:
    if as_of is not None:
        return ts(as_of)
    if f.end is not None:
        return ts(f.end) + DAY
    return D.orders.order_date.max().normalize() + DAY


def period_start(s: pd.Series, grain: str) -> pd.Series:
    day = s.dt.normalize()
    if grain == "day":
        return day
    if grain == "week":
        return day - pd.to_timedelta(day.dt.weekday, unit="D")
    return day.dt.to_period("M").dt.start_time


# ------------------------------------------------------------------------------------------ sales
def timeseries(D: Data, grain: str, f: Filters) -> pd.DataFrame:
    o = orders(D, f).copy()
    if o.empty:
        return pd.DataFrame(columns=["period", "orders", "revenue", "aov", "units", "customers"])
    o["period"] = period_start(o.order_date, grain)
    rows = []
    for p, g in o.groupby("period"):
        done = g[g.status == "completed"]
        gross = g[g.status != "cancelled"]
        ret = g[g.status == "returned"]
        rows.append(
            {
                "period": p,
                "orders": len(done),
                "revenue": done.cents.sum() / 100,
                "customers": done.customer_id.nunique(),
                "gross_orders": len(gross),
                "gross_revenue": gross.cents.sum() / 100,
                "cancelled_orders": int((g.status == "cancelled").sum()),
                "returned_orders": len(ret),
                "returned_revenue": ret.cents.sum() / 100,
            }
        )
    out = pd.DataFrame(rows)
    it = completed(items(D, f))
    units = it.groupby(period_start(it.order_date, grain)).quantity.sum()
    out["units"] = out.period.map(units).fillna(0).astype(int)
    out["aov"] = div(out.revenue, out.orders)
    return out


def kpis(D: Data, f: Filters) -> dict:
    o = orders(D, f)
    done = completed(o)
    gross = o[o.status != "cancelled"]
    ret = o[o.status == "returned"]
    firsts = completed(orders(D, f, dates=False)).groupby("customer_id").order_date.min()
    buyers = pd.Series(done.customer_id.unique())
    if f.start is None:
        new = len(buyers)
    else:
        new = int((buyers.map(firsts) >= ts(f.start)).sum())
    revenue = done.cents.sum() / 100
    it = completed(items(D, f))
    return {
        "revenue": revenue,
        "gross_revenue": gross.cents.sum() / 100,
        "returned_revenue": ret.cents.sum() / 100,
        "orders": len(done),
        "aov": revenue / len(done) if len(done) else None,
        "units": int(it.quantity.sum()),
        "customers": len(buyers),
        "new_customers": new,
        "returning_customers": len(buyers) - new,
        "revenue_per_customer": revenue / len(buyers) if len(buyers) else None,
        "gross_orders": len(gross),
        "cancelled_orders": int((o.status == "cancelled").sum()),
        "returned_orders": len(ret),
        "cancel_rate": (o.status == "cancelled").sum() / len(o) if len(o) else None,
        "return_rate": len(ret) / len(gross) if len(gross) else None,
        "first_order_at": o.order_date.min() if len(o) else None,
        "last_order_at": o.order_date.max() if len(o) else None,
    }


def _shift_back(p: pd.Series, grain: str, kind: str) -> pd.Series:
    if grain == "month":
        months = 12 if kind == "yoy" else 1
        return p - pd.DateOffset(months=months)
    days = 364 if kind == "yoy" else {"day": 1, "week": 7}[grain]
    return p - pd.Timedelta(days=days)


def compare(D: Data, grain: str, f: Filters, kind: str) -> pd.DataFrame:
    suffix = "last_year" if kind == "yoy" else "previous"
    cur = timeseries(D, grain, f)
    prev = timeseries(D, grain, replace(f, start=None)).set_index("period")
    back = _shift_back(pd.to_datetime(cur.period), grain, kind)
    out = cur[["period", "revenue", "orders"]].copy()
    out[f"revenue_{suffix}"] = back.map(prev.revenue).to_numpy()
    out[f"orders_{suffix}"] = back.map(prev.orders).to_numpy()
    out["revenue_growth"] = div(out.revenue - out[f"revenue_{suffix}"], out[f"revenue_{suffix}"])
    out["orders_growth"] = div(out.orders - out[f"orders_{suffix}"], out[f"orders_{suffix}"])
    return out


def weekday_profile(D: Data, f: Filters) -> pd.DataFrame:
    d = timeseries(D, "day", f)
    d["weekday"] = pd.to_datetime(d.period).dt.weekday
    g = d.groupby("weekday").agg(
        days=("period", "size"), revenue=("revenue", "sum"), orders=("orders", "sum")
    ).reset_index()
    overall = div(g.revenue.sum(), g.days.sum())
    g["avg_daily_revenue"] = g.revenue / g.days
    g["avg_daily_orders"] = g.orders / g.days
    g["revenue_index"] = div(g.avg_daily_revenue, overall)
    g["revenue_share"] = div(g.revenue, g.revenue.sum())
    g["weekday_name"] = g.weekday.map(dict(enumerate(
        ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    )))
    return g


def month_profile(D: Data, f: Filters) -> pd.DataFrame:
    m = timeseries(D, "month", f)
    m["month"] = pd.to_datetime(m.period).dt.month
    g = m.groupby("month").agg(
        months=("period", "size"), revenue=("revenue", "sum"), orders=("orders", "sum")
    ).reset_index()
    g["avg_monthly_revenue"] = g.revenue / g.months
    g["revenue_index"] = div(g.avg_monthly_revenue, div(g.revenue.sum(), g.months.sum()))
    g["revenue_share"] = div(g.revenue, g.revenue.sum())
    g["month_name"] = g.month.map(lambda k: date(2000, k, 1).strftime("%B"))
    return g


def revenue_series(D: Data, grain: str, f: Filters) -> pd.Series:
    t = timeseries(D, grain, f)
    s = t.set_index(pd.to_datetime(t.period)).revenue.sort_index()
    freq = {"day": "D", "week": "7D", "month": "MS"}[grain]
    return s.reindex(pd.date_range(s.index.min(), s.index.max(), freq=freq), fill_value=0.0)


# -------------------------------------------------------------------------------------- customers
def customer_summary(D: Data, f: Filters) -> pd.DataFrame:
    c = D.customers[D.customers.customer_id.isin(customer_ids(D, f))].copy()
    o = orders(D, f)
    done = completed(o)
    g = pd.DataFrame(
        {
            "order_count": done.groupby("customer_id").size(),
            "total_spent": done.groupby("customer_id").cents.sum() / 100,
            "first_order_at": done.groupby("customer_id").order_date.min(),
            "last_order_at": done.groupby("customer_id").order_date.max(),
            "cancelled_count": o[o.status == "cancelled"].groupby("customer_id").size(),
            "returned_count": o[o.status == "returned"].groupby("customer_id").size(),
        }
    )
    c = c.merge(g, left_on="customer_id", right_index=True, how="left")
    for col in ("order_count", "cancelled_count", "returned_count"):
        c[col] = c[col].fillna(0).astype(int)
    c["total_spent"] = c.total_spent.fillna(0.0)
    c["avg_order_value"] = div(c.total_spent, c.order_count)
    return c


def segment_of(r: int, f: int, m: int) -> str:
    for name, ((rl, ru), (fl, fu), (ml, mu)) in RFM_SEGMENT_RULES.items():
        if rl <= r <= ru and fl <= f <= fu and ml <= m <= mu:
            return name
    return "Others"


def quintile_scores(values: pd.Series, higher_is_better: bool = True) -> pd.Series:
    """1 + floor(5 * (number of customers with a strictly worse value) / n)."""
    n = len(values)
    worse = values.rank(method="min", ascending=higher_is_better).astype(int) - 1
    return 1 + (5 * worse) // n


def rfm_as_of(D: Data, f: Filters) -> pd.DataFrame:
    """Every customer with a completed order before the day after ``f.end`` (whole history up to
    then; countries, segments and start do not apply), scored over all of them."""
    pop = Filters(end=f.end)
    done = completed(orders(D, pop))
    g = done.groupby("customer_id").agg(
        last_order_at=("order_date", "max"), frequency=("order_id", "size"), cents=("cents", "sum")
    ).reset_index()
    ref = default_as_of(D, pop)
    g["recency_days"] = (ref - g.last_order_at.dt.normalize()).dt.days
    g["monetary"] = g.cents / 100
    if len(g):
        g["r_score"] = quintile_scores(g.recency_days, higher_is_better=False)
        g["f_score"] = quintile_scores(g.frequency)
        g["m_score"] = quintile_scores(g.cents)
    else:
        g["r_score"] = g["f_score"] = g["m_score"] = pd.Series(dtype=int)
    g["rfm_score"] = g.r_score * 100 + g.f_score * 10 + g.m_score
    g["segment"] = [segment_of(*x) for x in zip(g.r_score, g.f_score, g.m_score, strict=True)]
    g["as_of"] = ref
    return g


def rfm(D: Data, f: Filters) -> pd.DataFrame:
    """:func:`rfm_as_of` for the customers of ``f``'s countries and segments."""
    g = rfm_as_of(D, f)
    if f.countries:
        g = g[g.customer_id.isin(D.customers[D.customers.country.isin(f.countries)].customer_id)]
    if f.segments:
        g = g[g.segment.isin(f.segments)]
    return g


def segment_members(D: Data, f: Filters) -> pd.Series:
    r = rfm_as_of(D, f)
    return r[r.segment.isin(f.segments)].customer_id


def window_spend(D: Data, f: Filters) -> pd.DataFrame:
    done = completed(orders(D, f))
    return done.groupby("customer_id").agg(w_orders=("order_id", "size"), w_cents=("cents", "sum"))


def segment_summary(D: Data, f: Filters) -> pd.DataFrame:
    r = rfm(D, f).merge(window_spend(D, f), left_on="customer_id", right_index=True, how="left")
    g = r.groupby("segment").agg(
        customers=("customer_id", "size"),
        active_customers=("w_orders", "count"),
        orders=("w_orders", "sum"),
        cents=("w_cents", "sum"),
        avg_recency_days=("recency_days", "mean"),
        avg_frequency=("frequency", "mean"),
        avg_monetary=("monetary", "mean"),
    ).reset_index()
    g["revenue"] = g.cents / 100
    g["aov"] = div(g.revenue, g.orders)
    g["customer_share"] = div(g.customers, g.customers.sum())
    g["revenue_share"] = div(g.revenue, g.revenue.sum())
    return g


def customer_list(D: Data, f: Filters) -> pd.DataFrame:
    r = rfm(D, f).merge(window_spend(D, f), left_on="customer_id", right_index=True, how="left")
    r = r.merge(D.customers, on="customer_id")
    r["orders"] = r.w_orders.fillna(0).astype(int)
    r["revenue"] = r.w_cents.fillna(0) / 100
    return r


def first_orders(D: Data, f: Filters) -> pd.Series:
    return completed(orders(D, f, dates=False)).groupby("customer_id").order_date.min()


def _month_index(s: pd.Series) -> pd.Series:
    return s.dt.year * 12 + s.dt.month - 1


def cohorts(D: Data, f: Filters) -> pd.DataFrame:
    firsts = first_orders(D, f)
    firsts = firsts[in_window(firsts, f)]
    cohort = period_start(firsts, "month").rename("cohort")
    sizes = cohort.value_counts().rename("cohort_size")
    act = completed(orders(D, f))
    act = act[act.customer_id.isin(cohort.index)].copy()
    act["cohort"] = act.customer_id.map(cohort)
    act["months_since"] = _month_index(act.order_date) - _month_index(act.cohort)
    g = act.groupby(["cohort", "months_since"]).agg(
        active_customers=("customer_id", "nunique"), orders=("order_id", "size"), cents=("cents", "sum")
    ).reset_index()
    g["revenue"] = g.cents / 100
    g["cohort_size"] = g.cohort.map(sizes)
    g["retention"] = g.active_customers / g.cohort_size
    g["revenue_per_customer"] = g.revenue / g.cohort_size
    g = g.sort_values(["cohort", "months_since"])
    g["cumulative_revenue_per_customer"] = g.groupby("cohort").cents.cumsum() / 100 / g.cohort_size
    return g


def new_vs_returning(D: Data, grain: str, f: Filters) -> pd.DataFrame:
    firsts = first_orders(D, f)
    done = completed(orders(D, f)).copy()
    done["period"] = period_start(done.order_date, grain)
    done["is_new"] = done.period == period_start(done.customer_id.map(firsts), grain)
    rows = []
    for p, g in done.groupby("period"):
        new, ret = g[g.is_new], g[~g.is_new]
        rows.append(
            {
                "period": p,
                "new_customers": new.customer_id.nunique(),
                "returning_customers": ret.customer_id.nunique(),
                "new_orders": len(new),
                "returning_orders": len(ret),
                "new_revenue": new.cents.sum() / 100,
                "returning_revenue": ret.cents.sum() / 100,
                "returning_revenue_share": ret.cents.sum() / g.cents.sum() if g.cents.sum() else np.nan,
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------- products
def _product_sales(D: Data, f: Filters) -> pd.DataFrame:
    it = items(D, f).merge(D.products[["product_id", "cost_cents"]], on="product_id")
    it["line"] = it.quantity * it.price_cents - it.discount_cents
    it["line_cost"] = it.quantity * it.cost_cents
    done = it[it.status == "completed"]
    ret = it[it.status == "returned"]
    return pd.DataFrame(
        {
            "units_sold": done.groupby("product_id").quantity.sum(),
            "order_count": done.groupby("product_id").order_id.nunique(),
            "units_returned": ret.groupby("product_id").quantity.sum(),
            "revenue_cents": done.groupby("product_id").line.sum(),
            "cost_cents_total": done.groupby("product_id").line_cost.sum(),
        }
    )


def product_performance(D: Data, f: Filters) -> pd.DataFrame:
    p = D.products.merge(_product_sales(D, f), left_on="product_id", right_index=True, how="left")
    for col in ("units_sold", "order_count", "units_returned", "revenue_cents", "cost_cents_total"):
        p[col] = p[col].fillna(0).astype(np.int64)
    p["unit_price"] = p.price_cents / 100
    p["unit_cost"] = p.cost_cents / 100
    p["revenue"] = p.revenue_cents / 100
    p["cost"] = p.cost_cents_total / 100
    p["profit"] = (p.revenue_cents - p.cost_cents_total) / 100
    p["margin_pct"] = 100 * div(p.revenue_cents - p.cost_cents_total, p.revenue_cents)
    return p


def rollup(D: Data, key: str, f: Filters) -> pd.DataFrame:
    p = D.products.copy()
    p["stock_cost"] = p.stock_quantity * p.cost_cents
    cat = p.groupby(key).agg(
        products=("product_id", "size"), stock_units=("stock_quantity", "sum"), stock_cents=("stock_cost", "sum")
    )
    it = items(D, f).merge(p[["product_id", key, "cost_cents"]], on="product_id")
    done = it[it.status == "completed"].copy()
    done["line"] = done.quantity * done.price_cents - done.discount_cents
    done["line_cost"] = done.quantity * done.cost_cents
    sales = pd.DataFrame(
        {
            "products_sold": done.groupby(key).product_id.nunique(),
            "orders": done.groupby(key).order_id.nunique(),
            "units_sold": done.groupby(key).quantity.sum(),
            "units_returned": it[it.status == "returned"].groupby(key).quantity.sum(),
            "rev": done.groupby(key).line.sum(),
            "cst": done.groupby(key).line_cost.sum(),
        }
    )
    out = cat.join(sales, how="left").reset_index()
    for col in ("products_sold", "orders", "units_sold", "units_returned", "rev", "cst"):
        out[col] = out[col].fillna(0).astype(np.int64)
    out["revenue"] = out.rev / 100
    out["cost"] = out.cst / 100
    out["profit"] = (out.rev - out.cst) / 100
    out["margin_pct"] = 100 * div(out.rev - out.cst, out.rev)
    out["stock_value"] = out.stock_cents / 100
    out["revenue_share"] = div(out.rev, out.rev.sum())
    return out


def abc_classes(D: Data, f: Filters, a_share: float = 0.8, b_share: float = 0.95) -> pd.DataFrame:
    p = product_performance(D, f)[["product_id", "product_name", "category", "brand", "revenue_cents"]]
    p = p.sort_values(["revenue_cents", "product_id"], ascending=[False, True]).reset_index(drop=True)
    total = p.revenue_cents.sum()
    cum = p.revenue_cents.cumsum()
    p["rank"] = np.arange(1, len(p) + 1)
    p["revenue"] = p.revenue_cents / 100
    p["revenue_share"] = div(p.revenue_cents, total)
    p["cumulative_share"] = div(cum, total)
    before = div(cum - p.revenue_cents, total)
    p["abc_class"] = np.select(
        [p.revenue_cents <= 0, before < a_share, before < b_share], ["C", "A", "B"], "C"
    )
    return p


def stock(D: Data, f: Filters, window_days: int = 90, as_of: date | None = None) -> pd.DataFrame:
    ref = default_as_of(D, f, as_of)
    it = completed(items(D, f, dates=False)).copy()
    it["days_ago"] = (ref - it.order_date.dt.normalize()).dt.days
    it = it[it.days_ago >= 1]
    units = it[it.days_ago <= window_days].groupby("product_id").quantity.sum()
    last = it.groupby("product_id").order_date.max()
    p = D.products[["product_id", "product_name", "category", "brand", "stock_quantity", "cost_cents"]].copy()
    p["stock_value"] = p.stock_quantity * p.cost_cents / 100
    p["units_window"] = p.product_id.map(units).fillna(0).astype(int)
    p["daily_demand"] = p.units_window / window_days
    p["days_of_cover"] = div(p.stock_quantity, p.daily_demand)
    p["last_sold_at"] = p.product_id.map(last)
    p["days_since_last_sale"] = (ref - p.last_sold_at.dt.normalize()).dt.days
    p["as_of"] = ref
    return p


def slow_movers(D: Data, f: Filters, window_days: int = 90, max_units: int = 1) -> pd.DataFrame:
    p = stock(D, f, window_days)
    return p[(p.stock_quantity > 0) & (p.units_window <= max_units)]


def product_pairs(D: Data, f: Filters, min_orders: int = 2) -> pd.DataFrame:
    it = items(D, f)
    basket = it[it.status != "cancelled"][["order_id", "product_id"]].drop_duplicates()
    n = basket.order_id.nunique()
    single = basket.groupby("product_id").size()
    counts: dict[tuple[int, int], int] = {}
    for _, prods in basket.groupby("order_id").product_id:
        for a, b in itertools.combinations(sorted(prods), 2):
            counts[(a, b)] = counts.get((a, b), 0) + 1
    rows = [
        {"product_a": a, "product_b": b, "orders_together": k}
        for (a, b), k in counts.items()
        if k >= min_orders
    ]
    out = pd.DataFrame(rows, columns=["product_a", "product_b", "orders_together"])
    names = D.products.set_index("product_id").product_name
    out["product_a_name"] = out.product_a.map(names)
    out["product_b_name"] = out.product_b.map(names)
    out["orders_a"] = out.product_a.map(single)
    out["orders_b"] = out.product_b.map(single)
    out["support"] = out.orders_together / n
    out["confidence_a_b"] = out.orders_together / out.orders_a
    out["confidence_b_a"] = out.orders_together / out.orders_b
    out["lift"] = out.orders_together * n / (out.orders_a * out.orders_b)
    return out.sort_values(
        ["orders_together", "lift", "product_a", "product_b"], ascending=[False, False, True, True]
    ).reset_index(drop=True)


# -------------------------------------------------------------------------------------- geography
def geography(D: Data, level: str, f: Filters) -> pd.DataFrame:
    keys = ["country"] if level == "country" else ["country", "region"]
    ref = default_as_of(D, f)
    o = completed(orders(D, f, dates=False)).merge(D.customers[["customer_id", *keys]], on="customer_id")
    o["days_ago"] = (ref - o.order_date.dt.normalize()).dt.days
    o["win"] = in_window(o.order_date, f)
    rows = []
    for k, g in o.groupby(keys):
        w = g[g.win]
        rows.append(
            {
                **dict(zip(keys, k, strict=True)),
                "revenue": w.cents.sum() / 100,
                "orders": len(w),
                "customers": w.customer_id.nunique(),
                "revenue_12m": g[g.days_ago.between(1, 365)].cents.sum() / 100,
                "revenue_prev_12m": g[g.days_ago.between(366, 730)].cents.sum() / 100,
            }
        )
    out = pd.DataFrame(rows, columns=[*keys, "revenue", "orders", "customers", "revenue_12m", "revenue_prev_12m"])
    out = out[(out.orders > 0) | (out.revenue_12m > 0) | (out.revenue_prev_12m > 0)].copy()
    out["aov"] = div(out.revenue, out.orders)
    out["revenue_share"] = div(out.revenue, out.revenue.sum())
    out["growth_12m"] = div(out.revenue_12m - out.revenue_prev_12m, out.revenue_prev_12m)
    return out


def penetration(D: Data, level: str, f: Filters) -> pd.DataFrame:
    keys = ["country"] if level == "country" else ["country", "region"]
    c = D.customers[D.customers.customer_id.isin(customer_ids(D, f))]
    if f.end is not None:
        c = c[c.created_at < ts(f.end) + DAY]
    buyers = set(completed(orders(D, f)).customer_id)
    c = c.assign(is_buyer=c.customer_id.isin(buyers).astype(int))
    g = c.groupby(keys).agg(registered=("customer_id", "size"), buyers=("is_buyer", "sum")).reset_index()
    g["activation_rate"] = div(g.buyers, g.registered)
    g["buyer_share"] = div(g.buyers, g.buyers.sum())
    if level == "country":
        g["population_millions"] = g.country.map(POPULATION_MILLIONS)
    else:
        g["population_millions"] = np.nan
    g["buyers_per_million"] = div(g.buyers, g.population_millions)
    return g

