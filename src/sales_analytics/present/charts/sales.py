"""Revenue figures: revenue over time, orders and AOV, weekday profile."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from sales_analytics.present.charts.base import (
    PALETTE,
    axis,
    empty_fig,
    labels,
    layout,
    tip,
)


def revenue_fig(
    ts: pd.DataFrame, grain: str = "day", anomalies: pd.DataFrame | None = None
) -> go.Figure:
    """Net revenue per period (the ``revenue`` metric), anomalous days marked when given.

    ``anomalies`` is ``insights.revenue_anomalies`` output (rows with ``is_anomaly``).
    """
    if ts.empty:
        return empty_fig()
    x, n = pd.to_datetime(ts["period"]), labels("revenue")
    day = "%{x|%a %d %b %Y}" if grain == "day" else "%{x|%d %b %Y}"
    fig = go.Figure()
    fig.add_scatter(x=x, y=ts["revenue"], mode="lines", name=n["revenue"], line={"width": 1.6},
                    hovertemplate=tip(day, (n["revenue"], "currency", "y")))
    if "gross_revenue" in ts:
        fig.add_scatter(x=x, y=ts["gross_revenue"], mode="lines", name=n["gross_revenue"],
                        line={"width": 1, "dash": "dot"}, opacity=0.6,
                        hovertemplate=tip(day, (n["gross_revenue"], "currency", "y")))
    if anomalies is not None and not anomalies.empty:
        hits = anomalies[anomalies["is_anomaly"]]
        for direction, color in (("high", "#2ca02c"), ("low", "#d62728")):
            part = hits[hits["direction"] == direction]
            if len(part):
                fig.add_scatter(
                    x=pd.to_datetime(part["period"]), y=part["revenue"], mode="markers",
                    name=f"anomaly ({direction})",
                    marker={"size": 9, "color": color, "symbol": "circle-open", "line": {"width": 2}},
                    customdata=part[["expected_revenue", "z"]].to_numpy(),
                    hovertemplate=tip(day, (n["revenue"], "currency", "y"),
                                      ("expected", "currency", "customdata[0]"),
                                      ("z", "number", "customdata[1]")),
                )  # fmt: skip
    fig.update_yaxes(**axis("currency", n["revenue"]))
    return layout(fig, f"Revenue per {grain}")


def orders_aov_fig(ts: pd.DataFrame, grain: str = "month") -> go.Figure:
    """Orders (bars) and average order value (line, right axis) per period (``revenue``)."""
    if ts.empty:
        return empty_fig()
    x, n = pd.to_datetime(ts["period"]), labels("revenue")
    fig = go.Figure()
    fig.add_bar(x=x, y=ts["orders"], name=n["orders"], marker_color=PALETTE[0], opacity=0.7,
                hovertemplate=tip("%{x|%b %Y}", (n["orders"], "count", "y")))
    fig.add_scatter(x=x, y=ts["aov"], name=n["aov"], yaxis="y2", mode="lines+markers",
                    hovertemplate=tip("%{x|%b %Y}", (n["aov"], "currency", "y")))
    fig.update_layout(
        yaxis=axis("count", n["orders"]),
        yaxis2=axis("currency", n["aov"]) | {"overlaying": "y", "side": "right", "showgrid": False},
    )
    return layout(fig, f"Orders and AOV per {grain}")


def weekday_fig(profile: pd.DataFrame) -> go.Figure:
    """Revenue index per weekday (``weekday_profile``; 1 = an average day)."""
    if profile.empty:
        return empty_fig()
    n = labels("weekday_profile")
    fig = px.bar(profile, x="weekday_name", y="revenue_index", color_discrete_sequence=PALETTE,
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


