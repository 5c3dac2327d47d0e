"""What every metric can be narrowed to: a date window, countries and RFM segments."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sales_analytics.metrics.rfm_rules import (  # noqa: F401 (re-exported)
    DEFAULT_RFM_RULES,
    OTHER_SEGMENT,
    SEGMENT_NAMES,
)

#: The default named RFM segments in evaluation order (first match wins): every segment can
#: occur, unlike the R ``rfm`` package's table (``rfm_rules.R_RFM_RULES``); a YAML file can
#: replace them (:mod:`sales_analytics.metrics.rfm_rules`).
RFM_SEGMENT_RULES = DEFAULT_RFM_RULES


@dataclass(frozen=True)
class Filters:
    """What every metric can be narrowed to.

    Parameters
    ----------
    start, end
        Order dates, both inclusive (``None``: open). Compared with the order timestamp as
        ``start <= order_date < end + 1 day``.
    countries
        Customer countries (empty: all).
    segments
        RFM named segments (empty: all): the customer's segment **as of the window's end** (the
        day after ``end``, or after the last order), scored over every customer's whole history
        up to that day (see :func:`sales_analytics.metrics.rules.segments_as_of`).
    """

    start: date | None = None
    end: date | None = None
    countries: tuple[str, ...] = field(default=())
    segments: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if isinstance(value, datetime):
                object.__setattr__(self, name, value.date())
            elif isinstance(value, str):
                try:
                    object.__setattr__(self, name, date.fromisoformat(value))
                except ValueError as exc:
                    raise ValueError(f"{name} {value!r} is not a YYYY-MM-DD date: {exc}") from None
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"filter start {self.start} is after end {self.end}")
        for name in ("countries", "segments"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            object.__setattr__(self, name, tuple(value or ()))
        unknown = [s for s in self.segments if s not in SEGMENT_NAMES]
        if unknown:
            raise ValueError(
                f"unknown segment(s) {', '.join(map(repr, unknown))}: use {', '.join(SEGMENT_NAMES)}"
            )

    @property
    def is_empty(self) -> bool:
        return not (self.start or self.end or self.countries or self.segments)

    def without_dates(self) -> Filters:
        return replace(self, start=None, end=None)

    def key(self) -> tuple:
        """A hashable key (for caches)."""
        return (self.start, self.end, self.countries, self.segments)

    def describe(self) -> str:
        """The filters in words: ``2025-10-01 .. 2025-12-31; Germany; Champions``."""
        window = f"{self.start or 'first order'} .. {self.end or 'last order'}"
        scope = ", ".join([*self.countries, *self.segments]) or "all customers"
        return f"{window}; {scope}"


NO_FILTERS = Filters()
