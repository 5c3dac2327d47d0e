"""The shop's events calendar: days whose sales are expected to be unusual.

Built-in events, every year (dates as shops and payment providers use them):

==================  =====================================================================
``black_friday``    Thanksgiving (the fourth Thursday of November) to the Sunday after
``cyber_monday``    the Monday after Black Friday and the Tuesday after it
``christmas``       24 to 26 December
``easter``          Good Friday to Easter Monday (Western Easter)
``promotion``       the shop's own promotions, from a CSV file (see :func:`read_promotions`)
==================  =====================================================================

The revenue forecaster's ML models take one 0/1 feature per family (:func:`event_features`), and
the anomaly detector (:mod:`sales_analytics.insights.anomalies`) calls a spike or dip on one of
these days a "planned event" instead of an anomaly.

Promotions CSV: a header with ``name`` and either ``date`` (one day per row) or ``start`` and an
optional ``end`` (inclusive), dates written ``YYYY-MM-DD``. Set ``SA_PROMOTIONS_FILE`` or pass
``--promotions FILE`` to ``sales-analytics train``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

#: The feature families, in column order (``event_<family>`` columns).
FAMILIES: tuple[str, ...] = ("black_friday", "cyber_monday", "christmas", "easter", "promotion")
#: Plain names of the built-in families.
LABELS: dict[str, str] = {
    "black_friday": "Black Friday",
    "cyber_monday": "Cyber Monday",
    "christmas": "Christmas",
    "easter": "Easter",
    "promotion": "promotion",
}


class PromotionsError(ValueError):
    """A promotions file that cannot be read (one-line message naming the file and row)."""


def black_friday(year: int) -> date:
    """The day after the fourth Thursday of November."""
    nov1 = date(year, 11, 1)
    first_thursday = nov1 + timedelta(days=(3 - nov1.weekday()) % 7)
    return first_thursday + timedelta(weeks=3, days=1)


def easter(year: int) -> date:
    """Western Easter Sunday (the anonymous Gregorian computus)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month = (h + ell - 7 * m + 114) // 31
    day = (h + ell - 7 * m + 114) % 31 + 1
    return date(year, month, day)


def builtin_events(year: int) -> list[tuple[date, str, str]]:
    """``(day, family, name)`` for every built-in event day of ``year``."""
    bf = black_friday(year)
    es = easter(year)
    days = [(bf + timedelta(days=k), "black_friday", "Black Friday") for k in range(-1, 3)]
    days += [(bf + timedelta(days=k), "cyber_monday", "Cyber Monday") for k in (3, 4)]
    days += [(date(year, 12, d), "christmas", "Christmas") for d in (24, 25, 26)]
    days += [(es + timedelta(days=k), "easter", "Easter") for k in range(-2, 2)]
    return days


def _parse_day(text: str, path: Path, row: int, column: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise PromotionsError(
            f"{path}: row {row}: {column} {text.strip()!r} is not a date written YYYY-MM-DD"
        ) from None


def read_promotions(path: str | Path) -> pd.DataFrame:
    """A promotions CSV -> ``start, end, name`` (dates, ``end`` inclusive), one row per promotion.

    Raises
    ------
    PromotionsError
        Missing file, missing columns, a bad date or an end before its start (one line).
    """
    path = Path(path)
    if not path.is_file():
        raise PromotionsError(f"promotions file not found: {path}")
    rows = []
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        if "name" not in header or not ({"date", "start"} & set(header)):
            raise PromotionsError(
                f"{path}: needs columns name and date (or start and end); found: "
                f"{', '.join(header) or '(none)'}"
            )
        for n, raw in enumerate(reader, start=2):
            rec = {str(k).strip().lower(): (v or "") for k, v in raw.items() if k is not None}
            if not any(v.strip() for v in rec.values()):
                continue
            start_text = rec.get("start") or rec.get("date") or ""
            start = _parse_day(start_text, path, n, "start" if "start" in rec else "date")
            end_text = (rec.get("end") or "").strip()
            end = _parse_day(end_text, path, n, "end") if end_text else start
            if end < start:
                raise PromotionsError(f"{path}: row {n}: end {end} is before start {start}")
            name = rec.get("name", "").strip() or "promotion"
            rows.append({"start": start, "end": end, "name": name})
    return pd.DataFrame(rows, columns=["start", "end", "name"])


@dataclass(frozen=True)
class EventCalendar:
    """Built-in events plus the shop's promotions (``start, end, name`` rows)."""

    promotions: tuple[tuple[date, date, str], ...] = ()
    builtin: bool = True
    source: str | None = field(default=None, compare=False)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame | None, *, source: str | None = None) -> EventCalendar:
        rows: Iterable = () if frame is None else frame.itertuples(index=False)
        promos = tuple(
            (pd.Timestamp(r.start).date(), pd.Timestamp(r.end).date(), str(r.name)) for r in rows
        )
        return cls(promotions=promos, source=source)

    def days(self, start, end) -> pd.DataFrame:
        """Event days between ``start`` and ``end`` (inclusive): ``day, family, name``.

        A day in two events appears twice (e.g. a promotion over Black Friday).
        """
        first, last = pd.Timestamp(start).date(), pd.Timestamp(end).date()
        rows = []
        if self.builtin:
            for year in range(first.year, last.year + 1):
                rows += [r for r in builtin_events(year) if first <= r[0] <= last]
        for p_start, p_end, name in self.promotions:
            day = max(p_start, first)
            while day <= min(p_end, last):
                rows.append((day, "promotion", name))
                day += timedelta(days=1)
        out = pd.DataFrame(rows, columns=["day", "family", "name"])
        out["day"] = pd.to_datetime(out["day"])
        return out.sort_values(["day", "family"], kind="stable").reset_index(drop=True)

    def flags(self, dates) -> pd.DataFrame:
        """One 0/1 column ``event_<family>`` per family for each of ``dates``."""
        return pd.DataFrame({f"event_{f}": self.flag(f, dates) for f in FAMILIES})

    def flag(self, family: str, dates) -> np.ndarray:
        """0/1 (int8) for each of ``dates``: is it a day of ``family``'s events?"""
        days = _day_numbers(dates)
        hits = np.zeros(len(days), dtype=bool)
        for year in np.unique(_years(days)).tolist():
            hits |= np.isin(days, _year_days(self, int(year))[family])
        return hits.astype(np.int8)

    def names(self, dates) -> pd.Series:
        """The event name(s) of each of ``dates`` ("" on ordinary days; "A + B" when two meet)."""
        idx = pd.DatetimeIndex(pd.to_datetime(dates)).normalize()
        if not len(idx):
            return pd.Series([], dtype="object")
        ev = self.days(idx.min(), idx.max())
        by_day = ev.groupby("day")["name"].agg(lambda s: " + ".join(dict.fromkeys(s)))
        return pd.Series(by_day.reindex(idx).fillna("").to_numpy(), dtype="object")


def _day_numbers(dates) -> np.ndarray:
    """Dates -> days since 1970-01-01 (int64)."""
    if not isinstance(dates, pd.DatetimeIndex | pd.Series | np.ndarray):
        dates = pd.to_datetime(dates)
    values = np.asarray(dates, dtype="datetime64[ns]").astype("datetime64[D]")
    return values.astype(np.int64)


def _years(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


@lru_cache(maxsize=256)
def _year_days(calendar: EventCalendar, year: int) -> dict[str, np.ndarray]:
    """Day numbers of each family's events in ``year`` (cached: the recursive forecaster asks for
    the same days at every step)."""
    ev = calendar.days(date(year, 1, 1), date(year, 12, 31))
    epoch = np.datetime64("1970-01-01", "D")
    return {
        family: (
            ev.loc[ev["family"] == family, "day"].to_numpy().astype("datetime64[D]") - epoch
        ).astype(np.int64)
        for family in FAMILIES
    }


class EventFeature:
    """An mlforecast date feature: ``dates -> 0/1`` for one family of the calendar's events.

    A picklable callable (saved with the model) that carries the promotions it was trained with;
    its ``__name__`` (``event_<family>``) is the feature's column name.
    """

    def __init__(self, calendar: EventCalendar, family: str):
        if family not in FAMILIES:
            raise ValueError(f"unknown event family {family!r}; known: {', '.join(FAMILIES)}")
        self.calendar, self.family = calendar, family
        self.__name__ = f"event_{family}"

    def __call__(self, dates) -> np.ndarray:
        return self.calendar.flag(self.family, dates)


def event_features(calendar: EventCalendar) -> list[EventFeature]:
    """One :class:`EventFeature` per family (``promotion`` only when the calendar has any)."""
    return [
        EventFeature(calendar, f) for f in FAMILIES if f != "promotion" or calendar.promotions
    ]


def default_calendar(promotions: str | Path | None = None) -> EventCalendar:
    """Built-in events plus the promotions in ``promotions`` or, when ``None``, in the file named
    by the ``SA_PROMOTIONS_FILE`` setting (none set: built-in events only)."""
    if promotions is None:
        from sales_analytics.config import get_settings

        promotions = get_settings().promotions_file
    if promotions is None:
        return EventCalendar()
    return EventCalendar.from_frame(read_promotions(promotions), source=str(promotions))


__all__ = [
    "FAMILIES",
    "LABELS",
    "EventCalendar",
    "EventFeature",
    "PromotionsError",
    "black_friday",
    "builtin_events",
    "default_calendar",
    "easter",
    "event_features",
    "read_promotions",
]
