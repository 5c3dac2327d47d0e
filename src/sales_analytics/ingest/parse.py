"""Vectorised field parsers (the reject reasons they lead to are in :mod:`.rejects`).

Parsers take a stripped string Series and return values plus an integer problem code per row
(``OK`` or one of the codes below), so the caller turns each code into a reject reason with the
file's own column name.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

OK, MISSING, NOT_NUMERIC, NOT_WHOLE, TOO_PRECISE, OUT_OF_RANGE = range(6)

INT32_MAX = 2**31 - 1
#: NUMERIC(12, 2): at most 10 digits before the decimal point
MONEY_MAX_CENTS = 10**12 - 1

_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)"


def _number(s: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(syntax ok, value as float64, missing) for plain decimal numbers (arrow string kernels)."""
    missing = (s == "").to_numpy(dtype=bool)
    syntax = s.str.fullmatch(_NUMBER).fillna(False).to_numpy(dtype=bool)
    value = s.where(syntax, "0").astype("float64").to_numpy()
    return syntax, value, missing


def parse_integer(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Whole numbers (``3``, ``-2``, ``3.0``) -> (int64 values, problem codes)."""
    syntax, value, missing = _number(s)
    code = np.full(len(s), OK, dtype=np.int8)
    code[~syntax] = NOT_NUMERIC
    fraction = s.str.contains(r"\.\d*[1-9]").fillna(False).to_numpy(dtype=bool)
    code[syntax & fraction] = NOT_WHOLE
    code[(code == OK) & (np.abs(value) > INT32_MAX)] = OUT_OF_RANGE
    code[missing] = MISSING
    values = np.where(code == OK, value, 0).astype(np.int64)
    return values, code


def parse_money(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Plain decimals with at most 2 places (``3``, ``3.5``, ``-0.85``) -> (int64 cents, codes).

    No thousands separators, currency symbols or exponents. Trailing zeros do not count as places
    (``1.250`` is fine, ``0.001`` is not: the schema stores cents and nothing is rounded). Values
    have at most 12 significant digits here, so ``rint(float * 100)`` is exact.
    """
    syntax, value, missing = _number(s)
    code = np.full(len(s), OK, dtype=np.int8)
    code[~syntax] = NOT_NUMERIC
    precise = s.str.contains(r"\.\d\d\d*[1-9]").fillna(False).to_numpy(dtype=bool)
    code[syntax & precise] = TOO_PRECISE
    code[(code == OK) & (np.abs(value) > MONEY_MAX_CENTS / 100)] = OUT_OF_RANGE
    code[missing] = MISSING
    cents = np.where(code == OK, np.rint(value * 100), 0).astype(np.int64)
    return cents, code


def parse_dates(s: pd.Series, formats: tuple[str, ...]) -> np.ndarray:
    """Timestamps -> datetime64[us] (NaT where no format fits).

    ``"ISO8601"`` accepts any ISO 8601 date or timestamp; one with a UTC offset is converted to UTC
    and stored without zone, a naive one is stored as written.
    """
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
    todo = (s != "").to_numpy(dtype=bool)
    for fmt in formats:
        if not todo.any():
            break
        part = s[todo]
        if fmt == "ISO8601":
            parsed = pd.to_datetime(part, format="ISO8601", errors="coerce", utc=True)
            parsed = parsed.dt.tz_localize(None)
        else:
            parsed = pd.to_datetime(part, format=fmt, errors="coerce")
        out[todo] = parsed.astype("datetime64[us]")
        todo = todo & out.isna().to_numpy()
    return out.to_numpy()
