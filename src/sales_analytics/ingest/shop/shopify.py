"""Shopify's admin export (Orders -> Export -> CSV) as canonical lines.

The export has one row per line item. ``Name`` (``#1001``) identifies the order; the order's own
fields (Email, Financial Status, Paid at, Currency, Subtotal, Shipping, Taxes, Total, Discount Code,
Discount Amount, Refunded Amount, Cancelled at, Billing ..., Payment Method, Id) are on its first
row only, the ``Lineitem ...`` fields on every row. ``Created at`` is written with the shop's UTC
offset (``2024-03-01 14:05:00 -0500``). Columns we do not use (Shipping address, Notes, Tags,
Risk Level, Tax 1 Name, ...) are ignored. See docs/import.md.
"""

from __future__ import annotations

from sales_analytics.ingest.errors import IngestError
from sales_analytics.ingest.formats.spec import normalise_name
from sales_analytics.ingest.reader import RawFile
from sales_analytics.ingest.shop.source import REQUIRED, SourceLines, SourceRules, canonical_frame

#: canonical column -> Shopify's header spellings (compared ignoring case, spaces, _ and -)
COLUMNS: dict[str, tuple[str, ...]] = {
    "order_key": ("Name",),
    "created_at": ("Created at",),
    "status": ("Financial Status",),
    "cancelled_at": ("Cancelled at",),
    "currency": ("Currency",),
    "email": ("Email",),
    "billing_name": ("Billing Name",),
    "country": ("Billing Country",),
    "region": ("Billing Province Name", "Billing Province"),
    "city": ("Billing City",),
    "payment_method": ("Payment Method",),
    "discount_code": ("Discount Code",),
    "discount": ("Discount Amount",),
    "shipping": ("Shipping",),
    "taxes": ("Taxes",),
    "refunded": ("Refunded Amount",),
    "fulfillment": ("Fulfillment Status",),
    "sku": ("Lineitem sku", "Lineitem SKU"),
    "product_name": ("Lineitem name",),
    "vendor": ("Vendor",),
    "quantity": ("Lineitem quantity",),
    "price": ("Lineitem price",),
    "line_discount": ("Lineitem discount",),
}

#: canonical columns whose spellings are alternatives in order of preference, not synonyms: a
#: real export has both ``Billing Province`` (the code, ``OR``) and ``Billing Province Name``
#: (``Oregon``, added by Shopify in 2022); the name is used, the code only without it
PREFERENCE: frozenset[str] = frozenset({"region"})
#: suffix of the second spelling's column when both are present (read where the first is empty)
FALLBACK = "__fallback"

#: Shopify's financial statuses -> ours. Authorized, pending and partially paid orders are sales
#: (Shopify's sales reports count an order when it is placed); voided and expired payments are
#: not (cancelled); a full refund is a return; a partial refund keeps the order completed and
#: books the refunded amount as a return.
STATUSES: dict[str, str] = {
    "paid": "completed",
    "pending": "completed",
    "authorized": "completed",
    "partially_paid": "completed",
    "partially_refunded": "completed",
    "unpaid": "completed",
    "refunded": "returned",
    "voided": "cancelled",
    "expired": "cancelled",
}


def read_shopify(raw: RawFile) -> SourceLines:
    """The canonical lines of a Shopify orders export (raises on a header that is not one)."""
    found = resolve_header(raw.header, COLUMNS, "shopify", PREFERENCE)
    text = canonical_frame(raw, found)
    for canonical in PREFERENCE:  # an empty preferred cell takes the other spelling's value
        if (fallback := canonical + FALLBACK) in text:
            given = text[canonical].fillna("").ne("")
            text[canonical] = text[canonical].where(given, text.pop(fallback))
            del found[fallback]
    return SourceLines(
        raw=raw,
        text=text,
        rules=SourceRules(
            statuses=STATUSES,
            labels={c: found.get(c, COLUMNS[c][0]) for c in COLUMNS},
            format_name="shopify",
        ),
    )


def resolve_header(
    header: list[str],
    columns: dict[str, tuple[str, ...]],
    fmt: str,
    preference: frozenset[str] = frozenset(),
) -> dict[str, str]:
    """canonical -> the header name of this file; one-line error for missing or doubled ones
    (for the canonical columns in ``preference`` the first spelling present wins, and the second
    one present is ``<canonical>__fallback``)."""
    by_norm: dict[str, str] = {}
    for name in header:
        by_norm.setdefault(normalise_name(name), name)
    found: dict[str, str] = {}
    for canonical, spellings in columns.items():
        hits = list(dict.fromkeys(by_norm[n] for s in spellings if (n := normalise_name(s)) in by_norm))
        if len(hits) > 1 and canonical not in preference:
            raise IngestError(f"columns {' and '.join(map(repr, hits))} both mean {spellings[0]!r}: keep one")
        if hits:
            found[canonical] = hits[0]
        if len(hits) > 1:
            found[canonical + FALLBACK] = hits[1]
    missing = [columns[c][0] for c in REQUIRED if c in columns and c not in found]
    if missing:
        raise IngestError(f"missing required column(s) for --format {fmt}: {', '.join(missing)}")
    return found
