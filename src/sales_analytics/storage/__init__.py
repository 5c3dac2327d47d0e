"""Storage: the only package that knows the database (DuckDB by default, PostgreSQL by URL)."""

from __future__ import annotations

from sales_analytics.storage.connection import Database, DatabaseURL, connect, parse_url
from sales_analytics.storage.errors import StorageError
from sales_analytics.storage.schema import (
    MATERIALIZED,
    ORDER_STATUSES,
    PAYMENT_METHODS,
    TABLES,
    VIEWS,
)

__all__ = [
    "MATERIALIZED",
    "ORDER_STATUSES",
    "PAYMENT_METHODS",
    "TABLES",
    "VIEWS",
    "Database",
    "DatabaseURL",
    "StorageError",
    "connect",
    "parse_url",
]
