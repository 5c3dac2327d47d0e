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

The parts: :mod:`.seasonality` (the calendar), :mod:`.entities` (products and customers),
:mod:`.purchases` (order times, order lines, payment and status); this module runs them in order and
assembles the tables and the truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from sales_analytics.storage.schema import DEFAULTS, PAYMENT_METHODS, TABLES
from sales_analytics.synth.catalog import CATEGORIES
from sales_analytics.synth.entities import cents_to_decimal, make_customers, make_products
from sales_analytics.synth.purchases import order_lines, payment_and_status, purchase_process
from sales_analytics.synth.seasonality import (
    black_friday,
    daily_intensity,
    is_promotion,
    timestamps,
)

__all__ = ["DEFAULT_PARAMS", "GeneratedData", "cents_to_decimal", "daily_intensity", "generate"]

# tests/insights imports the Black Friday date from here
_black_friday = black_friday

CUSTOMERS_PER_SCALE = 5_000
PRODUCTS_PER_SCALE = 1_000

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

    # The draws happen in this order; changing it changes every table of a seed.
    m = daily_intensity(start, days)
    products = make_products(rng, n_prod, start)
    customers = make_customers(rng, n_cust, start, m, prm["annual_growth"])
    purchases = purchase_process(rng, m, customers.signup_day, customers.signup_secs, prm)
    lines = order_lines(
        rng, purchases, customers.fav_category, products, is_promotion(start, days), prm
    )
    cust_of_order = purchases.order_customer
    payment, status = payment_and_status(
        rng, customers.country[cust_of_order], lines, products.category, prm
    )

    n_orders = cust_of_order.size
    n_items = lines.order.size
    orders = pa.table(
        {
            "order_id": pa.array(np.arange(1, n_orders + 1, dtype=np.int64)),
            "customer_id": pa.array(cust_of_order.astype(np.int64) + 1),
            "order_date": timestamps(start, purchases.order_day, purchases.order_secs),
            "status": _dictionary_strings(status, ("completed", "cancelled", "returned")),
            "payment_method": _dictionary_strings(payment, PAYMENT_METHODS),
            "total_amount": cents_to_decimal(lines.order_cents),
        },
        schema=_base_schema("orders"),
    )
    order_items = pa.table(
        {
            "order_item_id": pa.array(np.arange(1, n_items + 1, dtype=np.int64)),
            "order_id": pa.array(lines.order.astype(np.int64) + 1),
            "product_id": pa.array(lines.product.astype(np.int64) + 1),
            "quantity": pa.array(lines.quantity.astype(np.int32)),
            "unit_price": cents_to_decimal(lines.unit_cents),
        },
        schema=_base_schema("order_items"),
    )
    return GeneratedData(
        tables={
            "customers": customers.table,
            "products": products.table,
            "orders": orders,
            "order_items": order_items,
        },
        truth=_truth(purchases, lines, start),
        params=dict(prm),
        start=start,
        end=end_excl - timedelta(days=1),
        seed=seed,
        scale=scale,
        daily_intensity=m,
    )


def _truth(purchases, lines, start: date) -> pa.Table:
    """One row per customer: the latent draws a model fit should recover."""
    n_cust = purchases.lam.size
    orders_per_customer = np.bincount(purchases.order_customer, minlength=n_cust)
    dropout_day = purchases.dropout_day
    return pa.table(
        {
            "customer_id": pa.array(np.arange(1, n_cust + 1, dtype=np.int64)),
            "lam_per_day": pa.array(purchases.lam),
            "p_dropout": pa.array(purchases.p),
            "basket_mu": pa.array(lines.basket_mu),
            "first_order_op_day": pa.array(purchases.t0),
            "repeat_orders": pa.array(purchases.n_repeat.astype(np.int64)),
            "orders": pa.array(orders_per_customer.astype(np.int64)),
            "alive_at_end": pa.array(~purchases.dropped),
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


def _base_schema(name: str) -> pa.Schema:
    """The table's schema without the columns that have defaults (discounts, refunds, ...)."""
    return pa.schema([f for f in TABLES[name] if f.name not in DEFAULTS.get(name, {})])


def _dictionary_strings(codes: np.ndarray, labels: tuple[str, ...]) -> pa.Array:
    arr = pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), pa.array(list(labels)))
    return arr.cast(pa.string())
