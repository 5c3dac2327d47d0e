"""The user's currency rate table (``--rates FILE.csv``): ``currency,rate`` per line.

``rate`` is the shop currency per one unit of ``currency`` (shop in USD, ``EUR,1.08``: an order of
10.00 EUR is 10.80 USD). One rate per currency: the table is the user's choice of conversion, and
the import applies it to every amount of the order (prices, discounts, shipping, taxes, refunds).
"""

from __future__ import annotations

import csv
from pathlib import Path

from sales_analytics.ingest.errors import IngestError


def read_rates(path: str | Path | None) -> dict[str, float]:
    """currency -> rate; one-line :class:`IngestError` for a missing or malformed file."""
    if path is None:
        return {}
    path = Path(path)
    if not path.is_file():
        raise IngestError(f"rates file {path}: no such file")
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise IngestError(f"rates file {path}: not a CSV text file ({exc})") from None
    if not rows or [c.strip().lower() for c in rows[0][:2]] != ["currency", "rate"]:
        raise IngestError(f"rates file {path}: the header must be 'currency,rate'")
    rates: dict[str, float] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        code = row[0].strip().upper() if row else ""
        text = row[1].strip() if len(row) > 1 else ""
        if len(code) != 3 or not code.isalpha():
            raise IngestError(f"rates file {path}, line {number}: {code!r} is not a currency code")
        try:
            rate = float(text)
        except ValueError:
            rate = -1.0
        if not rate > 0 or rate != rate or rate == float("inf"):
            raise IngestError(f"rates file {path}, line {number}: rate {text!r} is not a positive number")
        if code in rates:
            raise IngestError(f"rates file {path}, line {number}: {code} appears twice")
        rates[code] = rate
    return rates
