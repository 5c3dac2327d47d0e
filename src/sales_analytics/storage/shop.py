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
