"""Plotly figures from metric and model frames, shared by the dashboard and the HTML report.

Each ``*_fig`` function takes the frame a catalogue metric (or a model) returns and gives a
``plotly.graph_objects.Figure``; nothing here queries a database or imports streamlit. Axis
titles, legends and hover texts of metric columns are the catalogue's labels, and their number
formats come from the columns' units through :func:`sales_analytics.present.format.d3_format`
(currency symbol, percent, thousands separators).
"""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from sales_analytics import metrics
from sales_analytics.present import format as fmt
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
    return _layout(fig, f"Revenue per {grain}")


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
    return _layout(fig, f"Orders and AOV per {grain}")


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
    return _layout(fig, "Weekday profile")


# ---------------------------------------------------------------------------------------- customers
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
    return _layout(fig, "Segment distribution: share of customers and of revenue")


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
    return _layout(fig, "Cohort retention", height=460)


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
    return _layout(fig, "New vs returning revenue")


# ---------------------------------------------------------------------------------------- products
def category_fig(rollup: pd.DataFrame, key: str = "category", top: int = 15) -> go.Figure:
    """Revenue bars coloured by margin (``category_rollup``, or ``brand_rollup`` with
    ``key="brand"``)."""
    if rollup.empty:
        return empty_fig()
    n = labels(f"{key}_rollup" if f"{key}_rollup" in metrics.CATALOG else "category_rollup")
    r = rollup.sort_values("revenue", ascending=False).head(top).iloc[::-1]
    fig = px.bar(r, x="revenue", y=key, orientation="h", color="margin_pct",
                 color_continuous_scale="Teal", custom_data=["profit", "units_sold", "margin_pct"])
    fig.update_traces(hovertemplate=tip(
        "%{y}", (n["revenue"], "currency", "x"), (n["profit"], "currency", "customdata[0]"),
        (n["units_sold"], "count", "customdata[1]"), (n["margin_pct"], "percent", "customdata[2]"),
    ))  # fmt: skip
    fig.update_coloraxes(colorbar=axis("percent", n["margin_pct"]))
    fig.update_xaxes(**axis("currency", n["revenue"]))
    fig.update_yaxes(title=None)
    return _layout(fig, f"Revenue by {key}", height=max(HEIGHT, 28 * len(r) + 80))


def treemap_fig(products: pd.DataFrame, top_per_category: int = 12) -> go.Figure:
    """Category -> product treemap of revenue (``product_performance``), top products only."""
    p = products[products["revenue"] > 0]
    if p.empty:
        return empty_fig()
    n = labels("product_performance")
    p = p.sort_values("revenue", ascending=False).groupby("category", group_keys=False).head(top_per_category)
    fig = px.treemap(p, path=[px.Constant("all"), "category", "product_name"], values="revenue",
                     color="margin_pct", color_continuous_scale="RdYlGn")
    fig.update_traces(hovertemplate=tip(
        "%{label}", (n["revenue"], "currency", "value"), (n["margin_pct"], "percent", "color")
    ))  # fmt: skip
    fig.update_coloraxes(colorbar=axis("percent", n["margin_pct"]))
    return _layout(fig, f"Revenue treemap (colour: {n['margin_pct'].lower()})", height=520)


def abc_fig(abc: pd.DataFrame) -> go.Figure:
    """Pareto curve: cumulative revenue share by product rank, coloured by ABC class."""
    if abc.empty:
        return empty_fig()
    n = labels("abc_classes")
    fig = px.scatter(abc, x="rank", y="cumulative_share", color="abc_class", labels=n,
                     color_discrete_sequence=PALETTE, custom_data=["product_name", "revenue"])
    fig.update_traces(hovertemplate=tip(
        "%{customdata[0]}", (n["rank"], "count", "x"), (n["revenue"], "currency", "customdata[1]"),
        (n["cumulative_share"], "ratio", "y"),
    ))  # fmt: skip
    fig.update_yaxes(**axis("ratio", n["cumulative_share"]))
    fig.update_xaxes(**axis("count", n["rank"]))
    return _layout(fig, "ABC classes (Pareto)")


# ---------------------------------------------------------------------------------------- geography
def country_map_fig(geo: pd.DataFrame, value: str = "revenue") -> go.Figure:
    """World choropleth of ``value`` per country (``geography(level="country")``)."""
    g = geo.assign(iso3=geo["country"].map(ISO3)).dropna(subset=["iso3"])
    if g.empty:
        return empty_fig("No mappable countries for the selected filters")
    n, unit = labels("geography"), metrics.get("geography").column(value).unit
    fig = px.choropleth(
        g, locations="iso3", color=value, hover_name="country",
        custom_data=[value, "orders", "customers", "aov"],
        color_continuous_scale="Viridis", projection="natural earth",
    )  # fmt: skip
    fig.update_traces(hovertemplate=tip(
        "<b>%{hovertext}</b>", (n[value], unit, "customdata[0]"),
        (n["orders"], "count", "customdata[1]"), (n["customers"], "count", "customdata[2]"),
        (n["aov"], "currency", "customdata[3]"),
    ))  # fmt: skip
    fig.update_coloraxes(colorbar=axis(unit, n[value]))
    # scope and resolution name the topojson plotly.js needs: the one shipped (geo_assets).
    # fitbounds off: plotly.js 4 would crop the view to the coloured countries (Pacific-centred)
    fig.update_geos(
        showcountries=True, showframe=False, scope=SCOPE, resolution=RESOLUTION, fitbounds=False
    )
    return _layout(fig, f"{n[value]} by country", height=460)


def country_bars_fig(geo: pd.DataFrame) -> go.Figure:
    """Revenue per country with 12-month growth in the colour (``geography``)."""
    if geo.empty:
        return empty_fig()
    n = labels("geography")
    g = geo.sort_values("revenue").tail(20)
    fig = px.bar(g, x="revenue", y="country", orientation="h", color="growth_12m",
                 color_continuous_scale="RdYlGn", color_continuous_midpoint=0.0,
                 custom_data=["growth_12m"])
    fig.update_traces(hovertemplate=tip(
        "%{y}", (n["revenue"], "currency", "x"), (n["growth_12m"], "ratio", "customdata[0]")
    ))  # fmt: skip
    fig.update_coloraxes(colorbar=axis("ratio", n["growth_12m"]))
    fig.update_xaxes(**axis("currency", n["revenue"]))
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
    model = str(f["model"].iloc[0]) if "model" in f and len(f) else "model"
    return _layout(fig, f"Revenue forecast ({model}) with 80% and 95% intervals", height=440)


def clv_churn_fig(frame: pd.DataFrame) -> go.Figure:
    """CLV vs churn probability per customer (``insights.customer_risk``)."""
    if frame.empty:
        return empty_fig()
    color = "segment" if "segment" in frame else "risk_tier"
    fig = px.scatter(
        frame, x="churn_probability", y="clv", color=color, opacity=0.6,
        custom_data=["customer_id", "value_tier", "risk_tier"],
        color_discrete_sequence=px.colors.qualitative.Bold,
        labels={"segment": "Segment", "risk_tier": "Churn risk"},
    )  # fmt: skip
    fig.update_traces(hovertemplate=tip(
        "customer %{customdata[0]} (value %{customdata[1]}, churn risk %{customdata[2]})",
        ("predicted CLV", "currency", "y"), ("churn probability", "ratio", "x"),
    ))  # fmt: skip
    fig.update_xaxes(**axis("ratio", "churn probability (next window)"))
    fig.update_yaxes(**axis("currency", "predicted CLV"))
    return _layout(fig, "Customer lifetime value vs churn risk", height=460)


def risk_matrix_fig(matrix: pd.DataFrame) -> go.Figure:
    """Value tier x churn-risk tier heatmap of customers, CLV at stake in the text
    (``insights.risk_matrix``)."""
    if matrix.empty:
        return empty_fig()
    cust = matrix.pivot(index="value_tier", columns="risk_tier", values="customers")
    clv = matrix.pivot(index="value_tier", columns="risk_tier", values="clv")
    text = [
        [f"{fmt.value(n, 'count')} customers<br>CLV {fmt.money(v, decimals=0)}"
         for n, v in zip(cr, vr, strict=True)]
        for cr, vr in zip(cust.to_numpy(), clv.to_numpy(), strict=True)
    ]  # fmt: skip
    fig = go.Figure(go.Heatmap(
        z=clv.to_numpy(), x=list(cust.columns), y=list(cust.index), text=text,
        texttemplate="%{text}", colorscale="OrRd", colorbar=axis("currency", "CLV"),
        hovertemplate="value %{y}, churn risk %{x}<br>%{text}<extra></extra>",
    ))  # fmt: skip
    fig.update_xaxes(title="churn risk")
    fig.update_yaxes(title="customer value")
    return _layout(fig, "Risk matrix: predicted value x churn risk", height=420)


def accuracy_fig(table: pd.DataFrame) -> go.Figure:
    """Backtest MAE per forecasting model (``RevenueForecaster.evaluate().table``)."""
    if table.empty:
        return empty_fig()
    t = table.sort_values("mae")
    fig = px.bar(t, x="model", y="mae", color_discrete_sequence=PALETTE)
    fig.update_traces(texttemplate=hover("currency"), hovertemplate=tip("%{x}", ("MAE", "currency", "y")))
    fig.update_yaxes(**axis("currency", "MAE (revenue per day)"))
    return _layout(fig, "Backtest error by model")
