"""The report's HTML from :class:`~sales_analytics.reports.executive.ReportData`."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from sales_analytics import metrics
from sales_analytics.metrics import Filters
from sales_analytics.present import charts
from sales_analytics.present import format as fmt
from sales_analytics.reports import figures
from sales_analytics.reports.bundle import bundle_html
from sales_analytics.reports.page import (
    CSS,
    by_money,
    comparison_table,
    esc,
    figure,
    findings_list,
    frame_html,
    kpi_cards,
    template_html,
    top_findings,
)

#: The forecast backtest table (a model's output, not a catalogue metric): its columns' units.
BACKTEST_COLUMNS: list[metrics.Column] = [
    metrics.Column("model", "string", "text", "Model"),
    metrics.Column("mae", "float64", "currency", "Average error per day (MAE)"),
    metrics.Column("mape", "float64", "percent", "Average error (MAPE)"),
    metrics.Column("coverage_80", "float64", "percent", "Days inside the 80% range"),
    metrics.Column("mae_vs_naive", "float64", "number", "Error vs naive baseline"),
]


#: How the forecast total's range was found (insights.outlook.ForecastOutlook.range_from).
RANGE_NOTE = {
    "backtest": "from the model's own errors in the backtest",
    "daily bounds": "the sum of the daily ranges: a cautious, wide range",
}


def window(f: Filters) -> str:
    return f"{f.start:%d %b %Y} – {f.end:%d %b %Y}" if f.start and f.end else "all dates"


def as_of(version: Any) -> str:
    if version is None:
        return ""
    return f"; data as of {version.committed_at:%Y-%m-%d %H:%M} UTC (version {version.version})"


def untitled(fig):
    """``fig`` without its Plotly title: the report writes it as a heading."""
    return fig.update_layout(title=None, margin_t=24)


def link(url: str, text: str) -> str:
    return f'<a href="{esc(url)}">{esc(text)}</a>'


def headline(d: Any) -> str:
    """Three lines: what changed, the largest contributor, what to act on."""
    rows = d.comparison.set_index("kpi")
    rev, orders = rows.loc["revenue"], rows.loc["orders"]
    days = (d.filters.end - d.filters.start).days + 1 if d.filters.start and d.filters.end else None
    against = f"the previous {days} days" if days else "the previous period"
    what = (
        f"Net revenue {fmt.money(rev['current'])} ({fmt.pct_change(rev['change_pct'])} against "
        f"{against}, {fmt.money(rev['previous'])}); orders {fmt.value(orders['current'], 'count')} "
        f"({fmt.pct_change(orders['change_pct'])})."
    )
    movers = [f for f in by_money(d.findings) if f.kind == "mover"]
    why = (
        f"Largest change: {movers[0].title} ({fmt.change(movers[0].data['change'], 'currency')})."
        if movers
        else "No category or country moved by more than 5% against the previous period."
    )
    act = d.risk.finding or next((f for f, _, _ in d.top if f.severity in ("critical", "warning")), None)
    if act is not None:
        todo = f"To act on: {act.title}."
    else:
        todo = "Nothing needs urgent action: no finding is critical or a warning."
    return "".join(f"<p>{esc(t)}</p>" for t in (what, why, todo))


def forecast_box(d: Any) -> str:
    fc = d.forecast
    if not fc.available:
        return f'<div class="box"><h3>Next 90 days</h3><p>{esc(fc.message)}</p></div>'
    if fc.mae_vs_naive is None:
        quality = ""
    elif fc.mae_vs_naive < 1:
        quality = (f" In the backtest its daily error was {fmt.value(fc.mae_vs_naive * 100, 'percent')} "
                   "of the seasonal-naive baseline's.")  # fmt: skip
    else:
        quality = (" It does not beat the seasonal-naive baseline in the backtest "
                   f"(error {fmt.value(fc.mae_vs_naive * 100, 'percent')} of it): treat it with caution.")  # fmt: skip
    scope = " Whole shop: the country and segment filters do not apply." if (
        d.filters.countries or d.filters.segments) else ""  # fmt: skip
    return (
        f'<div class="box" id="forecast-total"><h3>Next {fc.days} days ({fc.start:%d %b} – '
        f'{fc.end:%d %b %Y}): forecast revenue</h3><div class="big" data-value="{fc.total!r}">'
        f"{esc(fmt.money(fc.total))}</div><p>{fc.level}% range {esc(fmt.money(fc.low))} – "
        f"{esc(fmt.money(fc.high))} ({RANGE_NOTE[fc.range_from]}). Model: {esc(fc.model)}."
        f"{esc(quality)}{esc(scope)} {link(d.links['predictions'], 'Forecast in the dashboard')}</p></div>"
    )


def risk_box(d: Any) -> str:
    f = d.risk.finding
    if f is None:
        return f'<div class="box"><h3>Customer value at risk</h3><p>{esc(d.risk.message)}</p></div>'
    return (
        f'<div class="box" id="value-at-risk"><h3>Customer value at risk</h3><div class="big">'
        f"{esc(fmt.money(f.data['clv']))}</div><p>{esc(f.text)} "
        f"{link(d.links['predictions'], 'Risk matrix in the dashboard')}</p></div>"
    )


def calendar_section(d: Any) -> list[str]:
    c = d.calendar
    (cs, ce), (ps, pe) = c["current"], c["previous"]
    parts = [f"<h2>{ce.year} against {ce.year - 1}</h2>"]
    if not c["has_previous"]:
        parts.append(f'<p class="note">No orders before {ce.year}: nothing to compare with.</p>')
    heads = (f"{cs:%d %b} – {ce:%d %b %Y}", f"{ps:%d %b} – {pe:%d %b %Y}")
    parts += [
        comparison_table(c["comparison"], heads, ("revenue", "orders", "aov", "customers", "new_customers", "return_rate")),
        figure(figures.for_print(figures.year_over_year_fig(c["monthly"], ce.year, ce)), "revenue-yoy"),
        figure(figures.for_print(figures.weekly_revenue_fig(d.weekly, d.filters.end or ce)), "revenue-weekly"),
        f'<p class="note">{link(d.links["revenue"], "Revenue in the dashboard")}</p>',
    ]
    return parts


def forecast_section(d: Any) -> list[str]:
    fc = d.forecast
    if not fc.available:
        return ["<h2>Forecast</h2>", f'<p class="note">{esc(fc.message)}</p>']
    table = fc.table[[c.name for c in BACKTEST_COLUMNS if c.name in fc.table]].head(4)
    return [
        "<h2>Forecast</h2>",
        figure(figures.for_print(charts.forecast_fig(d.history, fc.forecast, history_days=120)), "forecast"),
        f"<p class=\"note\">Selected model: <strong>{esc(fc.model)}</strong>. Backtest accuracy "
        "(rolling origin; error relative to the seasonal-naive baseline, below 1 is better):</p>",
        frame_html(table, [c for c in BACKTEST_COLUMNS if c.name in table]),
    ]


def render(d: Any, *, title: str = "Sales report", generated: datetime | None = None) -> str:
    """The report's HTML (self-contained: plotly.js inline once, compressed)."""
    generated = generated or datetime.now()
    f = d.filters
    scope = ", ".join(f.countries) if f.countries else "all countries"
    if f.segments:
        scope += "; segments " + ", ".join(f.segments)
    segments = figures.for_print(charts.segment_fig(d.segments), 280)
    first = [
        f"<h1>{esc(title)}</h1>",
        f'<p class="meta">{window(f)} ({esc(scope)}), compared with {window(d.previous)}. '
        f"Generated {generated:%Y-%m-%d %H:%M}{as_of(d.data_version)}. "
        f"{link(d.links['revenue'], 'Open in the dashboard')}</p>",
        f'<div class="headline">{headline(d)}</div>',
        kpi_cards(d.comparison),
        f'<div class="boxes">{forecast_box(d)}{risk_box(d)}</div>',
        "<h2>The three findings with the most money at stake</h2>",
        top_findings(d.top),
    ]
    second = calendar_section(d)
    third = [
        *forecast_section(d),
        "<h2>Customers</h2>",
        figure(segments, "segments"),
        f'<p class="note">{link(d.links["customers"], "Customers in the dashboard")}</p>',
    ]
    fourth = [
        "<h2>Products and countries</h2>",
        '<h3 class="chart-title">Net revenue by category: top 10</h3>',
        figure(figures.for_print(untitled(charts.category_fig(d.categories, top=10)), 300), "categories"),
        '<h3 class="chart-title">Net revenue by country: top 10</h3>',
        figure(figures.for_print(untitled(charts.country_bars_fig(d.countries.sort_values("revenue").tail(10))), 300),
               "country-bars"),
        "<h2>Other findings</h2>",
        findings_list([f for f in d.findings if all(f is not t for t, _, _ in d.top)], limit=4),
    ]
    body = "".join(f'<section class="page">{"".join(p)}</section>' for p in (first, second, third, fourth))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{body}</main>{template_html(segments)}{bundle_html()}</body></html>"
    )
