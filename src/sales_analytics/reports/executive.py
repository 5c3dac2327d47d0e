"""The executive report: one self-contained HTML file and, with chromium, a 2-4 page A4 PDF.

Page 1 is the summary an owner reads in ten seconds: three headline lines (what changed, the
largest contributor, what to act on), the KPIs with their change against the previous period,
the next 90 days' forecast total with its range (from the saved forecast model), the customer
value at risk (CLV and churn models) and the three findings with the most money at stake, each
linking to the matching dashboard view. Then the calendar comparison (this year against the same
days of last year) with revenue per month and per week, the forecast, and customers, products
and countries.

The HTML carries plotly.js once, compressed (:mod:`.bundle`: about 1.9 MB in all), and opens
offline. KPI values carry their exact value (``data-kpi``, ``data-period``, ``data-value``) so
tests and scripts can read the numbers back (:func:`parse_kpis`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from sales_analytics import insights, metrics
from sales_analytics.insights import outlook
from sales_analytics.metrics import Filters, TableSource
from sales_analytics.present.links import finding_link
from sales_analytics.reports import browser
from sales_analytics.reports.browser import CHROMIUM_NAMES, BrowserError, find_chromium
from sales_analytics.reports.page import by_money
from sales_analytics.reports.render import render

__all__ = [
    "CHROMIUM_NAMES", "ReportData", "ReportError", "ReportResult", "collect", "default_filters",
    "find_chromium", "html_to_pdf", "parse_kpis", "render", "write_report",
]  # fmt: skip


class ReportError(RuntimeError):
    """The report could not be written (no data, PDF conversion failed...)."""


@dataclass
class ReportResult:
    html: Path
    pdf: Path | None = None
    pdf_message: str | None = None  # why there is no PDF, when asked for one
    pages: int | None = None  # the PDF's page count


def default_filters(db: TableSource) -> Filters:
    """The last 12 months of data (all of it when shorter)."""
    bounds = insights.data_bounds(db)
    if bounds is None:
        raise ReportError("no orders in the database: load data with `sales-analytics build`")
    first, last = bounds
    return Filters(start=max(first, last - timedelta(days=364)), end=last)


# ------------------------------------------------------------------------------------ content
@dataclass
class ReportData:
    filters: Filters
    previous: Filters
    comparison: pd.DataFrame
    findings: list[insights.Finding]
    #: the findings with the most money at stake: (finding, amount, dashboard link)
    top: list[tuple[insights.Finding, float, str]]
    calendar: dict[str, Any]  # windows, comparison and monthly frame of the calendar comparison
    weekly: pd.DataFrame
    segments: pd.DataFrame
    categories: pd.DataFrame
    countries: pd.DataFrame
    forecast: outlook.ForecastOutlook
    history: pd.DataFrame  # daily revenue of the whole shop (ds, y), what the forecast models
    risk: outlook.ValueAtRisk
    dashboard_url: str
    links: dict[str, str] = field(default_factory=dict)  # dashboard page -> link
    data_version: Any = None  # the data version the numbers come from (None without one)


def collect(
    db: TableSource,
    filters: Filters | None = None,
    *,
    models_dir: Path | None = None,
    dashboard_url: str | None = None,
) -> ReportData:
    """Run the metrics, insights and saved models the report shows."""
    from sales_analytics.config import get_settings
    from sales_analytics.models import ModelStore
    from sales_analytics.present.links import PAGES, filters_link

    settings = get_settings()
    filters = filters or default_filters(db)
    bounds = insights.data_bounds(db)
    if bounds is None:
        raise ReportError("no orders in the database: load data with `sales-analytics build`")
    start, end = filters.start or bounds[0], filters.end or bounds[1]
    base = dashboard_url or settings.dashboard_url
    store = ModelStore(models_dir or settings.models_dir)
    inputs = insights.gather(db, filters)
    findings = insights.findings_from(inputs)
    customers = None
    if filters.countries or filters.segments:
        customers = metrics.compute(db, "customer_summary", filters.without_dates())
    risk = outlook.customer_value_at_risk(store, customers)
    ranked = [f for f in by_money(findings + risk.findings) if f.kind != "kpi"][:3]  # headline has kpis
    daily = metrics.compute(db, "revenue", metrics.NO_FILTERS, grain="day")
    return ReportData(
        filters=filters,
        previous=insights.previous_period(filters, *bounds),
        comparison=inputs.comparison,
        findings=findings,
        top=[(f, abs(f.impact), finding_link(base, f, filters)) for f in ranked],
        calendar=calendar_comparison(db, filters, start, end, bounds[0]),
        weekly=metrics.compute(db, "revenue", weeks_before(filters, end, 26), grain="week"),
        segments=inputs.segments,
        categories=inputs.categories,
        countries=inputs.countries,
        forecast=outlook.forecast_outlook(store),
        history=pd.DataFrame({"ds": pd.to_datetime(daily["period"]), "y": daily["revenue"]}),
        risk=risk,
        dashboard_url=base,
        links={page: filters_link(base, page, filters) for page in PAGES},
        data_version=getattr(db, "data_version", lambda: None)(),
    )


def weeks_before(filters: Filters, end: date, weeks: int) -> Filters:
    """``filters`` narrowed to the ``weeks`` Monday-Sunday weeks up to the one holding ``end``."""
    from dataclasses import replace

    monday = end - timedelta(days=end.weekday())
    return replace(filters, start=monday - timedelta(weeks=weeks - 1), end=end)


#: The KPIs of the calendar comparison table.
CALENDAR_KPIS: tuple[str, ...] = ("revenue", "orders", "aov", "customers", "new_customers", "return_rate")


def calendar_comparison(db: TableSource, filters: Filters, start: date, end: date, first: date) -> dict[str, Any]:
    """This year to ``end`` against the same days of last year, and revenue per month of both."""
    from dataclasses import replace

    cur = outlook.year_to_date(end)
    prev = outlook.same_days_last_year(*cur)
    fc, fp = replace(filters, start=cur[0], end=cur[1]), replace(filters, start=prev[0], end=prev[1])
    comparison = insights.kpi_comparison(metrics.kpis(db, fc), metrics.kpis(db, fp))
    monthly = metrics.compute(db, "revenue", replace(filters, start=date(end.year - 1, 1, 1), end=end), grain="month")
    return {"current": cur, "previous": prev, "comparison": comparison, "monthly": monthly,
            "has_previous": prev[1] >= first}  # fmt: skip


# ------------------------------------------------------------------------------------ files
def html_to_pdf(source: Path, target: Path, *, chromium: str | None = None, timeout: float = 180) -> Path:
    """Print ``source`` (the report's HTML file) to ``target`` with headless chromium, once its
    charts are drawn."""
    binary = chromium or find_chromium()
    if binary is None:
        raise ReportError("PDF needs chromium (Debian: apt-get install chromium); none found on PATH")
    try:
        return browser.print_pdf(source, target, chromium=binary, timeout=timeout)
    except BrowserError as exc:
        raise ReportError(f"chromium could not print the PDF: {exc}") from None


def pdf_pages(path: Path) -> int:
    """The number of pages of a PDF (its ``/Type /Page`` objects)."""
    return len(re.findall(rb"/Type\s*/Page(?!s)", path.read_bytes()))


def write_report(
    db: TableSource,
    out: Path,
    filters: Filters | None = None,
    *,
    pdf: bool = False,
    models_dir: Path | None = None,
    title: str = "Sales report",
    dashboard_url: str | None = None,
    generated: datetime | None = None,
) -> ReportResult:
    """Write the HTML report to ``out`` and, with ``pdf``, ``out`` with a ``.pdf`` suffix.

    Without chromium the PDF is skipped and ``pdf_message`` says why (the HTML is still written).
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    data = collect(db, filters, models_dir=models_dir, dashboard_url=dashboard_url)
    out.write_text(render(data, title=title, generated=generated), encoding="utf-8")
    result = ReportResult(html=out)
    if pdf:
        try:
            result.pdf = html_to_pdf(out, out.with_suffix(".pdf"))
            result.pages = pdf_pages(result.pdf)
        except ReportError as exc:
            result.pdf_message = str(exc)
    return result


def parse_kpis(text: str) -> dict[str, dict[str, float]]:
    """``{period: {kpi: value}}`` read back from a report's KPI cards."""
    out: dict[str, dict[str, float]] = {"current": {}, "previous": {}}
    pattern = r'data-kpi="([a-z_]+)" data-period="(current|previous)" data-value="([^"]+)"'
    for kpi, period, value in re.findall(pattern, text):
        out[period][kpi] = float(value)
    return out


def as_date(value: str | date | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)
