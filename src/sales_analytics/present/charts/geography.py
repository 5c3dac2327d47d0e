"""Geography figures: world map and country bars."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from sales_analytics import metrics
from sales_analytics.present.charts.base import (
    AMOUNT_SCALE,
    GROWTH_SCALE,
    HEIGHT,
    amount_range,
    axis,
    colorbar,
    colorbar_room,
    empty_fig,
    growth_range,
    labels,
    layout,
    px_template,
    tip,
)
from sales_analytics.present.geo_assets import RESOLUTION, SCOPE

#: Measures that are changes (diverging colour scale centred on 0).
GROWTH_MEASURES = frozenset({"growth_12m"})
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
    """World choropleth of ``value`` per country (``geography(level="country")``): growth on the
    diverging GROWTH_SCALE centred on 0, amounts on AMOUNT_SCALE from 0 (one country is a full
    colour on a 0-to-its-value scale)."""
    g = geo.assign(iso3=geo["country"].map(ISO3)).dropna(subset=["iso3"])
    if g.empty:
        return empty_fig("No mappable countries for the selected filters")
    n, unit = labels("geography"), metrics.get("geography").column(value).unit
    growth = value in GROWTH_MEASURES
    fig = px.choropleth(
        g, template=px_template(), locations="iso3", color=value, hover_name="country",
        custom_data=[value, "orders", "customers", "aov"],
        color_continuous_scale=GROWTH_SCALE if growth else AMOUNT_SCALE,
        range_color=growth_range(g[value]) if growth else amount_range(g[value]),
        projection="natural earth",
    )  # fmt: skip
    fig.update_traces(hovertemplate=tip(
        "<b>%{hovertext}</b>", (n[value], unit, "customdata[0]"),
        (n["orders"], "count", "customdata[1]"), (n["customers"], "count", "customdata[2]"),
        (n["aov"], "currency", "customdata[3]"),
    ), marker_line_color="#888", marker_line_width=0.4)  # fmt: skip
    fig.update_coloraxes(colorbar=colorbar(unit))
    # scope and resolution name the topojson plotly.js needs: the one shipped (geo_assets).
    # fitbounds off: plotly.js 4 would crop the view to the coloured countries (Pacific-centred)
    fig.update_geos(
        showcountries=True, showframe=False, scope=SCOPE, resolution=RESOLUTION, fitbounds=False,
        bgcolor="rgba(0,0,0,0)",
    )
    return colorbar_room(layout(fig, f"{n[value]} by country", height=440), x_axis=False)


def country_bars_fig(geo: pd.DataFrame) -> go.Figure:
    """Revenue per country with 12-month growth in the colour (``geography``)."""
    if geo.empty:
        return empty_fig()
    n = labels("geography")
    g = geo.sort_values("revenue").tail(20)
    fig = px.bar(g, template=px_template(), x="revenue", y="country", orientation="h", color="growth_12m",
                 color_continuous_scale=GROWTH_SCALE, range_color=growth_range(g["growth_12m"]),
                 custom_data=["growth_12m"])
    fig.update_traces(hovertemplate=tip(
        "%{y}", (n["revenue"], "currency", "x"), (n["growth_12m"], "ratio", "customdata[0]")
    ))  # fmt: skip
    fig.update_coloraxes(colorbar=colorbar("ratio", f"colour: {n['growth_12m'].lower()}"))
    fig.update_xaxes(**axis("currency", n["revenue"]), nticks=4)
    fig.update_yaxes(title=None)
    return colorbar_room(layout(fig, "Revenue by country", height=max(HEIGHT, 26 * len(g) + 160)))


