"""Storage: the only package that knows the database (DuckDB by default, PostgreSQL by URL)."""

from __future__ import annotations

from sales_analytics.storage.connection import (
    Database,
    DatabaseURL,
    DataVersion,
    connect,
    parse_url,
    redact,
)
from sales_analytics.storage.errors import StorageError
from sales_analytics.storage.materialized import Copy
from sales_analytics.storage.readers import (
    ConnectionLost,
    PoolBusy,
    PoolHealth,
    ReadPool,
    StatementTimeout,
)
from sales_analytics.storage.schema import (
    CORE_TABLES,
    EVENT_KINDS,
    ORDER_STATUSES,
    PAYMENT_METHODS,
    REFUND_DATED_BY,
    TABLES,
)
from sales_analytics.storage.shop import ShopSettings

__all__ = [
    "CORE_TABLES",
    "EVENT_KINDS",
    "REFUND_DATED_BY",
    "ShopSettings",
    "ORDER_STATUSES",
    "PAYMENT_METHODS",
    "TABLES",
    "ConnectionLost",
    "Copy",
    "Database",
    "DataVersion",
    "DatabaseURL",
    "PoolBusy",
    "PoolHealth",
    "ReadPool",
    "StatementTimeout",
    "StorageError",
    "connect",
    "parse_url",
    "redact",
]
