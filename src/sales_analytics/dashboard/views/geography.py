"""Geography: world map, revenue and growth by country, regions, penetration, drill-down."""

from __future__ import annotations

import streamlit as st

from sales_analytics import metrics
from sales_analytics.dashboard import data, figures, ui
from sales_analytics.insights import geography_headline
from sales_analytics.present import captions, charts
from sales_analytics.present import format as fmt

MAP_MEASURES = ("revenue", "orders", "customers", "aov", "growth_12m")


def body() -> None:
    f = ui.current_filters()
    ui.header("Geography", f)
    geo = data.metric("geography", f, level="country")
    movers = [x for x in data.findings(f) if x.kind == "mover" and x.data.get("key") == "country"]
    ui.headline(geography_headline(geo, movers))
    labels = fmt.labels(metrics.get("geography").columns)
    measure = st.segmented_control(
        "Map measure", MAP_MEASURES, default="revenue", key="geo_measure",
        format_func=labels.get,
    ) or "revenue"
    ui.chart(figures.figure(charts.country_map_fig, geo, measure), geo, "geography by country", "geography")

    st.subheader("Biggest movers (most money first)")
    ui.findings(movers)

    left, right = st.columns(2)
    with left:
        ui.chart(figures.figure(charts.country_bars_fig, geo), geo, "revenue by country", "geography")
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
    base = len(customers)  # the country's customer base (all of it unless the list is cut)
    if base >= data.DRILL_LIMIT:
        base = data.row_count("customers", narrowed)
    all_orders = k["orders"] + k["cancelled_orders"] + k["returned_orders"]
    tab1, tab2 = st.tabs([
        f"Customers ({fmt.value(base, 'count')})", f"Orders ({fmt.value(all_orders, 'count')})",
    ])  # fmt: skip
    with tab1:
        st.caption(
            f"{fmt.value(base, 'count')} customers of {country} with a completed order by "
            f"{fmt.value(f.end, 'date')}: {fmt.value(k['customers'], 'count')} of them bought in "
            "the window (the Customers KPI)."
            + (f" The {fmt.value(len(customers), 'count')} who spent most in the window are listed."
               if base > len(customers) else "")
        )  # fmt: skip
        ui.table(customers, f"customers {country}", "customers", height=320)
    with tab2:
        st.caption(captions.orders(k, len(orders)))
        ui.table(orders, f"orders {country}", "orders", height=320)

ui.guard(body)
