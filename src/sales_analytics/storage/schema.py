"""The relational schema: tables, constraints and indexes (materialized copies: ``materialized``).

Timestamps (``orders.order_date`` and every ``*_at``) are naive, in the SHOP'S local time (the
``shop_settings.timezone``): importers convert to it before storing, so a day, week or month is the
shop's on every backend without a conversion per query (docs/data.md).

One DDL text serves both databases; the few dialect differences live in
:mod:`~sales_analytics.storage.dialects`.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pyarrow as pa

ORDER_STATUSES: tuple[str, ...] = ("completed", "cancelled", "returned")
PAYMENT_METHODS: tuple[str, ...] = (
    "credit_card",
    "paypal",
    "debit_card",
    "bank_transfer",
    "apple_pay",
    "cash_on_delivery",
)

#: Table name -> Arrow schema, in load order (parents before children).
TABLES: dict[str, pa.Schema] = {
    "customers": pa.schema(
        [
            ("customer_id", pa.int64()),
            ("first_name", pa.string()),
            ("last_name", pa.string()),
            ("email", pa.string()),
            ("country", pa.string()),
            ("region", pa.string()),
            ("city", pa.string()),
            ("created_at", pa.timestamp("us")),
        ]
    ),
    "products": pa.schema(
        [
            ("product_id", pa.int64()),
            ("product_name", pa.string()),
            ("category", pa.string()),
            ("brand", pa.string()),
            ("unit_price", pa.decimal128(12, 2)),
            ("unit_cost", pa.decimal128(12, 2)),
            ("stock_quantity", pa.int32()),
            ("created_at", pa.timestamp("us")),
        ]
    ),
    "orders": pa.schema(
        [
            ("order_id", pa.int64()),
            ("customer_id", pa.int64()),
            ("order_date", pa.timestamp("us")),
            ("status", pa.string()),
            ("payment_method", pa.string()),
            ("total_amount", pa.decimal128(12, 2)),
            ("discount_amount", pa.decimal128(12, 2)),
            ("shipping_amount", pa.decimal128(12, 2)),
            ("tax_amount", pa.decimal128(12, 2)),
            ("refunded_amount", pa.decimal128(12, 2)),
            ("discount_code", pa.string()),
            ("cancelled_at", pa.timestamp("us")),
            ("fulfilment_status", pa.string()),
            # an order-level import's hash of the order's source lines (NULL: another path)
            ("source_fingerprint", pa.int64()),
        ]
    ),
    "order_items": pa.schema(
        [
            ("order_item_id", pa.int64()),
            ("order_id", pa.int64()),
            ("product_id", pa.int64()),
            ("quantity", pa.int32()),
            ("unit_price", pa.decimal128(12, 2)),
            ("discount_amount", pa.decimal128(12, 2)),
        ]
    ),
    "refunds": pa.schema(
        [
            ("refund_id", pa.int64()),
            ("order_id", pa.int64()),
            ("refunded_at", pa.timestamp("us")),
            ("amount", pa.decimal128(12, 2)),
            ("shipping_amount", pa.decimal128(12, 2)),
            ("tax_amount", pa.decimal128(12, 2)),
            ("dated_by", pa.string()),
        ]
    ),
    "order_events": pa.schema(
        [
            ("event_id", pa.int64()),
            ("order_id", pa.int64()),
            ("happened_at", pa.timestamp("us")),
            ("recorded_at", pa.timestamp("us")),
            ("kind", pa.string()),
            ("detail", pa.string()),
        ]
    ),
    "shop_settings": pa.schema(
        [
            ("currency", pa.string()),
            ("timezone", pa.string()),
            ("fiscal_year_start_month", pa.int32()),
        ]
    ),
}

#: The tables every shop has (``load`` needs their files; the others may be absent: empty).
CORE_TABLES: tuple[str, ...] = ("customers", "products", "orders", "order_items")

#: Columns a write may leave out: table -> column -> the value stored (the DDL's DEFAULT or NULL),
#: so data written before these columns existed keeps its meaning (no discount, no refund, ...).
_ZERO = Decimal("0.00")
DEFAULTS: dict[str, dict[str, object]] = {
    "orders": {
        "discount_amount": _ZERO, "shipping_amount": _ZERO, "tax_amount": _ZERO,
        "refunded_amount": _ZERO, "discount_code": None, "cancelled_at": None,
        "fulfilment_status": None, "source_fingerprint": None,
    },
    "order_items": {"discount_amount": _ZERO},
    "refunds": {"shipping_amount": _ZERO, "tax_amount": _ZERO},
    "order_events": {"happened_at": None, "detail": None},
}  # fmt: skip

#: The one-row table of the shop's settings (a write of it replaces the row).
SETTINGS_TABLE = "shop_settings"
REFUND_DATED_BY: tuple[str, ...] = ("source", "import")
EVENT_KINDS: tuple[str, ...] = ("created", "status", "refund", "cancel", "fulfilment", "changed")

TABLE_DDL = """
CREATE TABLE customers (
    customer_id    BIGINT PRIMARY KEY,
    first_name     VARCHAR(100) NOT NULL,
    last_name      VARCHAR(100) NOT NULL,
    email          VARCHAR(255) NOT NULL UNIQUE,
    country        VARCHAR(100) NOT NULL,
    region         VARCHAR(100) NOT NULL,
    city           VARCHAR(100) NOT NULL,
    created_at     TIMESTAMP NOT NULL
);
CREATE TABLE products (
    product_id     BIGINT PRIMARY KEY,
    product_name   VARCHAR(255) NOT NULL,
    category       VARCHAR(100) NOT NULL,
    brand          VARCHAR(100) NOT NULL,
    unit_price     {money} NOT NULL CHECK (unit_price >= 0),
    unit_cost      {money} NOT NULL CHECK (unit_cost >= 0),
    stock_quantity INTEGER NOT NULL DEFAULT 0 CHECK (stock_quantity >= 0),
    created_at     TIMESTAMP NOT NULL
);
CREATE TABLE orders (
    order_id       BIGINT PRIMARY KEY,
    customer_id    BIGINT NOT NULL REFERENCES customers (customer_id),
    order_date     TIMESTAMP NOT NULL,
    status         order_status NOT NULL,
    payment_method VARCHAR(30) NOT NULL,
    total_amount   {money} NOT NULL CHECK (total_amount >= 0),
    discount_amount {money} NOT NULL DEFAULT 0 CHECK (discount_amount >= 0),
    shipping_amount {money} NOT NULL DEFAULT 0 CHECK (shipping_amount >= 0),
    tax_amount     {money} NOT NULL DEFAULT 0 CHECK (tax_amount >= 0),
    refunded_amount {money} NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0),
    discount_code  VARCHAR(255),
    cancelled_at   TIMESTAMP,
    fulfilment_status VARCHAR(32),
    source_fingerprint BIGINT
);
CREATE TABLE order_items (
    order_item_id  BIGINT PRIMARY KEY,
    order_id       BIGINT NOT NULL REFERENCES orders (order_id),
    product_id     BIGINT NOT NULL REFERENCES products (product_id),
    quantity       INTEGER NOT NULL CHECK (quantity > 0),
    unit_price     {money} NOT NULL CHECK (unit_price >= 0),
    discount_amount {money} NOT NULL DEFAULT 0 CHECK (discount_amount >= 0)
);
CREATE TABLE refunds (
    refund_id      BIGINT PRIMARY KEY,
    order_id       BIGINT NOT NULL REFERENCES orders (order_id),
    refunded_at    TIMESTAMP NOT NULL,
    amount         {money} NOT NULL DEFAULT 0 CHECK (amount >= 0),
    shipping_amount {money} NOT NULL DEFAULT 0 CHECK (shipping_amount >= 0),
    tax_amount     {money} NOT NULL DEFAULT 0 CHECK (tax_amount >= 0),
    dated_by       VARCHAR(8) NOT NULL CHECK (dated_by IN ({dated_by}))
);
CREATE TABLE order_events (
    event_id       BIGINT PRIMARY KEY,
    order_id       BIGINT NOT NULL,
    happened_at    TIMESTAMP,
    recorded_at    TIMESTAMP NOT NULL,
    kind           VARCHAR(16) NOT NULL CHECK (kind IN ({event_kinds})),
    detail         VARCHAR
);
CREATE TABLE shop_settings (
    currency       CHAR(3) NOT NULL CHECK (length(currency) = 3),
    timezone       VARCHAR(64) NOT NULL,
    fiscal_year_start_month INTEGER NOT NULL DEFAULT 1
        CHECK (fiscal_year_start_month BETWEEN 1 AND 12)
);
"""

INDEX_DDL = """
CREATE INDEX idx_customers_country ON customers (country);
CREATE INDEX idx_products_category ON products (category);
CREATE INDEX idx_orders_customer_id ON orders (customer_id);
CREATE INDEX idx_orders_order_date ON orders (order_date);
CREATE INDEX idx_orders_status ON orders (status);
CREATE INDEX idx_order_items_order_id ON order_items (order_id);
CREATE INDEX idx_order_items_product_id ON order_items (product_id);
CREATE INDEX idx_refunds_order_id ON refunds (order_id);
CREATE INDEX idx_refunds_refunded_at ON refunds (refunded_at);
CREATE INDEX idx_order_events_order_id ON order_events (order_id);
"""


#: Foreign keys as PostgreSQL names them (table_column_fkey): name -> (table, ADD CONSTRAINT clause).
FOREIGN_KEYS: dict[str, tuple[str, str]] = {
    "orders_customer_id_fkey": (
        "orders", "FOREIGN KEY (customer_id) REFERENCES customers (customer_id)"),
    "order_items_order_id_fkey": (
        "order_items", "FOREIGN KEY (order_id) REFERENCES orders (order_id)"),
    "order_items_product_id_fkey": (
        "order_items", "FOREIGN KEY (product_id) REFERENCES products (product_id)"),
    "refunds_order_id_fkey": (
        "refunds", "FOREIGN KEY (order_id) REFERENCES orders (order_id)"),
}


#: Primary keys and unique constraints as PostgreSQL names them: name -> (table, ADD clause).
KEYS: dict[str, tuple[str, str]] = {
    "customers_pkey": ("customers", "PRIMARY KEY (customer_id)"),
    "customers_email_key": ("customers", "UNIQUE (email)"),
    "products_pkey": ("products", "PRIMARY KEY (product_id)"),
    "orders_pkey": ("orders", "PRIMARY KEY (order_id)"),
    "order_items_pkey": ("order_items", "PRIMARY KEY (order_item_id)"),
    "refunds_pkey": ("refunds", "PRIMARY KEY (refund_id)"),
    "order_events_pkey": ("order_events", "PRIMARY KEY (event_id)"),
}


def table_ddl(money: str, keys: bool = True) -> str:
    """:data:`TABLE_DDL` with the dialect's money type and the allowed values filled in.

    ``keys=False``: without the primary keys, UNIQUE and REFERENCES clauses (their columns stay
    NOT NULL), for a database that checks them with queries instead (DuckDB: its key and foreign
    key indexes must fit in memory, :mod:`.key_checks`)."""
    ddl = TABLE_DDL.format(
        money=money,
        dated_by=", ".join(f"'{v}'" for v in REFUND_DATED_BY),
        event_kinds=", ".join(f"'{v}'" for v in EVENT_KINDS),
    )
    if not keys:
        ddl = ddl.replace(" PRIMARY KEY,", " NOT NULL,").replace(" NOT NULL UNIQUE,", " NOT NULL,")
        ddl = re.sub(r" REFERENCES \w+ \(\w+\)", "", ddl)
    return ddl


def secondary_indexes(skip: tuple[str, ...] = ()) -> dict[str, tuple[str, str]]:
    """Index name -> (table, CREATE INDEX statement), from :data:`INDEX_DDL` (less ``skip``)."""
    out = {}
    for stmt in statements(INDEX_DDL):
        words = stmt.split()
        if words[2] not in skip:
            out[words[2]] = (words[4], stmt)
    return out


def statements(text: str) -> list[str]:
    """Split a DDL text into single statements."""
    return [s.strip() for s in text.split(";") if s.strip()]

