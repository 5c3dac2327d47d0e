"""The supported export layouts, as data: which header names mean what, and the format's rules.

Every format is mapped onto the same canonical line columns (``order_key``, ``customer_key``,
``product_key``, ``order_date``, ``quantity``, ``unit_price`` and optional attributes); the rest of
the import does not know which layout a file had, only the few policy flags below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sales_analytics.ingest.errors import IngestError

CANONICAL: tuple[str, ...] = (
    "order_key",
    "customer_key",
    "product_key",
    "order_date",
    "quantity",
    "unit_price",
    "email",
    "first_name",
    "last_name",
    "country",
    "region",
    "city",
    "product_name",
    "category",
    "brand",
    "cost",
    "status",
    "payment_method",
)


@dataclass(frozen=True)
class FormatSpec:
    """One export layout.

    ``columns`` maps a canonical column to the header spellings that mean it, compared after
    :func:`normalise_name` (case, spaces, ``_`` and ``-`` ignored); the first spelling is the one
    shown in messages.
    """

    name: str
    columns: dict[str, tuple[str, ...]]
    required: tuple[str, ...]
    #: date formats tried in order ("ISO8601" = any ISO 8601 date or timestamp)
    date_formats: tuple[str, ...]
    #: the sign of the quantity carries the status (negative = return), and an order key starting
    #: with ``cancel_prefix`` marks a cancellation
    signed_quantity: bool
    cancel_prefix: str | None
    #: attributes chosen by a rule (most frequent value per key) rather than required to agree;
    #: they are never compared with the database
    derived: frozenset[str]
    #: exact duplicate lines: drop the copies (True) or reject their whole order (False)
    drop_exact_duplicates: bool
    #: lines of one order may carry different timestamps; the order gets the earliest
    earliest_order_date: bool
    #: (order, product) must be unique within the file
    unique_order_product: bool

    def display(self, canonical: str) -> str:
        return self.columns[canonical][0]

    def resolve(self, header: list[str]) -> dict[str, str]:
        """Map canonical columns to this file's header names; raise on missing/ambiguous ones."""
        by_norm: dict[str, str] = {}
        for name in header:
            by_norm.setdefault(normalise_name(name), name)
        found: dict[str, str] = {}
        for canonical, spellings in self.columns.items():
            norms = dict.fromkeys(normalise_name(s) for s in spellings)
            hits = [by_norm[norm] for norm in norms if norm in by_norm]
            if len(hits) > 1:
                raise IngestError(
                    f"columns {' and '.join(repr(h) for h in hits)} both mean "
                    f"{self.display(canonical)!r}: keep one"
                )
            if hits:
                found[canonical] = hits[0]
        missing = [self.display(c) for c in self.required if c not in found]
        if missing:
            hint = ""
            for other in FORMATS.values():
                if other is not self and other.matches(header):
                    hint = f"; the header looks like --format {other.name}"
            raise IngestError(
                f"missing required column(s) for --format {self.name}: {', '.join(missing)}{hint}"
            )
        return found

    def matches(self, header: list[str]) -> bool:
        norms = {normalise_name(h) for h in header}
        return all(any(normalise_name(s) in norms for s in self.columns[c]) for c in self.required)


def normalise_name(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).lower()


GENERIC = FormatSpec(
    name="generic",
    columns={
        "order_key": ("order_id",),
        "customer_key": ("customer_id",),
        "order_date": ("order_date",),
        "product_key": ("product_id",),
        "quantity": ("quantity",),
        "unit_price": ("unit_price",),
        "email": ("email",),
        "first_name": ("first_name",),
        "last_name": ("last_name",),
        "country": ("country",),
        "region": ("region",),
        "city": ("city",),
        "product_name": ("product_name",),
        "category": ("category",),
        "brand": ("brand",),
        "cost": ("cost", "unit_cost"),
        "status": ("status",),
        "payment_method": ("payment_method",),
    },
    required=("order_key", "customer_key", "order_date", "product_key", "quantity", "unit_price"),
    date_formats=("ISO8601",),
    signed_quantity=False,
    cancel_prefix=None,
    derived=frozenset(),
    drop_exact_duplicates=False,
    earliest_order_date=False,
    unique_order_product=True,
)

ONLINE_RETAIL = FormatSpec(
    name="online-retail",
    columns={
        "order_key": ("Invoice", "InvoiceNo"),
        "product_key": ("StockCode",),
        "product_name": ("Description",),
        "quantity": ("Quantity",),
        "order_date": ("InvoiceDate",),
        "unit_price": ("Price", "UnitPrice"),
        "customer_key": ("Customer ID", "CustomerID"),
        "country": ("Country",),
    },
    required=(
        "order_key",
        "product_key",
        "product_name",
        "quantity",
        "order_date",
        "unit_price",
        "customer_key",
        "country",
    ),
    # Online Retail II as CSV: "2009-12-01 07:45:00"; the older Online Retail CSV: "12/1/2010 8:26"
    date_formats=("ISO8601", "%m/%d/%Y %H:%M"),
    signed_quantity=True,
    cancel_prefix="C",
    derived=frozenset({"product_name", "country"}),
    drop_exact_duplicates=True,
    earliest_order_date=True,
    unique_order_product=False,
)

FORMATS: dict[str, FormatSpec] = {spec.name: spec for spec in (GENERIC, ONLINE_RETAIL)}


def get_format(name: str) -> FormatSpec:
    try:
        return FORMATS[name]
    except KeyError:
        raise IngestError(f"unknown format {name!r}: use one of {', '.join(FORMATS)}") from None
