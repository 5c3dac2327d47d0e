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
category/brand structure; sale prices apply in promotions; discount codes, shipping, taxes, refunds
and cancellation times come on top from a stream of their own (:mod:`.money`). Orders are cancelled (4%, 12% for cash on
delivery) or returned (by the categories in the basket).

The shop is built in **blocks of customers** (:data:`BLOCK_CUSTOMERS`, in sign-up order), so memory
stays bounded at any scale: :func:`stream` draws the products and every customer's country and
sign-up time once (a few numbers per customer), then :meth:`Stream.blocks` yields one block's
customers, orders, order items and truth at a time. The first block continues the seed's generator
(``default_rng(seed)``); block ``b >= 1`` draws from its own generator
(``SeedSequence(seed, spawn_key=(b,))``). Same seed and arguments -> byte-identical tables, and a
shop of one block (up to 50,000 customers, scale 10) is byte for byte the one the generator made
before it streamed. Order ids are chronological within a block; order and item ids run on across
blocks. :func:`generate` concatenates the blocks. Faker is used only to build small pools of first
and last names.

The parts: :mod:`.seasonality` (the calendar), :mod:`.entities` (products and customers),
:mod:`.purchases` (order times, order lines, payment and status); this module runs them in order and
assembles the tables and the truth.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from sales_analytics.storage.schema import PAYMENT_METHODS, TABLES
from sales_analytics.storage.shop import ShopSettings
from sales_analytics.synth.catalog import CATEGORIES
from sales_analytics.synth.entities import (
    Products,
    Signups,
    cents_to_decimal,
    decimal_to_cents,
    draw_signups,
    make_customers,
    make_products,
)
from sales_analytics.synth.money import MONEY_PARAMS, charges, line_discounts
from sales_analytics.synth.purchases import order_lines, payment_and_status, purchase_process
from sales_analytics.synth.seasonality import (
    black_friday,
    daily_intensity,
    is_promotion,
    timestamps,
)

__all__ = [
    "BLOCK_CUSTOMERS", "DEFAULT_PARAMS", "Block", "GeneratedData", "Stream", "cents_to_decimal",
    "daily_intensity", "generate", "stream",
]  # fmt: skip

# tests/insights imports the Black Friday date from here
_black_friday = black_friday

CUSTOMERS_PER_SCALE = 5_000
PRODUCTS_PER_SCALE = 1_000
#: Customers per block (part of the data's definition: another size gives other data per seed).
BLOCK_CUSTOMERS = 50_000

#: True parameters of the purchase process (per operational day) and of the shop.
DEFAULT_PARAMS: dict[str, float] = {
    "r": 1.4,  # BG/NBD: lam ~ Gamma(shape=r, rate=alpha), per day
    "alpha": 15.0,
    "a": 1.6,  # BG/NBD: p ~ Beta(a, b)
    "b": 14.0,
    "first_order_dropout": 0.0,  # 1: dropout also after the first order (modified BG/NBD)
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


@dataclass(frozen=True)
class Block:
    """One block of customers: its rows of each table (``products`` in the first block only) and
    the truth of its customers."""

    index: int
    tables: dict[str, pa.Table]
    truth: pa.Table


@dataclass(eq=False)
class Stream:
    """A shop to be generated block by block (see the module docstring); from :func:`stream`."""

    params: dict[str, float]
    start: date
    end: date  # last day with orders (inclusive)
    seed: int
    scale: float
    daily_intensity: np.ndarray = field(repr=False)
    products: Products = field(repr=False)
    signups: Signups = field(repr=False)
    block_customers: int = BLOCK_CUSTOMERS
    _rng: np.random.Generator | None = field(default=None, repr=False)
    #: currency, timezone (the timestamps' zone) and fiscal year start, written to shop_settings
    settings: ShopSettings = field(default_factory=ShopSettings.defaults)

    @property
    def customers(self) -> int:
        return len(self.signups)

    @property
    def num_blocks(self) -> int:
        return -(-self.customers // self.block_customers)

    def blocks(self) -> Iterator[Block]:
        """Each block in turn (once: the first block continues the seed's generator)."""
        if self._rng is None:
            raise RuntimeError("a Stream's blocks can be read once: call stream() again")
        rng, self._rng = self._rng, None
        first_order = first_item = 1
        for b in range(self.num_blocks):
            if b:
                rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(b,)))
            lo = b * self.block_customers
            hi = min(lo + self.block_customers, self.customers)
            block = _block(self, b, rng, lo, hi, first_order, first_item)
            first_order += block.tables["orders"].num_rows
            first_item += block.tables["order_items"].num_rows
            yield block


def stream(
    scale: float = 1.0,
    seed: int = 42,
    *,
    start: date = date(2023, 1, 1),
    years: int = 3,
    params: dict[str, float] | None = None,
    block_customers: int = BLOCK_CUSTOMERS,
    settings: ShopSettings | None = None,
) -> Stream:
    """A shop to generate block by block (arguments as :func:`generate`; ``block_customers``
    other than the default gives other data for the same seed)."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    if block_customers < 1:
        raise ValueError("block_customers must be at least 1")
    prm = DEFAULT_PARAMS | MONEY_PARAMS | (params or {})
    rng = np.random.default_rng(seed)
    end_excl = date(start.year + years, start.month, start.day)
    days = (end_excl - start).days
    n_cust = max(10, int(round(CUSTOMERS_PER_SCALE * scale)))
    n_prod = max(len(CATEGORIES) * 2, int(round(PRODUCTS_PER_SCALE * scale)))

    # The draws happen in this order; changing it changes every table of a seed.
    m = daily_intensity(start, days)
    products = make_products(rng, n_prod, start)
    signups = draw_signups(rng, n_cust, m, prm["annual_growth"])
    return Stream(
        params=dict(prm), start=start, end=end_excl - timedelta(days=1), seed=seed, scale=scale,
        daily_intensity=m, products=products, signups=signups, block_customers=block_customers,
        _rng=rng, settings=settings or ShopSettings.defaults(),
    )  # fmt: skip


def generate(
    scale: float = 1.0,
    seed: int = 42,
    *,
    start: date = date(2023, 1, 1),
    years: int = 3,
    params: dict[str, float] | None = None,
    settings: ShopSettings | None = None,
) -> GeneratedData:
    """Generate a shop's tables in memory (the blocks of :func:`stream`, concatenated).

    Parameters
    ----------
    scale
        1 gives 5,000 customers and 1,000 products (>= 50,000 orders, >= 100,000 order items over
        three years); every count is linear in ``scale``. Above scale 10 prefer :func:`stream`
        (or ``sales-analytics generate``/``build``, which stream): memory then stays bounded.
    seed
        Same seed (and arguments) -> byte-identical tables.
    start, years
        The window; orders fall on ``start`` ... ``start + years`` (exclusive).
    params
        Overrides of :data:`DEFAULT_PARAMS` and :data:`~.money.MONEY_PARAMS`.
    settings
        The shop's currency, timezone and fiscal year start (default: ``SA_CURRENCY``,
        ``SA_TIMEZONE``, ``SA_FISCAL_YEAR_START``).
    """
    shop = stream(scale, seed, start=start, years=years, params=params, settings=settings)
    parts: dict[str, list[pa.Table]] = {}
    truths = []
    for block in shop.blocks():
        for name, table in block.tables.items():
            parts.setdefault(name, []).append(table)
        truths.append(block.truth)
    return GeneratedData(
        tables={name: _concat(tables) for name, tables in parts.items()},
        truth=_concat(truths),
        params=shop.params,
        start=shop.start,
        end=shop.end,
        seed=seed,
        scale=scale,
        daily_intensity=shop.daily_intensity,
    )


def _concat(tables: list[pa.Table]) -> pa.Table:
    return tables[0] if len(tables) == 1 else pa.concat_tables(tables).combine_chunks()


def _block(
    shop: Stream, b: int, rng: np.random.Generator, lo: int, hi: int, first_order: int,
    first_item: int,
) -> Block:
    """Block ``b``: customers ``lo`` .. ``hi - 1`` (0-based) and everything they buy."""
    prm, start, m, products = shop.params, shop.start, shop.daily_intensity, shop.products
    customers = make_customers(rng, shop.signups.slice(lo, hi), start, first_id=lo + 1)
    purchases = purchase_process(rng, m, customers.signup_day, customers.signup_secs, prm)
    lines = order_lines(
        rng, purchases, customers.fav_category, products, is_promotion(start, m.size), prm
    )
    cust_of_order = purchases.order_customer
    payment, status = payment_and_status(
        rng, customers.country[cust_of_order], lines, products.category, prm
    )

    n_orders = cust_of_order.size
    n_items = lines.order.size
    orders = pa.table(
        {
            "order_id": pa.array(np.arange(first_order, first_order + n_orders, dtype=np.int64)),
            "customer_id": pa.array(cust_of_order.astype(np.int64) + lo + 1),
            "order_date": timestamps(start, purchases.order_day, purchases.order_secs),
            "status": _dictionary_strings(status, ("completed", "cancelled", "returned")),
            "payment_method": _dictionary_strings(payment, PAYMENT_METHODS),
            "total_amount": cents_to_decimal(lines.order_cents),
        },
        schema=pa.schema([TABLES["orders"].field(n) for n in _BASE_ORDER_COLUMNS]),
    )
    order_items = pa.table(
        {
            "order_item_id": pa.array(np.arange(first_item, first_item + n_items, dtype=np.int64)),
            "order_id": pa.array(lines.order.astype(np.int64) + first_order),
            "product_id": pa.array(lines.product.astype(np.int64) + 1),
            "quantity": pa.array(lines.quantity.astype(np.int32)),
            "unit_price": cents_to_decimal(lines.unit_cents),
            "discount_amount": cents_to_decimal(np.zeros(n_items, dtype=np.int64)),
        },
        schema=TABLES["order_items"],
    )
    money = charges(  # discount codes, shipping, taxes, refunds: a random stream of its own
        orders, lines.order_cents, customers.country, cust_of_order, seed=shop.seed, block=b,
        start=start, end=shop.end, prm=prm,
    )  # fmt: skip
    discount = decimal_to_cents(money["orders"]["discount_amount"])
    order_items = order_items.set_column(
        order_items.schema.get_field_index("discount_amount"), "discount_amount",
        cents_to_decimal(line_discounts(
            discount, lines.order, lines.quantity.astype(np.int64) * lines.unit_cents,
        )),
    )  # fmt: skip
    tables = {"customers": customers.table, "orders": money["orders"], "order_items": order_items,
              "refunds": money["refunds"]}  # fmt: skip
    if b == 0:
        tables = {"customers": customers.table, "products": products.table} | tables
        tables["shop_settings"] = shop.settings.table()
    return Block(b, tables, _truth(purchases, lines, start, lo))


def _truth(purchases, lines, start: date, lo: int = 0) -> pa.Table:
    """One row per customer of a block (the first is customer ``lo + 1``): the latent draws a
    model fit should recover."""
    n_cust = purchases.lam.size
    orders_per_customer = np.bincount(purchases.order_customer, minlength=n_cust)
    dropout_day = purchases.dropout_day
    return pa.table(
        {
            "customer_id": pa.array(np.arange(lo + 1, lo + n_cust + 1, dtype=np.int64)),
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


_BASE_ORDER_COLUMNS = (
    "order_id", "customer_id", "order_date", "status", "payment_method", "total_amount",
)  # fmt: skip


def _dictionary_strings(codes: np.ndarray, labels: tuple[str, ...]) -> pa.Array:
    arr = pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), pa.array(list(labels)))
    return arr.cast(pa.string())
