"""Customer figures: segments, cohort retention, new vs returning."""

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


def segment_fig(summary: pd.DataFrame) -> go.Figure:
    """Share of customers and of revenue per RFM segment (``segment_summary``)."""
    if summary.empty:
        return empty_fig()
    n = labels("segment_summary")
    long = summary.melt(id_vars="segment", value_vars=["customer_share", "revenue_share"],
                        var_name="measure", value_name="share")
    long["measure"] = long["measure"].map(n)
    fig = px.bar(long, x="segment", y="share", color="measure", barmode="group",
                 color_discrete_sequence=PALETTE, text_auto=".0%", labels={"measure": ""})
    fig.update_traces(hovertemplate=tip("%{x}", ("%{fullData.name}", "ratio", "y")))
    fig.update_yaxes(**axis("ratio", "Share"))
    fig.update_xaxes(title=None)
    return layout(fig, "Segment distribution: share of customers and of revenue")


def cohort_fig(cohorts: pd.DataFrame, max_months: int = 24) -> go.Figure:
    """Retention heatmap: acquisition month x months since the first order (``cohorts``)."""
    if cohorts.empty:
        return empty_fig()
    n = labels("cohorts")
    c = cohorts[cohorts["months_since"] <= max_months]
    grid = c.pivot_table(index="cohort", columns="months_since", values="retention")
    grid.index = pd.to_datetime(grid.index).strftime("%Y-%m")
    later = float(grid.iloc[:, 1:].max().max()) if grid.shape[1] > 1 else 1.0
    fig = px.imshow(
        grid, aspect="auto", color_continuous_scale="Blues", zmin=0, zmax=max(0.05, later),
        labels={"x": n["months_since"], "y": n["cohort"], "color": n["retention"]},
    )
    fig.update_traces(hovertemplate=tip(
        f"{n['cohort']} %{{y}}, {n['months_since'].lower()} %{{x}}", (n["retention"], "ratio", "z")
    ))  # fmt: skip
    fig.update_coloraxes(colorbar=axis("ratio"))
    return layout(fig, "Cohort retention", height=460)


def new_returning_fig(frame: pd.DataFrame) -> go.Figure:
    """Net revenue from new and from returning customers per period (``new_vs_returning``)."""
    if frame.empty:
        return empty_fig()
    x, n = pd.to_datetime(frame["period"]), labels("new_vs_returning")
    fig = go.Figure()
    for name, color in (("new_revenue", PALETTE[1]), ("returning_revenue", PALETTE[0])):
        fig.add_bar(x=x, y=frame[name], name=n[name], marker_color=color,
                    hovertemplate=tip("%{x|%b %Y}", (n[name], "currency", "y")))
    fig.update_layout(barmode="stack")
    fig.update_yaxes(**axis("currency", labels("revenue")["revenue"]))
    return layout(fig, "New vs returning revenue")


