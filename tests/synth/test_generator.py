"""The synthetic shop: sizes, determinism, and the realism later models rely on."""

from __future__ import annotations

import io
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from sales_analytics.storage import ORDER_STATUSES, PAYMENT_METHODS, TABLES
from sales_analytics.synth import generate
from sales_analytics.synth.seasonality import black_friday, daily_intensity


@pytest.fixture(scope="module")
def shop():
    return generate(scale=1, seed=42)


@pytest.fixture(scope="module")
def frames(shop):
    f = {name: t.to_pandas() for name, t in shop.tables.items()}
    for name, col in (("orders", "total_amount"), ("order_items", "unit_price"),
                      ("products", "unit_price"), ("products", "unit_cost")):
        f[name][col] = f[name][col].astype(float)
    return f


def ipc_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def test_scale_one_sizes(shop):
    n = shop.num_rows
    assert n["customers"] == 5_000
    assert n["products"] == 1_000
    assert n["orders"] >= 50_000
    assert n["order_items"] >= 100_000
    assert shop.start == date(2023, 1, 1) and shop.end == date(2025, 12, 31)


def test_tables_match_the_schema(shop):
    for name, table in shop.tables.items():
        assert table.schema.equals(TABLES[name]), name


def test_same_seed_byte_identical_other_seed_differs():
    a, b, c = generate(0.2, seed=3), generate(0.2, seed=3), generate(0.2, seed=4)
    assert set(a.tables) == set(TABLES) - {"order_events"}  # a generated shop has no history
    for name in a.tables:
        assert ipc_bytes(a.tables[name]) == ipc_bytes(b.tables[name]), name
    assert ipc_bytes(a.truth) == ipc_bytes(b.truth)
    assert ipc_bytes(a.tables["orders"]) != ipc_bytes(c.tables["orders"])


def test_linear_in_scale():
    sizes = {s: generate(s, seed=11).num_rows for s in (0.5, 1, 2)}
    for name in ("customers", "products", "orders", "order_items", "refunds"):
        per_unit = [sizes[s][name] / s for s in sizes]
        assert max(per_unit) / min(per_unit) < 1.12, (name, per_unit)


def test_keys_and_references(frames):
    c, p, o, i = (frames[k] for k in ("customers", "products", "orders", "order_items"))
    assert c.customer_id.is_unique and c.email.is_unique and p.product_id.is_unique
    assert o.order_id.is_unique and i.order_item_id.is_unique
    assert o.customer_id.isin(c.customer_id).all()
    assert i.order_id.isin(o.order_id).all() and i.product_id.isin(p.product_id).all()
    assert set(o.status) == set(ORDER_STATUSES)
    assert set(o.payment_method) <= set(PAYMENT_METHODS)
    assert (i.quantity > 0).all() and (p.unit_cost < p.unit_price).all()
    assert c.email.str.fullmatch(r"[a-z0-9.]+@[a-z0-9.-]+").all()
    # the first order comes after sign-up
    first = o.groupby("customer_id").order_date.min()
    assert (first >= c.set_index("customer_id").created_at.loc[first.index]).all()


def test_order_totals_equal_item_sums(frames):
    o, i = frames["orders"], frames["order_items"]
    sums = (i.quantity * i.unit_price).groupby(i.order_id).sum().round(2)
    o = o.set_index("order_id")  # Shopify's subtotal: the items less the order's discount codes
    net = sums - o.discount_amount.loc[sums.index].astype(float)
    assert np.allclose(o.total_amount.loc[sums.index].astype(float), net, atol=0.005)


def test_upward_trend(frames):
    o = frames["orders"]
    done = o[o.status == "completed"]
    by_year = done.groupby(done.order_date.dt.year).total_amount.sum()
    assert by_year[2023] < by_year[2024] < by_year[2025]
    assert by_year[2025] / by_year[2024] > 1.2


def test_weekly_and_yearly_seasonality(shop, frames):
    o = frames["orders"]
    daily = o.groupby(o.order_date.dt.normalize()).size()
    daily = daily.reindex(pd.date_range(shop.start, shop.end), fill_value=0)
    detrended = daily / daily.rolling(28, center=True, min_periods=7).mean()
    weekday = detrended.groupby(detrended.index.dayofweek).mean()
    assert weekday[6] > weekday[5] * 1.12  # Sunday beats Saturday
    assert weekday[0] > weekday[4] * 1.08  # Monday beats Friday
    t = np.arange(len(daily))
    trend = np.exp(np.polyval(np.polyfit(t, np.log(daily.to_numpy() + 1), 1), t))
    month = (daily / trend).groupby(daily.index.month).mean()
    assert month[12] > month[7] * 1.2


def test_black_friday_peak(shop, frames):
    o = frames["orders"]
    daily = o.groupby(o.order_date.dt.date).size()
    for year in (2023, 2024, 2025):
        bf = black_friday(year)
        november = daily[[d for d in daily.index if d.year == year and d.month == 11 and d < bf]]
        assert daily[bf] > 2.2 * november.median(), year
    # the intensity itself: Black Friday is the busiest day of the year
    m = daily_intensity(shop.start, 365)
    assert m.argmax() == (black_friday(2023) - shop.start).days


def test_statuses_and_returns(frames):
    o, i, p = frames["orders"], frames["order_items"], frames["products"]
    rates = o.status.value_counts(normalize=True)
    assert 0.03 < rates["cancelled"] < 0.07
    assert 0.05 < rates["returned"] < 0.15
    cod = o.payment_method == "cash_on_delivery"
    assert o[cod].status.eq("cancelled").mean() > 2 * o[~cod].status.eq("cancelled").mean()
    # fashion baskets come back more often than book baskets
    cat = i.merge(p[["product_id", "category"]], on="product_id").merge(o[["order_id", "status"]])
    single = cat.groupby("order_id").category.transform("nunique") == 1
    ret = cat[single].groupby("category").status.apply(lambda s: (s == "returned").mean())
    assert ret["Fashion"] > 2 * ret["Books"]


def test_category_price_and_margin_structure(frames):
    p = frames["products"]
    median = p.groupby("category").unit_price.median()
    assert median["Computers"] > median["Electronics"] > median["Books"] > median["Grocery"]
    margin = ((p.unit_price - p.unit_cost) / p.unit_price).groupby(p.category).median()
    assert margin["Beauty"] > margin["Electronics"] > margin["Computers"]
    assert p.brand.nunique() >= 40


def test_countries_have_different_sizes(frames):
    c = frames["customers"]
    share = c.country.value_counts(normalize=True)
    assert share.index[0] == "United States" and share.iloc[0] > 0.25
    assert share.min() < 0.03 and c.country.nunique() == 15
    assert c.groupby("country").region.nunique()["United States"] >= 5


def test_truth_is_consistent_with_orders(shop, frames):
    truth = shop.truth.to_pandas()
    per_customer = frames["orders"].groupby("customer_id").size()
    assert (truth.set_index("customer_id").orders == per_customer).all()
    assert (truth.orders == truth.repeat_orders + 1).all()
    prm = shop.params
    assert truth.lam_per_day.mean() == pytest.approx(prm["r"] / prm["alpha"], rel=0.06)
    assert truth.p_dropout.mean() == pytest.approx(prm["a"] / (prm["a"] + prm["b"]), rel=0.06)
    # dead customers: dropout after their last order; live ones: no dropout date
    assert truth.loc[truth.alive_at_end, "dropout_date"].isna().all()
    assert truth.loc[~truth.alive_at_end, "dropout_date"].notna().all()
    last = frames["orders"].groupby("customer_id").order_date.max().dt.date
    dead = truth.loc[~truth.alive_at_end].set_index("customer_id")
    assert (pd.to_datetime(dead.dropout_date).dt.date == last.loc[dead.index]).all()


def test_bad_scale_is_refused():
    with pytest.raises(ValueError, match="scale must be positive"):
        generate(0)
