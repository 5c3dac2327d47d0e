"""Create and drop the schema (the status type, tables, constraints and indexes) inside the
caller's transaction: a replace drops and recreates it in the same transaction as its load."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sales_analytics.storage import materialized
from sales_analytics.storage.schema import TABLES, secondary_indexes, statements, table_ddl

if TYPE_CHECKING:
    from sales_analytics.storage.dialects import Dialect

VERSION_TABLE = "sa_data_version"
VERSION_DDL = (
    f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} ("
    "version BIGINT PRIMARY KEY, committed_at TIMESTAMP NOT NULL, kind VARCHAR(16) NOT NULL, "
    "rows BIGINT NOT NULL)"
)


def drop(cur: Any, dialect: Dialect) -> None:
    """Drop the materialized copies, the tables and the status type (the data version stays:
    it only ever grows, so a cache keyed on it never mistakes new data for old)."""
    materialized.drop_all(cur, dialect)
    for name in reversed(list(TABLES)):
        cur.execute(dialect.drop_table.format(name=name))
    cur.execute(dialect.drop_status_type)


def create(cur: Any, dialect: Dialect) -> None:
    """Create the status type, tables, constraints, indexes and the bookkeeping tables."""
    cur.execute(dialect.create_status_type)
    for stmt in statements(table_ddl(dialect.money, keys=dialect.declared_keys)):
        cur.execute(stmt)
    for _table, stmt in secondary_indexes(dialect.skip_indexes).values():
        cur.execute(stmt)
    cur.execute(materialized.META_DDL)
    cur.execute(VERSION_DDL)
