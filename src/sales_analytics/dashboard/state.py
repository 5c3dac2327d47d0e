"""Shareable state: the page and the global filters live in the URL (``st.query_params``).

Format (every parameter optional; repeat ``country`` and ``segment`` for several)::

    ?page=<page>&start=YYYY-MM-DD&end=YYYY-MM-DD&country=<name>&country=<name>&segment=<name>

``page`` is a page's url path (``revenue``, ``customers``, ``products``, ``geography``,
``predictions``, ``metrics``); countries are written as the Country filter lists them
(``United Kingdom``), segments by their RFM names (``Champions``). A new session opened on such a
URL starts with those filters (values outside the data are dropped with a one-line notice); every
rerun writes the current page and filters back, so the address bar can be bookmarked or shared at
any time. Reports link to the dashboard with :func:`url`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from urllib.parse import urlencode

import streamlit as st

from sales_analytics.metrics import Filters

#: Page url paths in the order of the navigation (the first one is the default).
PAGES: tuple[str, ...] = ("revenue", "customers", "products", "geography", "predictions", "metrics")
#: Widget keys of the sidebar filters (ui.sidebar_filters).
DATES_KEY, COUNTRIES_KEY, SEGMENTS_KEY = "f_dates", "f_countries", "f_segments"
_RESTORED = "url_restored"


def url(f: Filters, page: str = "revenue", base: str = "") -> str:
    """The dashboard URL of ``page`` with filters ``f`` (``base``: ``http://host:8501``)."""
    return f"{base.rstrip('/')}/?{urlencode(params(f, page), doseq=True)}"


def params(f: Filters, page: str) -> dict[str, str | list[str]]:
    """The query parameters of ``page`` with filters ``f`` (see the module docstring)."""
    out: dict[str, str | list[str]] = {"page": page}
    if f.start:
        out["start"] = f.start.isoformat()
    if f.end:
        out["end"] = f.end.isoformat()
    if f.countries:
        out["country"] = list(f.countries)
    if f.segments:
        out["segment"] = list(f.segments)
    return out


def requested_page() -> str | None:
    """The ``page`` parameter of the URL when it names a page (the navigation's default)."""
    page = st.query_params.get("page")
    return page if page in PAGES else None


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def restore(first: date, last: date, countries: Sequence[str], segments: Sequence[str]) -> list[str]:
    """Once per session, before the filter widgets exist: set their state from the URL.

    Days are clamped to the data (``first``..``last``); countries and segments not offered are
    dropped. Returns one notice per value that was dropped.
    """
    if st.session_state.get(_RESTORED):
        return []
    st.session_state[_RESTORED] = True
    q = st.query_params
    notes: list[str] = []
    start, end = _day(q.get("start")), _day(q.get("end"))
    for name in ("start", "end"):
        if q.get(name) and _day(q.get(name)) is None:
            notes.append(f"{name}={q.get(name)!r} is not a YYYY-MM-DD day: ignored")
    if start or end:
        start = min(max(start or first, first), last)
        end = min(max(end or last, first), last)
        st.session_state[DATES_KEY] = (min(start, end), max(start, end))
    for key, name, offered in ((COUNTRIES_KEY, "country", countries), (SEGMENTS_KEY, "segment", segments)):
        asked = q.get_all(name)
        kept = [v for v in dict.fromkeys(asked) if v in offered]
        notes += [f"{name}={v!r} is not in the data: ignored" for v in asked if v not in offered]
        if kept:
            st.session_state[key] = kept
    return notes


def write(f: Filters, page: str) -> None:
    """Write the page and filters to the URL (only when they differ: no needless history)."""
    want = params(f, page)
    have = {k: (st.query_params.get_all(k) if isinstance(v, list) else st.query_params.get(k))
            for k, v in want.items()}  # fmt: skip
    if have != want or set(st.query_params.keys()) != set(want):
        st.query_params.from_dict(want)
