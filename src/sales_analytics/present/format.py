"""Numbers to text, from the catalogue's declared units: the one formatter every surface uses.

Money has the shop's currency (the database's ``shop_settings``, else ``SA_CURRENCY``: see
``storage.shop``) and always two decimals; counts have thousands
separators and no decimals; ratios and percents one decimal with ``%``; days are whole or one
decimal; missing values are an en dash.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import pandas as pd

from sales_analytics.metrics.spec import Column
from sales_analytics.storage import shop

MISSING = "–"
#: ISO 4217 code -> symbol written before the amount (other codes are written after it).
SYMBOLS: dict[str, str] = {
    "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "¥", "INR": "₹", "KRW": "₩",
    "AUD": "A$", "CAD": "C$", "NZD": "NZ$", "CHF": "CHF ", "BRL": "R$", "MXN": "MX$",
    "PLN": "zł ", "SEK": "kr ", "DKK": "kr ", "NOK": "kr ",
}  # fmt: skip
#: Decimals a unit is shown with.
DECIMALS: dict[str, int] = {"currency": 2, "count": 0, "ratio": 1, "percent": 1, "number": 2}


def currency() -> str:
    """The shop's currency code: the settings of the database this process serves, else
    ``SA_CURRENCY`` (:func:`sales_analytics.storage.shop.active`)."""
    return shop.active().currency


def _missing(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def money(value: Any, code: str | None = None, *, decimals: int = 2) -> str:
    """``$1,234.50`` (``-$12.00``; ``1,234.50 XYZ`` for a code without a symbol)."""
    if _missing(value):
        return MISSING
    code = code or currency()
    amount = f"{abs(float(value)):,.{decimals}f}"
    sign = "-" if float(value) < 0 and float(amount.replace(",", "")) != 0 else ""
    symbol = SYMBOLS.get(code)
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {code}"


def value(v: Any, unit: str, *, code: str | None = None) -> str:
    """One value as text for its unit (see the module docstring)."""
    if _missing(v):
        return MISSING
    if unit == "currency":
        return money(v, code)
    if unit == "count":
        return f"{float(v):,.0f}"
    if unit == "ratio":
        return f"{float(v) * 100:,.1f}%"
    if unit == "percent":
        return f"{float(v):,.1f}%"
    if unit == "number":
        return f"{float(v):,.2f}"
    if unit == "days":
        days = float(v)
        text = f"{days:,.0f}" if math.isclose(days, round(days)) else f"{days:,.1f}"
        return f"{text} day" if text == "1" else f"{text} days"
    if unit == "date":
        return pd.Timestamp(v).strftime("%Y-%m-%d") if isinstance(v, date | datetime | pd.Timestamp | str) else str(v)
    if unit == "timestamp":
        return pd.Timestamp(v).strftime("%Y-%m-%d %H:%M")
    if unit == "id":
        return str(int(v)) if isinstance(v, int | float) and float(v).is_integer() else str(v)
    return str(v)


def change(v: Any, unit: str) -> str:
    """A difference with its sign: ``+$120.00``, ``-3``, ``+1.5 pts`` (ratios: percentage points)."""
    if _missing(v):
        return MISSING
    sign = "+" if float(v) > 0 else ""
    if unit == "ratio":
        return f"{sign}{float(v) * 100:,.1f} pts"
    return sign + value(v, unit) if float(v) >= 0 else value(v, unit)


def pct_change(v: Any) -> str:
    """A relative change: ``+12.3%`` / ``-4.0%``."""
    if _missing(v):
        return MISSING
    return f"{float(v) * 100:+,.1f}%"


def frame(data: pd.DataFrame, columns: Iterable[Column], *, technical: bool = False) -> pd.DataFrame:
    """``data`` as text with plain labels as headers: every declared column that ``data`` has,
    formatted by its unit; technical columns left out unless ``technical``."""
    out = {}
    code = currency()  # once per table
    for c in columns:
        if c.name not in data.columns or (c.technical and not technical):
            continue
        out[c.label if c.label not in out else f"{c.label} ({c.name})"] = [
            value(v, c.unit, code=code) for v in data[c.name]
        ]
    return pd.DataFrame(out, index=data.index)


def labels(columns: Iterable[Column]) -> dict[str, str]:
    """Column name -> label (for charts' axis titles and hover texts)."""
    return {c.name: c.label for c in columns}


def d3_format(unit: str, code: str | None = None) -> tuple[str, str, str]:
    """``(prefix, d3 format, suffix)`` for a Plotly axis or hover of ``unit``."""
    if unit == "currency":
        code = code or currency()
        symbol = SYMBOLS.get(code)
        return (symbol or "", ",.2f", "" if symbol else f" {code}")
    if unit == "ratio":
        return ("", ".1%", "")
    if unit == "percent":
        return ("", ",.1f", "%")
    if unit == "count":
        return ("", ",.0f", "")
    return ("", ",.2f", "")
