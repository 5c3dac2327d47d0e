"""Geography: world map, revenue and growth by country, regions, penetration, drill-down."""

from __future__ import annotations

import streamlit as st

from sales_analytics.dashboard import data, ui
from sales_analytics.reports import charts


def body() -> None:
    f = ui.current_filters()
    st.title("Geography")
    st.caption(ui.describe(f))
    geo = data.metric("geography", f, level="country")
    measure = st.segmented_control(
        "Map measure", ["revenue", "orders", "customers", "aov", "growth_12m"],
        default="revenue", key="geo_measure",
    ) or "revenue"
    ui.chart(charts.country_map_fig(geo, measure), geo, "geography by country")

    st.subheader("Biggest movers")
    movers = [x for x in data.findings(f) if x.kind == "mover" and x.data.get("key") == "country"]
    ui.findings(movers)

    left, right = st.columns(2)
    with left:
        ui.chart(charts.country_bars_fig(geo), geo, "revenue by country")
    with right:
        st.subheader("Market penetration")
        ui.table(data.metric("penetration", f), "penetration", height=380)
    st.subheader("Regions")
    ui.table(data.metric("geography", f, level="region"), "geography by region", height=300)

    st.subheader("Drill down: a country")
    options = list(geo.loc[geo["orders"] > 0, "country"])
    if not options:
        st.caption("No orders in the selected window.")
        return
    country = st.selectbox("Country", options, key="geo_country")
    narrowed = data.narrow(f, country=country)
    customers = data.customers(narrowed)
    orders = data.orders(narrowed)
    tab1, tab2 = st.tabs([f"Customers ({len(customers):,})", f"Orders ({len(orders):,})"])
    with tab1:
        ui.table(customers, f"customers {country}", height=320)
    with tab2:
        ui.table(orders, f"orders {country}", height=320)


ui.guard(body)
