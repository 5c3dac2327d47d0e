"""The shop's calendar: the seasonal demand multiplier, promotion days, times of day.

No randomness here except :func:`time_of_day`, which draws from the generator it is given.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pyarrow as pa


def black_friday(year: int) -> date:
    """The day after Thanksgiving (the fourth Thursday of November): not always the fourth Friday
    (2024: 29 November, the fifth). Same date as the events calendar's
    (:func:`sales_analytics.models.events.black_friday`)."""
    nov1 = date(year, 11, 1)
    first_thursday = nov1 + timedelta(days=(3 - nov1.weekday()) % 7)
    return first_thursday + timedelta(weeks=3, days=1)


def daily_intensity(start: date, days: int) -> np.ndarray:
    """The seasonal demand multiplier m(d) for each day, normalised to mean one."""
    d = np.arange(days)
    ordinal = start.toordinal() + d
    weekday = (start.weekday() + d) % 7  # Monday = 0
    weekly = np.array([1.08, 1.03, 1.00, 0.98, 0.93, 0.88, 1.10])[weekday]
    dates = [date.fromordinal(int(o)) for o in ordinal]
    doy = np.array([x.timetuple().tm_yday for x in dates])
    month = np.array([x.month for x in dates])
    dom = np.array([x.day for x in dates])
    yearly = 1.0 + 0.12 * np.cos(2 * np.pi * (doy - 350) / 365.25) - 0.06 * np.isin(month, [7, 8])
    events = np.ones(days)
    events[(month == 12) & (dom <= 20)] *= 1.35  # Christmas shopping
    events[(month == 12) & (dom >= 24) & (dom <= 26)] *= 0.6
    events[(month == 1) & (dom <= 7)] *= 1.15  # January sales
    for year in sorted({x.year for x in dates}):
        bf = black_friday(year).toordinal()
        for offset, mult in ((-1, 1.3), (0, 3.5), (1, 2.2), (2, 2.0), (3, 2.6), (4, 1.4)):
            idx = bf + offset - start.toordinal()
            if 0 <= idx < days:
                events[idx] *= mult
    m = weekly * yearly * events
    return m / m.mean()


def is_promotion(start: date, days: int) -> np.ndarray:
    """Days with a shop-wide 25% discount: Black Friday to Cyber Monday."""
    flags = np.zeros(days, dtype=bool)
    for year in range(start.year, (start + timedelta(days=days)).year + 1):
        bf = black_friday(year).toordinal() - start.toordinal()
        for i in range(bf, bf + 4):
            if 0 <= i < days:
                flags[i] = True
    return flags


_HOUR_PROFILE = np.array(
    [1, 0.6, 0.4, 0.3, 0.3, 0.4, 0.8, 1.5, 2.5, 3.2, 3.6, 3.8,
     4.2, 4.0, 3.7, 3.6, 3.7, 4.0, 4.6, 5.4, 6.0, 5.6, 4.2, 2.2]
)


def time_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds after midnight, by the shop's hourly traffic profile."""
    hours = rng.choice(24, size=n, p=_HOUR_PROFILE / _HOUR_PROFILE.sum())
    return hours * 3600 + rng.integers(0, 3600, size=n)


def timestamps(start: date, day_index: np.ndarray, seconds: np.ndarray) -> pa.Array:
    """Day index after ``start`` plus seconds of the day -> Arrow ``timestamp[us]``."""
    base = np.datetime64(start.isoformat(), "us")
    us = base + day_index.astype("timedelta64[D]") + seconds.astype("timedelta64[s]")
    return pa.array(us.astype("datetime64[us]"), type=pa.timestamp("us"))
