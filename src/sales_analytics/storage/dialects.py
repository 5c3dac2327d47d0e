"""Everything DuckDB and PostgreSQL do differently, as data and small methods.

One :class:`Dialect` instance per database, chosen by the URL's scheme from :data:`DIALECTS` (or by
``Database.kind`` from :data:`BY_KIND`). The rest of ``storage`` never tests the kind of database:
it formats a dialect's SQL templates, loops over its statements and calls its methods.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, parse_qsl, unquote

import ibis
import pyarrow as pa

from sales_analytics.storage.errors import StorageError, first_line
from sales_analytics.storage.load import copy_blocks, copy_tables, insert_arrow
from sales_analytics.storage.schema import ORDER_STATUSES, TABLES, secondary_indexes

if TYPE_CHECKING:
    from sales_analytics.storage.connection import DatabaseURL

_STATUS_LIST = ", ".join(f"'{s}'" for s in ORDER_STATUSES)


class Dialect(ABC):
    """What one database does its own way.

    Data: ``kind`` (``Database.kind``), ``schemes`` (URL schemes that select it), ``money`` (the
    money column type in ``TABLE_DDL``), SQL templates formatted with ``name`` (``drop_table``,
    ``drop_view``, ``drop_materialized``), with ``name`` and ``sql`` (``create_copy``) or with
    ``name``, ``key`` and ``key_name`` (``materialized_index``), the status type DDL, ``now``, and
    statement lists run as they are (``extra_relations``, ``analyze``). Methods: the driver calls
    that differ.
    """

    kind: str
    schemes: tuple[str, ...]
    money: str

    create_status_type = f"CREATE TYPE order_status AS ENUM ({_STATUS_LIST})"
    drop_status_type = "DROP TYPE IF EXISTS order_status"
    drop_table: str
    drop_view: str
    drop_materialized: str
    #: a materialized copy of a metric: ``sql`` is the SELECT compiled for this dialect
    create_copy: str
    materialized_index = "CREATE UNIQUE INDEX {name}_{key_name}_uq ON {name} ({key})"
    now = "CURRENT_TIMESTAMP"
    #: queries naming relations that ``ibis.list_tables()`` leaves out (one name per row)
    extra_relations: tuple[str, ...] = ()
    #: statements that give the planner fresh statistics before the views are materialized
    analyze: tuple[str, ...] = ()
    #: secondary indexes of ``INDEX_DDL`` this database does not get
    skip_indexes: tuple[str, ...] = ()
    #: False: the tables get no PRIMARY KEY, UNIQUE or REFERENCES clauses and every write checks
    #: them with queries before COMMIT (``storage.key_checks``); the materialized copies then get
    #: no index either, their keys are checked by query too (``materialized.check_key``)
    declared_keys = True
    #: threads for building the materialized copies (None: the connection's own)
    copy_threads: int | None = None
    #: statements run in the write's transaction before the copies are built (transaction-local)
    copy_settings: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind}>"

    @abstractmethod
    def url_fields(self, url: str, parts: SplitResult) -> dict[str, Any]:
        """The :class:`DatabaseURL` fields (besides ``kind``) of ``url``, split as ``parts``."""

    @abstractmethod
    def open(self, parsed: DatabaseURL, *, read_only: bool = False) -> ibis.BaseBackend:
        """Connect, or raise :class:`StorageError` with a one-line reason (never the password)."""

    @abstractmethod
    def query(self, raw: Any, sql: str, params: tuple | list | None) -> list[tuple]:
        """Run one read statement on the driver connection ``raw`` and return all rows."""

    @abstractmethod
    def try_query(self, raw: Any, sql: str) -> list[tuple] | None:
        """The rows of the read ``sql``, None if it fails (the connection stays usable)."""

    @abstractmethod
    def transaction(self, raw: Any) -> AbstractContextManager[Any]:
        """A cursor inside BEGIN ... COMMIT; anything raised rolls the whole block back."""

    @abstractmethod
    def write(self, cur: Any, tables: list[tuple[str, pa.Table]]) -> None:
        """Append conformed Arrow tables (parents first) inside the open transaction ``cur``."""

    def write_blocks(self, cur: Any, blocks: Iterable[list[tuple[str, pa.Table]]]) -> None:
        """Append every block (as :meth:`write` takes them) inside the open transaction ``cur``,
        holding one block at a time."""
        for tables in blocks:
            self.write(cur, tables)

    def database_type(self) -> type | None:
        """The ``Database`` subclass this dialect needs (None: ``Database`` itself)."""
        return None


class DuckDBDialect(Dialect):
    """DuckDB: one file (or memory); no materialized views, so a copy is a table."""

    kind = "duckdb"
    schemes = ("duckdb",)
    money = "DECIMAL(12, 2)"
    drop_table = "DROP TABLE IF EXISTS {name}"
    drop_view = "DROP VIEW IF EXISTS {name}"
    # DuckDB has no materialized views: a table stands in for one.
    drop_materialized = "DROP TABLE IF EXISTS {name}"
    create_copy = "CREATE TABLE {name} AS {sql}"
    # DuckDB's key, foreign key and secondary indexes are ART indexes that must fit in memory
    # while a write appends to them (~40 GB for scale 1000): none are declared, the keys are
    # checked with queries (``storage.key_checks``), and scans use zone maps instead of indexes.
    skip_indexes = tuple(secondary_indexes())
    declared_keys = False
    # The copies' aggregates (distinct counts, the basket self-join) keep per-thread hash tables:
    # with 2 threads mv_pair_counts needs > 150 MB at scale 100 and broke the writer's 1 GB at
    # scale 1000; with 1 thread it builds in 100 MB (and the copies spill the rest).
    copy_threads = 1

    def url_fields(self, url: str, parts: SplitResult) -> dict[str, Any]:
        path = unquote(parts.netloc + parts.path)
        if url.startswith("duckdb:////"):
            path = "/" + path.lstrip("/")  # duckdb:////abs/file -> /abs/file
        elif path.startswith("/"):
            path = path[1:]  # duckdb:///rel/file -> rel/file
        return {"path": path or ":memory:"}

    def open(self, parsed: DatabaseURL, *, read_only: bool = False) -> ibis.BaseBackend:
        """An in-memory DuckDB; a file is ATTACHed read-only by ``Database`` (see ``swap``).
        Creates nothing: a missing file is an error for a reader, made by a writer's first write."""
        if parsed.path != ":memory:":
            path = Path(parsed.path)
            if path.is_dir():
                raise StorageError(f"{path} is a directory, not a DuckDB file")
            if read_only and not path.exists():
                raise StorageError(
                    f"no DuckDB database at {path}: create one with `sales-analytics build`"
                )
        try:
            return ibis.duckdb.connect(":memory:")
        except Exception as exc:  # noqa: BLE001
            raise StorageError(f"cannot open DuckDB: {first_line(exc)}") from exc

    def query(self, raw: Any, sql: str, params: tuple | list | None) -> list[tuple]:
        return raw.execute(sql, params or []).fetchall()

    def try_query(self, raw: Any, sql: str) -> list[tuple] | None:
        try:
            return raw.execute(sql).fetchall()
        except Exception:  # noqa: BLE001 - missing or broken relation
            return None

    @contextmanager
    def transaction(self, raw: Any) -> Iterator[Any]:
        cur = raw.cursor()
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

    def write(self, cur: Any, tables: list[tuple[str, pa.Table]]) -> None:
        insert_arrow(cur, tables)


#: PostgreSQL's work_mem while a write builds the materialized copies
COPY_WORK_MEM = "256MB"


class PostgresDialect(Dialect):
    """PostgreSQL through psycopg 3: real materialized views, COPY for bulk loads."""

    kind = "postgres"
    schemes = ("postgresql", "postgres", "postgresql+psycopg")
    money = "NUMERIC(12, 2)"
    drop_table = "DROP TABLE IF EXISTS {name} CASCADE"
    drop_view = "DROP VIEW IF EXISTS {name} CASCADE"
    drop_materialized = "DROP MATERIALIZED VIEW IF EXISTS {name}"
    create_copy = "CREATE MATERIALIZED VIEW {name} AS {sql}"
    extra_relations = ("SELECT matviewname FROM pg_matviews",)
    # fresh planner statistics: right after a bulk load the tables have none, and the basket
    # self-join of mv_pair_counts then gets a plan that runs for many minutes
    analyze = (f"ANALYZE {', '.join(TABLES)}",)
    # the copies' sorts and hash aggregates over every order line: with the server's default
    # 4 MB they spill in small runs, and mv_pair_counts ran 40 minutes at scale 100 (not done)
    # where it takes 95 s with 256 MB (2026-12-02); SET LOCAL ends with the transaction
    copy_settings = (f"SET LOCAL work_mem = '{COPY_WORK_MEM}'",)
    #: seconds to wait for the server when the URL gives no ``connect_timeout``
    connect_timeout = 5

    def url_fields(self, url: str, parts: SplitResult) -> dict[str, Any]:
        try:
            port = parts.port or 5432
        except ValueError as exc:
            from sales_analytics.storage.connection import redact

            raise StorageError(f"bad database URL {redact(url)!r}: {exc}") from None
        return {
            "host": unquote(parts.hostname) if parts.hostname else "localhost",
            "port": port,
            "user": unquote(parts.username) if parts.username else None,
            "password": unquote(parts.password) if parts.password else None,
            "database": unquote(parts.path.lstrip("/")) or None,
            "options": tuple(parse_qsl(parts.query, keep_blank_values=True)),
        }

    def open(self, parsed: DatabaseURL, *, read_only: bool = False) -> ibis.BaseBackend:
        options = dict(parsed.options)
        options.setdefault("connect_timeout", str(self.connect_timeout))
        try:
            return ibis.postgres.connect(
                host=parsed.host,
                port=parsed.port,
                user=parsed.user,
                password=parsed.password,
                database=parsed.database,
                **options,
            )
        except Exception as exc:  # noqa: BLE001
            reason = first_line(exc)
            if parsed.password:
                reason = reason.replace(parsed.password, "***")
            raise StorageError(
                f"cannot connect to PostgreSQL at {parsed.host}:{parsed.port}"
                f"/{parsed.database or ''}: {reason}"
            ) from None

    def query(self, raw: Any, sql: str, params: tuple | list | None) -> list[tuple]:
        with raw.cursor() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall()
        raw.commit()
        return rows

    def try_query(self, raw: Any, sql: str) -> list[tuple] | None:
        try:
            with raw.cursor() as cur:
                cur.execute(sql)
                rows = cur.fetchall()
            raw.commit()
            return rows
        except Exception:  # noqa: BLE001 - missing or broken relation
            raw.rollback()
            return None

    @contextmanager
    def transaction(self, raw: Any) -> Iterator[Any]:
        raw.commit()  # end any implicit transaction ibis left open
        with raw.transaction(), raw.cursor() as cur:
            yield cur

    def write(self, cur: Any, tables: list[tuple[str, pa.Table]]) -> None:
        copy_tables(cur, tables)

    def write_blocks(self, cur: Any, blocks: Iterable[list[tuple[str, pa.Table]]]) -> None:
        copy_blocks(cur, blocks)


class SparkDialect(Dialect):
    """A Spark lake (Parquet versions, see ``storage.spark``): ``spark:///PATH`` runs a local
    session (``local[*]``, or ``?master=local[2]``), ``spark://HOST:PORT/PATH`` a cluster master
    with the lake at the absolute PATH on storage every node sees. ``spark.*`` URL options are
    Spark settings. Writes go through ``SparkDatabase.write``, not SQL transactions."""

    kind = "spark"
    schemes = ("spark",)
    money = "DECIMAL(12, 2)"
    drop_table = drop_view = drop_materialized = create_copy = ""

    def url_fields(self, url: str, parts: SplitResult) -> dict[str, Any]:
        options = tuple(parse_qsl(parts.query, keep_blank_values=True))
        if parts.netloc:  # spark://host:port/abs/path: a cluster (standalone master)
            try:
                port = parts.port or 7077  # the standalone master's default port
            except ValueError:
                port = None
            if not parts.hostname or port is None or parts.username is not None:
                raise StorageError(
                    f"bad database URL {url!r}: a cluster is spark://HOST:PORT/PATH, e.g. "
                    "spark://master:7077/shared/lake"
                )
            path = unquote(parts.path) if parts.path.strip("/") else None
            host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
            master = f"spark://{host}:{port}"
        else:  # spark:///rel/path or spark:////abs/path, like duckdb:///
            path = unquote(parts.path)
            path = "/" + path.lstrip("/") if url.startswith("spark:////") else path[1:]
            master, port = "local[*]", None
        if not path:
            raise StorageError(
                f"bad database URL {url!r}: give the lake's folder, e.g. spark:///data/lake"
            )
        given = dict(options)
        return {
            "path": path,
            "host": given.pop("master", master),
            "port": port,
            "options": tuple(given.items()),
        }

    def open(self, parsed: DatabaseURL, *, read_only: bool = False) -> ibis.BaseBackend:
        from sales_analytics.storage.lake import Lake
        from sales_analytics.storage.spark import session

        path = Path(parsed.path)
        if path.exists() and not path.is_dir():
            raise StorageError(f"{path} is a file, not a Spark lake folder")
        if read_only and Lake(path).current_name() is None:
            raise StorageError(f"no Spark lake at {path}: create one with `sales-analytics build`")
        spark = session(parsed.host, dict(parsed.options)).newSession()
        for key, value in parsed.options:  # runtime settings (a session may exist already)
            try:
                spark.conf.set(key, value)
            except Exception:  # noqa: BLE001 - a static setting: applies to a new JVM only
                pass
        try:
            return ibis.pyspark.connect(spark)
        except Exception as exc:  # noqa: BLE001
            raise StorageError(f"cannot open Spark: {first_line(exc)}") from exc

    def query(self, raw: Any, sql: str, params: tuple | list | None) -> list[tuple]:
        return [tuple(r) for r in raw.sql(sql).collect()]

    def try_query(self, raw: Any, sql: str) -> list[tuple] | None:
        try:
            return self.query(raw, sql, None)
        except Exception:  # noqa: BLE001
            return None

    def transaction(self, raw: Any) -> AbstractContextManager[Any]:
        raise StorageError("a Spark lake has no SQL transactions: write with Database.write")

    def write(self, cur: Any, tables: list[tuple[str, pa.Table]]) -> None:
        raise StorageError("a Spark lake is written by SparkDatabase.write")

    def database_type(self) -> type | None:
        from sales_analytics.storage.spark import SparkDatabase

        return SparkDatabase


DUCKDB = DuckDBDialect()
POSTGRES = PostgresDialect()
SPARK = SparkDialect()

#: Database kind -> its dialect.
BY_KIND: dict[str, Dialect] = {d.kind: d for d in (DUCKDB, POSTGRES, SPARK)}

#: URL scheme (lower case) -> its dialect.
DIALECTS: dict[str, Dialect] = {s: d for d in BY_KIND.values() for s in d.schemes}
