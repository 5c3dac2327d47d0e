"""Revenue figures: revenue over time, orders and AOV, weekday profile."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sales_analytics.present.charts.base import (
    BAD,
    GOOD,
    HEIGHT,
    NEUTRAL,
    PALETTE,
    axis,
    empty_fig,
    labels,
    layout,
    partial_periods,
    px_template,
    tip,
)

#: Anomaly direction -> (legend name, colour): green = better than expected, red = worse.
ANOMALY_STYLE = {"high": ("unusually high day", GOOD), "low": ("unusually low day", BAD)}
PERIOD_HOVER = {
    "day": "%{x|%a %d %b %Y}", "week": "week of %{x|%d %b %Y}", "month": "%{x|%B %Y}",
    "quarter": "quarter from %{x|%b %Y}", "year": "%{x|%Y}",
}  # fmt: skip


def revenue_fig(
    ts: pd.DataFrame,
    grain: str = "day",
    anomalies: pd.DataFrame | None = None,
    *,
    window: tuple[date | None, date | None] = (None, None),
) -> go.Figure:
    """Net revenue per period (the ``revenue`` metric), unusual days marked when given.

    ``anomalies`` is ``insights.revenue_anomalies`` output (rows with ``is_anomaly``; days of a
    planned event, an ``event`` column, are not marked as unusual). ``window``: the filter's first
    and last day; a week or month it cuts is drawn as a hollow marker labelled "partial", not as
    a drop of the line.
    """
    if ts.empty:
        return empty_fig()
    x, n = pd.to_datetime(ts["period"]).reset_index(drop=True), labels("revenue")
    y = ts["revenue"].reset_index(drop=True)
    day = PERIOD_HOVER.get(grain, PERIOD_HOVER["day"])
    partial = partial_periods(x, grain, *window)
    fig = go.Figure()
    full = ~partial
    fig.add_scatter(x=x[full], y=y[full], mode="lines" if grain == "day" else "lines+markers",
                    name=n["revenue"], line={"width": 1.6, "color": PALETTE[0]},
                    hovertemplate=tip(day, (n["revenue"], "currency", "y")))
    if partial.any():
        fig.add_scatter(
            x=x[partial], y=y[partial], mode="markers+text", name="partial period",
            marker={"size": 10, "symbol": "circle-open", "color": NEUTRAL, "line": {"width": 2}},
            text=["partial"] * int(partial.sum()), textposition="top center",
            textfont={"color": NEUTRAL},
            hovertemplate=tip(day + " (partial: the filter cuts it)", (n["revenue"], "currency", "y")),
        )  # fmt: skip
    if anomalies is not None and not anomalies.empty and grain == "day" and "is_planned" in anomalies:
        planned = anomalies[anomalies["is_planned"].fillna(False).astype(bool)]
        if len(planned):  # Black Friday, Cyber Monday...: expected spikes, not anomalies
            fig.add_scatter(
                x=pd.to_datetime(planned["period"]), y=planned["revenue"], mode="markers",
                name="planned event", marker={"size": 8, "color": NEUTRAL, "symbol": "diamond-open",
                                              "line": {"width": 2}},
                customdata=planned[["event"]].fillna("").to_numpy(),
                hovertemplate=tip(day + " %{customdata[0]}", (n["revenue"], "currency", "y")),
            )  # fmt: skip
    if anomalies is not None and not anomalies.empty and grain == "day":
        hits = anomalies[anomalies["is_anomaly"]]
        if "event" in hits:
            hits = hits[hits["event"].isna() | (hits["event"].astype(str) == "")]
        for direction, (name, color) in ANOMALY_STYLE.items():
            part = hits[hits["direction"] == direction]
            if len(part):
                fig.add_scatter(
                    x=pd.to_datetime(part["period"]), y=part["revenue"], mode="markers", name=name,
                    marker={"size": 9, "color": color, "symbol": "circle-open", "line": {"width": 2}},
                    customdata=part[["expected_revenue"]].to_numpy(),
                    hovertemplate=tip(day, (n["revenue"], "currency", "y"),
                                      ("expected", "currency", "customdata[0]")),
                )  # fmt: skip
    fig.update_yaxes(**axis("currency", n["revenue"]), rangemode="tozero")
    return layout(fig, f"Revenue per {grain}")


def orders_aov_fig(
    ts: pd.DataFrame, grain: str = "month", *, window: tuple[date | None, date | None] = (None, None)
) -> go.Figure:
    """Orders (bars, top) and average order value (line, bottom) per period (``revenue``): two
    panels sharing the time axis rather than two y axes on one. Partial periods are pale."""
    if ts.empty:
        return empty_fig()
    x, n = pd.to_datetime(ts["period"]).reset_index(drop=True), labels("revenue")
    partial = partial_periods(x, grain, *window)
    when = PERIOD_HOVER.get(grain, PERIOD_HOVER["day"])
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        row_heights=[0.55, 0.45])
    fig.add_bar(x=x, y=ts["orders"], name=n["orders"], marker_color=PALETTE[0],
                marker_opacity=np.where(partial, 0.35, 0.85),
                marker_pattern_shape=np.where(partial, "/", ""),
                hovertemplate=tip(when, (n["orders"], "count", "y")), row=1, col=1)
    full = ~partial
    fig.add_scatter(x=x[full], y=ts["aov"].reset_index(drop=True)[full], name=n["aov"],
                    mode="lines+markers", line={"color": PALETTE[1]},
                    hovertemplate=tip(when, (n["aov"], "currency", "y")), row=2, col=1)
    fig.update_yaxes(**axis("count", n["orders"]), rangemode="tozero", row=1, col=1)
    fig.update_yaxes(**axis("currency", n["aov"]), rangemode="tozero", row=2, col=1)
    note = " (pale bar: partial)" if partial.any() else ""
    return layout(fig, f"Orders and {n['aov'].lower()} per {grain}{note}", height=HEIGHT + 60)


def weekday_fig(profile: pd.DataFrame) -> go.Figure:
    """Revenue index per weekday (``weekday_profile``; 1 = an average day)."""
    if profile.empty:
        return empty_fig()
    n = labels("weekday_profile")
    fig = px.bar(profile, template=px_template(), x="weekday_name", y="revenue_index", color_discrete_sequence=PALETTE,
                 custom_data=["avg_daily_revenue", "revenue_share"])
    fig.update_traces(hovertemplate=tip(
        "%{x}", (n["revenue_index"], "number", "y"),
        (n["avg_daily_revenue"], "currency", "customdata[0]"),
        (n["revenue_share"], "ratio", "customdata[1]"),
    ))  # fmt: skip
    fig.add_hline(y=1.0, line_dash="dot")
    fig.update_yaxes(**axis("number", f"{n['revenue_index']} (1 = average day)"))
    fig.update_xaxes(title=None)
    return layout(fig, "Weekday profile")


