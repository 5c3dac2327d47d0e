"""Customer figures: segments, cohort retention, new vs returning."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from sales_analytics.present.charts.base import (
    AMOUNT_SCALE,
    PALETTE,
    axis,
    empty_fig,
    labels,
    layout,
    partial_periods,
    px_template,
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
    fig = px.bar(long, template=px_template(), x="segment", y="share", color="measure", barmode="group",
                 color_discrete_sequence=PALETTE, text_auto=".0%", labels={"measure": ""})
    fig.update_traces(hovertemplate=tip("%{x}", ("%{fullData.name}", "ratio", "y")))
    fig.update_yaxes(**axis("ratio", "Share"))
    fig.update_xaxes(title=None)
    return layout(fig, "Segments: share of customers and revenue")


def cohort_fig(cohorts: pd.DataFrame, max_months: int = 12, max_cohorts: int = 12) -> go.Figure:
    """Retention heatmap in percent, each cell's value written in it: the last ``max_cohorts``
    acquisition months x months 1..``max_months`` since the first order (``cohorts``; month 0 is
    100% by definition and left out)."""
    if cohorts.empty:
        return empty_fig()
    n = labels("cohorts")
    c = cohorts[(cohorts["months_since"] >= 1) & (cohorts["months_since"] <= max_months)]
    if c.empty:
        return empty_fig("No repeat purchases yet in the selected window")
    grid = c.pivot_table(index="cohort", columns="months_since", values="retention")
    grid = grid.sort_index().tail(max_cohorts)
    grid.index = pd.to_datetime(grid.index).strftime("%b %Y")
    top = float(np.nanmax(grid.to_numpy())) if grid.size else 1.0
    fig = go.Figure(go.Heatmap(
        z=grid.to_numpy(), x=[str(m) for m in grid.columns], y=list(grid.index),
        colorscale=AMOUNT_SCALE, zmin=0, zmax=max(0.05, top), texttemplate="%{z:.0%}",
        showscale=False, xgap=1, ygap=1,
        hovertemplate=tip(f"{n['cohort']} %{{y}}, {n['months_since'].lower()} %{{x}}",
                          (n["retention"], "ratio", "z")),
    ))  # fmt: skip
    fig.update_xaxes(title=n["months_since"], type="category")
    fig.update_yaxes(title=None, autorange="reversed", type="category")
    return layout(fig, "Customers ordering again, by month of first order", height=460)


def new_returning_fig(
    frame: pd.DataFrame, grain: str = "month", *, window: tuple[date | None, date | None] = (None, None)
) -> go.Figure:
    """Net revenue from new and from returning customers per period (``new_vs_returning``);
    a period the filter cuts is pale and hatched."""
    if frame.empty:
        return empty_fig()
    x, n = pd.to_datetime(frame["period"]).reset_index(drop=True), labels("new_vs_returning")
    partial = partial_periods(x, grain, *window)
    fig = go.Figure()
    for name, color in (("new_revenue", PALETTE[1]), ("returning_revenue", PALETTE[0])):
        fig.add_bar(x=x, y=frame[name], name=n[name], marker_color=color,
                    marker_opacity=np.where(partial, 0.35, 0.9),
                    marker_pattern_shape=np.where(partial, "/", ""),
                    hovertemplate=tip("%{x|%B %Y}", (n[name], "currency", "y")))
    fig.update_layout(barmode="stack")
    fig.update_yaxes(**axis("currency", labels("revenue")["revenue"]))
    note = " (pale: partial month)" if partial.any() else ""
    return layout(fig, f"New vs returning revenue{note}")
