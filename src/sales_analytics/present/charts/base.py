"""Shared pieces of every figure: units -> axis/hover formats, colours, layout.

Each ``*_fig`` function takes the frame a catalogue metric (or a model) returns and gives a
``plotly.graph_objects.Figure``; nothing here queries a database or imports streamlit. Axis
titles, legends and hover texts of metric columns are the catalogue's labels, and their number
formats come from the columns' units through :func:`sales_analytics.present.format.d3_format`
(currency symbol, percent, thousands separators).
"""

from __future__ import annotations

import plotly.express as px
import plotly.graph_objects as go

from sales_analytics import metrics
from sales_analytics.present import format as fmt

TEMPLATE = "plotly_white"
PALETTE = px.colors.qualitative.Safe
HEIGHT = 380

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


def layout(fig: go.Figure, title: str | None = None, *, height: int = HEIGHT) -> go.Figure:
    fig.update_layout(
        template=TEMPLATE,
        title={"text": title, "x": 0.01, "xanchor": "left", "y": 0.98, "yanchor": "top"}
        if title
        else None,
        height=height,
        margin={"l": 10, "r": 10, "t": 90 if title else 30, "b": 10},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.01, "x": 0},
    )
    return fig


def empty_fig(message: str = "No data for the selected filters") -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font={"size": 16})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return layout(fig, height=220)


