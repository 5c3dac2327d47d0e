"""What the endpoints share: the pooled database readers, saved models, frame -> JSON rows.

One :class:`Service` per app; its saved models are one
:class:`~sales_analytics.models.store.ModelStore` (re-exported here with its errors, which the app
maps to 404 and 409). Requests read the database in parallel, each borrowing a connection from
storage's :class:`~sales_analytics.storage.ReadPool` (a connection pool on PostgreSQL, cursors of
one read-only connection on DuckDB) for the duration of its queries. Every borrowed connection runs
under the statement timeout (``SA_STATEMENT_TIMEOUT``, 30 s): a statement that runs longer, or
waits on a table lock, is cancelled and becomes a :class:`StatementTimeout` (HTTP 503). A lost
connection becomes a :class:`StorageError` (HTTP 503); the pool replaces it (DuckDB: the Service
opens a new pool), so the next request works again. :meth:`Service.health` answers within its own
short timeout whatever the database does.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np
import pandas as pd

from sales_analytics.models.store import LoadedModel, ModelMissing, ModelStore, ModelUnusable
from sales_analytics.storage import (
    ConnectionLost,
    Database,
    DataVersion,
    PoolBusy,
    ReadPool,
    StatementTimeout,
    StorageError,
)

log = logging.getLogger(__name__)

R = TypeVar("R")

#: Defaults of :class:`Service` (the statement timeout's setting is ``SA_STATEMENT_TIMEOUT``).
POOL_SIZE = 8
STATEMENT_TIMEOUT = 30.0
HEALTH_TIMEOUT = 2.0
#: A data version is asked at most this often per Service (seconds): a request that only needs
#: the version (a cache hit) then costs no query. Loads are minutes apart; 0.5 s of staleness
#: delays the new version, never mixes two (the cache stores an answer only when the version
#: read before and after computing it agree).
VERSION_TTL = 0.5

HealthStatus = Literal["ok", "degraded", "unavailable"]


@dataclass(frozen=True)
class Version:
    """The data version of the database (``None`` fields: storage records none)."""

    version: int | None
    as_of: datetime | None


NO_VERSION = Version(None, None)


@dataclass(frozen=True)
class HealthReport:
    """What ``/health`` answers."""

    status: HealthStatus
    database: str | None
    data_version: int | None = None
    data_as_of: datetime | None = None
    detail: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def plain(value: Any) -> Any:
    """A pandas/numpy/Decimal cell as a JSON-ready Python value (NaN/NaT -> None)."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, datetime | date | str | int | bool):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of ``frame`` as dicts of plain values."""
    cols = list(frame.columns)
    return [
        {c: plain(v) for c, v in zip(cols, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


def as_version(found: DataVersion | None) -> Version:
    """Storage's data version as a :class:`Version` (none recorded: :data:`NO_VERSION`)."""
    if found is None:
        return NO_VERSION
    return Version(int(found.version), getattr(found, "committed_at", None))


def data_version(db: Database) -> Version:
    """``db.data_version()`` as a :class:`Version` (storage without versions: :data:`NO_VERSION`)."""
    read = getattr(db, "data_version", None)
    return as_version(read() if callable(read) else None)


class Service:
    """The app's database readers (opened lazily, reopened after a failure) and its models.

    Parameters
    ----------
    database_url
        The database every request reads.
    models_dir
        Folder of saved models.
    pool_size
        Connections (PostgreSQL) or cursors (DuckDB) in use at once; more requests wait for one,
        at most ``statement_timeout`` seconds.
    statement_timeout
        Seconds a statement may run (or wait on a lock) before it is cancelled (503).
    health_timeout
        Seconds ``health()`` waits for the database before it answers ``degraded``.
    """

    def __init__(
        self,
        database_url: str,
        models_dir: str | Path,
        *,
        pool_size: int = POOL_SIZE,
        statement_timeout: float = STATEMENT_TIMEOUT,
        health_timeout: float = HEALTH_TIMEOUT,
        version_ttl: float = VERSION_TTL,
    ):
        if pool_size < 1:
            raise ValueError(f"pool_size must be at least 1, not {pool_size}")
        if statement_timeout <= 0 or health_timeout <= 0:
            raise ValueError("timeouts must be positive")
        self.database_url = database_url
        self.models = ModelStore(models_dir)
        self.pool_size = pool_size
        self.statement_timeout = float(statement_timeout)
        self.health_timeout = float(health_timeout)
        self.version_ttl = float(version_ttl)
        self.kind: str | None = None
        self._pool: ReadPool | None = None
        self._lock = threading.Lock()
        self._version: tuple[float, Version] | None = None
        self._checker: ThreadPoolExecutor | None = None

    # ------------------------------------------------------------------ connection
    def open(self) -> None:
        """Connect now (at startup); a failure is logged and retried on the next request."""
        try:
            self._ready()
        except StorageError as exc:
            log.warning("API started without a database: %s", exc)

    def _ready(self) -> ReadPool:
        pool = self._pool
        if pool is not None:
            return pool
        with self._lock:
            if self._pool is None:
                pool = ReadPool(
                    self.database_url, size=self.pool_size, statement_timeout=self.statement_timeout
                )
                self.kind = pool.kind
                try:
                    if not pool.has_schema():
                        raise StorageError(
                            f"no sales-analytics schema in the {pool.kind} database: "
                            "run `sales-analytics build` first"
                        )
                except BaseException:
                    pool.close()
                    raise
                self._pool = pool
            return self._pool

    def _drop(self, pool: ReadPool) -> None:
        """Close ``pool`` after a failure it cannot recover from (DuckDB: reopen)."""
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.close()

    def _after(self, pool: ReadPool) -> None:
        if pool.broken:  # a lost DuckDB connection: the next request opens a new pool
            self._drop(pool)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()
        checker, self._checker = self._checker, None
        if checker is not None:
            checker.shutdown(wait=False, cancel_futures=True)

    @contextmanager
    def database(
        self, *, wait: float | None = None, timeout: float | None = None
    ) -> Iterator[Database]:
        """A database connection of the pool, held for the ``with`` block.

        ``wait`` bounds the wait for a free connection (:class:`~sales_analytics.storage.PoolBusy`),
        ``timeout`` every statement in the block (both default to the statement timeout). Driver
        errors become one-line :class:`StorageError` (a timeout: :class:`StatementTimeout`).
        """
        pool = self._ready()
        try:
            with pool.borrow(wait=wait, timeout=timeout) as db:
                yield db
        except ConnectionLost:
            self._after(pool)
            raise

    def run(self, fn: Callable[[Database], R]) -> R:
        with self.database() as db:
            return fn(db)

    # ------------------------------------------------------------------ data version
    def data_version(self, *, fresh: bool = False) -> Version:
        """The database's data version (read at most every ``version_ttl`` s unless ``fresh``)."""
        now = time.monotonic()
        cached = self._version
        if not fresh and cached is not None and now - cached[0] < self.version_ttl:
            return cached[1]
        pool = self._ready()
        try:
            version = as_version(pool.data_version(wait=self.health_timeout))
        except ConnectionLost:
            self._after(pool)
            raise
        self._version = (now, version)
        return version

    # ------------------------------------------------------------------ health
    def health(self) -> HealthReport:
        """The database checked within ``health_timeout`` seconds: every table readable and the
        data version known (``ok``), slow or locked (``degraded``), or unreachable, corrupt or
        without schema (``unavailable``)."""
        limit = self.health_timeout
        with self._lock:
            if self._checker is None:
                self._checker = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sa-health")
            checker = self._checker
        future = checker.submit(self._check)
        try:
            return future.result(timeout=limit + 0.5)
        except FutureTimeout:
            return HealthReport(
                "degraded" if self._pool is not None else "unavailable",
                self.kind,
                detail=f"the database did not answer within {limit:g} s",
            )

    def _check(self) -> HealthReport:
        try:
            pool = self._ready()
        except StorageError as exc:
            return HealthReport("unavailable", self.kind, detail=str(exc))
        found = pool.health(self.health_timeout)
        self._after(pool)
        if not found.ok:
            return HealthReport(found.status, self.kind, detail=found.detail)
        version = as_version(found.version)
        self._version = (time.monotonic(), version)
        return HealthReport("ok", self.kind, version.version, version.as_of)


__all__ = [
    "HealthReport",
    "LoadedModel",
    "ModelMissing",
    "ModelStore",
    "ModelUnusable",
    "Service",
    "PoolBusy",
    "StatementTimeout",
    "Version",
    "data_version",
    "plain",
    "records",
]
