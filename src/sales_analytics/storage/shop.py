"""The shop's settings (currency, timezone, fiscal year start): the one row of ``shop_settings``.

Lookup, in this order and nowhere else: the database's ``shop_settings`` row; without one (a new or
an older database) the defaults ``SA_CURRENCY`` / ``SA_TIMEZONE`` / ``SA_FISCAL_YEAR_START`` of
:mod:`sales_analytics.config`. Every :class:`~sales_analytics.storage.Database` notes the settings
of its data when it opens, reopens or writes; :func:`active` returns those of the database this
process opened last, which is what the formatter shows money in (a process serves one shop).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from sales_analytics.storage.schema import SETTINGS_TABLE, TABLES


@dataclass(frozen=True)
class ShopSettings:
    """``currency`` (ISO 4217), ``timezone`` (IANA; stored timestamps are in it) and
    ``fiscal_year_start_month`` (1-12; 1 = the calendar year)."""

    currency: str
    timezone: str
    fiscal_year_start_month: int = 1
    #: True when read from the database, False for the configured defaults
    stored: bool = False

    @classmethod
    def defaults(cls) -> ShopSettings:
        """The configured defaults for a database without settings."""
        from sales_analytics.config import get_settings

        s = get_settings()
        return cls(s.currency, s.timezone, s.fiscal_year_start)

    @classmethod
    def given(
        cls, currency: str | None = None, timezone: str | None = None, fiscal_year_start: int | None = None
    ) -> ShopSettings:
        """The defaults with the values given (checked: ``ValueError`` with a one-line reason)."""
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        d = cls.defaults()
        code = (currency or d.currency).strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise ValueError(f"currency must be a three-letter ISO 4217 code such as EUR, not {currency!r}")
        zone = timezone or d.timezone
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {zone!r} (use an IANA name such as Europe/Berlin)") from None
        month = d.fiscal_year_start_month if fiscal_year_start is None else int(fiscal_year_start)
        if not 1 <= month <= 12:
            raise ValueError(f"the fiscal year start must be a month 1-12, not {fiscal_year_start!r}")
        return cls(code, zone, month)

    def table(self) -> pa.Table:
        """The one-row ``shop_settings`` table to write (``Database.write({"shop_settings": ...})``)."""
        return pa.table(
            {
                "currency": [self.currency],
                "timezone": [self.timezone],
                "fiscal_year_start_month": [self.fiscal_year_start_month],
            },
            schema=TABLES[SETTINGS_TABLE],
        )


_SELECT = f"SELECT currency, timezone, fiscal_year_start_month FROM {SETTINGS_TABLE}"
_active: ShopSettings | None = None


def read(dialect: Any, raw: Any) -> ShopSettings:
    """The settings stored in the database on ``raw``, else the defaults (one query)."""
    rows = dialect.try_query(raw, _SELECT)
    if not rows:
        return ShopSettings.defaults()
    currency, timezone, month = rows[0]
    return ShopSettings(str(currency).strip(), str(timezone), int(month), stored=True)


def note(settings: ShopSettings) -> None:
    """Record ``settings`` as those of the shop this process serves (see :func:`active`)."""
    global _active
    _active = settings


def active() -> ShopSettings:
    """The settings of the database this process opened last (defaults before any)."""
    return _active if _active is not None else ShopSettings.defaults()
