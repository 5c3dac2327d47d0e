"""What the customers buy: order times from the BG/NBD process, the order lines of each basket,
payment methods and order statuses.

Each step draws from the generator it is given, in a fixed order: see
:func:`sales_analytics.synth.generate`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from sales_analytics.storage.schema import PAYMENT_METHODS
from sales_analytics.synth.catalog import CATEGORIES, COUNTRIES, PAYMENT_MIX
from sales_analytics.synth.entities import Products
from sales_analytics.synth.seasonality import time_of_day


@dataclass(frozen=True, eq=False)
class Purchases:
    """The purchase process: its latent draws per customer and the orders it placed."""

    lam: np.ndarray  # per customer: purchase rate per operational day
    p: np.ndarray  # per customer: dropout probability after each repeat order
    t0: np.ndarray  # per customer: first order, operational time
    n_repeat: np.ndarray  # per customer: repeat orders placed in the window
    dropped: np.ndarray  # per customer: dropped out inside the window, after its last order
    dropout_day: np.ndarray  # per customer: day index of that last order, -1 while alive
    order_day: np.ndarray  # per order, chronological: day index after the start
    order_secs: np.ndarray  # per order: seconds after midnight
    order_customer: np.ndarray  # per order: customer index


@dataclass(frozen=True, eq=False)
class OrderLines:
    """The baskets: one entry per order line, with per-order and per-customer helpers."""

    basket_mu: np.ndarray  # per customer: mean extra items per order
    items_per_order: np.ndarray  # per order
    order: np.ndarray  # per line: order index
    product: np.ndarray  # per line: product index
    quantity: np.ndarray  # per line
    unit_cents: np.ndarray  # per line: price paid per unit, int64 cents
    order_cents: np.ndarray  # per order: total, int64 cents


def purchase_process(
    rng: np.random.Generator,
    m: np.ndarray,
    signup_day: np.ndarray,
    signup_secs: np.ndarray,
    prm: Mapping[str, float],
) -> Purchases:
    """Run the BG/NBD process in operational time (``m``: the intensity of each day).

    The first order is placed on the sign-up day, a little after the sign-up; repeat orders follow
    a Poisson process with rate ``lam ~ Gamma(r, rate=alpha)`` until the window ends or the
    customer drops out (probability ``p ~ Beta(a, b)`` after each repeat order; with
    ``first_order_dropout`` = 1 also after the first order, the modified BG/NBD, from the same
    random draws).
    """
    days = m.size
    n_cust = signup_day.size
    cum = np.concatenate([[0.0], np.cumsum(m)])  # operational time at the start of each day
    lam = rng.gamma(prm["r"], 1.0 / prm["alpha"], size=n_cust)
    p = rng.beta(prm["a"], prm["b"], size=n_cust)
    t0 = cum[signup_day] + rng.random(n_cust) * m[signup_day]  # first order, operational time
    horizon = cum[-1] - t0
    n_poisson = rng.poisson(lam * horizon)
    n_dropout = rng.geometric(p)  # repeat orders before dropping out (BG/NBD)
    if prm.get("first_order_dropout", 0.0):
        n_dropout = n_dropout - 1  # modified BG/NBD: a customer can leave after the first order
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
    order_secs = time_of_day(rng, order_day.size)
    # the first order follows the sign-up within the same day
    first_secs = np.minimum(signup_secs + rng.integers(30, 1800, n_cust), 86_399)
    order_secs[:n_cust] = first_secs
    # a repeat order on the sign-up day comes after the first one
    same_day = order_day[n_cust:] == signup_day[owner]
    fs = first_secs[owner[same_day]]
    rep_secs = order_secs[n_cust:]
    rep_secs[same_day] = fs + rep_secs[same_day] % np.maximum(1, 86_400 - fs)
    # chronological order ids
    sort_key = order_day.astype(np.int64) * 86_400 + order_secs
    order_perm = np.lexsort((cust_of_order, sort_key))
    dropout_day = np.where(
        dropped, np.minimum(np.searchsorted(cum, last_op, side="right") - 1, days - 1), -1
    )
    return Purchases(
        lam=lam,
        p=p,
        t0=t0,
        n_repeat=n_repeat,
        dropped=dropped,
        dropout_day=dropout_day,
        order_day=order_day[order_perm],
        order_secs=order_secs[order_perm],
        order_customer=cust_of_order[order_perm],
    )


def order_lines(
    rng: np.random.Generator,
    purchases: Purchases,
    fav_category: np.ndarray,
    products: Products,
    promotion_days: np.ndarray,
    prm: Mapping[str, float],
) -> OrderLines:
    """Fill each order's basket: ``1 + Poisson(mu)`` items (``mu ~ Gamma`` per customer), half of
    them from the customer's favourite category, quantities ``1 + Poisson(0.25)``; 25% off on
    promotion days, 10% off on 8% of the lines."""
    cust_of_order = purchases.order_customer
    n_orders = cust_of_order.size
    mu = rng.gamma(prm["basket_shape"], prm["basket_scale"], size=fav_category.size)
    items_per_order = 1 + rng.poisson(mu[cust_of_order])
    n_items = int(items_per_order.sum())
    item_order = np.repeat(np.arange(n_orders), items_per_order)
    use_fav = rng.random(n_items) < 0.5
    cat_of_item = np.where(use_fav, np.repeat(fav_category[cust_of_order], items_per_order), -1)
    product_idx = _draw_products(rng, cat_of_item, products.category, products.popularity)
    quantity = 1 + rng.poisson(0.25, size=n_items)
    promo = np.repeat(promotion_days[purchases.order_day], items_per_order)
    small_discount = rng.random(n_items) < 0.08
    keep_pct = np.where(promo, 75, np.where(small_discount, 90, 100))
    unit_cents = (products.price_cents[product_idx] * keep_pct + 50) // 100  # half-up to the cent
    line_cents = unit_cents * quantity
    order_cents = np.bincount(item_order, weights=line_cents, minlength=n_orders).astype(np.int64)
    return OrderLines(
        basket_mu=mu,
        items_per_order=items_per_order,
        order=item_order,
        product=product_idx,
        quantity=quantity,
        unit_cents=unit_cents,
        order_cents=order_cents,
    )


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


def payment_and_status(
    rng: np.random.Generator,
    order_country: np.ndarray,
    lines: OrderLines,
    product_category: np.ndarray,
    prm: Mapping[str, float],
) -> tuple[np.ndarray, np.ndarray]:
    """Each order's payment method (index into PAYMENT_METHODS, by the country's mix) and status
    (index into ORDER_STATUSES: cancelled more often for cash on delivery, returned by the
    categories in the basket)."""
    n_orders = order_country.size
    payment = _payment_methods(rng, order_country)
    cod = payment == PAYMENT_METHODS.index("cash_on_delivery")
    cancelled = rng.random(n_orders) < np.where(cod, prm["cancel_rate_cod"], prm["cancel_rate"])
    return_rate = np.array([spec[3] for spec in CATEGORIES.values()])[product_category[lines.product]]
    items = lines.items_per_order
    p_return = np.bincount(lines.order, weights=return_rate, minlength=n_orders) / items
    p_return = 1 - (1 - p_return) ** np.sqrt(items)
    returned = ~cancelled & (rng.random(n_orders) < p_return)
    status = np.where(cancelled, 1, np.where(returned, 2, 0))  # index into ORDER_STATUSES
    return payment, status


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
