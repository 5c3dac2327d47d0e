"""Shared pieces of every figure: units -> axis/hover formats, colours, layout.

Each ``*_fig`` function takes the frame a catalogue metric (or a model) returns and gives a
``plotly.graph_objects.Figure``; nothing here queries a database or imports streamlit. Axis
titles, legends and hover texts of metric columns are the catalogue's labels, and their number
formats come from the columns' units through :func:`sales_analytics.present.format.d3_format`
(currency symbol, percent, thousands separators).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from sales_analytics import metrics
from sales_analytics.present import format as fmt

TEMPLATE = "plotly_white"
#: Categorical series (segments, new vs returning...): no red or green, which mean bad and good.
PALETTE = ["#4C78A8", "#F58518", "#72B7B2", "#B279A2", "#EECA3B", "#9D755D", "#BAB0AC", "#1F3A5F"]
HEIGHT = 380
#: The template figures are built with: TEMPLATE, or none inside :func:`untemplated`.
_TEMPLATE: ContextVar[str | None] = ContextVar("figure_template", default=TEMPLATE)
#: Colour meaning, the same on every page: green = good / growing, red = bad / falling.
GOOD, BAD, NEUTRAL = "#1a9850", "#d73027", "#8c96a0"
#: Every change (growth, movers): a diverging scale centred on 0 (see :func:`growth_range`).
GROWTH_SCALE = "RdYlGn"
#: Every amount (revenue, customers, CLV): one sequential scale from 0.
AMOUNT_SCALE = "Blues"
#: Margins (a level, not a change): sequential too, in another hue.
MARGIN_SCALE = "Teal"
#: Period grain -> the pandas offset of a period's last day from its first (weeks start Mondays).
PERIOD_END = {
    "week": pd.offsets.Day(6), "month": pd.offsets.MonthEnd(0),
    "quarter": pd.offsets.QuarterEnd(0), "year": pd.offsets.YearEnd(0),
}  # fmt: skip

# ---------------------------------------------------------------------------------------- units
def labels(metric: str) -> dict[str, str]:
    """Column name -> label of catalogue metric ``metric`` (plotly express ``labels=``)."""
    return fmt.labels(metrics.get(metric).columns)


def hover(unit: str, ref: str = "y") -> str:
    """A hovertemplate value in ``unit``: ``$%{y:,.2f}``, ``%{y:.1%}``..."""
    prefix, d3, suffix = fmt.d3_format(unit)
    return f"{prefix}%{{{ref}:{d3}}}{suffix}"


def tip(head: str, *rows: tuple[str, str, str]) -> str:
    """A hovertemplate: ``head``, then ``label value`` per ``(label, unit, ref)``."""
    return "<br>".join([head, *(f"{t} {hover(u, r)}" for t, u, r in rows)]) + "<extra></extra>"


def axis(unit: str, title: str | None = None) -> dict:
    """Axis (or colour bar) settings for ``unit``: the unit's d3 format with insignificant
    trailing zeros trimmed (``$20,000`` rather than ``$20,000.00`` on a tick)."""
    prefix, d3, suffix = fmt.d3_format(unit)
    out = {"tickprefix": prefix, "tickformat": d3[:-1] + "~" + d3[-1], "ticksuffix": suffix}
    return out | ({"title": title} if title is not None else {})


#: Room under the plot for a horizontal colour bar: the bar and its ticks, its title beside them.
COLORBAR_ROOM = 44
#: Room under the plot for an x axis's tick labels and title.
AXIS_ROOM = 48


def colorbar(unit: str, title: str | None = None) -> dict:
    """A horizontal colour bar at the bottom of the figure (a vertical one took a third of a
    phone's width; one above the plot made plotly.js push the figure's title out of view), its
    title on the same line (above the bar, plotly.js drew it over the bar's colours at the
    bottom). Give it room with :func:`colorbar_room`."""
    return axis(unit) | {
        "orientation": "h", "x": 0, "xanchor": "left", "y": 0, "yref": "container",
        "yanchor": "bottom", "lenmode": "pixels", "len": min(340, 200 + 7 * len(title or "")), "thickness": 10, "title": {"text": title or "", "side": "right"},
        "nticks": 4,
    }  # fmt: skip


def colorbar_room(fig: go.Figure, *, x_axis: bool = True) -> go.Figure:
    """A bottom margin that holds the :func:`colorbar` under the x axis's labels (if any)."""
    return fig.update_layout(margin_b=COLORBAR_ROOM + (AXIS_ROOM if x_axis else 0))


def count(n, noun: str, plural: str | None = None) -> str:
    """``1 customer``, ``1,204 customers`` (thousands separators from ``present.format``)."""
    return f"{fmt.value(n, 'count')} {noun if float(n) == 1 else plural or noun + 's'}"


@contextmanager
def untemplated() -> Iterator[None]:
    """Figures built inside carry no template (the dashboard: Streamlit's theme styles them, light
    or dark). Copying a template into every figure was most of a figure's build time."""
    token = _TEMPLATE.set(None)
    try:
        yield
    finally:
        _TEMPLATE.reset(token)


def px_template() -> str:
    """The ``template=`` of a plotly express call: "none" (empty) inside :func:`untemplated`."""
    return _TEMPLATE.get() or "none"


def layout(fig: go.Figure, title: str | None = None, *, height: int = HEIGHT) -> go.Figure:
    if _TEMPLATE.get() is not None:
        fig.update_layout(template=_TEMPLATE.get())
    fig.update_layout(
        title={"text": title, "x": 0.01, "xanchor": "left", "y": 0.98, "yanchor": "top"}
        if title
        else None,
        height=height,
        margin={"l": 10, "r": 10, "t": 70 if title else 30, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.01, "x": 0},
    )
    return fig


def empty_fig(message: str = "No data for the selected filters") -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font={"size": 16})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return layout(fig, height=220)




# ---------------------------------------------------------------------------------------- scales
#: growth beyond +/-100% takes the scale's darkest colour: a fall cannot pass -100%, so a range
#: wider than that would spend half the scale on values that cannot occur (one +1000% country
#: would leave every other country pale)
GROWTH_CAP = 1.0


def growth_range(values) -> tuple[float, float]:
    """A colour range symmetric around 0, so that 0 is the neutral middle of GROWTH_SCALE, and at
    most +/-100% (:data:`GROWTH_CAP`; hover labels keep the real values)."""
    v = pd.to_numeric(pd.Series(values), errors="coerce").replace([np.inf, -np.inf], np.nan).dropna()
    m = min(float(v.abs().max()), GROWTH_CAP) if len(v) else 0.0
    m = m if m > 0 else 0.01
    return -m, m


def amount_range(values) -> tuple[float, float]:
    """A colour range from 0 to the largest value: one country or close values still read as
    amounts (0 to $123k), never as a sliver like 123.3238k-123.3246k."""
    v = pd.to_numeric(pd.Series(values), errors="coerce").dropna()
    top = float(v.max()) if len(v) else 0.0
    low = min(0.0, float(v.min())) if len(v) else 0.0
    return low, top if top > low else low + 1.0


# ---------------------------------------------------------------------------------------- periods
def partial_periods(periods, grain: str, start: date | None, end: date | None) -> np.ndarray:
    """True for each period (its first day) that the window ``start``-``end`` covers only in
    part: a week or month cut by the window's first or last day. Days are never partial."""
    p = pd.to_datetime(pd.Series(periods)).reset_index(drop=True)
    if grain not in PERIOD_END or p.empty:
        return np.zeros(len(p), dtype=bool)
    last = p + PERIOD_END[grain]
    out = np.zeros(len(p), dtype=bool)
    if end is not None:
        out |= (last > pd.Timestamp(end)).to_numpy()
    if start is not None:
        out |= (p < pd.Timestamp(start)).to_numpy()
    return out
