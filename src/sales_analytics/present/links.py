"""Links to dashboard views: the dashboard keeps its filters in the URL.

``<base>/?page=<page>&start=YYYY-MM-DD&end=YYYY-MM-DD&country=<name>&segment=<name>`` with
``country`` and ``segment`` repeated for several values (countries as the data names them, e.g.
``country=United+Kingdom``). ``base`` is ``SA_DASHBOARD_URL`` (default ``http://localhost:8501``).
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

#: The dashboard's pages (their ``url_path``).
PAGES: tuple[str, ...] = ("revenue", "customers", "products", "geography", "predictions", "metrics")


def dashboard_link(
    base: str,
    page: str,
    start: date | None = None,
    end: date | None = None,
    countries: tuple[str, ...] | list[str] = (),
    segments: tuple[str, ...] | list[str] = (),
) -> str:
    """The URL of ``page`` with these filters (empty ones left out)."""
    if page not in PAGES:
        raise ValueError(f"unknown dashboard page {page!r}: choose from {', '.join(PAGES)}")
    query: list[tuple[str, str]] = [("page", page)]
    if start:
        query.append(("start", start.isoformat()))
    if end:
        query.append(("end", end.isoformat()))
    query += [("country", c) for c in countries]
    query += [("segment", s) for s in segments]
    return f"{base.rstrip('/')}/?{urlencode(query)}"


def filters_link(base: str, page: str, filters) -> str:
    """:func:`dashboard_link` for a :class:`~sales_analytics.metrics.Filters`."""
    return dashboard_link(base, page, filters.start, filters.end, filters.countries, filters.segments)


#: Finding kind (and mover key) -> the dashboard page that shows it.
FINDING_PAGES: dict[str, str] = {
    "kpi": "revenue", "anomaly": "revenue", "segment_risk": "customers",
    "value_at_risk": "predictions", "mover:category": "products", "mover:country": "geography",
}  # fmt: skip


def finding_link(base: str, finding, filters):
    """The dashboard view of ``finding`` under ``filters``: a country mover narrows to that
    country, a segment at risk to that segment, an anomaly to its week."""
    from dataclasses import replace
    from datetime import timedelta

    key = finding.kind + (f":{finding.data.get('key')}" if finding.kind == "mover" else "")
    page = FINDING_PAGES.get(key, FINDING_PAGES.get(finding.kind, "revenue"))
    f = filters
    if key == "mover:country" and finding.subject:
        f = replace(f, countries=(finding.subject,))
    elif finding.kind == "segment_risk" and finding.subject:
        f = replace(f, segments=(finding.subject,))
    elif finding.kind == "anomaly" and finding.subject:
        day = date.fromisoformat(finding.subject)
        f = replace(f, start=day - timedelta(days=3), end=day + timedelta(days=3))
    return filters_link(base, page, f)
