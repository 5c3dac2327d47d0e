"""The shop's reference tables: products (categories, brands, prices, margins, stock) and
customers (countries, regions, cities, names, e-mails, sign-up times, favourite category).

Both draw from the generator they are given, in a fixed order: see
:func:`sales_analytics.synth.generate`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from faker import Faker

from sales_analytics.storage.schema import TABLES
from sales_analytics.synth.catalog import (
    ADJECTIVES,
    BRAND_STEMS,
    BRAND_SUFFIXES,
    CATEGORIES,
    COUNTRIES,
)
from sales_analytics.synth.seasonality import time_of_day, timestamps

NAME_POOL = 120  # first and last names per locale
BRANDS_PER_CATEGORY = 8


@dataclass(frozen=True, eq=False)
class Products:
    """The products table and the per-product arrays that orders are drawn from."""

    table: pa.Table
    category: np.ndarray  # index into CATEGORIES; products are sorted by it
    price_cents: np.ndarray  # list price in int64 cents
    popularity: np.ndarray  # relative sampling weight


@dataclass(frozen=True, eq=False)
class Customers:
    """The customers table and the per-customer arrays the purchase process needs."""

    table: pa.Table
    country: np.ndarray  # index into COUNTRIES
    signup_day: np.ndarray  # day index after the start, sorted
    signup_secs: np.ndarray  # seconds after midnight
    fav_category: np.ndarray  # index into CATEGORIES


def decimal_to_cents(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Arrow decimal128(_, 2) without nulls -> int64 cents (the low word; the inverse of
    :func:`cents_to_decimal` for amounts below 2**63 cents)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    words = np.frombuffer(values.buffers()[1], dtype=np.int64)
    return words[2 * values.offset : 2 * (values.offset + len(values)) : 2].copy()


def cents_to_decimal(cents: np.ndarray, precision: int = 12) -> pa.Array:
    """Exact int64 cents -> Arrow decimal128(precision, 2) (no float rounding)."""
    cents = np.asarray(cents, dtype=np.int64)
    words = np.empty((cents.size, 2), dtype=np.int64)  # little-endian int128: low, high word
    words[:, 0] = cents
    np.right_shift(cents, 63, out=words[:, 1])
    return pa.Array.from_buffers(pa.decimal128(precision, 2), cents.size, [None, pa.py_buffer(words)])


def category_shares() -> np.ndarray:
    """Each category's share of the catalogue and of the customers' favourites (sums to one)."""
    s = np.array([spec[0] for spec in CATEGORIES.values()])
    return s / s.sum()


# ---------------------------------------------------------------------------------------- products
def make_products(rng: np.random.Generator, n: int, start: date) -> Products:
    """``n`` products, each category a contiguous block, launched in the two years before ``start``."""
    cats = list(CATEGORIES)
    shares = np.array([CATEGORIES[c][0] for c in cats])
    # Products sorted by category so each category is a contiguous block (fast sampling).
    counts = np.maximum(2, np.floor(shares / shares.sum() * n).astype(int))
    counts[0] += n - counts.sum()
    prod_cat = np.repeat(np.arange(len(cats)), counts)
    # brands: 8 per category, each with a price premium
    brand_names = np.array(
        [f"{s}{x}" for s in BRAND_STEMS for x in BRAND_SUFFIXES], dtype=object
    )
    brand_choice = rng.choice(
        brand_names.size, size=(len(cats), BRANDS_PER_CATEGORY), replace=False
    )
    brand_premium = rng.lognormal(0.0, 0.3, size=(len(cats), BRANDS_PER_CATEGORY))
    brand_slot = rng.integers(0, BRANDS_PER_CATEGORY, size=n)
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
    created = timestamps(start - timedelta(days=720), launched, rng.integers(0, 86_400, size=n))
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
    return Products(table, prod_cat, price_cents, popularity)


# --------------------------------------------------------------------------------------- customers
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


@dataclass(frozen=True, eq=False)
class Signups:
    """Every customer's country and sign-up time: drawn once for the whole shop (a few arrays of
    one number per customer), so each block of customers can be built on its own."""

    country: np.ndarray  # index into COUNTRIES
    day: np.ndarray  # day index after the start, sorted
    secs: np.ndarray  # seconds after midnight

    def __len__(self) -> int:
        return self.day.size

    def slice(self, lo: int, hi: int) -> Signups:
        return Signups(self.country[lo:hi], self.day[lo:hi], self.secs[lo:hi])


def draw_signups(rng: np.random.Generator, n: int, m: np.ndarray, annual_growth: float) -> Signups:
    """``n`` customers whose sign-ups grow by ``annual_growth`` a year and follow the seasonality
    ``m`` (one multiplier per day of the window), in sign-up order."""
    share = np.array([COUNTRIES[c][0] for c in COUNTRIES])
    country = rng.choice(len(COUNTRIES), size=n, p=share / share.sum())
    growth = np.log1p(annual_growth) / 365.25
    weight = np.exp(growth * np.arange(m.size)) * m
    signup_day = np.sort(rng.choice(m.size, size=n, p=weight / weight.sum()))
    signup_secs = time_of_day(rng, n)
    return Signups(country, signup_day, signup_secs)


def make_customers(
    rng: np.random.Generator, signups: Signups, start: date, first_id: int = 1
) -> Customers:
    """The customers of ``signups`` (ids ``first_id``, ``first_id + 1``, ...): names, e-mails,
    cities and favourite categories drawn from ``rng``."""
    countries = list(COUNTRIES)
    n = len(signups)
    country, signup_day, signup_secs = signups.country, signups.day, signups.secs
    pools = _name_pools()
    first = np.empty(n, dtype=object)
    last = np.empty(n, dtype=object)
    city = np.empty(n, dtype=object)
    region = np.empty(n, dtype=object)
    email = np.empty(n, dtype=object)
    ids = np.arange(first_id, first_id + n)
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
    fav = rng.choice(len(CATEGORIES), size=n, p=category_shares())
    table = pa.table(
        {
            "customer_id": pa.array(ids.astype(np.int64)),
            "first_name": pa.array(first, type=pa.string()),
            "last_name": pa.array(last, type=pa.string()),
            "email": pc.utf8_lower(pa.array(email, type=pa.string())),
            "country": pa.array(np.array(countries, dtype=object)[country], type=pa.string()),
            "region": pa.array(region, type=pa.string()),
            "city": pa.array(city, type=pa.string()),
            "created_at": timestamps(start, signup_day, signup_secs),
        },
        schema=TABLES["customers"],
    )
    return Customers(table, country, signup_day, signup_secs, fav)
