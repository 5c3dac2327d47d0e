"""WooCommerce REST API orders (``GET /wp-json/wc/v3/orders``) saved as a JSON array or NDJSON.

Each order object (documented at developer.woocommerce.com, REST API v3, Orders) becomes one
canonical line per ``line_items[]`` entry: ``id`` is the order key, ``date_created_gmt`` the
order time (UTC, no offset written), ``status``, ``currency``, ``discount_total``,
``shipping_total``, ``total_tax``, ``customer_id`` (0 = guest), ``billing.email/first_name/
last_name/country/state/city``, ``payment_method``, ``coupon_lines[].code``; the fulfilment
status comes from ``status`` (:data:`FULFILMENT`: WooCommerce has no field of its own for it).
A line item's ``subtotal`` is its amount before discounts and ``total`` after, so its discount
is the difference and its unit price ``subtotal / quantity``. ``refunds[]`` (``id``, ``total``
negative) are the order's refunds; a ``date_created_gmt`` on a refund (as the
``/orders/<id>/refunds`` endpoint gives it) dates it, otherwise it is dated by the import.
A record's "line" in the reject file is its position: the JSON array index + 1, or the NDJSON
line number.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from sales_analytics.ingest.errors import IngestError
from sales_analytics.ingest.reader import STRING, RawFile
from sales_analytics.ingest.shop.source import DatedRefunds, SourceLines, SourceRules

#: WooCommerce's order statuses -> ours. Pending (awaiting payment), failed, cancelled, trashed
#: orders and block-checkout drafts (``checkout-draft``: a cart not yet ordered) are not sales;
#: refunded is a full refund.
STATUSES: dict[str, str] = {
    "completed": "completed",
    "processing": "completed",
    "on-hold": "completed",
    "pending": "cancelled",
    "failed": "cancelled",
    "cancelled": "cancelled",
    "trash": "cancelled",
    "checkout-draft": "cancelled",
    "refunded": "returned",
}

#: WooCommerce has no fulfilment field of its own: its status says it. "completed" is "order
#: fulfilled and complete"; "processing" and "on-hold" are paid (or awaiting payment) and not yet
#: fulfilled; the other statuses are not sales (no fulfilment status is stored for them).
FULFILMENT: dict[str, str] = {
    "completed": "fulfilled",
    "processing": "unfulfilled",
    "on-hold": "unfulfilled",
}

COLUMNS = (
    "order_key", "created_at", "status", "currency", "email", "customer_key", "first_name",
    "last_name", "country", "region", "city", "payment_method", "discount_code", "discount",
    "shipping", "taxes", "refunded", "fulfillment", "sku", "product_name", "quantity", "price",
    "line_discount",
)  # fmt: skip


def read_woocommerce(path: str | Path) -> SourceLines:
    """The canonical lines of a saved ``/wc/v3/orders`` response (one-line error if unreadable)."""
    path = Path(path)
    records = _records(path)
    rows: list[list[str]] = []
    lines: list[int] = []
    refunds: list[tuple[str, str, str, str]] = []
    for number, order in records:
        if not isinstance(order, dict):
            rows.append(["" for _ in COLUMNS])
            lines.append(number)
            continue
        billing = order.get("billing") or {}
        codes = ", ".join(str(c.get("code", "")) for c in order.get("coupon_lines") or [] if isinstance(c, dict))
        key = _text(order.get("id"))
        head = [
            key, _text(order.get("date_created_gmt")), _text(order.get("status")),
            _text(order.get("currency")), _text(billing.get("email")), _text(order.get("customer_id")),
            _text(billing.get("first_name")), _text(billing.get("last_name")),
            _text(billing.get("country")), _text(billing.get("state")), _text(billing.get("city")),
            _text(order.get("payment_method")), codes, _text(order.get("discount_total")),
            _text(order.get("shipping_total")), _text(order.get("total_tax")),
            _refunded(order.get("refunds")),
            FULFILMENT.get(_text(order.get("status")).lower(), ""),
        ]  # fmt: skip
        items = order.get("line_items") or [{}]
        for item in items:
            item = item if isinstance(item, dict) else {}
            qty, price, discount = _item_money(item)
            product = _text(item.get("sku")) or (f"woo-{item['product_id']}" if item.get("product_id") else "")
            rows.append([*head, product, _text(item.get("name")), qty, price, discount])
            lines.append(number)
        for refund in order.get("refunds") or []:
            if isinstance(refund, dict):
                refunds.append((key, _text(refund.get("id")), _text(refund.get("date_created_gmt")),
                                _text(refund.get("total") or refund.get("amount"))))
    if not rows:
        raise IngestError(f"{path} holds no orders")
    frame = pd.DataFrame(rows, columns=list(COLUMNS)).astype(STRING)
    raw = RawFile(
        path=path, header=list(COLUMNS), frame=frame,
        lines=np.asarray(lines, dtype=np.int64), field_counts=np.full(len(rows), len(COLUMNS)),
    )
    bad_ids = [r for r in refunds if not r[1].isdigit()]
    if bad_ids:
        raise IngestError(f"{path}: order {bad_ids[0][0]} has a refund without a numeric id")
    dated = pd.DataFrame(refunds, columns=["order_key", "refund_id", "refunded_at", "amount"])
    return SourceLines(
        raw=raw,
        text=frame.astype(object).apply(lambda s: s.str.strip()),
        rules=SourceRules(
            statuses=STATUSES,
            labels={"order_key": "id", "created_at": "date_created_gmt", "status": "status",
                    "currency": "currency", "email": "billing.email", "discount": "discount_total",
                    "shipping": "shipping_total", "taxes": "total_tax", "refunded": "refunds.total",
                    "quantity": "line_items.quantity",
                    "price": "line_items.subtotal", "line_discount": "line_items.total",
                    "product_name": "line_items.name", "sku": "line_items.sku"},
            source_tz="UTC",
            format_name="woocommerce",
        ),
        refunds=DatedRefunds(dated),
    )


def _records(path: Path) -> list[tuple[int, object]]:
    if not path.is_file():
        raise IngestError(f"no such file: {path}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(f"{path} is not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise IngestError(f"{path} is empty")
    if text.lstrip().startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise IngestError(f"{path} is not valid JSON: {exc.msg} (line {exc.lineno})") from None
        return [(i + 1, order) for i, order in enumerate(data)]
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            raise IngestError(f"{path}, line {number}: not valid JSON ({exc.msg})") from None
    return records


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _item_money(item: dict) -> tuple[str, str, str]:
    """(quantity, unit price before discounts, line discount) as text, exact to the cent."""
    from decimal import Decimal, InvalidOperation

    qty = _text(item.get("quantity"))
    try:
        n = int(Decimal(qty))
        subtotal = Decimal(_text(item.get("subtotal")) or "0")
        total = Decimal(_text(item.get("total")) or _text(item.get("subtotal")) or "0")
    except (InvalidOperation, ValueError):
        return qty, _text(item.get("subtotal")), ""
    if n <= 0:
        return qty, _text(item.get("price")), ""
    unit = subtotal / n
    if unit != unit.quantize(Decimal("0.01")):
        unit_text = _text(item.get("price")) or str(unit)
    else:
        unit_text = str(unit.quantize(Decimal("0.01")))
    return qty, unit_text, str((subtotal - total).quantize(Decimal("0.01")))


def _refunded(refunds) -> str:
    """The order's refunds so far (their ``total``s are negative), as text; "" if not numbers."""
    from decimal import Decimal, InvalidOperation

    total = Decimal(0)
    for refund in refunds or []:
        if isinstance(refund, dict):
            try:
                total += abs(Decimal(_text(refund.get("total") or refund.get("amount")) or "0"))
            except InvalidOperation:
                return "not a number"
    return str(total.quantize(Decimal("0.01")))
