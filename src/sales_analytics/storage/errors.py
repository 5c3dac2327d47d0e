"""The one storage exception and the folding of driver messages into it."""

from __future__ import annotations


class StorageError(RuntimeError):
    """A database problem explained in one line (bad URL, unreachable server, failed load)."""


def first_line(exc: BaseException) -> str:
    """The driver's message folded into one line (psycopg spreads it over several)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    lines = [ln for ln in lines if ln.rstrip(":") not in ("connection failed",)] or lines
    text = "; ".join(dict.fromkeys(lines)) or type(exc).__name__
    return text if len(text) <= 400 else text[:397] + "..."
