"""Revenue: KPIs with deltas, revenue over time with anomalies, orders and AOV, drill-down."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from sales_analytics import metrics
from sales_analytics.dashboard import columns, data, figures, ui
from sales_analytics.insights import revenue_headline
from sales_analytics.present import captions, charts


def body() -> None:
    f = ui.current_filters()
    ui.header("Revenue", f)
    # The headline and the findings need every finding's metrics (the slowest part of a new
    # filter): their places are kept here and filled last, so that the browser draws the charts
    # while the findings are computed.
    top = st.container()
    # the calendar grains (fiscal ones have no partial-period marking on the chart)
    grains = [g for g in metrics.get("revenue").param("grain").choices if g in charts.PERIOD_GRAINS]
    grain = st.segmented_control("Grain", grains, default="week", key="rev_grain") or "week"
    ts = data.metric("revenue", f, grain=grain)
    anomalies = data.anomalies(f)
    window = (f.start, f.end)
    ui.chart(figures.figure(charts.revenue_fig, ts, grain, anomalies if grain == "day" else None, window=window),
             ts, f"revenue per {grain}", "revenue")  # fmt: skip
    cmp = data.kpi_comparison(f)
    ui.kpi_row(cmp, ["revenue", "orders", "aov", "customers", "new_customers", "return_rate"])
    with st.expander("All KPIs against the previous period"):
        st.dataframe(ui.kpi_table(cmp), hide_index=True)
        ui.export_buttons(cmp, "kpis")

    st.subheader("Findings (most money first)")
    listed = st.container()

    left, right = st.columns(2)
    with left:
        monthly = data.metric("revenue", f, grain="month")
        ui.chart(figures.figure(charts.orders_aov_fig, monthly, window=window), monthly, "orders and average order value per month",
                 "revenue")  # fmt: skip
    with right:
        weekday = data.metric("weekday_profile", f)
        ui.chart(figures.figure(charts.weekday_fig, weekday), weekday, "weekday profile", "weekday_profile")
    found = data.findings(f)
    with top:
        ui.headline(revenue_headline(cmp, found))
    with listed:
        ui.findings(found, kinds=("anomaly", "mover"), limit=4)

    hits = anomalies[anomalies["is_anomaly"]]
    hits = hits.assign(gap=(hits["revenue"] - hits["expected_revenue"]).abs())
    st.subheader(f"Unusual days ({len(hits)})")
    st.caption("Days far from the same weekday in the weeks around them, largest gap first "
               "(pick the day grain above to see them on the chart).")
    ui.table(hits.sort_values("gap", ascending=False), "unusual days", columns.ANOMALIES)

    st.subheader("Drill down: orders of a month")
    months = sorted(pd.to_datetime(monthly["period"]).dt.date.unique(), reverse=True)
    if not months:
        st.caption("No orders in the selected window.")
        return
    month = st.selectbox("Month", months, format_func=lambda d: d.strftime("%B %Y"), key="rev_month")
    end = (pd.Timestamp(month) + pd.offsets.MonthEnd(0)).date()
    narrowed = data.narrow(f, start=month, end=end)
    orders = data.metric("orders", narrowed, limit=data.DRILL_LIMIT)
    st.caption(captions.orders(data.kpis(narrowed), len(orders)))
    ui.table(orders, f"orders {month:%Y-%m}", "orders", height=360)


ui.guard(body)
