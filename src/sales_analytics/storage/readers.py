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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from sales_analytics.storage.connection import Database, DataVersion, parse_url
from sales_analytics.storage.errors import (
    ConnectionLost,
    PoolBusy,
    StatementTimeout,
    StorageError,
    is_connection_error,
    is_timeout,
    message_head,
)
from sales_analytics.storage.lenders import LENDERS
from sales_analytics.storage.schema import TABLES

log = logging.getLogger(__name__)

HealthStatus = Literal["ok", "degraded", "unavailable"]


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
            self._lender = LENDERS[self.kind](url, size=size, timeout=self.statement_timeout)
        except StorageError:
            raise
        except Exception as exc:  # noqa: BLE001 - any driver error: one line
            raise StorageError(f"cannot open {self.kind} database: {message_head(exc)}") from exc

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
            log.warning("database connection lost: %s", message_head(exc))
            if self.kind == "duckdb":  # a PostgreSQL pool replaces a lost connection itself
                self.broken = True
            raise ConnectionLost(f"database unavailable: {message_head(exc)}") from exc

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
            raise StorageError(f"cannot read {self.kind} database: {message_head(exc)}") from exc

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
            return PoolHealth("unavailable", message_head(exc))
        return PoolHealth("ok", None, version)

    def close(self) -> None:
        """Close the connections (those lent now once they are given back)."""
        self._lender.close()

    def __enter__(self) -> ReadPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


__all__ = [
    "HEALTH_PROBE",
    "ConnectionLost",
    "PoolBusy",
    "PoolHealth",
    "ReadPool",
    "StatementTimeout",
]
