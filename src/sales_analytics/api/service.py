"""What the endpoints share: the serialised database connection, saved models, frame -> JSON rows.

One :class:`Service` per app; its saved models are one
:class:`~sales_analytics.models.store.ModelStore` (re-exported here with its errors, which the app
maps to 404 and 409). The database is used by one request at a time (a DuckDB connection
must not be shared between threads; FastAPI runs the endpoints in a thread pool). A lost connection
(a DB-API ``OperationalError``/``InterfaceError``) becomes a :class:`StorageError` (HTTP 503) and the
next request reconnects.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from sales_analytics.models.store import LoadedModel, ModelMissing, ModelStore, ModelUnusable
from sales_analytics.storage import Database, StorageError, connect

log = logging.getLogger(__name__)

R = TypeVar("R")

#: DB-API exception class names that mean "the connection is gone", whatever the driver.
_CONNECTION_ERRORS = frozenset({"OperationalError", "InterfaceError", "ConnectionException"})


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


def _is_connection_error(exc: BaseException) -> bool:
    return any(cls.__name__ in _CONNECTION_ERRORS for cls in type(exc).__mro__)


class Service:
    """The app's database (opened lazily, reopened after a lost connection) and its models."""

    def __init__(self, database_url: str, models_dir: str | Path):
        self.database_url = database_url
        self.models = ModelStore(models_dir)
        self._db: Database | None = None
        self._lock = threading.Lock()
        self.kind: str | None = None

    # ------------------------------------------------------------------ connection
    def open(self) -> None:
        """Connect now (at startup); a failure is logged and retried on the next request."""
        try:
            with self._lock:
                self._connect()
        except StorageError as exc:
            log.warning("API started without a database: %s", exc)

    def _connect(self) -> Database:
        if self._db is None:
            db = connect(self.database_url)
            self.kind = db.kind
            try:
                ok = db.has_schema()
            except Exception as exc:  # noqa: BLE001 - any driver error: one line, 503
                db.close()
                raise StorageError(f"cannot read {db.kind} database: {exc}") from exc
            if not ok:
                db.close()
                raise StorageError(
                    f"no sales-analytics schema in the {db.kind} database: "
                    "run `sales-analytics build` first"
                )
            self._db = db
        return self._db

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    @contextmanager
    def database(self) -> Iterator[Database]:
        """The open database, held exclusively for the ``with`` block."""
        with self._lock:
            db = self._connect()
            try:
                yield db
            except Exception as exc:
                if not _is_connection_error(exc):
                    raise
                log.warning("database connection lost: %s", exc)
                db.close()
                self._db = None
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise StorageError(f"database unavailable: {first}") from exc

    def run(self, fn: Callable[[Database], R]) -> R:
        with self.database() as db:
            return fn(db)

    def health(self) -> tuple[bool, str | None]:
        try:
            with self.database() as db:
                db.query("SELECT 1")
        except StorageError as exc:
            return False, str(exc)
        return True, None


__all__ = [
    "LoadedModel",
    "ModelMissing",
    "ModelStore",
    "ModelUnusable",
    "Service",
    "plain",
    "records",
]
