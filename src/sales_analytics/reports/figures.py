"""The report's own figures: calendar comparison and weekly revenue with the partial week marked.

The other charts are the shared ones (:mod:`sales_analytics.present.charts`). Every report figure
goes through :func:`for_print`: full width, a fixed height, no toolbar.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import plotly.graph_objects as go

from sales_analytics.present import charts

#: Colours: this year darker than last year; a partial period lighter and hatched.
THIS_YEAR, LAST_YEAR, PARTIAL = "#1f5f9e", "#a9c4de", "#9aa5b1"
#: Plotly's config for every chart of the report: no toolbar, no logo, resize with the page.
CONFIG = {"displayModeBar": False, "displaylogo": False, "responsive": True}


def for_print(fig: go.Figure, height: int = 300) -> go.Figure:
    """``fig`` at ``height`` px with small margins (the width follows the page), keeping the
    room a figure made under its plot for a colour bar (``charts.colorbar_room``)."""
    top = 56 if fig.layout.title.text else 24
    bottom = max(8, fig.layout.margin.b or 0)
    fig.update_layout(height=height, autosize=True, margin={"l": 8, "r": 8, "t": top, "b": bottom})
    return fig


def year_over_year_fig(monthly: pd.DataFrame, year: int, last_day: date) -> go.Figure:
    """Net revenue per month of ``year`` next to the same month of the year before (``revenue``
    metric, grain month); the month of ``last_day`` is marked partial when it does not end it."""
    if monthly.empty:
        return charts.empty_fig()
    m = monthly.assign(period=pd.to_datetime(monthly["period"]))
    n = charts.labels("revenue")
    fig = go.Figure()
    partial = (last_day + pd.Timedelta(days=1)).month == last_day.month
    for y, color in ((year - 1, LAST_YEAR), (year, THIS_YEAR)):
        part = m[m["period"].dt.year == y]
        months = part["period"].dt.strftime("%b")
        colors = [
            PARTIAL if y == year and partial and p.month == last_day.month else color
            for p in part["period"]
        ]
        fig.add_bar(x=months, y=part["revenue"], name=str(y), marker_color=colors,
                    hovertemplate=charts.tip(f"%{{x}} {y}", (n["revenue"], "currency", "y")))  # fmt: skip
    if partial:
        fig.add_annotation(x=last_day.strftime("%b"), y=0, yanchor="bottom", showarrow=False,
                           text=f"to {last_day:%d %b}", font={"size": 10})  # fmt: skip
    fig.update_layout(barmode="group")
    fig.update_xaxes(categoryorder="array", categoryarray=[f"{pd.Timestamp(2000, i, 1):%b}" for i in range(1, 13)])
    fig.update_yaxes(**charts.axis("currency", n["revenue"]))
    return charts.layout(fig, f"{n['revenue']} per month: {year} against {year - 1}")


def weekly_revenue_fig(weekly: pd.DataFrame, last_day: date) -> go.Figure:
    """Net revenue per week (``revenue`` metric, grain week); a last week that ends after
    ``last_day`` is drawn lighter and labelled partial instead of looking like a drop."""
    if weekly.empty:
        return charts.empty_fig()
    w = weekly.assign(period=pd.to_datetime(weekly["period"]))
    n = charts.labels("revenue")
    week_end = w["period"] + pd.Timedelta(days=6)
    partial = week_end.dt.date > last_day
    fig = go.Figure()
    fig.add_bar(x=w.loc[~partial, "period"], y=w.loc[~partial, "revenue"], name="full weeks",
                marker_color=THIS_YEAR,
                hovertemplate=charts.tip("week of %{x|%d %b %Y}", (n["revenue"], "currency", "y")))  # fmt: skip
    if partial.any():
        p = w[partial]
        days = (last_day - p["period"].dt.date.iloc[0]).days + 1
        fig.add_bar(x=p["period"], y=p["revenue"], name=f"partial week ({days} of 7 days)",
                    marker={"color": PARTIAL, "pattern": {"shape": "/"}},
                    hovertemplate=charts.tip("week of %{x|%d %b %Y} (partial)",
                                             (n["revenue"], "currency", "y")))  # fmt: skip
    fig.update_yaxes(**charts.axis("currency", n["revenue"]))
    return charts.layout(fig, f"{n['revenue']} per week")
