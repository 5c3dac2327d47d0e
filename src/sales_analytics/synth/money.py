"""Money beyond the basket: discount codes, shipping, taxes, refunds, cancellations, shop settings.

Applied to each block's orders after the purchase process (:func:`charges`), from a random stream
of its own (the seed and the block), so the purchase process, the baskets and the planted truth
are the same as without it. Prices in the basket are what the customer paid per unit (Black Friday
and other promotions are sale prices); the codes come on top as order-level discounts:

* ``WELCOME10``: 10% off a customer's first order, used on ``welcome_share`` of first orders;
* ``BFCM15``: 15% off from Black Friday to Cyber Monday, used on ``bfcm_share`` of those orders.

``total_amount`` is the basket less the code's discount (Shopify's subtotal). Shipping is a flat
``shipping`` fee below ``free_shipping_over`` (after discount), free above; taxes are charged on top
at the customer's country's rate (:data:`TAX_RATES`) on merchandise and shipping. A returned order
is refunded in full (its product value and the taxes on it; the shipping is kept) ``refund_days``
(uniform) after the order, never after the window, dated by the source (``dated_by='source'``);
a cancelled order is cancelled within two days of its order and never charged (no refund). Every
parameter is in :data:`MONEY_PARAMS` (recorded with the process parameters in ``params.json``).
"""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pyarrow as pa

from sales_analytics.storage.schema import TABLES
from sales_analytics.synth.entities import cents_to_decimal
from sales_analytics.synth.seasonality import is_promotion

#: Parameters of the money generated on top of the baskets (fractions, cents, days).
MONEY_PARAMS: dict[str, float] = {
    "welcome_share": 0.30,  # first orders using WELCOME10
    "welcome_pct": 0.10,
    "bfcm_share": 0.50,  # Black Friday .. Cyber Monday orders using BFCM15
    "bfcm_pct": 0.15,
    "free_shipping_over": 5000.0,  # cents, after discount
    "shipping": 490.0,  # cents
    "refund_days_min": 3.0,
    "refund_days_max": 21.0,
}
#: Sales tax / VAT charged on top, by country (others: ``DEFAULT_TAX``).
TAX_RATES: dict[str, float] = {
    "United States": 0.07, "Canada": 0.13, "United Kingdom": 0.20, "Germany": 0.19,
    "France": 0.20, "Spain": 0.21, "Italy": 0.22, "Netherlands": 0.21, "Australia": 0.10,
    "Sweden": 0.25, "Poland": 0.23, "Brazil": 0.17, "Mexico": 0.16, "Ireland": 0.23,
    "Denmark": 0.25,
}  # fmt: skip
DEFAULT_TAX = 0.10
CODES: tuple[str, ...] = ("WELCOME10", "BFCM15")
#: spawn key of the money's random stream (the blocks' streams use ``(block,)``)
_STREAM = 12


def charges(
    orders: pa.Table,
    order_cents: np.ndarray,
    country: np.ndarray,
    order_customer: np.ndarray,
    *,
    seed: int,
    block: int,
    start: date,
    end: date,
    prm: dict[str, float] | None = None,
) -> dict[str, pa.Table]:
    """``orders`` (the base columns; ``order_cents`` its baskets in cents, ``country`` of each of the
    block's customers, ``order_customer`` each order's customer index in the block) -> ``{"orders": with discounts, shipping, taxes, refunds, cancellations;
    "refunds": one per returned order}``. Refund ids are the order ids."""
    p = MONEY_PARAMS | (prm or {})
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_STREAM, block)))
    n = orders.num_rows
    u_code, u_refund, u_cancel = rng.random(n), rng.random(n), rng.random(n)
    at = orders["order_date"].to_numpy().astype("datetime64[us]")
    customer = orders["customer_id"].to_numpy()
    status = np.asarray(orders["status"].to_numpy(zero_copy_only=False), dtype=object)

    day = (at.astype("datetime64[D]") - np.datetime64(start.isoformat(), "D")).astype(np.int64)
    promo = is_promotion(start, int(day.max()) + 1 if n else 1)[day] if n else np.zeros(0, bool)
    first = np.zeros(n, dtype=bool)
    if n:
        idx = np.lexsort((at, customer))
        first[idx[np.r_[True, customer[idx][1:] != customer[idx][:-1]]]] = True
    bfcm = promo & (u_code < p["bfcm_share"])
    welcome = ~bfcm & first & (u_code < p["welcome_share"])
    pct = np.where(bfcm, p["bfcm_pct"], np.where(welcome, p["welcome_pct"], 0.0))
    discount = np.round(order_cents * pct).astype(np.int64)
    total = order_cents - discount
    shipping = np.where(total >= p["free_shipping_over"], 0, int(p["shipping"])).astype(np.int64)
    rate = np.array([TAX_RATES.get(c, DEFAULT_TAX) for c in country], dtype=float)[order_customer]
    product_tax = np.round(total * rate).astype(np.int64)
    tax = product_tax + np.round(shipping * rate).astype(np.int64)

    returned = status == "returned"
    last = np.datetime64(datetime.combine(end, datetime.max.time()).replace(microsecond=0), "us")
    span = p["refund_days_max"] - p["refund_days_min"]
    delay_s = ((p["refund_days_min"] + u_refund * span) * 86400).astype(np.int64)
    refunded_at = np.minimum(at + delay_s.astype("timedelta64[s]"), last)
    cancelled_at = at + (u_cancel * 172800).astype(np.int64).astype("timedelta64[s]")
    codes = np.where(bfcm, CODES[1], np.where(welcome, CODES[0], None))

    full = orders
    for name, values in (
        ("total_amount", cents_to_decimal(total)),
        ("discount_amount", cents_to_decimal(discount)),
        ("shipping_amount", cents_to_decimal(shipping)),
        ("tax_amount", cents_to_decimal(tax)),
        ("refunded_amount", cents_to_decimal(np.where(returned, total, 0))),
        ("discount_code", pa.array(codes, type=pa.string())),
        ("cancelled_at", pa.array(np.where(status == "cancelled", cancelled_at, np.datetime64("NaT")),
                                  type=pa.timestamp("us"))),
        # shipped unless cancelled before it went out
        ("fulfilment_status", pa.array(np.where(status == "cancelled", None, "fulfilled"),
                                       type=pa.string())),
        # not imported from a shop export: no fingerprint of source lines
        ("source_fingerprint", pa.nulls(len(orders), pa.int64())),
    ):  # fmt: skip
        if name in full.column_names:
            full = full.set_column(full.column_names.index(name), name, values)
        else:
            full = full.append_column(name, values)
    ids = orders["order_id"].to_numpy()[returned]
    refunds = pa.table(
        {
            "refund_id": pa.array(ids, type=pa.int64()),
            "order_id": pa.array(ids, type=pa.int64()),
            "refunded_at": pa.array(refunded_at[returned], type=pa.timestamp("us")),
            "amount": cents_to_decimal(total[returned]),
            "shipping_amount": cents_to_decimal(np.zeros(int(returned.sum()), dtype=np.int64)),
            "tax_amount": cents_to_decimal(product_tax[returned]),
            "dated_by": pa.array(["source"] * int(returned.sum()), type=pa.string()),
        },
        schema=TABLES["refunds"],
    )
    return {"orders": full.select(TABLES["orders"].names).cast(TABLES["orders"]), "refunds": refunds}


def line_discounts(order_discount: np.ndarray, line_order: np.ndarray, line_cents: np.ndarray) -> np.ndarray:
    """Each line's share of its order's discount, in cents (Shopify allocates an order-level code
    to the line items in proportion to their value): ``order_discount`` per order (cents, indexed
    by the block's order position), ``line_order`` each line's order position, ``line_cents`` each
    line's value (quantity x unit price). Shares are rounded down and the cents left over go to the
    lines with the largest remainders (then the first line), so an order's lines add up exactly.
    """
    line_order = np.asarray(line_order, dtype=np.int64)
    value = np.asarray(line_cents, dtype=np.int64)
    d = np.asarray(order_discount, dtype=np.int64)[line_order]
    order_value = np.bincount(line_order, weights=value, minlength=d.size and line_order.max() + 1)
    v = order_value[line_order].astype(np.int64)
    num = d * value
    share = np.where(v > 0, num // np.maximum(v, 1), 0)
    rem = np.where(v > 0, num % np.maximum(v, 1), 0)
    left = np.asarray(order_discount, dtype=np.int64) - np.bincount(
        line_order, weights=share, minlength=len(order_discount)
    ).astype(np.int64)
    # rank lines within their order by remainder (largest first, then position)
    idx = np.lexsort((np.arange(line_order.size), -rem, line_order))
    first = np.r_[0, np.flatnonzero(np.diff(line_order[idx])) + 1]
    rank = np.arange(idx.size) - np.repeat(first, np.diff(np.r_[first, idx.size]))
    extra = np.zeros(line_order.size, dtype=np.int64)
    extra[idx] = (rank < left[line_order[idx]]).astype(np.int64)
    return share + extra
