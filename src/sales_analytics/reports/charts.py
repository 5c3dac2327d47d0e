"""Plotly figures from metric and model frames, shared by the dashboard and the HTML report.

Each ``*_fig`` function takes the frame a metric (or model) returns and gives a
``plotly.graph_objects.Figure``; nothing here queries a database or imports streamlit.
"""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from sales_analytics.reports.geo_assets import RESOLUTION, SCOPE

TEMPLATE = "plotly_white"
PALETTE = px.colors.qualitative.Safe
HEIGHT = 380

#: Country name -> ISO 3166-1 alpha-3 (the map's locations); countries not listed stay off the map.
ISO3: dict[str, str] = {
    "Argentina": "ARG", "Australia": "AUS", "Austria": "AUT", "Belgium": "BEL", "Brazil": "BRA",
    "Canada": "CAN", "Chile": "CHL", "China": "CHN", "Colombia": "COL", "Czechia": "CZE",
    "Czech Republic": "CZE", "Denmark": "DNK", "Egypt": "EGY", "Finland": "FIN", "France": "FRA",
    "Germany": "DEU", "Greece": "GRC", "Hong Kong": "HKG", "Hungary": "HUN", "India": "IND",
    "Indonesia": "IDN", "Ireland": "IRL", "Israel": "ISR", "Italy": "ITA", "Japan": "JPN",
    "Malaysia": "MYS", "Mexico": "MEX", "Netherlands": "NLD", "New Zealand": "NZL",
    "Nigeria": "NGA", "Norway": "NOR", "Peru": "PER", "Philippines": "PHL", "Poland": "POL",
    "Portugal": "PRT", "Romania": "ROU", "Saudi Arabia": "SAU", "Singapore": "SGP",
    "South Africa": "ZAF", "South Korea": "KOR", "Spain": "ESP", "Sweden": "SWE",
    "Switzerland": "CHE", "Thailand": "THA", "Turkey": "TUR", "Ukraine": "UKR",
    "United Arab Emirates": "ARE", "United Kingdom": "GBR", "United States": "USA",
    "Vietnam": "VNM",
}  # fmt: skip


def _layout(fig: go.Figure, title: str | None = None, *, height: int = HEIGHT) -> go.Figure:
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
    return _layout(fig, height=220)


# ---------------------------------------------------------------------------------------- revenue
def revenue_fig(
    ts: pd.DataFrame, grain: str = "day", anomalies: pd.DataFrame | None = None
) -> go.Figure:
    """Net revenue per period (``revenue_timeseries``), anomalous days marked when given.

    ``anomalies`` is ``insights.revenue_anomalies`` output (rows with ``is_anomaly``).
    """
    if ts.empty:
        return empty_fig()
    x = pd.to_datetime(ts["period"])
    fig = go.Figure()
    fig.add_scatter(x=x, y=ts["revenue"], mode="lines", name="net revenue", line={"width": 1.6})
    if "gross_revenue" in ts:
        fig.add_scatter(
            x=x, y=ts["gross_revenue"], mode="lines", name="gross revenue",
            line={"width": 1, "dash": "dot"}, opacity=0.6,
        )
    if anomalies is not None and not anomalies.empty:
        hits = anomalies[anomalies["is_anomaly"]]
        for direction, color in (("high", "#2ca02c"), ("low", "#d62728")):
            part = hits[hits["direction"] == direction]
            if len(part):
                fig.add_scatter(
                    x=pd.to_datetime(part["period"]), y=part["revenue"], mode="markers",
                    name=f"anomaly ({direction})", marker={"size": 9, "color": color, "symbol": "circle-open", "line": {"width": 2}},
                    customdata=part[["expected_revenue", "z"]].to_numpy(),
                    hovertemplate="%{x|%a %d %b %Y}<br>revenue %{y:,.0f}<br>expected %{customdata[0]:,.0f}<br>z %{customdata[1]:.1f}<extra></extra>",
                )
    fig.update_yaxes(title="revenue", tickformat=",.0f")
    return _layout(fig, f"Revenue per {grain}")


def orders_aov_fig(ts: pd.DataFrame, grain: str = "month") -> go.Figure:
    """Orders (bars) and average order value (line, right axis) per period."""
    if ts.empty:
        return empty_fig()
    x = pd.to_datetime(ts["period"])
    fig = go.Figure()
    fig.add_bar(x=x, y=ts["orders"], name="orders", marker_color=PALETTE[0], opacity=0.7)
    fig.add_scatter(x=x, y=ts["aov"], name="average order value", yaxis="y2", mode="lines+markers")
    fig.update_layout(
        yaxis={"title": "orders"},
        yaxis2={"title": "AOV", "overlaying": "y", "side": "right", "showgrid": False},
    )
    return _layout(fig, f"Orders and AOV per {grain}")


def weekday_fig(profile: pd.DataFrame) -> go.Figure:
    if profile.empty:
        return empty_fig()
    fig = px.bar(profile, x="weekday_name", y="revenue_index", color_discrete_sequence=PALETTE)
    fig.add_hline(y=1.0, line_dash="dot")
    fig.update_yaxes(title="revenue index (1 = average day)")
    fig.update_xaxes(title=None)
    return _layout(fig, "Weekday profile")


# ---------------------------------------------------------------------------------------- customers
def segment_fig(summary: pd.DataFrame) -> go.Figure:
    """Customers and revenue share per RFM segment (``segment_summary``)."""
    if summary.empty:
        return empty_fig()
    long = summary.melt(
        id_vars="segment", value_vars=["customer_share", "revenue_share"],
        var_name="measure", value_name="share",
    )
    long["measure"] = long["measure"].map({"customer_share": "customers", "revenue_share": "revenue"})
    fig = px.bar(
        long, x="segment", y="share", color="measure", barmode="group",
        color_discrete_sequence=PALETTE, text_auto=".0%",
    )
    fig.update_yaxes(tickformat=".0%", title="share")
    fig.update_xaxes(title=None)
    return _layout(fig, "Segment distribution: share of customers and of revenue")


def cohort_fig(cohorts: pd.DataFrame, max_months: int = 24) -> go.Figure:
    """Retention heatmap: acquisition month x months since the first order (``cohorts``)."""
    if cohorts.empty:
        return empty_fig()
    c = cohorts[cohorts["months_since"] <= max_months]
    grid = c.pivot_table(index="cohort", columns="months_since", values="retention")
    grid.index = pd.to_datetime(grid.index).strftime("%Y-%m")
    fig = px.imshow(
        grid, aspect="auto", color_continuous_scale="Blues", zmin=0, zmax=max(0.05, float(grid.iloc[:, 1:].max().max()) if grid.shape[1] > 1 else 1.0),
        labels={"x": "months since first order", "y": "cohort", "color": "retention"},
    )
    return _layout(fig, "Cohort retention", height=460)


def new_returning_fig(frame: pd.DataFrame) -> go.Figure:
    if frame.empty:
        return empty_fig()
    x = pd.to_datetime(frame["period"])
    fig = go.Figure()
    fig.add_bar(x=x, y=frame["new_revenue"], name="new customers", marker_color=PALETTE[1])
    fig.add_bar(x=x, y=frame["returning_revenue"], name="returning customers", marker_color=PALETTE[0])
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title="revenue", tickformat=",.0f")
    return _layout(fig, "New vs returning revenue")


# ---------------------------------------------------------------------------------------- products
def category_fig(rollup: pd.DataFrame, key: str = "category", top: int = 15) -> go.Figure:
    """Revenue bars with margin % in the hover (``category_rollup``/``brand_rollup``)."""
    if rollup.empty:
        return empty_fig()
    r = rollup.sort_values("revenue", ascending=False).head(top).iloc[::-1]
    fig = px.bar(
        r, x="revenue", y=key, orientation="h", color="margin_pct",
        color_continuous_scale="Teal", hover_data={"profit": ":,.0f", "units_sold": True},
        labels={"margin_pct": "margin %"},
    )
    fig.update_xaxes(tickformat=",.0f")
    fig.update_yaxes(title=None)
    return _layout(fig, f"Revenue by {key}", height=max(HEIGHT, 28 * len(r) + 80))


def treemap_fig(products: pd.DataFrame, top_per_category: int = 12) -> go.Figure:
    """Category -> product treemap of revenue (``product_performance``), top products only."""
    p = products[products["revenue"] > 0]
    if p.empty:
        return empty_fig()
    p = p.sort_values("revenue", ascending=False).groupby("category", group_keys=False).head(top_per_category)
    fig = px.treemap(
        p, path=[px.Constant("all"), "category", "product_name"], values="revenue",
        color="margin_pct", color_continuous_scale="RdYlGn", labels={"margin_pct": "margin %"},
    )
    return _layout(fig, "Revenue treemap (colour: margin %)", height=520)


def abc_fig(abc: pd.DataFrame) -> go.Figure:
    """Pareto curve: cumulative revenue share by product rank, coloured by ABC class."""
    if abc.empty:
        return empty_fig()
    fig = px.scatter(
        abc, x="rank", y="cumulative_share", color="abc_class",
        color_discrete_sequence=PALETTE, hover_data=["product_name", "revenue"],
    )
    fig.update_yaxes(tickformat=".0%", title="cumulative revenue share")
    return _layout(fig, "ABC classes (Pareto)")


# ---------------------------------------------------------------------------------------- geography
def country_map_fig(geo: pd.DataFrame, value: str = "revenue") -> go.Figure:
    """World choropleth of ``value`` per country (``geography(level="country")``)."""
    g = geo.assign(iso3=geo["country"].map(ISO3)).dropna(subset=["iso3"])
    if g.empty:
        return empty_fig("No mappable countries for the selected filters")
    fig = px.choropleth(
        g, locations="iso3", color=value, hover_name="country",
        hover_data={"iso3": False, "orders": ":,", "customers": ":,", "aov": ":,.2f"},
        color_continuous_scale="Viridis", projection="natural earth",
    )
    # scope and resolution name the topojson plotly.js needs: the one shipped (geo_assets).
    # fitbounds off: plotly.js 4 would crop the view to the coloured countries (Pacific-centred)
    fig.update_geos(
        showcountries=True, showframe=False, scope=SCOPE, resolution=RESOLUTION, fitbounds=False
    )
    return _layout(fig, f"{value.replace('_', ' ').capitalize()} by country", height=460)


def country_bars_fig(geo: pd.DataFrame) -> go.Figure:
    """Revenue per country with 12-month growth in the colour."""
    if geo.empty:
        return empty_fig()
    g = geo.sort_values("revenue").tail(20)
    fig = px.bar(
        g, x="revenue", y="country", orientation="h", color="growth_12m",
        color_continuous_scale="RdYlGn", color_continuous_midpoint=0.0,
        labels={"growth_12m": "12-month growth"},
    )
    fig.update_xaxes(tickformat=",.0f")
    fig.update_yaxes(title=None)
    return _layout(fig, "Revenue by country", height=max(HEIGHT, 26 * len(g) + 80))


# ---------------------------------------------------------------------------------------- predictions
def forecast_fig(history: pd.DataFrame, forecast: pd.DataFrame, history_days: int = 180) -> go.Figure:
    """Daily revenue history (``ds, y``) and the forecast with 80/95% bands.

    ``forecast`` is ``RevenueForecaster.predict()``: ``ds, yhat, lo_80, hi_80, lo_95, hi_95``.
    """
    fig = go.Figure()
    f = forecast.copy()
    f["ds"] = pd.to_datetime(f["ds"])
    for level, alpha in ((95, 0.15), (80, 0.3)):
        lo, hi = f"lo_{level}", f"hi_{level}"
        if lo in f and hi in f:
            fig.add_scatter(x=f["ds"], y=f[hi], mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip")
            fig.add_scatter(
                x=f["ds"], y=f[lo], mode="lines", line={"width": 0}, fill="tonexty",
                fillcolor=f"rgba(31,119,180,{alpha})", name=f"{level}% interval",
            )
    if not history.empty:
        h = history.copy()
        h["ds"] = pd.to_datetime(h["ds"])
        h = h[h["ds"] > h["ds"].max() - pd.Timedelta(days=history_days)]
        fig.add_scatter(x=h["ds"], y=h["y"], mode="lines", name="actual", line={"color": "#444", "width": 1.2})
    fig.add_scatter(x=f["ds"], y=f["yhat"], mode="lines", name="forecast", line={"color": "#1f77b4", "width": 2})
    top = max(
        float(history["y"].max()) if not history.empty else 0.0,
        float(f["hi_80"].max()) if "hi_80" in f else float(f["yhat"].max()),
    )
    fig.update_yaxes(title="revenue per day", tickformat=",.0f", range=[0, 1.15 * top])
    model = str(f["model"].iloc[0]) if "model" in f and len(f) else "model"
    return _layout(fig, f"Revenue forecast ({model}) with 80% and 95% intervals", height=440)


def clv_churn_fig(frame: pd.DataFrame) -> go.Figure:
    """CLV vs churn probability per customer (``insights.customer_risk``)."""
    if frame.empty:
        return empty_fig()
    color = "segment" if "segment" in frame else "risk_tier"
    fig = px.scatter(
        frame, x="churn_probability", y="clv", color=color, opacity=0.6,
        hover_data=["customer_id", "risk_tier", "value_tier"],
        color_discrete_sequence=px.colors.qualitative.Bold,
    )
    fig.update_xaxes(tickformat=".0%", title="churn probability (next window)")
    fig.update_yaxes(title="predicted CLV", tickformat=",.0f")
    return _layout(fig, "Customer lifetime value vs churn risk", height=460)


def risk_matrix_fig(matrix: pd.DataFrame) -> go.Figure:
    """Value tier x churn-risk tier heatmap of customers, CLV at stake in the text
    (``insights.risk_matrix``)."""
    if matrix.empty:
        return empty_fig()
    cust = matrix.pivot(index="value_tier", columns="risk_tier", values="customers")
    clv = matrix.pivot(index="value_tier", columns="risk_tier", values="clv")
    text = [
        [f"{int(n):,} customers<br>CLV {v:,.0f}" for n, v in zip(cr, vr, strict=True)]
        for cr, vr in zip(cust.to_numpy(), clv.to_numpy(), strict=True)
    ]
    fig = go.Figure(
        go.Heatmap(
            z=clv.to_numpy(), x=list(cust.columns), y=list(cust.index), text=text,
            texttemplate="%{text}", colorscale="OrRd", colorbar={"title": "CLV"},
        )
    )
    fig.update_xaxes(title="churn risk")
    fig.update_yaxes(title="customer value")
    return _layout(fig, "Risk matrix: predicted value x churn risk", height=420)


def accuracy_fig(table: pd.DataFrame) -> go.Figure:
    """Backtest MAE per forecasting model (``RevenueForecaster.evaluate()["table"]``)."""
    if table.empty:
        return empty_fig()
    t = table.sort_values("mae")
    fig = px.bar(t, x="model", y="mae", color_discrete_sequence=PALETTE, text_auto=",.0f")
    fig.update_yaxes(title="MAE (revenue per day)")
    return _layout(fig, "Backtest error by model")
