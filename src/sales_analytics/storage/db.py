"""Connections, DDL, bulk loads and refreshes: the only code that talks to a database."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import ibis
import pyarrow as pa
import pyarrow.csv as pacsv

from sales_analytics.storage.schema import (
    DIALECT,
    FOREIGN_KEYS,
    INDEX_DDL,
    KEYS,
    MATERIALIZED,
    TABLE_DDL,
    TABLES,
    VIEWS,
    secondary_indexes,
    statements,
    view_sql,
)

log = logging.getLogger(__name__)

_COPY_CHUNK = 8 << 20


class StorageError(RuntimeError):
    """A database problem explained in one line (bad URL, unreachable server, failed load)."""


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
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    if scheme == "duckdb":
        path = unquote(parsed.netloc + parsed.path)
        if url.startswith("duckdb:////"):
            path = "/" + path.lstrip("/")  # duckdb:////abs/file -> /abs/file
        elif path.startswith("/"):
            path = path[1:]  # duckdb:///rel/file -> rel/file
        return DatabaseURL(kind="duckdb", path=path or ":memory:")
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        try:
            port = parsed.port or 5432
        except ValueError as exc:
            raise StorageError(f"bad database URL {url!r}: {exc}") from None
        return DatabaseURL(
            kind="postgres",
            host=parsed.hostname or "localhost",
            port=port,
            user=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
            database=parsed.path.lstrip("/") or None,
        )
    raise StorageError(
        f"unsupported database URL {url!r}: use duckdb:///path/to/file.duckdb "
        "or postgresql://user@host:port/dbname"
    )


class Database:
    """One open database: an ibis backend for queries plus the raw driver connection for DDL/COPY.

    Use :func:`connect` to make one. ``db.table(name)`` gives an ibis table expression.
    """

    def __init__(self, url: str, parsed: DatabaseURL, backend: ibis.BaseBackend):
        self.url = url
        self.parsed = parsed
        self.kind = parsed.kind
        self.ibis = backend
        self.sql = DIALECT[self.kind]

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
        if self.kind == "duckdb":
            return self.raw.execute(sql, params or []).fetchall()
        with self.raw.cursor() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall()
        self.raw.commit()
        return rows

    @contextmanager
    def transaction(self) -> Iterator:
        """A cursor inside BEGIN ... COMMIT; anything raised rolls the whole block back."""
        if self.kind == "duckdb":
            cur = self.raw.cursor()
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            else:
                cur.execute("COMMIT")
            finally:
                cur.close()
        else:
            conn = self.raw
            conn.commit()  # end any implicit transaction ibis left open
            with conn.transaction(), conn.cursor() as cur:
                yield cur

    def existing_tables(self) -> set[str]:
        """Tables, views and materialized views in the database."""
        names = set(self.ibis.list_tables())
        if self.kind == "postgres":
            names |= {r[0] for r in self.query("SELECT matviewname FROM pg_matviews")}
        return names

    def has_schema(self) -> bool:
        return set(TABLES) <= self.existing_tables()

    # ------------------------------------------------------------------ schema
    def drop_all(self) -> None:
        with self.transaction() as cur:
            for name in MATERIALIZED:
                cur.execute(self.sql["drop_materialized"].format(name=name))
            for name in VIEWS:
                cur.execute(self.sql["drop_view"].format(name=name))
            for name in reversed(list(TABLES)):
                cur.execute(self.sql["drop_table"].format(name=name))
            cur.execute(self.sql["drop_status_type"])

    def create_schema(self, replace: bool = False) -> None:
        """Create tables, constraints and indexes (``replace`` drops what exists first)."""
        if replace:
            self.drop_all()
        elif self.has_schema():
            return
        with self.transaction() as cur:
            cur.execute(self.sql["create_status_type"])
            for stmt in statements(TABLE_DDL.format(money=self.sql["money"])):
                cur.execute(stmt)
            for stmt in statements(INDEX_DDL):
                cur.execute(stmt)
        self.create_views()

    def create_views(self) -> None:
        """(Re)create the analytics views and their materialized copies."""
        with self.transaction() as cur:
            for name in MATERIALIZED:
                cur.execute(self.sql["drop_materialized"].format(name=name))
            for name in VIEWS:
                cur.execute(self.sql["drop_view"].format(name=name))
                cur.execute(f"CREATE VIEW {name} AS {view_sql(name)}")
            if self.kind == "postgres":  # planner statistics for the queries below (see refresh)
                cur.execute(f"ANALYZE {', '.join(TABLES)}")
            self._build_materialized(cur, "create_materialized")

    def _build_materialized(self, cur, statement: str) -> None:
        """Fill every materialized copy with ``statement`` (create, or DuckDB's rebuild) and index it."""
        for name, (source, key, indexed) in MATERIALIZED.items():
            cur.execute(self.sql[statement].format(name=name, source=source))
            index = self.sql["materialized_index"]
            cur.execute(index.format(name=name, key=", ".join(key), key_name="_".join(key)))
            for col in indexed:
                cur.execute(f"CREATE INDEX {name}_{col}_idx ON {name} ({col})")

    def _columns(self, relation: str) -> list[str] | None:
        """Column names of ``relation`` (a name or a parenthesised query), None if it fails."""
        sql = f"SELECT * FROM {relation} AS _r LIMIT 0"
        try:
            if self.kind == "duckdb":
                return [d[0] for d in self.raw.execute(sql).description]
            with self.raw.cursor() as cur:
                cur.execute(sql)
                names = [d.name for d in cur.description]
            self.raw.commit()
            return names
        except Exception:  # noqa: BLE001 - missing or broken relation
            if self.kind == "postgres":
                self.raw.rollback()
            return None

    def views_current(self) -> bool:
        """Whether every view and materialized copy exists with the columns this version defines
        (a database made by an earlier version may lack a view or a column)."""
        defined = {name: self._columns(f"({view_sql(name)})") for name in VIEWS}
        if any(columns is None for columns in defined.values()):
            return False
        return all(self._columns(name) == defined[name] for name in VIEWS) and all(
            self._columns(name) == defined[source] for name, (source, *_) in MATERIALIZED.items()
        )

    def refresh(self) -> None:
        """Bring the materialized views up to date with the tables.

        Views that are missing or out of date (a database made by an earlier version) are
        recreated first, with their materialized copies.
        """
        if not self.views_current():
            self.create_views()
            return
        if self.kind == "duckdb":
            # CREATE OR REPLACE drops the table's indexes: rebuild them the same way.
            with self.transaction() as cur:
                self._build_materialized(cur, "refresh_materialized")
            return
        # REFRESH ... CONCURRENTLY cannot run inside a transaction block.
        conn = self.raw
        conn.commit()
        prev = conn.autocommit
        conn.autocommit = True
        try:
            # fresh planner statistics first: right after a bulk load the tables have none, and
            # the basket self-join of mv_product_pairs then gets a plan that runs for many minutes
            conn.execute(f"ANALYZE {', '.join(TABLES)}")
            for name, (source, _key, _idx) in MATERIALIZED.items():
                conn.execute(self.sql["refresh_materialized"].format(name=name, source=source))
        finally:
            conn.autocommit = prev

    # ------------------------------------------------------------------ loading
    def load(self, frames: Mapping[str, pa.Table], *, refresh: bool = True) -> dict[str, int]:
        """Append Arrow tables to the schema's tables, all in ONE transaction.

        ``frames`` maps table names to Arrow tables (any subset of :data:`TABLES`); they are loaded
        parents first. Nothing is kept if any row breaks a constraint.
        """
        unknown = set(frames) - set(TABLES)
        if unknown:
            raise StorageError(f"unknown table(s): {', '.join(sorted(unknown))}")
        counts: dict[str, int] = {}
        ordered = [(name, _conform(name, frames[name])) for name in TABLES if name in frames]
        try:
            with self.transaction() as cur:
                if self.kind == "duckdb":
                    for name, table in ordered:
                        _duckdb_insert(cur, name, table)
                        counts[name] = table.num_rows
                else:
                    bulk = all(_pg_is_empty(cur, name) for name, _ in ordered)
                    dropped = _pg_drop_checks(cur, [n for n, _ in ordered]) if bulk else ([], [], [])
                    for name, table in ordered:
                        _pg_copy(cur, name, table)
                        counts[name] = table.num_rows
                    _pg_restore_checks(cur, *dropped)
        except Exception as exc:  # driver errors -> one clear line, nothing loaded
            raise StorageError(f"load failed, nothing was written: {_first_line(exc)}") from exc
        if refresh:
            self.refresh()
        return counts

    def counts(self) -> dict[str, int]:
        return {name: int(self.query(f"SELECT count(*) FROM {name}")[0][0]) for name in TABLES}


def _conform(name: str, table: pa.Table) -> pa.Table:
    schema = TABLES[name]
    missing = [f.name for f in schema if f.name not in table.column_names]
    if missing:
        raise StorageError(f"{name}: missing column(s) {', '.join(missing)}")
    try:
        return table.select(schema.names).cast(schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise StorageError(f"{name}: column types do not fit the schema: {exc}") from exc


def _duckdb_insert(cur, name: str, table: pa.Table) -> None:
    view = f"_load_{name}"
    cur.register(view, table)
    try:
        cols = ", ".join(table.column_names)
        cur.execute(f"INSERT INTO {name} ({cols}) SELECT {cols} FROM {view}")
    finally:
        cur.unregister(view)


def _pg_is_empty(cur, name: str) -> bool:
    cur.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {name})")
    return bool(cur.fetchone()[0])


def _pg_drop_checks(cur, tables: list[str]) -> tuple[list[str], list[str], list[str]]:
    """Bulk load into empty tables: drop FKs and secondary indexes inside the load's transaction,
    and the keys too when all four tables are loaded (no other table references them then).

    They come back (keys and indexes built once, FKs validated in one pass) before COMMIT, so the load
    is still all-or-nothing and no row escapes a check; it is just ~5x faster than row-by-row checks.
    """
    fks = [n for n, (t, _) in FOREIGN_KEYS.items() if t in tables]
    keys = list(KEYS) if set(tables) == set(TABLES) else []
    idx = [n for n, (t, _) in secondary_indexes().items() if t in tables]
    for name in fks:
        cur.execute(f"ALTER TABLE {FOREIGN_KEYS[name][0]} DROP CONSTRAINT {name}")
    for name in keys:
        cur.execute(f"ALTER TABLE {KEYS[name][0]} DROP CONSTRAINT {name}")
    for name in idx:
        cur.execute(f"DROP INDEX {name}")
    return fks, keys, idx


def _pg_restore_checks(cur, fks: list[str], keys: list[str], idx: list[str]) -> None:
    for name in keys:
        table, clause = KEYS[name]
        cur.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {clause}")
    indexes = secondary_indexes()
    for name in idx:
        cur.execute(indexes[name][1])
    for name in fks:
        table, clause = FOREIGN_KEYS[name]
        cur.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {clause}")


def _pg_copy(cur, name: str, table: pa.Table) -> None:
    cols = ", ".join(table.column_names)
    buf = io.BytesIO()
    pacsv.write_csv(
        table,
        buf,
        write_options=pacsv.WriteOptions(include_header=False, quoting_style="needed"),
    )
    data = buf.getbuffer()
    with cur.copy(f"COPY {name} ({cols}) FROM STDIN (FORMAT csv)") as copy:
        for start in range(0, len(data), _COPY_CHUNK):
            copy.write(data[start : start + _COPY_CHUNK])


def _first_line(exc: BaseException) -> str:
    """The driver's message folded into one line (psycopg spreads it over several)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    lines = [ln for ln in lines if ln.rstrip(":") not in ("connection failed",)] or lines
    text = "; ".join(dict.fromkeys(lines)) or type(exc).__name__
    return text if len(text) <= 400 else text[:397] + "..."


def connect(url: str | None = None) -> Database:
    """Open the database at ``url`` (default: ``DATABASE_URL`` or the embedded DuckDB file).

    Raises :class:`StorageError` with a one-line reason for a bad URL or an unreachable server.
    """
    from sales_analytics.config import get_settings

    url = url or get_settings().database_url
    parsed = parse_url(url)
    if parsed.kind == "duckdb":
        if parsed.path != ":memory:":
            path = Path(parsed.path)
            if path.exists() and path.is_dir():
                raise StorageError(f"{path} is a directory, not a DuckDB file")
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            backend = ibis.duckdb.connect(parsed.path)
        except Exception as exc:  # noqa: BLE001
            raise StorageError(f"cannot open DuckDB file {parsed.path}: {_first_line(exc)}") from exc
        return Database(url, parsed, backend)
    try:
        backend = ibis.postgres.connect(
            host=parsed.host,
            port=parsed.port,
            user=parsed.user,
            password=parsed.password,
            database=parsed.database,
            connect_timeout=5,
        )
    except Exception as exc:  # noqa: BLE001
        raise StorageError(
            f"cannot connect to PostgreSQL at {parsed.host}:{parsed.port}"
            f"/{parsed.database or ''}: {_first_line(exc)}"
        ) from exc
    return Database(url, parsed, backend)
