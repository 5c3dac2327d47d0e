"""The window of plausible order dates, and dates beyond what pandas can hold.

An order dated 1850 or 2205 is a typo or a placeholder, not a sale: one such order stretches a
forecast's daily series over centuries. :class:`DateWindow` is the range an import accepts,
``SA_MIN_ORDER_DATE`` (default 1990-01-01) to now + ``SA_MAX_FUTURE_DAYS`` days (default 1, in the
shop's time zone ``SA_TIMEZONE``). Customers' and products' ``created_at`` is the first accepted
order date, so it lies in the window as well.

pandas holds timestamps from 1677-09-21 to 2262-04-11 only; a well-formed date outside that range
would otherwise come back as "unparseable". :func:`beyond_pandas` reads the year from the text
before any conversion, so such a date gets the same plausibility reason as 2205-01-01.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

import numpy as np
import pandas as pd

from sales_analytics.config import Settings, get_settings

#: Years pandas always converts (its Timestamp range is 1677-09-21 .. 2262-04-11).
SAFE_YEARS = (pd.Timestamp.min.year + 1, pd.Timestamp.max.year - 1)
#: A four-digit year on its own (not part of a longer number).
_YEAR = r"(?:^|\D)(\d{4})(?:\D|$)"


@dataclass(frozen=True)
class DateWindow:
    """Order dates an import accepts: ``earliest <= date <= latest`` (both naive, shop time).

    ``max_future_days`` is what ``latest`` was derived from (for the message).
    """

    earliest: datetime
    latest: datetime
    max_future_days: int

    @classmethod
    def from_settings(
        cls, settings: Settings | None = None, *, now: datetime | None = None
    ) -> DateWindow:
        """``SA_MIN_ORDER_DATE`` .. now + ``SA_MAX_FUTURE_DAYS`` days (``now``: the shop's clock)."""
        settings = settings or get_settings()
        if now is None:
            now = datetime.now(settings.tz).replace(tzinfo=None)
        days = settings.max_future_days
        return cls(
            earliest=datetime.combine(settings.min_order_date, time()),
            latest=now + timedelta(days=days),
            max_future_days=days,
        )

    def too_early(self, values: np.ndarray) -> np.ndarray:
        """bool per date: before :attr:`earliest` (NaT: False)."""
        return values < np.datetime64(self.earliest, "us")

    def too_late(self, values: np.ndarray) -> np.ndarray:
        """bool per date: after :attr:`latest` (NaT: False)."""
        return values > np.datetime64(self.latest, "us")

    @property
    def before_text(self) -> str:
        return f"is before {self.earliest.date().isoformat()} (SA_MIN_ORDER_DATE)"

    @property
    def after_text(self) -> str:
        days = self.max_future_days
        unit = "day" if days == 1 else "days"
        return f"is after {self.latest:%Y-%m-%d %H:%M} (now + {days} {unit}, SA_MAX_FUTURE_DAYS)"


def beyond_pandas(s: pd.Series, formats: tuple[str, ...], parsed: np.ndarray) -> np.ndarray:
    """int8 per line: ``-1`` / ``+1`` where the text is a well-formed date whose year is before /
    after what pandas holds (so ``parsed`` is NaT), ``0`` elsewhere.

    The year is read from the text (the only four-digit number a date format has) and replaced by
    one pandas can hold, with the same leap-ness; if the text then parses, it was a date.
    """
    from sales_analytics.ingest.parse import parse_dates

    out = np.zeros(len(s), dtype=np.int8)
    todo = np.isnat(parsed) & (s != "").to_numpy(dtype=bool)
    if not todo.any():
        return out
    found = s[todo].str.extract(_YEAR, expand=False)
    year = pd.to_numeric(found, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    outside = (year < SAFE_YEARS[0]) | (year > SAFE_YEARS[1])  # NaN: False
    if not outside.any():
        return out
    year = year[outside].astype(np.int64)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    text = s[todo][outside]
    replaced = pd.Series(
        [
            t.replace(f"{y:04d}", "2000" if is_leap else "2001", 1)
            for t, y, is_leap in zip(text, year, leap, strict=True)
        ],
        index=text.index,
        dtype=text.dtype,
    )
    ok = ~np.isnat(parse_dates(replaced, formats))
    sign = np.where(year < SAFE_YEARS[0], -1, 1).astype(np.int8)
    positions = np.flatnonzero(todo)[outside]
    out[positions[ok]] = sign[ok]
    return out


__all__ = ["SAFE_YEARS", "DateWindow", "beyond_pandas"]
