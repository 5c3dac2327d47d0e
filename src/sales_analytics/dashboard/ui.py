"""Shared widgets: global filters, KPI cards, charts and tables with CSV/Excel export, findings."""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable
from datetime import date

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from sales_analytics import metrics
from sales_analytics.dashboard import data, state
from sales_analytics.insights import Finding, Headline
from sales_analytics.metrics import SEGMENT_NAMES, Column, Filters
from sales_analytics.present import format as fmt
from sales_analytics.present import geo_assets

FILTERS_KEY = "filters"
#: Severity -> Streamlit markdown badge (web-font icons: they render without emoji fonts).
SEVERITY_BADGES = {
    "critical": ":red-badge[:material/error: critical]",
    "warning": ":orange-badge[:material/warning: warning]",
    "positive": ":green-badge[:material/trending_up: positive]",
    "info": ":blue-badge[:material/info: info]",
}


# ------------------------------------------------------------------------------------ filters
def sidebar_filters(status: data.Status, page: str = "revenue") -> Filters:
    """Date range, countries and segments in the sidebar; the Filters every page uses. A new
    session takes them from the URL, every rerun writes them back (``state``)."""
    st.sidebar.header("Filters")
    first, last = status.first_day, status.last_day
    default = data.default_window(status)
    for note in state.restore(first, last, status.countries, SEGMENT_NAMES):
        st.toast(f"Link: {note}", icon=":material/link_off:")
    if state.DATES_KEY not in st.session_state:  # the widget's default (never value= as well)
        st.session_state[state.DATES_KEY] = default
    picked = st.sidebar.date_input(
        "Date range", min_value=first, max_value=last, key=state.DATES_KEY,
        help="Orders placed on these days (both included). KPI deltas compare with the period "
        "of the same length just before.",
    )
    start, end = _date_pair(picked, default)
    countries = st.sidebar.multiselect(
        "Country", options=list(status.countries), key=state.COUNTRIES_KEY, placeholder="All countries"
    )
    present = data.segments_present(Filters(start=start, end=end))
    chosen = st.session_state.get(state.SEGMENTS_KEY) or []  # kept while chosen, even if empty
    segments = st.sidebar.multiselect(
        "Segment", options=[s for s in SEGMENT_NAMES if s in present or s in chosen],
        key=state.SEGMENTS_KEY, placeholder="All segments",
        help="The customer's RFM segment as of the end of the date range.",
    )
    f = Filters(start=start, end=end, countries=tuple(countries), segments=tuple(segments))
    st.session_state[FILTERS_KEY] = f
    state.write(f, page)
    st.sidebar.caption(f"{status.kind}: data from {first:%d %b %Y} to {last:%d %b %Y}")
    version = data.data_version()
    if version is not None:
        st.sidebar.caption(
            f"Data as of {version.committed_at:%d %b %Y %H:%M} UTC (version {version.version})",
            help="When the last load, import or refresh was committed; every number on these "
            "pages is from that version.",
        )
    if st.sidebar.button("Reload data", help="Clear the cached results"):
        data.clear_caches()
        st.rerun()
    return f


def _date_pair(picked, default: tuple[date, date]) -> tuple[date, date]:
    """``st.date_input`` gives a 1-tuple while the second day is being picked."""
    if isinstance(picked, date):
        return picked, picked
    picked = tuple(picked or ())
    if len(picked) == 2:
        return picked[0], picked[1]
    if len(picked) == 1:
        return picked[0], default[1] if default[1] >= picked[0] else picked[0]
    return default


def current_filters() -> Filters:
    return st.session_state.get(FILTERS_KEY, Filters())


def describe(f: Filters) -> str:
    parts = [f"{f.start:%d %b %Y} – {f.end:%d %b %Y}" if f.start and f.end else "all dates"]
    parts.append(", ".join(f.countries) if f.countries else "all countries")
    parts.append(", ".join(f.segments) if f.segments else "all segments")
    return " · ".join(parts)


# ------------------------------------------------------------------------------------ page head
#: Page CSS: the KPI grid is two cards a row on a phone (Streamlit stacks columns one per row
#: below 640 px), with smaller values so money fits.
STYLE = """<style>
[class*="st-key-kpi_grid"] [data-testid="stHorizontalBlock"] { flex-wrap: wrap !important; }
.st-key-kpi_grid3 [data-testid="stColumn"] { flex: 1 1 calc(33.3% - 1rem) !important;
  min-width: calc(33.3% - 1rem) !important; }
.st-key-kpi_grid4 [data-testid="stColumn"] { flex: 1 1 calc(25% - 1rem) !important;
  min-width: calc(25% - 1rem) !important; }
@media (max-width: 640px) {
  [class*="st-key-kpi_grid"] [data-testid="stHorizontalBlock"] { gap: 0.5rem; }
  [class*="st-key-kpi_grid"] [data-testid="stColumn"] {
    flex: 1 1 calc(50% - 0.5rem) !important; min-width: calc(50% - 0.5rem) !important;
    width: calc(50% - 0.5rem) !important;
  }
  [class*="st-key-kpi_grid"] [data-testid="stMetricValue"] { font-size: 1.25rem; }
  [class*="st-key-kpi_grid"] [data-testid="stMetricLabel"] p { font-size: 0.8rem; }
  [class*="st-key-kpi_grid"] [data-testid="stMetric"] { padding-bottom: 0.25rem; }
  h1 { font-size: 1.6rem !important; }
}
</style>"""


def style() -> None:
    st.html(STYLE)


def header(title: str, f: Filters) -> None:
    """The page title, then the filters it shows and a "data as of" badge."""
    st.title(title)
    s = data.status()
    version = data.data_version()
    loaded = f"; loaded {version.committed_at:%d %b %Y %H:%M} UTC" if version is not None else ""
    st.markdown(
        f":gray-badge[:material/schedule: Data as of {s.last_day:%d %b %Y}] "
        f":small[{_md(describe(f))}]",
        help=f"The last order in the data is from {s.last_day:%d %b %Y}{loaded}.",
    )


def headline(h: Headline) -> None:
    """A page's three lines, first on the page: what changed, why, what to do."""
    with st.container(border=True, key="headline"):
        st.markdown(
            f"**What changed** · {_md(h.changed)}  \n**Why** · {_md(h.why)}  \n"
            f"**What to do** · {_md(h.todo)}"
        )


# ------------------------------------------------------------------------------------ KPIs
def kpi_unit(k: str) -> str:
    """The unit of KPI ``k`` (the ``kpis`` metric's declared column)."""
    return metrics.get("kpis").column(k).unit


def _delta(row, unit: str) -> str | None:
    """The change against the previous period: percentage points for rates, else relative."""
    if unit == "ratio":
        return fmt.change(row["change"], unit) if math.isfinite(row["change"]) else None
    return fmt.pct_change(row["change_pct"]) if math.isfinite(row["change_pct"]) else None


#: KPI cards per row at most: money has two decimals ("$5,283,219.20" needs about 210 px)
KPIS_PER_ROW = 4


def kpi_row(comparison: pd.DataFrame, keys: list[str]) -> None:
    """One ``st.metric`` per KPI with the change against the previous period; labels and units
    from the catalogue's ``kpis`` metric. Rows of at most ``KPIS_PER_ROW`` cards, balanced."""
    rows = comparison.set_index("kpi")
    kpi_metric = metrics.get("kpis")
    per_row = math.ceil(len(keys) / math.ceil(len(keys) / KPIS_PER_ROW))
    # one row of columns that wraps (STYLE): per_row cards a row, two on a phone
    cells = st.container(key=f"kpi_grid{per_row}").columns(len(keys))
    for col, k in zip(cells, keys, strict=False):
        r, c = rows.loc[k], kpi_metric.column(k)
        col.metric(
            c.label, fmt.value(r["current"], c.unit), _delta(r, c.unit),
            delta_color="normal" if c.higher_is_better is not False else "inverse",
            help=f"{c.description}. Previous period: {fmt.value(r['previous'], c.unit)}."
            if c.description else f"Previous period: {fmt.value(r['previous'], c.unit)}.",
        )


def kpi_table(comparison: pd.DataFrame) -> pd.DataFrame:
    """Every compared KPI as text: label, this period, previous period, change."""
    kpi_metric = metrics.get("kpis")
    rows = []
    for r in comparison.itertuples(index=False):
        c = kpi_metric.column(r.kpi)
        rows.append({
            "KPI": c.label,
            "Selected period": fmt.value(r.current, c.unit),
            "Previous period": fmt.value(r.previous, c.unit),
            "Change": fmt.change(r.change, c.unit),
            "Change %": fmt.pct_change(r.change_pct),
        })  # fmt: skip
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------ export
def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "data"


def _excel_ready(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            out[col] = s.dt.tz_localize(None)
        elif s.dtype == object:
            out[col] = s.map(lambda v: float(v) if hasattr(v, "as_tuple") else v)  # Decimal
    return out


def to_csv(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False).encode("utf-8")


def to_excel(df: pd.DataFrame, sheet: str = "data") -> bytes:
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        _excel_ready(df).to_excel(writer, index=False, sheet_name=sheet[:31])
    return buf.getvalue()


def export_buttons(df: pd.DataFrame, name: str) -> None:
    """CSV and Excel download buttons for ``df`` (file names from ``name``).

    The files are built only when a button is clicked (deferred download), so a page with many
    tables renders as fast as one without export.
    """
    slug = _slug(name)
    row = st.container(horizontal=True, gap="small")
    row.download_button(
        "CSV", lambda: to_csv(df), file_name=f"{slug}.csv", mime="text/csv", key=f"csv_{slug}",
        on_click="ignore", icon=":material/download:",
    )
    row.download_button(
        "Excel", lambda: to_excel(df), file_name=f"{slug}.xlsx", key=f"xlsx_{slug}",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        on_click="ignore", icon=":material/download:",
    )


def plotly_config() -> dict:
    """Plotly config of every chart: no mode bar (it covered titles, on phones above all; zoom by
    dragging, double-click to reset; the data is under each chart), the world map's country
    outlines from this server's ``static/`` folder (``server.enableStaticServing``), not from
    plotly's CDN."""
    base = st.get_option("server.baseUrlPath") or ""
    return {"displayModeBar": False, "displaylogo": False, "responsive": True,
            "topojsonURL": geo_assets.static_url(base)}  # fmt: skip


Columns = str | Iterable[Column]
#: Units shown right-aligned (numbers line up by their last digit).
_NUMERIC = {"currency", "count", "ratio", "percent", "number", "days"}


def declared(columns: Columns) -> tuple[Column, ...]:
    """``columns`` as Column declarations: a catalogue metric's name gives its declared columns."""
    return metrics.get(columns).columns if isinstance(columns, str) else tuple(columns)


def shown(df: pd.DataFrame, columns: Columns) -> tuple[pd.DataFrame, dict]:
    """``df`` as text with plain labels (``present.format.frame``: technical columns hidden) and
    the column config that right-aligns its numbers."""
    cols = declared(columns)
    text = data.formatted(df, cols)
    visible = [c for c in cols if c.name in df.columns and not c.technical]
    config = {
        label: st.column_config.TextColumn(label, help=c.description or None,
                                           alignment="right" if c.unit in _NUMERIC else None)
        for label, c in zip(text.columns, visible, strict=True)
    }  # fmt: skip
    return text, config


def chart(fig: go.Figure, df: pd.DataFrame, name: str, columns: Columns) -> None:
    """A Plotly chart with the data behind it (formatted) and its raw export. The figure has no
    template, so that Streamlit's theme (light or dark, as the system) styles it: build it with
    ``figures.figure`` (cached, no template), else its template is dropped here."""
    if fig.layout.template.to_plotly_json():  # not from figures.figure (shared: not touched)
        fig.layout.template = None
    st.plotly_chart(fig, key=f"chart_{_slug(name)}", config=plotly_config())
    # the table is built and sent only when asked for (an expander's content always is: on the
    # Products page that was thousands of formatted rows on every load)
    if st.toggle(f"Data: {name}", key=f"data_{_slug(name)}"):
        text, config = shown(df, columns)
        st.dataframe(text, hide_index=True, column_config=config)
        export_buttons(df, name)


#: Rows drawn in a table on the page; its CSV and Excel downloads have every row. A drill-down
#: of a month (thousands of orders) took 0.6 MB per page load and most of the browser's time,
#: where nobody reads past the first screens.
SHOWN_ROWS = 200


def table(df: pd.DataFrame, name: str, columns: Columns, *, height: int | None = None) -> None:
    """A table formatted by its declared columns (plain labels, units), with CSV/Excel export of
    the raw columns. ``columns``: a catalogue metric's name, or Column declarations. The first
    :data:`SHOWN_ROWS` rows (in ``df``'s order) are drawn; the downloads have them all."""
    text, config = shown(df.head(SHOWN_ROWS), columns)
    kw = {"height": height} if height and len(text) > height // 40 else {}  # else: fit the rows
    st.dataframe(text, hide_index=True, column_config=config, **kw)
    if len(df) > SHOWN_ROWS:
        st.caption(truncated(len(df)))
    export_buttons(df, name)


def truncated(rows: int, files: str = "the CSV and Excel downloads have") -> str:
    """The caption under a table cut at :data:`SHOWN_ROWS` rows."""
    return f"The first {SHOWN_ROWS:,} of {rows:,} rows are shown; {files} all {rows:,}."


# ------------------------------------------------------------------------------------ findings
def findings(items: list[Finding], kinds: tuple[str, ...] | None = None, limit: int = 6) -> None:
    """Automated findings as a short list (most urgent first)."""
    shown = [f for f in items if kinds is None or f.kind in kinds][:limit]
    if not shown:
        st.caption("No notable findings for the selected filters.")
        return
    for f in shown:
        st.markdown(f"{SEVERITY_BADGES[f.severity]} **{_md(f.title)}** — {_md(f.text)}")


def _md(text: str) -> str:
    """Plain text safe in markdown (``$`` would start LaTeX, ``*``/``_`` emphasis)."""
    return re.sub(r"([\\$*_`\[\]])", r"\\\1", text)


def guard(fn):
    """Run a page body; show DashboardError as one line instead of a traceback."""
    try:
        fn()
    except data.DashboardError as exc:
        st.error(str(exc))
        st.stop()
