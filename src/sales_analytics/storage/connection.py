"""Connections: URL parsing, :func:`connect` and the :class:`Database` every other package uses.

What differs between DuckDB and PostgreSQL lives in :mod:`~sales_analytics.storage.dialects`; the
schema DDL in :mod:`~sales_analytics.storage.ddl`, bulk loads in :mod:`~sales_analytics.storage.load`
and the materialized copies in :mod:`~sales_analytics.storage.materialized`. ``Database`` delegates to them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from urllib.parse import urlparse

import ibis
import pyarrow as pa

from sales_analytics.storage import ddl, materialized
from sales_analytics.storage.dialects import BY_KIND, DIALECTS
from sales_analytics.storage.errors import StorageError
from sales_analytics.storage.load import load as load_frames
from sales_analytics.storage.schema import TABLES


@dataclass(frozen=True)
class DatabaseURL:
    kind: str  # "duckdb" or "postgres"
    path: str | None = None  # duckdb file path, or ":memory:"
    host: str | None = None
    port: int | None = None
    user: str | None = None
    password: str | None = None
    database: str | None = None

    @property
    def conninfo(self) -> str:
        """A libpq connection string (PostgreSQL only)."""
        parts = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "dbname": self.database,
        }
        return " ".join(f"{k}={v}" for k, v in parts.items() if v not in (None, ""))


def parse_url(url: str) -> DatabaseURL:
    """Parse ``duckdb:///path``, ``duckdb://`` (in memory) or ``postgresql://user@host/db``."""
    parts = urlparse(url)
    dialect = DIALECTS.get(parts.scheme.lower())
    if dialect is None:
        raise StorageError(
            f"unsupported database URL {url!r}: use duckdb:///path/to/file.duckdb "
            "or postgresql://user@host:port/dbname"
        )
    return DatabaseURL(kind=dialect.kind, **dialect.url_fields(url, parts))


class Database:
    """One open database: an ibis backend for queries plus the raw driver connection for DDL/COPY.

    Use :func:`connect` to make one. ``db.table(name)`` gives an ibis table expression;
    ``db.kind`` is ``"duckdb"`` or ``"postgres"`` and ``db.dialect`` its
    :class:`~sales_analytics.storage.dialects.Dialect`.
    """

    def __init__(self, url: str, parsed: DatabaseURL, backend: ibis.BaseBackend):
        self.url = url
        self.parsed = parsed
        self.kind = parsed.kind
        self.dialect = BY_KIND[parsed.kind]
        self.ibis = backend

    # ------------------------------------------------------------------ basics
    @property
    def raw(self):
        """The driver connection (duckdb.DuckDBPyConnection or psycopg.Connection)."""
        return self.ibis.con

    def close(self) -> None:
        try:
            self.ibis.disconnect()
        except Exception:  # noqa: BLE001 - closing twice is harmless
            pass

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def table(self, name: str) -> ibis.Table:
        return self.ibis.table(name)

    def execute(self, sql: str, params: tuple | list | None = None) -> None:
        """Run one statement in its own transaction."""
        with self.transaction() as cur:
            cur.execute(sql, params) if params is not None else cur.execute(sql)

    def query(self, sql: str, params: tuple | list | None = None) -> list[tuple]:
        """Run one read statement with bound parameters and return all rows."""
        return self.dialect.query(self.raw, sql, params)

    def transaction(self) -> AbstractContextManager:
        """A cursor inside BEGIN ... COMMIT; anything raised rolls the whole block back."""
        return self.dialect.transaction(self.raw)

    def existing_tables(self) -> set[str]:
        """Tables, views and materialized views in the database."""
        names = set(self.ibis.list_tables())
        for sql in self.dialect.extra_relations:
            names |= {r[0] for r in self.query(sql)}
        return names

    def has_schema(self) -> bool:
        return set(TABLES) <= self.existing_tables()

    def counts(self) -> dict[str, int]:
        return {name: int(self.query(f"SELECT count(*) FROM {name}")[0][0]) for name in TABLES}

    # ------------------------------------------------------------------ schema
    def drop_all(self) -> None:
        ddl.drop_all(self)

    def create_schema(self, replace: bool = False) -> None:
        """Create tables, constraints and indexes (``replace`` drops what exists first)."""
        ddl.create_schema(self, replace)

    # ------------------------------------------------------------------ materialized copies
    def materialized_digests(self) -> dict[str, str]:
        """Copy table -> digest of its definition, for the copies that exist now."""
        return materialized.recorded(self)

    def refresh(self, copies: Sequence[materialized.Copy]) -> None:
        """Rebuild the materialized ``copies`` (from the metric layer) in one transaction."""
        materialized.refresh(self, copies)

    # ------------------------------------------------------------------ loading
    def load(
        self,
        frames: Mapping[str, pa.Table],
        *,
        materialize: Sequence[materialized.Copy] | None = None,
    ) -> dict[str, int]:
        """Append Arrow tables to the schema's tables, all in ONE transaction.

        ``frames`` maps table names to Arrow tables (any subset of :data:`TABLES`); they are loaded
        parents first. Nothing is kept if any row breaks a constraint. The materialized copies
        are rebuilt from ``materialize`` in the same transaction, or dropped without it (so no
        copy is ever older than its tables).
        """
        return load_frames(self, frames, materialize=materialize)


def connect(url: str | None = None) -> Database:
    """Open the database at ``url`` (default: ``DATABASE_URL`` or the embedded DuckDB file).

    Raises :class:`StorageError` with a one-line reason for a bad URL or an unreachable server.
    """
    from sales_analytics.config import get_settings

    url = url or get_settings().database_url
    parsed = parse_url(url)
    return Database(url, parsed, BY_KIND[parsed.kind].open(parsed))
