"""The connection lenders behind :class:`~sales_analytics.storage.readers.ReadPool`: a psycopg
pool on PostgreSQL, cursors of one read-only connection on DuckDB (see ``readers``)."""

from __future__ import annotations

import logging
import queue
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ibis

from sales_analytics.storage.connection import Database, connect, parse_url
from sales_analytics.storage.errors import (
    PoolBusy,
    StorageError,
    is_connection_error,
    is_timeout,
    message_head,
)

log = logging.getLogger(__name__)

#: How often (seconds) a DuckDB pool asks whether the file was swapped.
SWAP_CHECK_INTERVAL = 0.25
#: libpq connect timeout of a pooled connection (seconds) unless the URL gives one.
CONNECT_TIMEOUT = 5
#: ``application_name`` of the pooled connections unless the URL gives one (pg_stat_activity).
APP_NAME = "sales-analytics-api"


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
                f"cannot connect to PostgreSQL at {self._where}: {message_head(exc)}"
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
                f"cannot connect to PostgreSQL at {self._where}: {message_head(exc)}"
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


# ------------------------------------------------------------------------------------ Spark
class _SparkLender:
    """One read-only Spark lake Database for every borrower (a Spark session runs many threads'
    jobs at once), reopened on the new version once a writer switched the lake's pointer; a
    statement past the timeout has its Spark jobs cancelled (a job group per borrow)."""

    def __init__(self, url: str, *, size: int, timeout: float):
        self.url = url
        self.size = size
        self.timeout = timeout
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(size)
        self.db = connect(url, read_only=True)
        self._checked = time.monotonic()

    def _current(self) -> Database:
        with self._lock:
            now = time.monotonic()
            if now - self._checked >= SWAP_CHECK_INTERVAL:
                self._checked = now
                if self.db.changed_on_disk():
                    log.info("Spark lake %s has a new version: reopening", self.db.path)
                    old, self.db = self.db, connect(self.url, read_only=True)
                    old.close()
            return self.db

    @contextmanager
    def borrow(self, *, wait: float, timeout: float) -> Iterator[Database]:
        if not self._slots.acquire(timeout=wait):
            raise PoolBusy(f"all {self.size} database readers stayed busy for {wait:g} s")
        db = self._current()
        sc = db.raw.sparkContext
        group = f"sa-{threading.get_ident()}-{time.monotonic_ns()}"
        sc.setJobGroup(group, "sales-analytics read", interruptOnCancel=True)
        timer = threading.Timer(timeout, sc.cancelJobGroup, args=(group,))
        timer.daemon = True
        timer.start()
        try:
            yield db
        except Exception as exc:
            if not timer.is_alive() and "cancel" in str(exc).lower():
                raise StatementTimeoutError(f"cancelled after {timeout:g} s") from exc
            raise
        finally:
            timer.cancel()
            self._slots.release()

    def close(self) -> None:
        self.db.close()


class StatementTimeoutError(Exception):
    """A Spark job group cancelled by the statement timeout (ReadPool: StatementTimeout)."""


#: Database kind -> the lender of its read connections.
LENDERS: dict[str, type] = {
    "postgres": _PostgresLender,
    "duckdb": _DuckDBLender,
    "spark": _SparkLender,
}
