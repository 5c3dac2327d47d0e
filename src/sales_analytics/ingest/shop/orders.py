"""Canonical lines -> checked orders, items, customers, products and refunds (one pass, vectorised).

Order-level values are taken per order from its lines (first non-empty; lines that give
different values reject the order), converted (dates to the shop's timezone, amounts to the
shop's currency), and checked; an order loads with all its lines or not at all. Rules and their
reasons: docs/import.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sales_analytics.ingest.dates import DateWindow
from sales_analytics.ingest.keys import map_keys
from sales_analytics.ingest.parse import (
    MISSING,
    NOT_NUMERIC,
    OK,
    OUT_OF_RANGE,
    TOO_PRECISE,
    parse_integer,
)
from sales_analytics.ingest.reader import STRING
from sales_analytics.ingest.rejects import RejectLog, Rejects, each_quoted, quoted
from sales_analytics.ingest.schema import MAX_LENGTH, PLACEHOLDER_EMAIL, PLACEHOLDERS
from sales_analytics.ingest.shop.source import ORDER_COLUMNS, TARGETS, SourceLines
from sales_analytics.ingest.shop.values import convert, parse_amount, parse_times, split_refund

_EMAIL = r"[^@\s]+@[^@\s]+\.[^@\s]+"


@dataclass(frozen=True)
class Shop:
    """What an import converts to: the shop's currency, timezone, and the user's rates
    (currency -> shop currency per unit)."""

    currency: str
    timezone: str
    rates: Mapping[str, float]


@dataclass(frozen=True)
class Batch:
    """The accepted orders of one export, in the shop's currency and time.

    ``orders`` (index order_id): order_key, customer_id, order_date, status, payment_method,
    total/discount/shipping/tax cents, discount_code, cancelled_at, charged cents and the
    cumulative refunded parts ``refund_product/refund_shipping/refund_tax``. ``items``: one row
    per accepted line. ``refunds``: refunds the source lists one by one (order_id, refund_id,
    refunded_at or NaT, cents). ``rejects``: the reasons per line.
    """

    source: SourceLines
    orders: pd.DataFrame
    items: pd.DataFrame
    customers: pd.DataFrame
    products: pd.DataFrame
    refunds: pd.DataFrame
    rejects: RejectLog
    rejected_orders: int


def build(src: SourceLines, shop: Shop, window: DateWindow) -> Batch:
    """Check and convert every order of ``src`` (see the module docstring)."""
    rules, label = src.rules, src.rules.label
    rej = Rejects(src.n)
    key = src.col("order_key")
    rej.add((key == "").to_numpy(dtype=bool), f"missing {label('order_key')}")
    codes, uniques = pd.factorize(key.where(key != "", None), use_na_sentinel=True)
    n_orders = len(uniques)
    keyed = codes >= 0
    by_line = each_quoted(key)
    okey = label("order_key")

    def reject_orders(bad: np.ndarray, reason: str, detail=None) -> None:
        """Reject every line of the orders (codes) flagged in ``bad`` (bool per order).

        ``detail``: per-order values (indexed by order code), formatted only for rejected lines.
        """
        if not bad.any():
            return
        mask = keyed & bad[np.where(keyed, codes, 0)]
        if detail is None:
            rej.add(mask, reason, by_line)
            return

        def text(i: np.ndarray) -> np.ndarray:
            values = detail(codes[i]) if callable(detail) else np.asarray(detail, dtype=object)[codes[i]]
            shown = pd.Series(values, dtype=object).astype(str).to_numpy(dtype=object)
            return quoted(key.iloc[i]).to_numpy(dtype=object) + ": " + shown

        rej.add(mask, reason, text)

    # ------------------------------------------------------------------ order-level values
    vals: dict[str, np.ndarray] = {}
    for col in ORDER_COLUMNS:
        if not src.has(col):
            continue
        arr = _arrow(src.text[col])
        given = pc.not_equal(arr, "").to_numpy(zero_copy_only=False) & keyed
        idx = np.flatnonzero(given)
        first_orders, first_pos = np.unique(codes[idx], return_index=True)
        # per order: the line of its first value (-1: none), then that value for every order
        pick = np.full(n_orders, -1, dtype=np.int64)
        pick[first_orders] = idx[first_pos]
        firsts = pc.take(arr, pa.array(pick, mask=pick < 0)).fill_null("")
        # a line whose value differs from its order's first value: the lines disagree
        again = pc.take(firsts, pa.array(codes[idx]))
        differs = pc.not_equal(pc.take(arr, pa.array(idx)), again).to_numpy(zero_copy_only=False)
        bad = np.zeros(n_orders, dtype=bool)
        bad[codes[idx[differs]]] = True
        reject_orders(bad, f"lines of one {okey} disagree on {label(col)}")
        vals[col] = pd.Series(pd.arrays.ArrowStringArray(firsts), dtype=STRING)

    src.release(ORDER_COLUMNS)  # their values per order are taken: free the file's columns
    empty = pd.Series(np.full(n_orders, "", dtype=object), dtype=STRING)

    def value(col: str) -> pd.Series:
        return vals.get(col, empty)

    # dates: to the shop's timezone
    fmt_text = rules.date_format or rules.date_formats_text
    created_text = value("created_at")
    created = parse_times(created_text, shop.timezone, rules.source_tz, rules.date_format)
    missing = (created_text == "").to_numpy(dtype=bool)
    reject_orders(missing, f"missing {label('created_at')}")
    bad = ~missing & np.isnat(created)
    reject_orders(bad, f"unparseable {label('created_at')}", _q(created_text, f" (expected {fmt_text})"))
    implausible = f"implausible {label('created_at')}"
    reject_orders(window.too_early(created), implausible, _q(created_text, " " + window.before_text))
    reject_orders(window.too_late(created), implausible, _q(created_text, " " + window.after_text))
    cancel_text = value("cancelled_at")
    cancelled_at = parse_times(cancel_text, shop.timezone, rules.source_tz, rules.date_format)
    bad = (cancel_text != "").to_numpy(dtype=bool) & np.isnat(cancelled_at)
    reject_orders(bad, f"unparseable {label('cancelled_at')}", _q(cancel_text, f" (expected {fmt_text})"))

    # status
    if "status" in vals:
        raw_status = value("status")
        status = raw_status.str.lower().map(dict(rules.statuses)).fillna("").to_numpy(dtype=object)
        none = (raw_status == "").to_numpy(dtype=bool)
        reject_orders(none, f"missing {label('status')}")
        known = ", ".join(dict.fromkeys(rules.statuses))
        reject_orders(
            ~none & (status == ""), f"unknown {label('status')}", _q(raw_status, f" (expected {known})")
        )
    else:
        status = np.full(n_orders, rules.status_default, dtype=object)
    status = np.where(~np.isnat(cancelled_at), "cancelled", status).astype(object)

    # currency and rates
    currency = value("currency").str.upper()
    currency = currency.where(currency != "", shop.currency)
    bad = ~currency.str.fullmatch(r"[A-Z]{3}").to_numpy(dtype=bool)
    reject_orders(bad, f"invalid {label('currency')}", _q(value("currency"), " (expected a 3-letter ISO 4217 code)"))
    rates = {shop.currency: 1.0, **dict(shop.rates)}
    rate = currency.map(rates).to_numpy(dtype=np.float64, na_value=np.nan)
    no_rate = ~bad & np.isnan(rate)
    reject_orders(
        no_rate,
        "currency without a rate",
        lambda c: currency.iloc[c].to_numpy(dtype=object)
        + f" is not the shop's currency ({shop.currency}): pass --rates FILE.csv with a rate for it",
    )
    rate = np.where(np.isnan(rate), 1.0, rate)

    # order-level amounts
    money: dict[str, np.ndarray] = {}
    for col in ("discount", "shipping", "taxes", "refunded"):
        text = value(col)
        cents, code = parse_amount(text, rules.decimal)
        code[code == MISSING] = OK
        _amount_rejects(code, cents, label(col), text, reject_orders)
        money[col] = np.where(code == OK, cents, 0)
    discount_given = (value("discount") != "").to_numpy(dtype=bool)

    email = value("email").str.lower()
    has_email = (email != "").to_numpy(dtype=bool)
    reject_orders(has_email & ~email.str.fullmatch(_EMAIL).to_numpy(dtype=bool), f"invalid {label('email')}", _q(email))
    reject_orders((email.str.len() > MAX_LENGTH["email"]).to_numpy(dtype=bool), f"{label('email')} longer than 255 characters")

    # ------------------------------------------------------------------ line values
    qty, qcode = parse_integer(src.col("quantity"))
    qlabel = label("quantity")
    rej.add(qcode == MISSING, f"missing {qlabel}")
    rej.add(np.isin(qcode, (NOT_NUMERIC,)), f"non-numeric {qlabel}", each_quoted(src.col("quantity")))
    rej.add((qcode != OK) & ~np.isin(qcode, (MISSING, NOT_NUMERIC)), f"invalid {qlabel}", each_quoted(src.col("quantity")))
    rej.add((qcode == OK) & (qty <= 0), f"{qlabel} is not positive", each_quoted(src.col("quantity")))
    price, pcode = parse_amount(src.col("price"), rules.decimal)
    _line_amount_rejects(rej, pcode, price, label("price"), src.col("price"), required=True)
    ldisc, dcode = parse_amount(src.col("line_discount"), rules.decimal)
    dcode[dcode == MISSING] = OK
    _line_amount_rejects(rej, dcode, ldisc, label("line_discount"), src.col("line_discount"))
    ldisc = np.where(dcode == OK, ldisc, 0)
    line_amount = np.where((qcode == OK) & (pcode == OK), qty * price, 0)
    rej.add(ldisc > line_amount, f"{label('line_discount')} exceeds the line amount", each_quoted(src.col("line_discount")))
    sku, name = src.col("sku"), src.col("product_name")
    rej.add(((sku == "") & (name == "")).to_numpy(dtype=bool), f"missing {label('product_name')} and {label('sku')}")

    _poison_whole_orders(rej, codes, key, okey, src.lines)

    # ------------------------------------------------------------------ order totals
    ok_line = rej.valid & keyed
    oc = codes[ok_line]
    gross = np.bincount(oc, weights=line_amount[ok_line], minlength=n_orders).astype(np.int64)
    line_disc = np.bincount(oc, weights=ldisc[ok_line], minlength=n_orders).astype(np.int64)
    discount = np.where(discount_given, money["discount"], line_disc)
    # the totals of an order already rejected lack its lines: checking them would add made-up reasons
    alive = np.bincount(codes[keyed & ~rej.valid], minlength=n_orders) == 0
    reject_orders(
        alive & discount_given & (discount < line_disc),
        f"{label('discount')} is less than the sum of {label('line_discount')}",
        _cents_pair(discount, line_disc),
    )
    reject_orders(
        alive & (discount > gross), f"{label('discount')} exceeds the order's gross sales", _cents_pair(discount, gross)
    )
    charged_src = gross - discount + money["shipping"] + money["taxes"]
    reject_orders(
        alive & (money["refunded"] > charged_src),
        f"{label('refunded')} exceeds the order's total",
        _cents_pair(money["refunded"], charged_src),
    )
    _poison_whole_orders(rej, codes, key, okey, src.lines)

    # ------------------------------------------------------------------ convert to the shop's currency
    ok_line = rej.valid & keyed
    line_rate = rate[np.where(keyed, codes, 0)]
    price_c = convert(price, line_rate)
    ldisc_c = convert(ldisc, line_rate)
    oc = codes[ok_line]
    gross_c = np.bincount(oc, weights=(qty * price_c)[ok_line], minlength=n_orders).astype(np.int64)
    line_disc_c = np.bincount(oc, weights=ldisc_c[ok_line], minlength=n_orders).astype(np.int64)
    discount_c = np.minimum(np.maximum(convert(discount, rate), line_disc_c), gross_c)
    subtotal = gross_c - discount_c
    shipping_c = convert(money["shipping"], rate)
    tax_c = convert(money["taxes"], rate)
    charged = subtotal + shipping_c + tax_c
    refunded_c = np.minimum(convert(money["refunded"], rate), charged)
    # refunded in full: a full refund, or a cancellation of an order that was charged (Shopify
    # refunds a cancelled order whole); a cancelled order with nothing refunded was never charged
    full = (status == "returned") | (money["refunded"] == charged_src)
    full |= (status == "cancelled") & (money["refunded"] > 0)
    refunded_c = np.where(full, charged, refunded_c)
    r_product, r_ship, r_tax = split_refund(refunded_c, subtotal, shipping_c, tax_c)

    accepted_orders = np.zeros(n_orders, dtype=bool)
    accepted_orders[codes[ok_line]] = True
    rejected_orders = np.zeros(n_orders, dtype=bool)
    rejected_orders[codes[rej.mask & keyed]] = True
    rejected_orders &= ~accepted_orders

    # ------------------------------------------------------------------ identities
    order_keys = pd.Series(uniques, dtype=object)
    order_id = map_keys(order_keys) if n_orders else np.zeros(0, dtype=np.int64)
    customer_text = value("customer_key")
    customer_text = customer_text.where(customer_text != "0", "")
    identity = email.where(has_email, customer_text)
    identity = identity.where(identity != "", "guest:" + order_keys)
    customer_id = map_keys(identity) if n_orders else np.zeros(0, dtype=np.int64)

    sel = np.flatnonzero(accepted_orders)
    payment = value("payment_method").str.lower().str.replace(r"[\s\-]+", "_", regex=True)
    payment = payment.str.slice(0, MAX_LENGTH["payment_method"]).where(payment != "", "unknown")
    codes_text = value("discount_code").str.slice(0, 255)
    orders = pd.DataFrame(
        {
            "order_key": order_keys.to_numpy()[sel],
            "customer_id": customer_id[sel],
            "order_date": created[sel],
            "status": status[sel],
            "payment_method": payment.to_numpy(dtype=object)[sel],
            "total_cents": subtotal[sel],
            "discount_cents": discount_c[sel],
            "shipping_cents": shipping_c[sel],
            "tax_cents": tax_c[sel],
            "discount_code": np.where(
                (codes_text != "").to_numpy(dtype=bool), codes_text.to_numpy(dtype=object), None
            )[sel],
            "cancelled_at": cancelled_at[sel],
            "refund_product": r_product[sel],
            "refund_shipping": r_ship[sel],
            "refund_tax": r_tax[sel],
            "fulfilment_status": _fulfilment(value("fulfillment"))[sel],
        },
        index=pd.Index(order_id[sel], name="order_id"),
    )

    # ------------------------------------------------------------------ items and products
    lines_ok = np.flatnonzero(ok_line)
    product_key = sku.where(sku != "", "name:" + name)
    pcodes, puniq = pd.factorize(product_key.iloc[lines_ok])
    product_id = np.zeros(src.n, dtype=np.int64)
    if len(lines_ok):
        product_id[lines_ok] = map_keys(pd.Series(puniq, dtype=STRING))[pcodes]
    items = pd.DataFrame(
        {
            "order_id": order_id[codes[lines_ok]],
            "product_id": product_id[lines_ok],
            "quantity": qty[lines_ok],
            "price_cents": price_c[lines_ok],
            "discount_cents": ldisc_c[lines_ok],
        }
    )
    items["position"] = items.groupby("order_id", sort=False).cumcount().to_numpy()
    # per product: the attributes and price of its latest line, created at its first
    line_dates = created[codes[lines_ok]].view(np.int64)
    order = np.lexsort((line_dates, product_id[lines_ok]))
    pid_sorted = product_id[lines_ok][order]
    # (sliced: a file whose every order is rejected has no line here, and no product)
    last = np.flatnonzero(np.r_[pid_sorted[1:] != pid_sorted[:-1], True][: len(pid_sorted)])
    start = np.r_[0, last[:-1] + 1][: len(last)]
    pick = lines_ok[order[last]]

    def attr(col: str, limit: int) -> np.ndarray:
        return src.col(col).iloc[pick].str.slice(0, limit).to_numpy(dtype=object)

    names = attr("product_name", MAX_LENGTH["product_name"])
    names = np.where(names == "", attr("sku", MAX_LENGTH["product_name"]), names)
    products = pd.DataFrame(
        {
            "product_name": names,
            "brand": attr("vendor", MAX_LENGTH["brand"]),
            "category": attr("category", MAX_LENGTH["category"]),
            "price_cents": price_c[pick],
            "created_at": line_dates[order[start]].astype("datetime64[us]"),
        },
        index=pd.Index(pid_sorted[last], name="product_id"),
    )

    # ------------------------------------------------------------------ customers
    first, last = _names(value("billing_name"), value("first_name"), value("last_name"))
    cust = pd.DataFrame(
        {
            "customer_id": customer_id[sel],
            "email": email.where(has_email, "").to_numpy(dtype=object)[sel],
            "first_name": first[sel],
            "last_name": last[sel],
            "country": value("country").to_numpy(dtype=object)[sel],
            "region": value("region").to_numpy(dtype=object)[sel],
            "city": value("city").to_numpy(dtype=object)[sel],
            "date": created[sel],
        }
    ).sort_values(["customer_id", "date"], kind="stable")
    cg = cust.groupby("customer_id", sort=False)
    customers = cg[["email", "first_name", "last_name", "country", "region", "city"]].first()
    customers["created_at"] = cg["date"].min()
    placeholder = PLACEHOLDER_EMAIL.split("{}")
    fallback = placeholder[0] + customers.index.astype(str) + placeholder[1]
    customers["email"] = customers["email"].where(customers["email"] != "", fallback)
    for col in ("first_name", "last_name", "country", "region", "city"):
        values = customers[col].str.slice(0, MAX_LENGTH[col])
        customers[col] = values.where(values != "", PLACEHOLDERS[col])

    refunds = _dated_refunds(src, order_keys, order_id, accepted_orders, rate, shop)
    return Batch(
        source=src,
        orders=orders,
        items=items,
        customers=customers,
        products=products,
        refunds=refunds,
        rejects=rej.freeze(),
        rejected_orders=int(rejected_orders.sum()),
    )


# ---------------------------------------------------------------------------------------- helpers
def _q(values: pd.Series, suffix: str = ""):
    """Detail for ``reject_orders``: the quoted value of each rejected order, plus ``suffix``."""
    return lambda c: quoted(values.iloc[c]).to_numpy(dtype=object) + suffix


def _cents_pair(a: np.ndarray, b: np.ndarray):
    """Detail for ``reject_orders``: ``"12.00 vs 10.00"`` of each rejected order."""

    def text(c: np.ndarray) -> pd.Series:
        c = pd.Series(c)
        return (c // 100).astype(str) + "." + (c % 100).astype(str).str.zfill(2)

    return lambda c: text(a[c]).to_numpy(dtype=object) + " vs " + text(b[c]).to_numpy(dtype=object)


def _amount_rejects(code, cents, shown, text, reject_orders) -> None:
    reject_orders(code == NOT_NUMERIC, f"non-numeric {shown}", _q(text))
    reject_orders(code == TOO_PRECISE, f"{shown} has more than 2 decimal places", _q(text))
    reject_orders(code == OUT_OF_RANGE, f"{shown} out of range", _q(text))
    reject_orders((code == OK) & (cents < 0), f"negative {shown}", _q(text))


def _line_amount_rejects(rej: Rejects, code, cents, shown, text, required: bool = False) -> None:
    if required:
        rej.add(code == MISSING, f"missing {shown}")
    rej.add(code == NOT_NUMERIC, f"non-numeric {shown}", each_quoted(text))
    rej.add(code == TOO_PRECISE, f"{shown} has more than 2 decimal places", each_quoted(text))
    rej.add(code == OUT_OF_RANGE, f"{shown} out of range", each_quoted(text))
    rej.add((code == OK) & (cents < 0), f"negative {shown}", each_quoted(text))


def _poison_whole_orders(rej: Rejects, codes, key: pd.Series, okey: str, lines: np.ndarray) -> None:
    """A rejected line takes its whole order with it."""
    poisoned = rej.poison & (codes >= 0)
    if not poisoned.any():
        return
    bad_codes = np.unique(codes[poisoned])
    mask = rej.valid & np.isin(codes, bad_codes)
    if not mask.any():
        return
    shown = pd.Series(lines[poisoned]).groupby(codes[poisoned]).agg(
        lambda v: ", ".join(map(str, sorted(v.tolist())[:5])) + (" and more" if len(v) > 5 else "")
    )
    rej.add(
        mask,
        "another line of the order is rejected",
        lambda i: (
            f"{okey} " + quoted(key.iloc[i]).to_numpy() + ", see line(s) "
            + pd.Series(codes[i]).map(shown).to_numpy()
        ),
    )


def _fulfilment(text: pd.Series) -> np.ndarray:
    """The source's fulfilment status per order, lower case with ``_`` for spaces and dashes
    (``fulfilled``, ``unfulfilled``, ``partial``, ...); None where the source gives none."""
    norm = text.str.strip().str.lower().str.replace(r"[\s\-]+", "_", regex=True).str.slice(0, 32)
    return np.where((norm != "").to_numpy(dtype=bool), norm.to_numpy(dtype=object), None)


def _arrow(s: pd.Series) -> pa.Array:
    """The Arrow string array behind a Series (one chunk)."""
    values = s.array
    if hasattr(values, "_pa_array"):
        chunked = values._pa_array
        return chunked.combine_chunks() if isinstance(chunked, pa.ChunkedArray) else chunked
    return pa.array(s.to_numpy(dtype=object), pa.string())


#: what Python's ``\s`` matches in a str, as an RE2 class body
_SPACE = r"\s\x0b\x1c-\x1f\x85\p{Z}"


def _string(values: pa.Array, index: pd.Index) -> pd.Series:
    return pd.Series(values.fill_null("").to_numpy(zero_copy_only=False), index=index, dtype=object)


def _names(billing: pd.Series, first: pd.Series, last: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    # split at the first run of white space (Python's \s, in RE2: an Arrow kernel, not a loop)
    parts = pc.extract_regex(_arrow(billing), rf"^(?P<a>[^{_SPACE}]*)[{_SPACE}]*(?P<b>.*)$")
    first = first.where(first != "", _string(parts.field("a"), billing.index))
    last = last.where(last != "", _string(parts.field("b"), billing.index))
    return (
        first.where(first != "", "Unknown").to_numpy(dtype=object),
        last.where(last != "", "Unknown").to_numpy(dtype=object),
    )


def _dated_refunds(src, order_keys, order_id, accepted, rate, shop: Shop) -> pd.DataFrame:
    frame = src.refunds.frame
    columns = ["order_id", "refund_id", "refunded_at", "cents"]
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64") for c in columns}).assign(
            refunded_at=pd.Series(dtype="datetime64[us]")
        )
    index = pd.Series(np.arange(len(order_keys)), index=order_keys.to_numpy())
    code = frame["order_key"].map(index).to_numpy(dtype=np.float64, na_value=np.nan)
    keep = ~np.isnan(code)
    code = code[keep].astype(np.int64)
    sub = frame[keep]
    ok = accepted[code]
    cents, _ = parse_amount(sub["amount"].astype(str).str.lstrip("-"), src.rules.decimal)
    at = parse_times(sub["refunded_at"].astype(str), shop.timezone, src.rules.source_tz, None)
    out = pd.DataFrame(
        {
            "order_id": order_id[code],
            "refund_id": sub["refund_id"].astype(np.int64).to_numpy(),
            "refunded_at": at,
            "cents": convert(cents, rate[code]),
        }
    )
    return out[ok].reset_index(drop=True)


__all__ = ["TARGETS", "Batch", "Shop", "build"]
