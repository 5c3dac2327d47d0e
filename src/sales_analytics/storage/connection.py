"""Connections: URL parsing, :func:`connect` and the :class:`Database` every other package uses.

What differs between DuckDB and PostgreSQL lives in :mod:`~sales_analytics.storage.dialects`; the
schema DDL in :mod:`~sales_analytics.storage.ddl`, writes (one transaction each, with the data
version) in :mod:`~sales_analytics.storage.load`, the materialized copies in
:mod:`~sales_analytics.storage.materialized` and the DuckDB file swap in
:mod:`~sales_analytics.storage.swap`. ``Database`` delegates to them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import ibis

from sales_analytics.storage import ddl, materialized, shop, swap
from sales_analytics.storage.ddl import VERSION_TABLE
from sales_analytics.storage.dialects import BY_KIND, DIALECTS
from sales_analytics.storage.errors import StorageError
from sales_analytics.storage.load import Frames, KeyDeletes
from sales_analytics.storage.load import write as write_frames
from sales_analytics.storage.schema import TABLES

REDACTED = "***"


@dataclass(frozen=True)
class DatabaseURL:
    kind: str  # "duckdb", "postgres" or "spark"
    path: str | None = None  # duckdb file path, or ":memory:"; the Spark lake's folder
    host: str | None = None  # PostgreSQL host; the Spark master
    port: int | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    database: str | None = None
    #: the URL's query options (sslmode, application_name, options, ...), passed to libpq as given
    options: tuple[tuple[str, str], ...] = ()

    @property
    def conninfo(self) -> str:
        """A libpq connection string (PostgreSQL only; holds the password)."""
        from psycopg.conninfo import make_conninfo

        return make_conninfo("", **self.connect_kwargs())

    def connect_kwargs(self) -> dict[str, str | int]:
        """The libpq keywords: host, port, user, password, dbname and every query option."""
        parts = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password,
            "dbname": self.database,
        }
        kwargs = {k: v for k, v in parts.items() if v not in (None, "")}
        return kwargs | dict(self.options)


@dataclass(frozen=True)
class DataVersion:
    """The data a database holds: bumped by every committed write (load, replace, refresh)."""

    version: int
    committed_at: datetime  # UTC, timezone-aware


def redact(url: str) -> str:
    """``url`` fit to show: the password (in the user part or a ``password=`` option) as ``***``.

    >>> redact("postgresql://ann:secret@db.example.com:5432/shop?sslmode=require")
    'postgresql://ann:***@db.example.com:5432/shop?sslmode=require'
    """
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        return f"<{url.split(':', 1)[0]} URL>"
    userinfo, at, hostport = netloc.rpartition("@")
    if at and ":" in userinfo:
        hidden = f"{userinfo.split(':', 1)[0]}:{REDACTED}@{hostport}"
        url = url.replace(f"//{netloc}", f"//{hidden}", 1)
    return _PASSWORD_OPTION.sub(rf"\g<1>{REDACTED}", url)


_PASSWORD_OPTION = re.compile(r"(?i)([?&]password=)[^&#]*")


def parse_url(url: str) -> DatabaseURL:
    """Parse ``duckdb:///path``, ``duckdb://`` (in memory) or
    ``postgresql://user:password@host:port/db?option=value&...`` (every option goes to libpq)."""
    parts = urlsplit(url)
    dialect = DIALECTS.get(parts.scheme.lower())
    if dialect is None:
        raise StorageError(
            f"unsupported database URL {redact(url)!r}: use duckdb:///path/to/file.duckdb, "
            "postgresql://user@host:port/dbname or spark:///path/to/lake"
        )
    return DatabaseURL(kind=dialect.kind, **dialect.url_fields(url, parts))


class Database:
    """One open database: an ibis backend for queries plus the raw driver connection for DDL/COPY.

    Use :func:`connect` to make one. ``db.table(name)`` gives an ibis table expression;
    ``db.kind`` is ``"duckdb"`` or ``"postgres"`` and ``db.dialect`` its
    :class:`~sales_analytics.storage.dialects.Dialect`. ``db.url`` is for connecting (it may hold
    a password); show ``db.display_url``.

    A DuckDB file is always read through a read-only attachment, so any number of processes may
    read it while one writes: every write (:meth:`write`, :meth:`transaction` and what uses them)
    goes to a copy that is swapped in on commit (see :mod:`~sales_analytics.storage.swap`).
    """

    def __init__(
        self,
        url: str,
        parsed: DatabaseURL,
        backend: ibis.BaseBackend,
        *,
        read_only: bool = False,
        cursor_of: Database | None = None,
    ):
        self.url = url
        self.parsed = parsed
        self.kind = parsed.kind
        self.dialect = BY_KIND[parsed.kind]
        self.ibis = backend
        self.read_only = read_only
        #: seconds a DuckDB writer waits for another writer of the same file
        self.write_lock_timeout = swap.LOCK_TIMEOUT
        self._stamp: swap.FileStamp | None = None
        #: the Database whose DuckDB connection this one is a cursor of (:meth:`cursor`)
        self._cursor_of = cursor_of
        if cursor_of is not None:  # its file is attached already (again would detach it
            self._stamp = cursor_of._stamp  # under the other cursors)
        elif self.is_file:
            self._stamp = swap.attach(self.raw, self.path)
        if cursor_of is None:
            shop.note(self.shop_settings())

    # ------------------------------------------------------------------ basics
    @property
    def raw(self):
        """The driver connection (duckdb.DuckDBPyConnection or psycopg.Connection)."""
        return self.ibis.con

    @property
    def display_url(self) -> str:
        """The URL without its password (for titles, messages and logs)."""
        return redact(self.url)

    @property
    def is_file(self) -> bool:
        """A DuckDB file (not in memory, not a server)."""
        return self.kind == "duckdb" and self.parsed.path != ":memory:"

    @property
    def path(self) -> Path:
        return Path(self.parsed.path)

    def __repr__(self) -> str:
        mode = " read-only" if self.read_only else ""
        return f"<Database {self.display_url}{mode}>"

    def cursor(self) -> Database:
        """A read-only Database over a new cursor of this DuckDB connection (DuckDB only).

        The cursor shares this connection's DuckDB instance and attached file, but has its own
        transaction state and can be interrupted alone, so several threads may each query their
        own cursor at once (:class:`~sales_analytics.storage.readers.ReadPool` lends them).
        Closing it closes the cursor only; it sees what this connection sees (its
        :meth:`changed_on_disk` is this connection's).
        """
        if self.kind != "duckdb":
            raise StorageError(f"cursor() is for DuckDB; {self.display_url} is {self.kind}")
        catalog = self.query("SELECT current_database()")[0][0]
        cur = self.raw.cursor()
        try:
            cur.execute(f'USE "{catalog}"')
            backend = ibis.duckdb.from_connection(cur)
        except BaseException:
            cur.close()
            raise
        return Database(self.url, self.parsed, backend, read_only=True, cursor_of=self)

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
        """A cursor inside BEGIN ... COMMIT; anything raised rolls the whole block back.

        On a DuckDB file the block runs on a copy that is swapped in when it commits.
        """
        if self.read_only:
            raise StorageError(f"{self.display_url} was opened read-only: nothing was changed")
        if self.is_file:
            return swap.file_transaction(self, self.write_lock_timeout)
        return self.dialect.transaction(self.raw)

    def existing_tables(self) -> set[str]:
        """Tables, views and materialized views in the database."""
        names = set(self.ibis.list_tables())
        for sql in self.dialect.extra_relations:
            names |= {r[0] for r in self.query(sql)}
        return names

    def has_schema(self) -> bool:
        return not self.missing_tables()

    def missing_tables(self) -> list[str]:
        """The schema's tables this database lacks (all of them before ``build``; the newer ones
        in a database built by an older version: ``build --replace`` recreates it)."""
        existing = self.existing_tables()
        return [name for name in TABLES if name not in existing]

    def older_schema(self) -> str | None:
        """A one-line message when the database was built by an older version (some tables of
        the schema missing, ``orders`` there; or a column of ``orders`` missing), else None."""
        missing = self.missing_tables()
        if "orders" in missing:
            return None
        if not missing:  # every table there: a column added since (orders.fulfilment_status)
            have = set(self.table("orders").columns)
            missing = [f"orders.{c}" for c in TABLES["orders"].names if c not in have]
            if not missing:
                return None
        return (f"{self.display_url} was built by an older version (no {', '.join(missing)}): "
                "rebuild it with `sales-analytics build --replace` (or load/import into a new one)")

    def shop_settings(self) -> shop.ShopSettings:
        """The shop's currency, timezone and fiscal year start: the database's ``shop_settings``
        row, else the configured defaults (``SA_CURRENCY``, ``SA_TIMEZONE``,
        ``SA_FISCAL_YEAR_START``). One query."""
        return shop.read(self.dialect, self.raw)

    def counts(self) -> dict[str, int]:
        return {name: int(self.query(f"SELECT count(*) FROM {name}")[0][0]) for name in TABLES}

    # ------------------------------------------------------------------ data version, swaps
    def data_version(self) -> DataVersion | None:
        """The version of the data as this connection sees it (one query), None before the
        first write. Every committed write bumps it; key caches on it, show "data as of" from it."""
        rows = self.dialect.try_query(
            self.raw,
            f"SELECT version, committed_at FROM {VERSION_TABLE} ORDER BY version DESC LIMIT 1",
        )
        if not rows:
            return None
        version, at = rows[0]
        return DataVersion(int(version), at.replace(tzinfo=UTC) if at.tzinfo is None else at)

    def changed_on_disk(self) -> bool:
        """True when a writer swapped a new DuckDB file in since this connection opened it
        (reopen, or open a new Database, to see it). Always False on PostgreSQL and in memory:
        there every query sees the last commit."""
        if not self.is_file:
            return False
        return swap.FileStamp.of(self.path) != self._stamp

    def reopen(self) -> None:
        """Read the DuckDB file that is there now (no-op elsewhere). Not thread-safe: do not
        call it while another thread queries this Database (open a new one instead), nor on a
        :meth:`cursor` (it would detach the file under the other cursors)."""
        if self._cursor_of is not None:
            raise StorageError("reopen() the connection a cursor was made from, not the cursor")
        if self.is_file:
            self._stamp = swap.attach(self.raw, self.path)
            shop.note(self.shop_settings())

    # ------------------------------------------------------------------ schema
    def drop_all(self) -> None:
        """Drop the copies, the tables and the status type (the data version is kept)."""
        self.write({}, replace=True, create=False)

    def create_schema(self, replace: bool = False) -> None:
        """Create tables, constraints and indexes (``replace`` drops what exists first, in the
        same transaction)."""
        if replace:
            self.write({}, replace=True)
        elif not self.has_schema():
            if self.older_schema():
                raise StorageError(self.older_schema())
            with self.transaction() as cur:
                ddl.create(cur, self.dialect)

    # ------------------------------------------------------------------ materialized copies
    def materialized_digests(self) -> dict[str, str]:
        """Copy table -> digest of its definition, for the copies that exist now."""
        return materialized.recorded(self)

    def refresh(self, copies: Sequence[materialized.Copy]) -> None:
        """Rebuild the materialized ``copies`` (from the metric layer) in one transaction."""
        self.write({}, materialize=copies, kind="refresh")

    # ------------------------------------------------------------------ writing
    def write(
        self,
        frames: Frames,
        *,
        replace: bool = False,
        materialize: Sequence[materialized.Copy] | None = None,
        kind: str | None = None,
        create: bool = True,
        delete: KeyDeletes | None = None,
    ) -> dict[str, int]:
        """The one write: in ONE transaction, drop and recreate the schema (``replace``), append
        ``frames`` (parents first; one mapping of Arrow tables, or an iterable of them appended
        block by block, e.g. ``storage.parquet.read_blocks`` or the streaming generator), rebuild the materialized copies from ``materialize`` (or drop
        them without it: no copy is ever older than its tables) and bump the data version.

        A failure (or a kill) at any point leaves the data, copies, indexes and data version as
        they were; the :class:`StorageError` says "nothing was changed" (for an append without
        replace: "nothing was written"). ``kind`` is recorded with the version (default
        ``"replace"`` or ``"load"``; ``"refresh"`` for copies only). ``delete`` (table -> (key
        column, keys)) first removes the rows an upsert replaces, in the same transaction
        (:mod:`~sales_analytics.storage.replace`). Returns rows per table.
        """
        counts = write_frames(
            self, frames, replace=replace, materialize=materialize, kind=kind, create=create,
            delete=delete,
        )
        shop.note(self.shop_settings())
        return counts

    def load(
        self,
        frames: Frames,
        *,
        materialize: Sequence[materialized.Copy] | None = None,
    ) -> dict[str, int]:
        """Append Arrow tables in ONE transaction: ``write(frames, materialize=materialize)``."""
        return self.write(frames, materialize=materialize)


def connect(url: str | None = None, *, read_only: bool = False) -> Database:
    """Open the database at ``url`` (default: ``DATABASE_URL`` or the embedded DuckDB file).

    ``read_only=True`` for readers: a missing DuckDB file is an error (nothing is created) and
    writes raise. Without it, a missing DuckDB file is created by the first write. A DuckDB file
    is read read-only either way (writers write a copy and swap it in).

    Raises :class:`StorageError` with a one-line reason (never the password) for a bad URL, an
    unreachable server, a wrong password or a missing file.
    """
    from sales_analytics.config import get_settings

    url = url or get_settings().database_url
    parsed = parse_url(url)
    dialect = BY_KIND[parsed.kind]
    backend = dialect.open(parsed, read_only=read_only)
    kind = dialect.database_type()
    try:
        return (kind or Database)(url, parsed, backend, read_only=read_only)
    except BaseException:
        if kind is None:  # (a Spark backend's disconnect would stop the process' session)
            backend.disconnect()
        raise
