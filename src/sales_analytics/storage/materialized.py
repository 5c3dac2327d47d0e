"""Materialized copies of catalogue metrics: create, refresh in one transaction, list, drop.

Storage does not know the metrics: the metric layer hands it :class:`Copy` definitions (a table
name, the SELECT compiled for this dialect, a digest of that definition, the key columns). A copy is
a materialized view on PostgreSQL and a table on DuckDB; ``sa_materialized`` records each copy with
its digest and refresh time, so a reader can tell whether the copy matches the definition it would
build (:meth:`Database.materialized_digests`). Every write of the tables either rebuilds the copies
in the same transaction or removes them, so a copy never shows data older than its tables.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any, Protocol

from sales_analytics.storage import key_checks
from sales_analytics.storage.errors import StorageError

if TYPE_CHECKING:
    from sales_analytics.storage.connection import Database
    from sales_analytics.storage.dialects import Dialect

META = "sa_materialized"
META_DDL = (
    f"CREATE TABLE IF NOT EXISTS {META} ("
    "name VARCHAR(63) PRIMARY KEY, digest VARCHAR(64) NOT NULL, refreshed_at TIMESTAMP NOT NULL)"
)
#: Views and copies made by versions before the metric catalogue (dropped when seen).
LEGACY_VIEWS: tuple[str, ...] = (
    "customer_summary", "product_performance", "category_sales", "brand_sales", "product_pairs",
    "daily_units",
)  # fmt: skip
LEGACY_COPIES: tuple[str, ...] = (
    "mv_product_performance", "mv_category_sales", "mv_brand_sales", "mv_product_pairs",
)  # fmt: skip


class Copy(Protocol):
    """What storage needs of a copy's definition (the metric layer's ``Definition``)."""

    name: str
    sql: str
    digest: str
    key: tuple[str, ...]
    indexed: tuple[str, ...]
    duckdb_sql: str  # the SELECT compiled for DuckDB (a Spark lake's writer builds with it)


def recorded(db: Database) -> dict[str, str]:
    """Copy name -> digest of the copies that exist now (empty before the first refresh)."""
    rows = db.dialect.try_query(db.raw, f"SELECT name, digest FROM {META}")  # one query: every read asks
    return dict(rows or [])


def drop_copies(cur: Any, dialect: Dialect, names: Sequence[str]) -> None:
    """Drop the copies ``names``, the legacy views and copies, and their records."""
    for name in (*names, *LEGACY_COPIES):
        cur.execute(dialect.drop_materialized.format(name=name))
    for name in LEGACY_VIEWS:
        cur.execute(dialect.drop_view.format(name=name))
    cur.execute(META_DDL)
    cur.execute(f"DELETE FROM {META}")


def build_copies(cur: Any, db: Database, copies: Sequence[Copy]) -> None:
    """Rebuild ``copies`` inside the caller's transaction (after a load, or for a refresh): the
    old copies go, the new ones are built from the tables as this transaction sees them."""
    dialect = db.dialect
    drop_copies(cur, dialect, [*recorded_names(cur), *(c.name for c in copies)])
    for stmt in dialect.analyze:  # planner statistics first (right after a bulk load)
        cur.execute(stmt)
    for stmt in dialect.copy_settings:
        cur.execute(stmt)
    with threads_for_copies(cur, dialect):
        _build(cur, dialect, copies)


@contextmanager
def threads_for_copies(cur: Any, dialect: Dialect) -> Iterator[None]:
    """Build under ``dialect.copy_threads`` threads (None: as configured), then restore them."""
    if not dialect.copy_threads:
        yield
        return
    before = cur.execute("SELECT current_setting('threads')").fetchone()[0]
    cur.execute(f"SET threads = {int(dialect.copy_threads)}")
    try:
        yield
    finally:
        with suppress(Exception):  # an aborted transaction: its error is the one to see
            cur.execute(f"SET threads = {int(before)}")


def _build(cur: Any, dialect: Dialect, copies: Sequence[Copy]) -> None:
    for c in copies:
        cur.execute(dialect.create_copy.format(name=c.name, sql=c.sql))
        if dialect.declared_keys:
            key = ", ".join(c.key)
            cur.execute(
                dialect.materialized_index.format(name=c.name, key=key, key_name="_".join(c.key))
            )
            for col in c.indexed:
                cur.execute(f"CREATE INDEX {c.name}_{col}_idx ON {c.name} ({col})")
        else:
            check_key(cur, c)
        cur.execute(
            f"INSERT INTO {META} (name, digest, refreshed_at) VALUES ('{c.name}', '{c.digest}', "
            f"{dialect.now})"
        )


def check_key(cur: Any, c: Copy) -> None:
    """The key of copy ``c`` checked by a query, where the dialect declares no index for it.

    On DuckDB a UNIQUE (or plain) index is an ART index, which must fit in memory and is built
    at COMMIT for a table made in the transaction: the copies' indexes took 140 MB at scale 100,
    so at scale 1000 they outgrew the writer's 1 GB ``memory_limit`` and failed the load. A
    grouped count spills instead; rows with a NULL in the key are not counted, as a UNIQUE index
    allows them. Reads scan with zone maps, no index.
    """
    cur.execute(key_checks.duplicates_sql(c.name, c.key, skip_nulls=True))
    n = int(cur.fetchone()[0] or 0)
    if n:
        raise StorageError(f"{c.name}: {n:,} rows break its key ({', '.join(c.key)})")


def recorded_names(cur: Any) -> list[str]:
    """The copies recorded in ``sa_materialized`` (read with the caller's cursor)."""
    cur.execute(META_DDL)
    cur.execute(f"SELECT name FROM {META}")
    return [row[0] for row in cur.fetchall()]


def drop_all(cur: Any, dialect: Dialect) -> None:
    """Drop every copy (before the tables go)."""
    drop_copies(cur, dialect, recorded_names(cur))
    cur.execute(f"DROP TABLE IF EXISTS {META}")

