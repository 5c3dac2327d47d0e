"""Create and drop the schema: the status type, tables, constraints and indexes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sales_analytics.storage import materialized
from sales_analytics.storage.schema import INDEX_DDL, TABLE_DDL, TABLES, statements

if TYPE_CHECKING:
    from sales_analytics.storage.connection import Database


def drop_all(db: Database) -> None:
    """Drop the materialized copies, the tables and the status type."""
    dialect = db.dialect
    with db.transaction() as cur:
        materialized.drop_all(cur, dialect)
        for name in reversed(list(TABLES)):
            cur.execute(dialect.drop_table.format(name=name))
        cur.execute(dialect.drop_status_type)


def create_schema(db: Database, replace: bool = False) -> None:
    """Create tables, constraints and indexes (``replace`` drops what exists first)."""
    if replace:
        drop_all(db)
    elif db.has_schema():
        return
    dialect = db.dialect
    with db.transaction() as cur:
        cur.execute(dialect.create_status_type)
        for stmt in statements(TABLE_DDL.format(money=dialect.money)):
            cur.execute(stmt)
        for stmt in statements(INDEX_DDL):
            cur.execute(stmt)
        cur.execute(materialized.META_DDL)
