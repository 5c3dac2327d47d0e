"""What the import writes into: the tables, their column widths, the attributes of a customer and
of a product, and the values stored when the export does not have them (docs/import.md)."""

from __future__ import annotations

from sales_analytics.storage import CORE_TABLES

#: The tables an import appends to, in load order.
TABLE_NAMES: tuple[str, ...] = CORE_TABLES

#: Values stored when the export does not have them (documented in docs/import.md).
PLACEHOLDERS: dict[str, str] = {
    "first_name": "Unknown",
    "last_name": "Unknown",
    "country": "Unknown",
    "region": "Unknown",
    "city": "Unknown",
    "category": "Uncategorised",
    "brand": "Unknown",
    "payment_method": "unknown",
}
#: Email of a customer the export gives none for (``.invalid`` is reserved by RFC 2606: it never
#: delivers). ``{}`` is the customer_id.
PLACEHOLDER_EMAIL = "customer-{}@import.invalid"

#: Column widths of the schema (DuckDB does not enforce VARCHAR(n); PostgreSQL does).
MAX_LENGTH: dict[str, int] = {
    "first_name": 100,
    "last_name": 100,
    "email": 255,
    "country": 100,
    "region": 100,
    "city": 100,
    "product_name": 255,
    "category": 100,
    "brand": 100,
    "payment_method": 30,
}

CUSTOMER_ATTRS = ("email", "first_name", "last_name", "country", "region", "city")
PRODUCT_ATTRS = ("product_name", "category", "brand", "cost")
