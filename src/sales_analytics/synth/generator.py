"""Seeded, vectorised synthetic shop: customers, products, orders and order items.

The purchase process is a BG/NBD process run in *operational time*:

* each customer has a purchase rate ``lam ~ Gamma(r, rate=alpha)`` (orders per operational day) and a
  dropout probability ``p ~ Beta(a, b)``; the first order is placed on the sign-up day;
* after each repeat order the customer drops out with probability ``p`` (BG/NBD's assumption);
* operational time runs faster on busy days: a daily intensity ``m(d)`` with an upward mean of one
  carries weekly and yearly seasonality, Black Friday / Cyber Monday and December peaks. Calendar
  times are the operational times mapped back through the cumulative intensity, so the process is a
  BG/NBD process with calendar-time seasonality, and the parameters in :data:`GeneratedData.params`
  are the truth that a BG/NBD fit in operational days should recover (in calendar days the
  seasonality adds noise of a few percent).

Sign-ups grow exponentially (the revenue trend). Spend per order comes from the basket: items per
order ``1 + Poisson(mu)`` with a per-customer ``mu ~ Gamma``, quantities ``1 + Poisson(0.25)``, and
products drawn by popularity, half the time from the customer's favourite category. Prices follow a
category/brand structure; discounts apply in promotions. Orders are cancelled (4%, 12% for cash on
delivery) or returned (by the categories in the basket).

Everything is drawn from one ``numpy.random.Generator`` seeded once, in a fixed order, so the same
seed gives byte-identical tables. Faker is used only to build small pools of first and last names.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from faker import Faker

from sales_analytics.storage.schema import PAYMENT_METHODS, TABLES
from sales_analytics.synth.catalog import (
    ADJECTIVES,
    BRAND_STEMS,
    BRAND_SUFFIXES,
    CATEGORIES,
    COUNTRIES,
    PAYMENT_MIX,
)

CUSTOMERS_PER_SCALE = 5_000
PRODUCTS_PER_SCALE = 1_000
NAME_POOL = 120  # first and last names per locale

#: True parameters of the purchase process (per operational day) and of the shop.
DEFAULT_PARAMS: dict[str, float] = {
    "r": 1.4,  # BG/NBD: lam ~ Gamma(shape=r, rate=alpha), per day
    "alpha": 15.0,
    "a": 1.6,  # BG/NBD: p ~ Beta(a, b)
    "b": 14.0,
    "basket_shape": 2.0,  # extra items per order ~ Poisson(mu), mu ~ Gamma(shape, scale)
    "basket_scale": 0.8,
    "annual_growth": 0.6,  # sign-ups grow by this fraction per year
    "cancel_rate": 0.04,
    "cancel_rate_cod": 0.12,
}


@dataclass
class GeneratedData:
    """What :func:`generate` returns."""

    tables: dict[str, pa.Table]
    truth: pa.Table  # one row per customer: the latent lam, p, dropout time, alive flag
    params: dict[str, float]
    start: date
    end: date  # last day with orders (inclusive)
    seed: int
    scale: float
    daily_intensity: np.ndarray = field(repr=False)  # m(d) for each day of the window

    @property
    def num_rows(self) -> dict[str, int]:
        return {name: t.num_rows for name, t in self.tables.items()}


# ---------------------------------------------------------------------------------------- calendar
def _black_friday(year: int) -> date:
    nov1 = date(year, 11, 1)
    first_friday = nov1 + timedelta(days=(4 - nov1.weekday()) % 7)
    return first_friday + timedelta(weeks=3)


def daily_intensity(start: date, days: int) -> np.ndarray:
    """The seasonal demand multiplier m(d) for each day, normalised to mean one."""
    d = np.arange(days)
    ordinal = start.toordinal() + d
    weekday = (start.weekday() + d) % 7  # Monday = 0
    weekly = np.array([1.08, 1.03, 1.00, 0.98, 0.93, 0.88, 1.10])[weekday]
    dates = [date.fromordinal(int(o)) for o in ordinal]
    doy = np.array([x.timetuple().tm_yday for x in dates])
    month = np.array([x.month for x in dates])
    dom = np.array([x.day for x in dates])
    yearly = 1.0 + 0.12 * np.cos(2 * np.pi * (doy - 350) / 365.25) - 0.06 * np.isin(month, [7, 8])
    events = np.ones(days)
    events[(month == 12) & (dom <= 20)] *= 1.35  # Christmas shopping
    events[(month == 12) & (dom >= 24) & (dom <= 26)] *= 0.6
    events[(month == 1) & (dom <= 7)] *= 1.15  # January sales
    for year in sorted({x.year for x in dates}):
        bf = _black_friday(year).toordinal()
        for offset, mult in ((-1, 1.3), (0, 3.5), (1, 2.2), (2, 2.0), (3, 2.6), (4, 1.4)):
            idx = bf + offset - start.toordinal()
            if 0 <= idx < days:
                events[idx] *= mult
    m = weekly * yearly * events
    return m / m.mean()


def is_promotion(start: date, days: int) -> np.ndarray:
    """Days with a shop-wide 25% discount: Black Friday to Cyber Monday."""
    flags = np.zeros(days, dtype=bool)
    for year in range(start.year, (start + timedelta(days=days)).year + 1):
        bf = _black_friday(year).toordinal() - start.toordinal()
        for i in range(bf, bf + 4):
            if 0 <= i < days:
                flags[i] = True
    return flags


# ---------------------------------------------------------------------------------------- helpers
def _ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum()) or "x"


@lru_cache(maxsize=1)
def _name_pools() -> dict[str, tuple[list[str], list[str]]]:
    """Small first/last name pools per locale: reference data, built once per process."""
    pools = {}
    for locale in sorted({spec[1] for spec in COUNTRIES.values()}):
        fake = Faker(locale)
        fake.seed_instance(0)
        firsts = sorted({fake.first_name() for _ in range(NAME_POOL * 3)})[:NAME_POOL]
        lasts = sorted({fake.last_name() for _ in range(NAME_POOL * 3)})[:NAME_POOL]
        pools[locale] = (firsts, lasts)
    return pools


def cents_to_decimal(cents: np.ndarray, precision: int = 12) -> pa.Array:
    """Exact int64 cents -> Arrow decimal128(precision, 2) (no float rounding)."""
    cents = np.asarray(cents, dtype=np.int64)
    words = np.empty((cents.size, 2), dtype=np.int64)  # little-endian int128: low, high word
    words[:, 0] = cents
    np.right_shift(cents, 63, out=words[:, 1])
    return pa.Array.from_buffers(pa.decimal128(precision, 2), cents.size, [None, pa.py_buffer(words)])


def _timestamps(start: date, day_index: np.ndarray, seconds: np.ndarray) -> pa.Array:
    base = np.datetime64(start.isoformat(), "us")
    us = base + day_index.astype("timedelta64[D]") + seconds.astype("timedelta64[s]")
    return pa.array(us.astype("datetime64[us]"), type=pa.timestamp("us"))


_HOUR_PROFILE = np.array(
    [1, 0.6, 0.4, 0.3, 0.3, 0.4, 0.8, 1.5, 2.5, 3.2, 3.6, 3.8,
     4.2, 4.0, 3.7, 3.6, 3.7, 4.0, 4.6, 5.4, 6.0, 5.6, 4.2, 2.2]
)


def _time_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    hours = rng.choice(24, size=n, p=_HOUR_PROFILE / _HOUR_PROFILE.sum())
    return hours * 3600 + rng.integers(0, 3600, size=n)


# ---------------------------------------------------------------------------------------- main
def generate(
    scale: float = 1.0,
    seed: int = 42,
    *,
    start: date = date(2023, 1, 1),
    years: int = 3,
    params: dict[str, float] | None = None,
) -> GeneratedData:
    """Generate a shop's tables.

    Parameters
    ----------
    scale
        1 gives 5,000 customers and 1,000 products (>= 50,000 orders, >= 100,000 order items over
        three years); every count is linear in ``scale``.
    seed
        Same seed (and arguments) -> byte-identical tables.
    start, years
        The window; orders fall on ``start`` ... ``start + years`` (exclusive).
    params
        Overrides of :data:`DEFAULT_PARAMS`.
    """
    if scale <= 0:
        raise ValueError("scale must be positive")
    prm = DEFAULT_PARAMS | (params or {})
    rng = np.random.default_rng(seed)
    end_excl = date(start.year + years, start.month, start.day)
    days = (end_excl - start).days
    n_cust = max(10, int(round(CUSTOMERS_PER_SCALE * scale)))
    n_prod = max(len(CATEGORIES) * 2, int(round(PRODUCTS_PER_SCALE * scale)))

    m = daily_intensity(start, days)
    products, prod_cat, prod_price_cents, prod_weight = _products(rng, n_prod, start)
    customers, cust_country = _customers(rng, n_cust, start, m, prm)

    # ---- purchase process ------------------------------------------------------------------
    cum = np.concatenate([[0.0], np.cumsum(m)])  # operational time at the start of each day
    signup_day = customers["_signup_day"]
    lam = rng.gamma(prm["r"], 1.0 / prm["alpha"], size=n_cust)
    p = rng.beta(prm["a"], prm["b"], size=n_cust)
    t0 = cum[signup_day] + rng.random(n_cust) * m[signup_day]  # first order, operational time
    horizon = cum[-1] - t0
    n_poisson = rng.poisson(lam * horizon)
    n_dropout = rng.geometric(p)  # repeat orders before dropping out (BG/NBD)
    n_repeat = np.minimum(n_poisson, n_dropout)
    # Repeat order times: the first n of n_poisson sorted uniforms on (0, horizon), drawn as
    # normalised exponential spacings so only the orders actually placed are materialised.
    total_rep = int(n_repeat.sum())
    owner = np.repeat(np.arange(n_cust), n_repeat)
    ends = np.cumsum(n_repeat)  # each customer's repeat orders are [ends - n_repeat, ends)
    csum = np.concatenate([[0.0], np.cumsum(rng.exponential(1.0, size=total_rep))])
    within = csum[1:] - np.repeat(csum[ends - n_repeat], n_repeat)  # spacings summed per customer
    tail = rng.gamma((n_poisson - n_repeat + 1).astype(float))  # the spacings not materialised
    has = n_repeat > 0
    last_within = np.zeros(n_cust)
    last_within[has] = within[ends[has] - 1]
    denom = last_within + tail
    rep_op = t0[owner] + within / denom[owner] * horizon[owner]
    dropped = n_dropout <= n_poisson  # dropped out inside the window, after its last order
    last_op = t0.copy()
    last_op[has] = rep_op[ends[has] - 1]

    op_times = np.concatenate([t0, rep_op])
    cust_of_order = np.concatenate([np.arange(n_cust), owner])
    order_day = np.minimum(np.searchsorted(cum, op_times, side="right") - 1, days - 1)
    order_secs = _time_of_day(rng, order_day.size)
    # the first order follows the sign-up within the same day
    first_secs = np.minimum(customers["_signup_secs"] + rng.integers(30, 1800, n_cust), 86_399)
    order_secs[:n_cust] = first_secs
    # a repeat order on the sign-up day comes after the first one
    same_day = order_day[n_cust:] == signup_day[owner]
    fs = first_secs[owner[same_day]]
    rep_secs = order_secs[n_cust:]
    rep_secs[same_day] = fs + rep_secs[same_day] % np.maximum(1, 86_400 - fs)
    # chronological order ids
    sort_key = order_day.astype(np.int64) * 86_400 + order_secs
    order_perm = np.lexsort((cust_of_order, sort_key))
    order_day = order_day[order_perm]
    order_secs = order_secs[order_perm]
    cust_of_order = cust_of_order[order_perm]
    n_orders = order_day.size

    # ---- baskets -----------------------------------------------------------------------------
    mu = rng.gamma(prm["basket_shape"], prm["basket_scale"], size=n_cust)
    items_per_order = 1 + rng.poisson(mu[cust_of_order])
    n_items = int(items_per_order.sum())
    item_order = np.repeat(np.arange(n_orders), items_per_order)
    fav_cat = customers["_fav_category"]
    use_fav = rng.random(n_items) < 0.5
    cat_of_item = np.where(use_fav, np.repeat(fav_cat[cust_of_order], items_per_order), -1)
    product_idx = _draw_products(rng, cat_of_item, prod_cat, prod_weight)
    quantity = 1 + rng.poisson(0.25, size=n_items)
    promo = np.repeat(is_promotion(start, days)[order_day], items_per_order)
    small_discount = rng.random(n_items) < 0.08
    keep_pct = np.where(promo, 75, np.where(small_discount, 90, 100))
    unit_cents = (prod_price_cents[product_idx] * keep_pct + 50) // 100  # half-up to the cent
    line_cents = unit_cents * quantity
    order_cents = np.bincount(item_order, weights=line_cents, minlength=n_orders).astype(np.int64)

    # ---- status and payment --------------------------------------------------------------------
    country_of_order = cust_country[cust_of_order]
    payment = _payment_methods(rng, country_of_order)
    cod = payment == PAYMENT_METHODS.index("cash_on_delivery")
    cancelled = rng.random(n_orders) < np.where(cod, prm["cancel_rate_cod"], prm["cancel_rate"])
    return_rate = np.array([spec[3] for spec in CATEGORIES.values()])[prod_cat[product_idx]]
    p_return = np.bincount(item_order, weights=return_rate, minlength=n_orders) / items_per_order
    p_return = 1 - (1 - p_return) ** np.sqrt(items_per_order)
    returned = ~cancelled & (rng.random(n_orders) < p_return)
    status = np.where(cancelled, 1, np.where(returned, 2, 0))  # index into ORDER_STATUSES

    orders = pa.table(
        {
            "order_id": pa.array(np.arange(1, n_orders + 1, dtype=np.int64)),
            "customer_id": pa.array(cust_of_order.astype(np.int64) + 1),
            "order_date": _timestamps(start, order_day, order_secs),
            "status": _dictionary_strings(status, ("completed", "cancelled", "returned")),
            "payment_method": _dictionary_strings(payment, PAYMENT_METHODS),
            "total_amount": cents_to_decimal(order_cents),
        },
        schema=TABLES["orders"],
    )
    order_items = pa.table(
        {
            "order_item_id": pa.array(np.arange(1, n_items + 1, dtype=np.int64)),
            "order_id": pa.array(item_order.astype(np.int64) + 1),
            "product_id": pa.array(product_idx.astype(np.int64) + 1),
            "quantity": pa.array(quantity.astype(np.int32)),
            "unit_price": cents_to_decimal(unit_cents),
        },
        schema=TABLES["order_items"],
    )
    cust_table = pa.table(
        {k: v for k, v in customers.items() if not k.startswith("_")}, schema=TABLES["customers"]
    )

    # ---- truth ---------------------------------------------------------------------------------
    orders_per_customer = np.bincount(cust_of_order, minlength=n_cust)
    dropout_day = np.where(
        dropped, np.minimum(np.searchsorted(cum, last_op, side="right") - 1, days - 1), -1
    )
    truth = pa.table(
        {
            "customer_id": pa.array(np.arange(1, n_cust + 1, dtype=np.int64)),
            "lam_per_day": pa.array(lam),
            "p_dropout": pa.array(p),
            "basket_mu": pa.array(mu),
            "first_order_op_day": pa.array(t0),
            "repeat_orders": pa.array(n_repeat.astype(np.int64)),
            "orders": pa.array(orders_per_customer.astype(np.int64)),
            "alive_at_end": pa.array(~dropped),
            "dropout_date": pa.array(
                np.where(
                    dropout_day >= 0,
                    np.datetime64(start.isoformat(), "D") + dropout_day.astype("timedelta64[D]"),
                    np.datetime64("NaT"),
                ).astype("datetime64[D]"),
                type=pa.date32(),
            ),
        }
    )
    return GeneratedData(
        tables={
            "customers": cust_table,
            "products": products,
            "orders": orders,
            "order_items": order_items,
        },
        truth=truth,
        params=dict(prm),
        start=start,
        end=end_excl - timedelta(days=1),
        seed=seed,
        scale=scale,
        daily_intensity=m,
    )


def _dictionary_strings(codes: np.ndarray, labels: tuple[str, ...]) -> pa.Array:
    arr = pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), pa.array(list(labels)))
    return arr.cast(pa.string())


def _products(rng: np.random.Generator, n: int, start: date):
    cats = list(CATEGORIES)
    shares = np.array([CATEGORIES[c][0] for c in cats])
    # Products sorted by category so each category is a contiguous block (fast sampling).
    counts = np.maximum(2, np.floor(shares / shares.sum() * n).astype(int))
    counts[0] += n - counts.sum()
    prod_cat = np.repeat(np.arange(len(cats)), counts)
    # brands: 8 per category, each with a price premium
    brands_per_cat = 8
    brand_names = np.array(
        [f"{s}{x}" for s in BRAND_STEMS for x in BRAND_SUFFIXES], dtype=object
    )
    brand_choice = rng.choice(brand_names.size, size=(len(cats), brands_per_cat), replace=False)
    brand_premium = rng.lognormal(0.0, 0.3, size=(len(cats), brands_per_cat))
    brand_slot = rng.integers(0, brands_per_cat, size=n)
    brand_idx = brand_choice[prod_cat, brand_slot]
    median = np.array([CATEGORIES[c][1] for c in cats])[prod_cat]
    margin = np.array([CATEGORIES[c][2] for c in cats])[prod_cat]
    price = median * brand_premium[prod_cat, brand_slot] * rng.lognormal(0.0, 0.45, size=n)
    price_cents = np.maximum(99, (np.round(price) * 100 - 1).astype(np.int64))  # x.99 pricing
    item_margin = np.clip(margin + rng.normal(0, 0.06, size=n), 0.03, 0.85)
    cost_cents = np.round(price_cents * (1 - item_margin)).astype(np.int64)
    popularity = rng.lognormal(0.0, 1.1, size=n) / np.sqrt(price / median)
    # names
    adjective = rng.integers(0, len(ADJECTIVES), size=n)
    noun_choice = rng.integers(0, 1 << 30, size=n)
    names = [
        f"{brand_names[b]} {ADJECTIVES[a]} {CATEGORIES[cats[c]][4][k % len(CATEGORIES[cats[c]][4])]} {i + 1}"
        for i, (b, a, c, k) in enumerate(zip(brand_idx, adjective, prod_cat, noun_choice, strict=True))
    ]
    # stock: weeks of cover around popularity, some out-of-stock and overstocked items
    stock = np.round(popularity * rng.gamma(2.0, 20.0, size=n)).astype(np.int64)
    stock[rng.random(n) < 0.05] = 0
    launched = rng.integers(0, 720, size=n)
    created = _timestamps(start - timedelta(days=720), launched, rng.integers(0, 86_400, size=n))
    table = pa.table(
        {
            "product_id": pa.array(np.arange(1, n + 1, dtype=np.int64)),
            "product_name": pa.array(names, type=pa.string()),
            "category": pa.array(np.array(cats, dtype=object)[prod_cat], type=pa.string()),
            "brand": pa.array(brand_names[brand_idx], type=pa.string()),
            "unit_price": cents_to_decimal(price_cents),
            "unit_cost": cents_to_decimal(cost_cents),
            "stock_quantity": pa.array(stock.astype(np.int32)),
            "created_at": created,
        },
        schema=TABLES["products"],
    )
    return table, prod_cat, price_cents, popularity


def _draw_products(rng, cat_of_item, prod_cat, weight) -> np.ndarray:
    """Draw a product per item by popularity; within ``cat_of_item`` where it is >= 0."""
    cum = np.cumsum(weight)
    total = cum[-1]
    starts = np.searchsorted(prod_cat, np.arange(prod_cat.max() + 1), side="left")
    ends = np.searchsorted(prod_cat, np.arange(prod_cat.max() + 1), side="right")
    lo = np.where(cat_of_item >= 0, np.where(starts[cat_of_item] > 0, cum[starts[cat_of_item] - 1], 0.0), 0.0)
    hi = np.where(cat_of_item >= 0, cum[ends[cat_of_item] - 1], total)
    u = lo + rng.random(cat_of_item.size) * (hi - lo)
    return np.minimum(np.searchsorted(cum, u, side="right"), weight.size - 1)


def _customers(rng, n, start, m, prm):
    countries = list(COUNTRIES)
    share = np.array([COUNTRIES[c][0] for c in countries])
    country = rng.choice(len(countries), size=n, p=share / share.sum())
    # sign-up day: exponential growth with the shop's seasonality
    growth = np.log1p(prm["annual_growth"]) / 365.25
    weight = np.exp(growth * np.arange(m.size)) * m
    signup_day = np.sort(rng.choice(m.size, size=n, p=weight / weight.sum()))
    signup_secs = _time_of_day(rng, n)
    pools = _name_pools()
    first = np.empty(n, dtype=object)
    last = np.empty(n, dtype=object)
    city = np.empty(n, dtype=object)
    region = np.empty(n, dtype=object)
    email = np.empty(n, dtype=object)
    ids = np.arange(1, n + 1)
    for ci, cname in enumerate(countries):
        mask = country == ci
        k = int(mask.sum())
        if not k:
            continue
        _share, locale, domains, cities = COUNTRIES[cname]
        firsts, lasts = pools[locale]
        fi = rng.integers(0, len(firsts), size=k)
        li = rng.integers(0, len(lasts), size=k)
        cw = np.array([c[2] for c in cities])
        cj = rng.choice(len(cities), size=k, p=cw / cw.sum())
        dj = rng.integers(0, len(domains), size=k)
        first[mask] = np.array(firsts, dtype=object)[fi]
        last[mask] = np.array(lasts, dtype=object)[li]
        city[mask] = np.array([c[0] for c in cities], dtype=object)[cj]
        region[mask] = np.array([c[1] for c in cities], dtype=object)[cj]
        fslug = np.array([_ascii_slug(x) for x in firsts], dtype=object)[fi]
        lslug = np.array([_ascii_slug(x) for x in lasts], dtype=object)[li]
        email[mask] = fslug + "." + lslug + ids[mask].astype(str).astype(object) + "@" + np.array(
            domains, dtype=object
        )[dj]
    fav = rng.choice(len(CATEGORIES), size=n, p=_category_shares())
    return (
        {
            "customer_id": pa.array(ids.astype(np.int64)),
            "first_name": pa.array(first, type=pa.string()),
            "last_name": pa.array(last, type=pa.string()),
            "email": pc.utf8_lower(pa.array(email, type=pa.string())),
            "country": pa.array(np.array(countries, dtype=object)[country], type=pa.string()),
            "region": pa.array(region, type=pa.string()),
            "city": pa.array(city, type=pa.string()),
            "created_at": _timestamps(start, signup_day, signup_secs),
            "_signup_day": signup_day,
            "_signup_secs": signup_secs,
            "_fav_category": fav,
        },
        country,
    )


def _category_shares() -> np.ndarray:
    s = np.array([spec[0] for spec in CATEGORIES.values()])
    return s / s.sum()


def _payment_methods(rng, country_idx: np.ndarray) -> np.ndarray:
    countries = list(COUNTRIES)
    out = np.empty(country_idx.size, dtype=np.int64)
    u = rng.random(country_idx.size)
    for ci, cname in enumerate(countries):
        mask = country_idx == ci
        mix = PAYMENT_MIX.get(cname, PAYMENT_MIX["default"])
        codes = np.array([PAYMENT_METHODS.index(k) for k in mix])
        probs = np.cumsum(list(mix.values()))
        probs /= probs[-1]
        out[mask] = codes[np.minimum(np.searchsorted(probs, u[mask], side="right"), len(codes) - 1)]
    return out
