"""Model figures: forecast, CLV vs churn, risk matrix, backtest error."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from sales_analytics.present import format as fmt
from sales_analytics.present.charts.base import (
    PALETTE,
    axis,
    count,
    empty_fig,
    hover,
    labels,
    layout,
    px_template,
    tip,
)


def forecast_fig(history: pd.DataFrame, forecast: pd.DataFrame, history_days: int = 180) -> go.Figure:
    """Daily revenue history (``ds, y``) and the forecast with 80/95% bands.

    ``forecast`` is ``RevenueForecaster.predict()``: ``ds, yhat, lo_80, hi_80, lo_95, hi_95``.
    """
    fig = go.Figure()
    f = forecast.copy()
    f["ds"] = pd.to_datetime(f["ds"])
    day = "%{x|%a %d %b %Y}"
    for level, alpha in ((95, 0.15), (80, 0.3)):
        lo, hi = f"lo_{level}", f"hi_{level}"
        if lo in f and hi in f:
            fig.add_scatter(x=f["ds"], y=f[hi], mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip")
            fig.add_scatter(
                x=f["ds"], y=f[lo], mode="lines", line={"width": 0}, fill="tonexty",
                fillcolor=f"rgba(31,119,180,{alpha})", name=f"{level}% interval", hoverinfo="skip",
            )  # fmt: skip
    if not history.empty:
        h = history.copy()
        h["ds"] = pd.to_datetime(h["ds"])
        h = h[h["ds"] > h["ds"].max() - pd.Timedelta(days=history_days)]
        fig.add_scatter(x=h["ds"], y=h["y"], mode="lines", name="actual",
                        line={"color": "#444", "width": 1.2},
                        hovertemplate=tip(day, ("actual", "currency", "y")))
    fig.add_scatter(x=f["ds"], y=f["yhat"], mode="lines", name="forecast",
                    line={"color": "#1f77b4", "width": 2},
                    hovertemplate=tip(day, ("forecast", "currency", "y")))
    top = max(
        float(history["y"].max()) if not history.empty else 0.0,
        float(f["hi_80"].max()) if "hi_80" in f else float(f["yhat"].max()),
    )
    title = f"{labels('revenue')['revenue']} per day"
    fig.update_yaxes(range=[0, 1.15 * top], **axis("currency", title))
    return layout(fig, "Forecast: net revenue per day", height=440)


#: Customers drawn on the CLV x churn chart: those with the most value at risk. Every customer
#: (3,375 at scale 1, ten times that at scale 10) was one SVG point each, about a second of the
#: browser's time for a cloud nobody could read; the risk matrix beside it counts them all.
SCATTER_POINTS = 500


def most_at_risk(frame: pd.DataFrame, n: int = SCATTER_POINTS) -> pd.DataFrame:
    """The ``n`` customers of ``frame`` (``insights.customer_risk``) with the most value at risk
    (predicted CLV x churn probability), most first."""
    at_risk = frame["clv"] * frame["churn_probability"]
    return frame.loc[at_risk.sort_values(ascending=False, kind="stable").index[:n]]


def clv_churn_fig(frame: pd.DataFrame, total: int | None = None) -> go.Figure:
    """CLV vs churn probability per customer (``insights.customer_risk``); ``total``: how many
    customers ``frame`` was taken from (:func:`most_at_risk`), said in the title."""
    if frame.empty:
        return empty_fig()
    color = "segment" if "segment" in frame else "risk_tier"
    fig = px.scatter(
        frame, template=px_template(), x="churn_probability", y="clv", color=color, opacity=0.6,
        custom_data=["customer_id", "value_tier", "risk_tier"],
        color_discrete_sequence=px.colors.qualitative.Bold,
        labels={"segment": "", "risk_tier": ""},
    )  # fmt: skip
    fig.update_traces(hovertemplate=tip(
        "customer %{customdata[0]} (value %{customdata[1]}, churn risk %{customdata[2]})",
        ("predicted CLV", "currency", "y"), ("churn probability", "ratio", "x"),
    ))  # fmt: skip
    fig.update_xaxes(**axis("ratio", "churn probability (next window)"))
    fig.update_yaxes(**axis("currency", "predicted CLV"))
    title = "Customer lifetime value vs churn risk"
    if total is not None and total > len(frame):
        title = (f"Value vs churn risk: {len(frame):,} of {count(total, 'customer')} "
                 "(most value at risk)")  # fmt: skip
    fig = layout(fig, title, height=500)
    # the legend (up to 11 segments, three rows at half width) under the chart: above it, it
    # grew upwards over the title
    return fig.update_layout(legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0},
                             margin={"b": 40})  # fmt: skip


#: Tiers from low to high: the matrix's axes read low -> high (left to right, bottom to top).
TIER_ORDER = ("low", "medium", "high")
#: Cell colour = value rank + risk rank: green (low value, low risk) to red (high x high).
URGENCY_SCALE = [[0.0, "#e5f5e0"], [0.5, "#fee08b"], [1.0, "#d73027"]]


def risk_matrix_fig(matrix: pd.DataFrame) -> go.Figure:
    """Customer value (rows, low at the bottom) x churn risk (columns, low on the left): each
    cell's customers and predicted CLV written in it, coloured by urgency, the high-value x
    high-risk cell outlined and called out (``insights.risk_matrix``)."""
    if matrix.empty:
        return empty_fig()
    m = matrix.set_index(["value_tier", "risk_tier"])
    z, text = [], []
    for vi, v in enumerate(TIER_ORDER):
        z.append([vi + ri for ri in range(len(TIER_ORDER))])
        text.append([
            "<b>{}</b><br>{}<br>{}".format(
                *count(m.loc[(v, r), "customers"], "customer").split(" ", 1),
                fmt.money(m.loc[(v, r), "clv"], decimals=0))
            if (v, r) in m.index else "–"
            for r in TIER_ORDER
        ])  # fmt: skip
    labels_ = [t.capitalize() for t in TIER_ORDER]
    fig = go.Figure(go.Heatmap(
        z=z, x=labels_, y=labels_, text=text, texttemplate="%{text}", textfont={"size": 12},
        colorscale=URGENCY_SCALE, zmin=0, zmax=2 * (len(TIER_ORDER) - 1), showscale=False,
        xgap=3, ygap=3,
        hovertemplate="value %{y}, churn risk %{x}<br>%{text}<extra></extra>",
    ))  # fmt: skip
    top = len(TIER_ORDER) - 1
    fig.add_shape(type="rect", x0=top - 0.5, x1=top + 0.5, y0=top - 0.5, y1=top + 0.5,
                  line={"color": "#7f0000", "width": 4})
    fig.add_annotation(x=top, y=top + 0.5, text="<b>act here</b>", showarrow=False,
                       yanchor="bottom", font={"color": "#7f0000", "size": 13})
    fig.update_xaxes(title="Churn risk →", categoryorder="array", categoryarray=labels_,
                     fixedrange=True)
    fig.update_yaxes(title="Customer value →", categoryorder="array",
                     categoryarray=labels_, fixedrange=True)
    return layout(fig, "Risk matrix: customers and predicted value", height=420)


def accuracy_fig(table: pd.DataFrame) -> go.Figure:
    """Backtest MAE per forecasting model (``RevenueForecaster.evaluate().table``)."""
    if table.empty:
        return empty_fig()
    t = table.sort_values("mae")
    fig = px.bar(t, template=px_template(), x="model", y="mae", color_discrete_sequence=PALETTE)
    fig.update_traces(texttemplate=hover("currency"), hovertemplate=tip("%{x}", ("MAE", "currency", "y")))
    fig.update_yaxes(**axis("currency", "MAE (revenue per day)"))
    return layout(fig, "Backtest error by model")
