"""Concurrent read connections: :class:`ReadPool` lends a :class:`Database` to one thread at a time.

=============  ===================================================  ===============================
kind           connections                                          statement timeout
=============  ===================================================  ===============================
PostgreSQL     a ``psycopg_pool.ConnectionPool`` (checked on each   ``statement_timeout`` set on
               borrow: a terminated backend is replaced, not lent)  each connection by the server
DuckDB         one read-only connection, a cursor per slot          a ``threading.Timer`` calls
               (:meth:`Database.cursor`); the file reopened when    ``interrupt()`` on the cursor
               a writer swapped it
=============  ===================================================  ===============================

``pool.borrow(wait=..., timeout=...)`` lends a Database for a ``with`` block: ``wait`` bounds the
wait for a free connection (:class:`PoolBusy`), ``timeout`` the statements run in the block
(:class:`StatementTimeout`). A lost connection is :class:`ConnectionLost`; on PostgreSQL the pool
replaces it, on DuckDB the pool is then :attr:`ReadPool.broken` (open a new one). Every error is a
:class:`StorageError` in one line. Each pooled connection keeps its own ``Database`` wrapper, so the
metric layer's per-source caches (table schemas, compiled definitions) survive from one borrow to
the next.

On DuckDB the root connection is ``connect(url, read_only=True)`` (an in-memory DuckDB with the
file attached read-only); a writer never touches that file but swaps a new one in, which
``Database.changed_on_disk()`` reports: the next borrow then opens the new file, and the old one is
closed once the borrows reading it are done.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import ibis

from sales_analytics.storage.connection import Database, DataVersion, connect, parse_url
from sales_analytics.storage.errors import StorageError
from sales_analytics.storage.schema import TABLES

log = logging.getLogger(__name__)

#: How often (seconds) a DuckDB pool asks whether the file was swapped.
SWAP_CHECK_INTERVAL = 0.25
#: libpq connect timeout of a pooled connection (seconds) unless the URL gives one.
CONNECT_TIMEOUT = 5
#: ``application_name`` of the pooled connections unless the URL gives one (pg_stat_activity).
APP_NAME = "sales-analytics-api"

HealthStatus = Literal["ok", "degraded", "unavailable"]


class StatementTimeout(StorageError):
    """A statement ran longer than the statement timeout (or waited that long on a lock)."""


class PoolBusy(StorageError):
    """No connection became free within the wait."""


class ConnectionLost(StorageError):
    """The connection went away under a borrow (the server ended it, the file was closed)."""


@dataclass(frozen=True)
class PoolHealth:
    """What :meth:`ReadPool.health` found: ``ok`` (with the data version, None before the first
    write), ``degraded`` (no answer in time) or ``unavailable`` (``detail`` says why)."""

    status: HealthStatus
    detail: str | None = None
    version: DataVersion | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


#: One statement touching every table: it waits (and times out) while any of them is locked.
HEALTH_PROBE = "SELECT " + ", ".join(f"(SELECT 1 FROM {name} LIMIT 1)" for name in TABLES)


class ReadPool:
    """Up to ``size`` read connections of the database at ``url``, lent one borrow at a time.

    Parameters
    ----------
    url
        The database (DuckDB file or PostgreSQL server); opened read-only.
    size
        Connections (PostgreSQL) or cursors (DuckDB) lent at once; more borrowers wait.
    statement_timeout
        Seconds a statement may run (or wait on a lock) before it is cancelled; a borrow may ask
        for another.

    Raises :class:`StorageError` (one line, no password) when the database cannot be opened.
    """

    def __init__(self, url: str, *, size: int = 8, statement_timeout: float):
        if size < 1:
            raise ValueError(f"size must be at least 1, not {size}")
        if statement_timeout <= 0:
            raise ValueError("statement_timeout must be positive")
        self.url = url
        self.kind = parse_url(url).kind
        self.size = size
        self.statement_timeout = float(statement_timeout)
        #: True after a lost DuckDB connection: this pool lends nothing more, open a new one
        self.broken = False
        try:
            self._lender = _LENDERS[self.kind](url, size=size, timeout=self.statement_timeout)
        except StorageError:
            raise
        except Exception as exc:  # noqa: BLE001 - any driver error: one line
            raise StorageError(f"cannot open {self.kind} database: {first_line(exc)}") from exc

    def __repr__(self) -> str:
        return f"<ReadPool {self.kind} size={self.size} timeout={self.statement_timeout:g}s>"

    @contextmanager
    def borrow(
        self, *, wait: float | None = None, timeout: float | None = None
    ) -> Iterator[Database]:
        """A Database of the pool for the ``with`` block.

        ``wait`` bounds the wait for a free connection (:class:`PoolBusy`), ``timeout`` every
        statement in the block (:class:`StatementTimeout`); both default to the statement
        timeout. A lost connection is :class:`ConnectionLost`; other errors pass unchanged.
        """
        wait = self.statement_timeout if wait is None else wait
        timeout = self.statement_timeout if timeout is None else timeout
        if self.broken:
            raise ConnectionLost("database unavailable: the connection was lost; reopen the pool")
        try:
            with self._lender.borrow(wait=wait, timeout=timeout) as db:
                yield db
        except StorageError:
            raise
        except Exception as exc:
            if is_timeout(exc):
                raise StatementTimeout(
                    f"the query ran longer than the {timeout:g} s statement timeout "
                    "(a table may be locked by a load, or the database is overloaded); "
                    "try again later"
                ) from exc
            if not is_connection_error(exc):
                raise
            log.warning("database connection lost: %s", first_line(exc))
            if self.kind == "duckdb":  # a PostgreSQL pool replaces a lost connection itself
                self.broken = True
            raise ConnectionLost(f"database unavailable: {first_line(exc)}") from exc

    def has_schema(self) -> bool:
        """Whether every table of the schema exists (any failure: :class:`StorageError`
        ``cannot read <kind> database: ...``)."""
        try:
            with self._lender.borrow(
                wait=self.statement_timeout, timeout=self.statement_timeout
            ) as db:
                return db.has_schema()
        except StorageError:
            raise
        except Exception as exc:  # noqa: BLE001 - any driver error: one line
            raise StorageError(f"cannot read {self.kind} database: {first_line(exc)}") from exc

    def data_version(self, *, wait: float | None = None) -> DataVersion | None:
        """The data version the pool's connections see now (None before the first write)."""
        with self.borrow(wait=wait) as db:
            return db.data_version()

    def health(self, timeout: float) -> PoolHealth:
        """Read one row of every table and the data version, waiting at most ``timeout`` seconds
        for a connection and for each statement; never raises."""
        try:
            with self.borrow(wait=timeout, timeout=timeout) as db:
                db.query(HEALTH_PROBE)
                version = db.data_version()
        except (StatementTimeout, PoolBusy) as exc:
            reason = "a table is locked or the database is overloaded"
            if isinstance(exc, PoolBusy):
                reason = str(exc)
            return PoolHealth(
                "degraded", f"the database did not answer within {timeout:g} s: {reason}"
            )
        except StorageError as exc:
            return PoolHealth("unavailable", str(exc))
        except Exception as exc:  # noqa: BLE001 - a broken file or schema: one line
            return PoolHealth("unavailable", first_line(exc))
        return PoolHealth("ok", None, version)

    def close(self) -> None:
        """Close the connections (those lent now once they are given back)."""
        self._lender.close()

    def __enter__(self) -> ReadPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# ------------------------------------------------------------------------------------ PostgreSQL
class _PostgresLender:
    """``size`` pooled psycopg connections, each with ``statement_timeout`` and a Database."""

    def __init__(self, url: str, *, size: int, timeout: float):
        from psycopg_pool import ConnectionPool

        self.url = url
        self.size = size
        self.timeout = timeout
        parsed = parse_url(url)
        self._parsed = parsed
        self._wrappers: weakref.WeakKeyDictionary[Any, Database] = weakref.WeakKeyDictionary()
        self._wrap_lock = threading.Lock()
        given = dict(parsed.options)
        kwargs = {
            k: v
            for k, v in (("connect_timeout", CONNECT_TIMEOUT), ("application_name", APP_NAME))
            if k not in given
        }
        self._conninfo, self._kwargs = parsed.conninfo, kwargs
        self._where = f"{parsed.host}:{parsed.port}/{parsed.database or ''}"
        self._probe()  # one direct attempt first: a refused or wrong server fails at once
        self.pool = ConnectionPool(
            self._conninfo,
            min_size=1,
            max_size=size,
            kwargs=kwargs,
            configure=self._configure,
            check=ConnectionPool.check_connection,
            reconnect_timeout=3600,
            open=False,
            name="sales-analytics-api",
        )
        try:
            self.pool.open(wait=True, timeout=CONNECT_TIMEOUT + 1)
        except Exception as exc:  # noqa: BLE001 - PoolTimeout: the server does not answer
            self.pool.close(timeout=0)
            raise StorageError(
                f"cannot connect to PostgreSQL at {self._where}: {first_line(exc)}"
            ) from exc

    def _probe(self, connect_timeout: int | None = None) -> None:
        """Connect once outside the pool: :class:`StorageError` naming why it fails."""
        import psycopg

        kwargs = self._kwargs
        if connect_timeout is not None and "connect_timeout" in kwargs:
            kwargs = kwargs | {"connect_timeout": connect_timeout}
        try:
            psycopg.connect(self._conninfo, **kwargs).close()
        except psycopg.Error as exc:
            raise StorageError(
                f"cannot connect to PostgreSQL at {self._where}: {first_line(exc)}"
            ) from exc

    def _configure(self, conn) -> None:
        _set_timeout(conn, self.timeout)

    def _database(self, conn) -> Database:
        with self._wrap_lock:
            db = self._wrappers.get(conn)
            if db is None:
                backend = ibis.postgres.from_connection(conn)
                db = Database(self.url, self._parsed, backend, read_only=True)
                self._wrappers[conn] = db
            return db

    @contextmanager
    def borrow(self, *, wait: float, timeout: float) -> Iterator[Database]:
        from psycopg_pool import PoolTimeout

        first = min(wait, 1.0)
        try:
            conn = self.pool.getconn(timeout=first)
        except PoolTimeout:
            # busy, or the server went away (the pool then has nothing to lend): ask it directly
            self._probe(connect_timeout=1)
            try:
                conn = self.pool.getconn(timeout=max(wait - first, 0.001))
            except PoolTimeout as exc:
                raise PoolBusy(
                    f"all {self.size} database connections stayed busy for {wait:g} s"
                ) from exc
        try:
            if timeout != self.timeout:
                _set_timeout(conn, timeout)
            yield self._database(conn)
        finally:
            if timeout != self.timeout and not conn.closed:
                try:
                    conn.rollback()
                    _set_timeout(conn, self.timeout)
                except Exception:  # noqa: BLE001 - broken: putconn discards it
                    pass
            self.pool.putconn(conn)  # rolls back an open transaction, discards a broken one

    def close(self) -> None:
        self.pool.close(timeout=1)


def _set_timeout(conn, seconds: float) -> None:
    conn.execute(f"SET statement_timeout = {int(seconds * 1000)}")
    conn.commit()


# ------------------------------------------------------------------------------------ DuckDB
class _Generation:
    """One open DuckDB file: its root connection and the cursors lent from it."""

    def __init__(self, url: str, size: int):
        self.url = url
        self.size = size
        self.root = connect(url, read_only=True)
        self.free: queue.LifoQueue[Database] = queue.LifoQueue()
        self.made = 0
        self.out = 0
        self.retired = False
        self.lock = threading.Lock()

    def take(self, wait: float) -> Database:
        with self.lock:
            if self.free.empty() and self.made < self.size:
                self.made += 1
                self.free.put(self.root.cursor())
            self.out += 1
        try:
            return self.free.get(timeout=wait)
        except queue.Empty:
            with self.lock:
                self.out -= 1
            raise PoolBusy(f"all {self.size} database readers stayed busy for {wait:g} s") from None

    def give(self, db: Database, *, broken: bool = False) -> None:
        with self.lock:
            self.out -= 1
            if broken:
                self.made -= 1
                db.close()
            else:
                self.free.put(db)
            done = self.retired and self.out == 0
        if done:
            self.close()

    def retire(self) -> None:
        with self.lock:
            self.retired = True
            done = self.out == 0
        if done:
            self.close()

    def close(self) -> None:
        while True:
            try:
                self.free.get_nowait().close()
            except queue.Empty:
                break
        self.root.close()


class _DuckDBLender:
    """One read-only DuckDB connection, up to ``size`` cursors in use at once."""

    def __init__(self, url: str, *, size: int, timeout: float):
        self.url = url
        self.size = size
        self.timeout = timeout
        self._lock = threading.Lock()
        self._gen = _Generation(url, size)
        self._checked = time.monotonic()

    def _current(self) -> _Generation:
        with self._lock:
            now = time.monotonic()
            if now - self._checked >= SWAP_CHECK_INTERVAL:
                self._checked = now
                old = self._gen
                if old.root.changed_on_disk():
                    log.info("DuckDB file %s was replaced: reopening", old.root.parsed.path)
                    self._gen = _Generation(self.url, self.size)
                    old.retire()
            return self._gen

    @contextmanager
    def borrow(self, *, wait: float, timeout: float) -> Iterator[Database]:
        gen = self._current()
        db = gen.take(wait)
        guard = threading.Lock()
        active = [True]

        def interrupt() -> None:
            with guard:
                if active[0]:
                    db.raw.interrupt()

        timer = threading.Timer(timeout, interrupt)
        timer.daemon = True
        timer.start()
        broken = False
        try:
            yield db
        except BaseException as exc:
            broken = is_connection_error(exc) and not is_timeout(exc)
            raise
        finally:
            with guard:
                active[0] = False
            timer.cancel()
            gen.give(db, broken=broken)

    def close(self) -> None:
        with self._lock:
            self._gen.retire()


_LENDERS: dict[str, type] = {"postgres": _PostgresLender, "duckdb": _DuckDBLender}


# ------------------------------------------------------------------------------------ errors
#: DB-API exception class names that mean "the connection is gone", whatever the driver.
CONNECTION_ERRORS = frozenset({"OperationalError", "InterfaceError", "ConnectionException"})
#: ... and those that mean "the statement ran out of time" (checked first: psycopg's
#: QueryCanceled is an OperationalError).
TIMEOUT_ERRORS = frozenset({"QueryCanceled", "InterruptException", "LockNotAvailable"})


def _names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def is_timeout(exc: BaseException) -> bool:
    return bool(_names(exc) & TIMEOUT_ERRORS)


def is_connection_error(exc: BaseException) -> bool:
    return bool(_names(exc) & CONNECTION_ERRORS)


def first_line(exc: BaseException) -> str:
    """The first line of the driver's message (psycopg adds hints on the following ones)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


__all__ = [
    "HEALTH_PROBE",
    "ConnectionLost",
    "PoolBusy",
    "PoolHealth",
    "ReadPool",
    "StatementTimeout",
]
