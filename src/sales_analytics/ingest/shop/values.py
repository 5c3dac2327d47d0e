"""Vectorised value parsers of the order-level import: dates with offsets, amounts, refund split."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from sales_analytics.ingest.parse import parse_money

#: Shopify writes ``2024-03-01 14:05:00 -0500``
SHOPIFY_DATE = "%Y-%m-%d %H:%M:%S %z"


def parse_times(
    s: pd.Series | np.ndarray, shop_tz: str, source_tz: str | None, fmt: str | None
) -> np.ndarray:
    """Timestamps -> naive datetime64[us] in the shop's timezone (NaT where empty or unparseable).

    A value with a UTC offset is converted to the shop's zone; one without is read in
    ``source_tz`` (default: the shop's zone). Each distinct text is parsed once.
    """
    values = s if isinstance(s, pd.Series) else pd.Series(np.asarray(s, dtype=object))
    codes, uniques = pd.factorize(values.astype("string[pyarrow]"))
    uniq = pd.Series(uniques, dtype="string[pyarrow]")
    out = pd.Series(pd.NaT, index=uniq.index, dtype="datetime64[us]")
    todo = (uniq != "").to_numpy(dtype=bool)
    formats = [fmt] if fmt else [SHOPIFY_DATE, "ISO8601"]
    for f in formats:
        if not todo.any():
            break
        part = uniq[todo]
        aware = part.str.contains(r"(?:[+-]\d\d:?\d\d|Z)$", regex=True).to_numpy(dtype=bool)
        parsed = pd.Series(pd.NaT, index=part.index, dtype="datetime64[us]")
        if aware.any():
            parsed[aware] = _aware(part[aware], f, shop_tz)
        if (~aware).any():
            t = pd.to_datetime(part[~aware], format=f, errors="coerce")
            if t.dt.tz is not None:  # a format with %z
                t = t.dt.tz_convert(ZoneInfo(shop_tz)).dt.tz_localize(None)
            elif source_tz and source_tz != shop_tz:
                t = (
                    t.dt.tz_localize(ZoneInfo(source_tz), ambiguous="NaT", nonexistent="NaT")
                    .dt.tz_convert(ZoneInfo(shop_tz))
                    .dt.tz_localize(None)
                )
            parsed[~aware] = t
        out[todo] = parsed.astype("datetime64[us]")
        todo = todo & out.isna().to_numpy()
    result = out.to_numpy()[codes]
    result[codes < 0] = np.datetime64("NaT")
    return result


def _aware(part: pd.Series, fmt: str, shop_tz: str) -> np.ndarray:
    """Texts with a UTC offset -> naive datetime64[us] in the shop's zone (NaT: unparseable).

    Shopify's fixed-width layout (``2024-03-01 14:05:00 -0500``, or ``-05:00``) is read with numpy
    digit arithmetic (pandas' strptime takes most of a million-line import's date time); a text
    not in it, or with a field out of range (Feb 30, 24:00), goes to pandas as before."""
    out = np.full(len(part), np.datetime64("NaT"), dtype="datetime64[us]")
    todo = np.ones(len(part), dtype=bool)
    if fmt == SHOPIFY_DATE:
        fast, ok = _shopify_utc(part)
        local = pd.Series(fast[ok]).dt.tz_localize("UTC").dt.tz_convert(ZoneInfo(shop_tz))
        out[ok] = local.dt.tz_localize(None).to_numpy()
        todo = ~ok
    if todo.any():
        t = pd.to_datetime(part[todo], format=fmt, errors="coerce", utc=True)
        out[todo] = t.dt.tz_convert(ZoneInfo(shop_tz)).dt.tz_localize(None).to_numpy()
    return out


_SHOPIFY_SHAPE = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:?\d\d$"


def _shopify_utc(part: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(UTC datetime64[us], bool: read) of ``YYYY-MM-DD HH:MM:SS +HHMM`` texts, by digit."""
    shaped = part.str.fullmatch(_SHOPIFY_SHAPE).fillna(False).to_numpy(dtype=bool)
    utc = np.full(len(part), np.datetime64("NaT"), dtype="datetime64[us]")
    if not shaped.any():
        return utc, shaped
    # without its colons every such text is 23 wide: YYYY-MM-DD HHMMSS ±HHMM
    text = part[shaped].str.replace(":", "", regex=False).to_numpy(dtype=object)
    d = text.astype("S23").view(np.uint8).reshape(-1, 23).astype(np.int64) - 48

    def num(i: int, n: int) -> np.ndarray:
        v = np.zeros(len(d), dtype=np.int64)
        for k in range(i, i + n):
            v = v * 10 + d[:, k]
        return v

    y, mo, day = num(0, 4), num(5, 2), num(8, 2)
    h, mi, sec = num(11, 2), num(13, 2), num(15, 2)
    sign = np.where(d[:, 18] == ord("+") - 48, 1, -1)
    oh, om = num(19, 2), num(21, 2)
    month = (y - 1970) * 12 + (mo - 1)
    start = month.astype("datetime64[M]").astype("datetime64[D]")
    length = ((month + 1).astype("datetime64[M]").astype("datetime64[D]") - start).astype(np.int64)
    ok = (mo >= 1) & (mo <= 12) & (day >= 1) & (day <= length) & (h <= 23) & (mi <= 59)
    ok &= (sec <= 59) & (om <= 59) & (oh <= 23)
    micros = (start.astype(np.int64) + day - 1) * 86_400_000_000
    micros += ((h * 60 + mi) * 60 + sec - sign * (oh * 60 + om) * 60) * 1_000_000
    read = np.zeros(len(part), dtype=bool)
    read[np.flatnonzero(shaped)[ok]] = True
    utc[read] = micros[ok].astype("datetime64[us]")
    return utc, read


def parse_amount(s: pd.Series, decimal: str = ".") -> tuple[np.ndarray, np.ndarray]:
    """Amount text -> (int64 cents, problem codes of :func:`~sales_analytics.ingest.parse.parse_money`).

    With ``decimal=","`` the comma is the decimal separator and ``.``/spaces group thousands;
    with ``"."`` amounts are plain decimals (``1234.50``).
    """
    s = pd.Series(s, dtype="string[pyarrow]")
    if decimal == ",":
        s = s.str.replace(r"[.\s]", "", regex=True).str.replace(",", ".", regex=False)
    return parse_money(s)


def convert(cents: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Cents in an order's currency -> shop currency cents (rounded half away from zero)."""
    value = cents.astype(np.float64) * rate
    return (np.sign(value) * np.floor(np.abs(value) + 0.5)).astype(np.int64)


def split_refund(
    refunded: np.ndarray, subtotal: np.ndarray, shipping: np.ndarray, tax: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A refunded total (cents) -> (product value, shipping, tax) refunded, per order.

    The export gives one refunded amount per order, not its parts. A refund of at most the
    merchandise plus its tax is split between them in the order's proportion (a returned item
    is refunded with its tax); what exceeds it is refunded shipping. A full refund returns
    each part whole. Cumulative and monotone: a larger refund never has a smaller part.
    """
    r = np.minimum(refunded, subtotal + shipping + tax)
    base = subtotal + tax
    within = np.minimum(r, base)
    safe = np.where(base > 0, base, 1)
    product = np.where(
        base > 0, np.floor(within.astype(np.float64) * subtotal / safe + 0.5), 0
    ).astype(np.int64)
    product = np.minimum(product, subtotal)
    taxes = np.minimum(within - product, tax)
    product = within - taxes
    ship = np.minimum(r - within, shipping)
    return product, ship, taxes
