"""The relational schema: tables, constraints and indexes (materialized copies: ``materialized``).

One DDL text serves both databases; the few dialect differences live in
:mod:`~sales_analytics.storage.dialects`.
"""

from __future__ import annotations

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
        ]
    ),
    "order_items": pa.schema(
        [
            ("order_item_id", pa.int64()),
            ("order_id", pa.int64()),
            ("product_id", pa.int64()),
            ("quantity", pa.int32()),
            ("unit_price", pa.decimal128(12, 2)),
        ]
    ),
}

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
    total_amount   {money} NOT NULL CHECK (total_amount >= 0)
);
CREATE TABLE order_items (
    order_item_id  BIGINT PRIMARY KEY,
    order_id       BIGINT NOT NULL REFERENCES orders (order_id),
    product_id     BIGINT NOT NULL REFERENCES products (product_id),
    quantity       INTEGER NOT NULL CHECK (quantity > 0),
    unit_price     {money} NOT NULL CHECK (unit_price >= 0)
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
"""


#: Foreign keys as PostgreSQL names them (table_column_fkey): name -> (table, ADD CONSTRAINT clause).
FOREIGN_KEYS: dict[str, tuple[str, str]] = {
    "orders_customer_id_fkey": (
        "orders", "FOREIGN KEY (customer_id) REFERENCES customers (customer_id)"),
    "order_items_order_id_fkey": (
        "order_items", "FOREIGN KEY (order_id) REFERENCES orders (order_id)"),
    "order_items_product_id_fkey": (
        "order_items", "FOREIGN KEY (product_id) REFERENCES products (product_id)"),
}


#: Primary keys and unique constraints as PostgreSQL names them: name -> (table, ADD clause).
KEYS: dict[str, tuple[str, str]] = {
    "customers_pkey": ("customers", "PRIMARY KEY (customer_id)"),
    "customers_email_key": ("customers", "UNIQUE (email)"),
    "products_pkey": ("products", "PRIMARY KEY (product_id)"),
    "orders_pkey": ("orders", "PRIMARY KEY (order_id)"),
    "order_items_pkey": ("order_items", "PRIMARY KEY (order_item_id)"),
}


def secondary_indexes() -> dict[str, tuple[str, str]]:
    """Index name -> (table, CREATE INDEX statement), from :data:`INDEX_DDL`."""
    out = {}
    for stmt in statements(INDEX_DDL):
        words = stmt.split()
        out[words[2]] = (words[4], stmt)
    return out


def statements(text: str) -> list[str]:
    """Split a DDL text into single statements."""
    return [s.strip() for s in text.split(";") if s.strip()]

