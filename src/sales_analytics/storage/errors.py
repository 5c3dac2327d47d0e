"""The storage exceptions (one line each) and how driver errors are classified and folded."""

from __future__ import annotations


class StorageError(RuntimeError):
    """A database problem explained in one line (bad URL, unreachable server, failed load)."""


def first_line(exc: BaseException) -> str:
    """The driver's message folded into one line (psycopg spreads it over several)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    lines = [ln for ln in lines if ln.rstrip(":") not in ("connection failed",)] or lines
    text = "; ".join(dict.fromkeys(lines)) or type(exc).__name__
    return text if len(text) <= 400 else text[:397] + "..."


class StatementTimeout(StorageError):
    """A statement ran longer than the statement timeout (or waited that long on a lock)."""


class PoolBusy(StorageError):
    """No connection became free within the wait."""


class ConnectionLost(StorageError):
    """The connection went away under a borrow (the server ended it, the file was closed)."""


#: DB-API exception class names that mean "the connection is gone", whatever the driver.
CONNECTION_ERRORS = frozenset({"OperationalError", "InterfaceError", "ConnectionException"})
#: ... and those that mean "the statement ran out of time" (checked first: psycopg's
#: QueryCanceled is an OperationalError).
TIMEOUT_ERRORS = frozenset(
    {"QueryCanceled", "InterruptException", "LockNotAvailable", "StatementTimeoutError"}
)


def _names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def is_timeout(exc: BaseException) -> bool:
    return bool(_names(exc) & TIMEOUT_ERRORS)


def is_connection_error(exc: BaseException) -> bool:
    return bool(_names(exc) & CONNECTION_ERRORS)


def message_head(exc: BaseException) -> str:
    """The first line of the driver's message only (psycopg adds hints on the following ones)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
