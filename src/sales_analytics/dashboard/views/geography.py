"""Geography: world map, revenue and growth by country, regions, penetration, drill-down."""

from __future__ import annotations

import streamlit as st

from sales_analytics import metrics
from sales_analytics.dashboard import data, ui
from sales_analytics.present import captions
from sales_analytics.present import format as fmt
from sales_analytics.reports import charts

MAP_MEASURES = ("revenue", "orders", "customers", "aov", "growth_12m")


def body() -> None:
    f = ui.current_filters()
    st.title("Geography")
    st.caption(ui.describe(f))
    geo = data.metric("geography", f, level="country")
    labels = fmt.labels(metrics.get("geography").columns)
    measure = st.segmented_control(
        "Map measure", MAP_MEASURES, default="revenue", key="geo_measure",
        format_func=labels.get,
    ) or "revenue"
    ui.chart(charts.country_map_fig(geo, measure), geo, "geography by country", "geography")

    st.subheader("Biggest movers")
    movers = [x for x in data.findings(f) if x.kind == "mover" and x.data.get("key") == "country"]
    ui.findings(movers)

    left, right = st.columns(2)
    with left:
        ui.chart(charts.country_bars_fig(geo), geo, "revenue by country", "geography")
    with right:
        st.subheader("Market penetration")
        pen = data.metric("penetration", f, level="country")
        ui.table(pen, "penetration", "penetration", height=380)
    st.subheader("Regions")
    regions = data.metric("geography", f, level="region")
    ui.table(regions, "geography by region", "geography", height=300)

    st.subheader("Drill down: a country")
    options = list(geo.loc[geo["orders"] > 0, "country"])
    if not options:
        st.caption("No orders in the selected window.")
        return
    country = st.selectbox("Country", options, key="geo_country")
    narrowed = data.narrow(f, country=country)
    k = data.kpis(narrowed)
    customers = data.metric("customers", narrowed, limit=data.DRILL_LIMIT)
    orders = data.metric("orders", narrowed, limit=data.DRILL_LIMIT)
    tab1, tab2 = st.tabs([
        f"Customers ({fmt.value(len(customers), 'count')})",
        f"Orders ({fmt.value(len(orders), 'count')})",
    ])  # fmt: skip
    with tab1:
        listed = fmt.value(len(customers), "count")
        whom = f"The first {listed}" if len(customers) >= data.DRILL_LIMIT else listed
        st.caption(
            f"{whom} customers of {country} with a completed order by {fmt.value(f.end, 'date')} "
            f"(the window's best first): {fmt.value(k['customers'], 'count')} bought in the "
            "window (the Customers KPI)."
        )
        ui.table(customers, f"customers {country}", "customers", height=320)
    with tab2:
        st.caption(captions.orders(k, len(orders)))
        ui.table(orders, f"orders {country}", "orders", height=320)


ui.guard(body)
