"""Product figures: category/brand bars, treemap, ABC Pareto curve."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from sales_analytics import metrics
from sales_analytics.present.charts.base import (
    HEIGHT,
    MARGIN_SCALE,
    PALETTE,
    axis,
    colorbar,
    colorbar_room,
    empty_fig,
    hover,
    labels,
    layout,
    px_template,
    tip,
)


def category_fig(rollup: pd.DataFrame, key: str = "category", top: int = 15) -> go.Figure:
    """Revenue bars coloured by margin (``category_rollup``, or ``brand_rollup`` with
    ``key="brand"``)."""
    if rollup.empty:
        return empty_fig()
    n = labels(f"{key}_rollup" if f"{key}_rollup" in metrics.CATALOG else "category_rollup")
    r = rollup.sort_values("revenue", ascending=False).head(top).iloc[::-1]
    fig = px.bar(r, template=px_template(), x="revenue", y=key, orientation="h", color="margin_pct",
                 color_continuous_scale=MARGIN_SCALE, custom_data=["profit", "units_sold", "margin_pct"])
    fig.update_traces(hovertemplate=tip(
        "%{y}", (n["revenue"], "currency", "x"), (n["profit"], "currency", "customdata[0]"),
        (n["units_sold"], "count", "customdata[1]"), (n["margin_pct"], "percent", "customdata[2]"),
    ))  # fmt: skip
    fig.update_coloraxes(colorbar=colorbar("percent", f"colour: {n['margin_pct'].lower()}"))
    fig.update_xaxes(**axis("currency", n["revenue"]), nticks=4)
    fig.update_yaxes(title=None)
    return colorbar_room(layout(fig, f"Revenue by {key}", height=max(HEIGHT, 28 * len(r) + 160)))


def treemap_fig(products: pd.DataFrame, top_per_category: int = 12) -> go.Figure:
    """Category -> product treemap of revenue (``product_performance``), top products only.

    Readable at any width: the categories are shown with their revenue (click one to see its
    products), labels that do not fit are hidden rather than shrunk to nothing."""
    p = products[products["revenue"] > 0]
    if p.empty:
        return empty_fig()
    n = labels("product_performance")
    p = p.sort_values("revenue", ascending=False).groupby("category", group_keys=False).head(top_per_category)
    fig = px.treemap(p, template=px_template(), path=[px.Constant("All products"), "category", "product_name"],
                     values="revenue", color="margin_pct", color_continuous_scale=MARGIN_SCALE,
                     maxdepth=2)
    fig.update_traces(
        texttemplate="<b>%{label}</b><br>" + hover("currency", "value").replace(",.2f", ",.0f"),
        textfont={"size": 14}, marker={"line": {"width": 1, "color": "white"}},
        hovertemplate=tip("%{label}", (n["revenue"], "currency", "value"),
                          (n["margin_pct"], "percent", "color")),
    )  # fmt: skip
    fig.update_layout(uniformtext={"minsize": 11, "mode": "hide"})
    fig.update_coloraxes(colorbar=colorbar("percent", f"colour: {n['margin_pct'].lower()}"))
    return colorbar_room(layout(fig, "Categories and their products (tap to open)", height=500), x_axis=False)


def abc_fig(abc: pd.DataFrame) -> go.Figure:
    """Pareto curve: cumulative revenue share by product rank, a line per ABC class (a marker per
    product was 1,000 SVG points at scale 1 and 10,000 at scale 10; a line is one path)."""
    if abc.empty:
        return empty_fig()
    n = labels("abc_classes")
    fig = px.line(abc.sort_values("rank"), template=px_template(), x="rank", y="cumulative_share",
                  color="abc_class", labels=n, color_discrete_sequence=PALETTE,
                  custom_data=["product_name", "revenue"])  # fmt: skip
    fig.update_traces(line={"width": 3})
    fig.update_traces(hovertemplate=tip(
        "%{customdata[0]}", (n["rank"], "count", "x"), (n["revenue"], "currency", "customdata[1]"),
        (n["cumulative_share"], "ratio", "y"),
    ))  # fmt: skip
    fig.update_yaxes(**axis("ratio", n["cumulative_share"]))
    fig.update_xaxes(**axis("count", n["rank"]))
    return layout(fig, "ABC classes (Pareto)")


