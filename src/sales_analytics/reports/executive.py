"""The executive report: one self-contained HTML file (and a PDF when chromium is installed).

The HTML holds plotly.js inline once, so it opens offline; each chart is a ``<div>`` with its
figure. KPI cells carry their exact value (``data-kpi``, ``data-value``) so tests and scripts can
read the numbers back. Sections: KPIs against the previous period, automated findings, revenue over
time with anomalies, segments, products, geography and, when ``sales-analytics train`` has saved
models, the revenue forecast with its backtest.

The world map's country outlines are inlined too (``window.PlotlyGeoAssets``, from the
``world_110m.json`` the package ships: see ``geo_assets``), so plotly.js fetches nothing from its CDN.
"""

from __future__ import annotations

import html
import math
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from sales_analytics import insights, metrics
from sales_analytics.metrics import Filters, TableSource
from sales_analytics.present import charts
from sales_analytics.present import format as fmt
from sales_analytics.present.geo_assets import plotly_geo_assets_script

CHROMIUM_NAMES: tuple[str, ...] = ("chromium", "chromium-browser", "google-chrome", "chrome")


class ReportError(RuntimeError):
    """The report could not be written (no data, PDF conversion failed...)."""


@dataclass
class ReportResult:
    html: Path
    pdf: Path | None = None
    pdf_message: str | None = None  # why there is no PDF, when asked for one


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
    kpis: dict[str, Any]
    previous_kpis: dict[str, Any]
    comparison: pd.DataFrame
    findings: list[insights.Finding]
    daily: pd.DataFrame
    monthly: pd.DataFrame
    anomalies: pd.DataFrame
    segments: pd.DataFrame
    categories: pd.DataFrame
    products: pd.DataFrame
    countries: pd.DataFrame
    forecast: dict[str, Any] | None = None
    #: the data version the numbers come from (None for a source without one)
    data_version: Any = None


def collect(db: TableSource, filters: Filters | None = None, *, models_dir: Path | None = None) -> ReportData:
    """Run the metrics, insights and (saved) models the report shows."""
    filters = filters or default_filters(db)
    bounds = insights.data_bounds(db)
    if bounds is None:
        raise ReportError("no orders in the database: load data with `sales-analytics build`")
    prev = insights.previous_period(filters, *bounds)
    inputs = insights.gather(db, filters)
    cur_k = metrics.kpis(db, filters)
    prev_k = metrics.kpis(db, prev)
    monthly = metrics.compute(db, "revenue", filters, grain="month")
    return ReportData(
        filters=filters,
        previous=prev,
        kpis=cur_k,
        previous_kpis=prev_k,
        comparison=insights.kpi_comparison(cur_k, prev_k),
        findings=insights.findings_from(inputs),
        daily=inputs.daily,
        monthly=monthly,
        anomalies=insights.revenue_anomalies(inputs.daily),
        segments=inputs.segments,
        categories=inputs.categories,
        products=metrics.compute(db, "product_performance", filters),
        countries=inputs.countries,
        forecast=_forecast(db, models_dir),
        data_version=getattr(db, "data_version", lambda: None)(),
    )


def _forecast(db: TableSource, models_dir: Path | None) -> dict[str, Any] | None:
    """The saved forecaster's prediction and backtest; ``None`` when none is saved, ``{"error":
    ...}`` when the saved model cannot be used."""
    from sales_analytics.config import get_settings
    from sales_analytics.models import ModelMissing, ModelStore, ModelUnusable

    store = ModelStore(models_dir or get_settings().models_dir)
    try:
        model = store.model("forecast")
        ev = model.evaluate()
        pred = model.predict()
    except ModelMissing:
        return None
    except ModelUnusable as exc:  # a stale or corrupt model is reported in the report
        return {"error": exc.cause}
    except Exception as exc:  # noqa: BLE001 - loaded but cannot predict: reported likewise
        return {"error": f"{type(exc).__name__}: {exc}"}
    from sales_analytics.models.data import daily_revenue

    history = daily_revenue(db)
    return {"forecast": pred, "history": history, "table": ev.table, "best": ev.best}


# ------------------------------------------------------------------------------------ rendering
CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 0;
       color: #1f2933; background: #f7f8fa; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 32px 48px; background: #fff; }
h1 { margin-bottom: 4px; } h2 { margin-top: 36px; border-bottom: 2px solid #e4e7eb; padding-bottom: 4px; }
.meta { color: #616e7c; font-size: 14px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; margin: 8px 0 16px; }
th, td { padding: 6px 10px; border-bottom: 1px solid #e4e7eb; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f0f4f8; }
.up { color: #1b7f3b; } .down { color: #b42318; }
ul.findings { padding-left: 0; list-style: none; }
ul.findings li { margin: 6px 0; padding: 8px 12px; border-left: 4px solid #9aa5b1; background: #f7f8fa; }
li.critical { border-color: #b42318 !important; } li.warning { border-color: #dc6803 !important; }
li.positive { border-color: #1b7f3b !important; } li.info { border-color: #1570ef !important; }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.chart { break-inside: avoid; page-break-inside: avoid; }
.note { color: #616e7c; font-size: 13px; }
@media print { body { background: #fff; } main { padding: 0; } .grid { grid-template-columns: 1fr; } }
"""


def _change(row, column: metrics.Column) -> tuple[str, str]:
    """The change as text and its class: ``up`` (green) when it is good news for this KPI."""
    rate = column.unit == "ratio"
    v = row["change"] if rate else row["change_pct"]
    if not math.isfinite(v) or v == 0:
        return ("–" if not math.isfinite(v) else fmt.change(0, column.unit)), ""
    good = (v > 0) == (column.higher_is_better is not False)
    return (fmt.change(v, "ratio") if rate else fmt.pct_change(v)), ("up" if good else "down")


def kpi_table_html(comparison: pd.DataFrame) -> str:
    """The KPI table; every value cell carries ``data-kpi``, ``data-period`` and the exact
    ``data-value`` (``repr`` of the float)."""
    rows = []
    kpis = metrics.get("kpis")
    for _, r in comparison.iterrows():
        column = kpis.column(r["kpi"])
        change, cls = _change(r, column)
        cells = [f"<td>{html.escape(column.label)}</td>"]
        for period in ("current", "previous"):
            v = float(r[period])
            cells.append(
                f'<td data-kpi="{r["kpi"]}" data-period="{period}" data-value="{v!r}">'
                f"{html.escape(fmt.value(v, column.unit))}</td>"
            )
        cells.append(f'<td class="{cls}">{change}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    head = "<tr><th>KPI</th><th>Selected period</th><th>Previous period</th><th>Change</th></tr>"
    return f'<table class="kpis">{head}{"".join(rows)}</table>'


def frame_html(df: pd.DataFrame, columns: list[metrics.Column], limit: int = 15) -> str:
    """A small HTML table of ``columns``: their labels as headers, values formatted by unit."""
    text = fmt.frame(df.head(limit), columns, technical=True)
    head = "".join(f"<th>{html.escape(h)}</th>" for h in text.columns)
    body = [
        "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>"
        for row in text.itertuples(index=False)
    ]
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def metric_columns(name: str, *columns: str) -> list[metrics.Column]:
    """The declared columns ``columns`` of catalogue metric ``name``."""
    metric = metrics.get(name)
    return [metric.column(c) for c in columns]


#: The forecast backtest table (a model's output, not a catalogue metric): its columns' units.
BACKTEST_COLUMNS: list[metrics.Column] = [
    metrics.Column("model", "string", "text", "Model"),
    metrics.Column("mae", "float64", "currency", "MAE"),
    metrics.Column("rmse", "float64", "currency", "RMSE"),
    metrics.Column("mape", "float64", "percent", "MAPE"),
    metrics.Column("coverage_80", "float64", "percent", "80% coverage"),
    metrics.Column("coverage_95", "float64", "percent", "95% coverage"),
    metrics.Column("mae_vs_naive", "float64", "number", "MAE vs naive"),
]


def findings_html(findings: list[insights.Finding], limit: int = 12) -> str:
    if not findings:
        return '<p class="note">No notable findings for this period.</p>'
    items = "".join(
        f'<li class="{f.severity}"><strong>{html.escape(f.title)}</strong> — {html.escape(f.text)}</li>'
        for f in findings[:limit]
    )
    return f'<ul class="findings">{items}</ul>'


def _figure(fig: go.Figure, div_id: str) -> str:
    body = fig.to_html(
        full_html=False, include_plotlyjs=False, div_id=div_id,
        config={"displaylogo": False, "responsive": True},
    )
    return f'<div class="chart">{body}</div>'


def _window(f: Filters) -> str:
    return f"{f.start:%d %b %Y} – {f.end:%d %b %Y}" if f.start and f.end else "all dates"


def _as_of(version: Any) -> str:
    if version is None:
        return ""
    return f"; data as of {version.committed_at:%Y-%m-%d %H:%M} UTC (version {version.version})"


def render(d: ReportData, *, title: str = "Sales report", generated: datetime | None = None) -> str:
    """The report's HTML (self-contained: plotly.js and the map's country outlines inline once)."""
    generated = generated or datetime.now()
    f = d.filters
    scope = ", ".join(f.countries) if f.countries else "all countries"
    if f.segments:
        scope += "; segments " + ", ".join(f.segments)
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="meta">{_window(f)} ({html.escape(scope)}), compared with {_window(d.previous)}. '
        f"Generated {generated:%Y-%m-%d %H:%M}{_as_of(d.data_version)}.</p>",
        "<h2>Key figures</h2>",
        kpi_table_html(d.comparison),
        "<h2>Findings</h2>",
        findings_html(d.findings),
        "<h2>Revenue</h2>",
        _figure(charts.revenue_fig(d.daily, "day", d.anomalies), "revenue-daily"),
        _figure(charts.orders_aov_fig(d.monthly), "orders-aov"),
        "<h2>Customers</h2>",
        _figure(charts.segment_fig(d.segments), "segments"),
        frame_html(
            d.segments,
            metric_columns(
                "segment_summary", "segment", "customers", "active_customers", "revenue",
                "revenue_share", "avg_recency_days",
            ),
        ),
        "<h2>Products</h2>",
        '<div class="grid">',
        _figure(charts.category_fig(d.categories), "categories"),
        _figure(charts.treemap_fig(d.products), "treemap"),
        "</div>",
        frame_html(
            d.categories,
            metric_columns(
                "category_rollup", "category", "revenue", "revenue_share", "units_sold", "margin_pct"
            ),
        ),
        "<h2>Geography</h2>",
        '<div class="grid">',
        _figure(charts.country_map_fig(d.countries), "country-map"),
        _figure(charts.country_bars_fig(d.countries), "country-bars"),
        "</div>",
    ]
    parts.append("<h2>Forecast</h2>")
    if d.forecast is None:
        parts.append(
            '<p class="note">No saved forecast model: run <code>sales-analytics train</code> '
            "and write the report again to include the revenue forecast.</p>"
        )
    elif "error" in d.forecast:
        parts.append(
            f'<p class="note">The saved forecast model could not be used '
            f"({html.escape(d.forecast['error'])}): retrain it with "
            "<code>sales-analytics train</code>.</p>"
        )
    else:
        fc = d.forecast
        parts += [
            _figure(charts.forecast_fig(fc["history"], fc["forecast"]), "forecast"),
            f"<p>Selected model: <strong>{html.escape(fc['best'])}</strong>. Backtest accuracy "
            "(rolling origin; MAE relative to the seasonal-naive baseline):</p>",
            frame_html(fc["table"], [c for c in BACKTEST_COLUMNS if c.name in fc["table"]]),
        ]
    body = "\n".join(parts)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title><style>{CSS}</style>"
        f'<script type="text/javascript">{get_plotlyjs()}</script>'
        f"{plotly_geo_assets_script()}</head>"
        f"<body><main>{body}</main></body></html>"
    )


# ------------------------------------------------------------------------------------ files
def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def html_to_pdf(source: Path, target: Path, *, chromium: str | None = None, timeout: float = 180) -> Path:
    """Print ``source`` (an HTML file) to ``target`` with headless chromium."""
    binary = chromium or find_chromium()
    if binary is None:
        raise ReportError(
            "PDF needs chromium (Debian: apt-get install chromium); none found on PATH"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sa-chromium-") as profile:
        cmd = [
            binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={profile}", "--no-pdf-header-footer",
            "--run-all-compositor-stages-before-draw",
            f"--print-to-pdf={target.resolve()}", source.resolve().as_uri(),
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise ReportError(f"chromium did not finish the PDF within {timeout:.0f} s") from exc
    if proc.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ReportError(f"chromium could not print the PDF: {detail[0]}")
    return target


def write_report(
    db: TableSource,
    out: Path,
    filters: Filters | None = None,
    *,
    pdf: bool = False,
    models_dir: Path | None = None,
    title: str = "Sales report",
) -> ReportResult:
    """Write the HTML report to ``out`` and, with ``pdf``, ``out`` with a ``.pdf`` suffix.

    Without chromium the PDF is skipped and ``pdf_message`` says why (the HTML is still written).
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(collect(db, filters, models_dir=models_dir), title=title), encoding="utf-8")
    result = ReportResult(html=out)
    if pdf:
        try:
            result.pdf = html_to_pdf(out, out.with_suffix(".pdf"))
        except ReportError as exc:
            result.pdf_message = str(exc)
    return result


def parse_kpis(text: str) -> dict[str, dict[str, float]]:
    """``{period: {kpi: value}}`` read back from a report's KPI table."""
    import re

    out: dict[str, dict[str, float]] = {"current": {}, "previous": {}}
    pattern = r'data-kpi="([a-z_]+)" data-period="(current|previous)" data-value="([^"]+)"'
    for kpi, period, value in re.findall(pattern, text):
        out[period][kpi] = float(value)
    return out


def as_date(value: str | date | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)
