"""Geography figures: world map and country bars."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from sales_analytics import metrics
from sales_analytics.present.charts.base import (
    HEIGHT,
    axis,
    empty_fig,
    labels,
    layout,
    tip,
)
from sales_analytics.present.geo_assets import RESOLUTION, SCOPE

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
    return layout(fig, f"{n[value]} by country", height=460)


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
    return layout(fig, "Revenue by country", height=max(HEIGHT, 26 * len(g) + 80))


