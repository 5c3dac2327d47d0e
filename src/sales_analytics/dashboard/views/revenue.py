"""Revenue: KPIs with deltas, revenue over time with anomalies, orders and AOV, drill-down."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from sales_analytics.dashboard import data, ui
from sales_analytics.reports import charts


def body() -> None:
    f = ui.current_filters()
    st.title("Revenue")
    st.caption(ui.describe(f))
    cmp = data.kpi_comparison(f)
    ui.kpi_row(cmp, ["revenue", "orders", "aov", "customers", "new_customers", "return_rate"])
    with st.expander("All KPIs against the previous period"):
        ui.table(cmp.drop(columns=["kind"]), "kpis")

    st.subheader("Findings")
    ui.findings(data.findings(f), kinds=("kpi", "anomaly", "mover"))

    grain = st.segmented_control("Grain", ["day", "week", "month"], default="day", key="rev_grain") or "day"
    ts = data.metric("timeseries", f, grain=grain)
    anomalies = data.anomalies(f) if grain == "day" else None
    ui.chart(charts.revenue_fig(ts, grain, anomalies), ts, f"revenue per {grain}")

    left, right = st.columns(2)
    with left:
        monthly = data.metric("timeseries", f, grain="month")
        ui.chart(charts.orders_aov_fig(monthly), monthly, "orders and aov per month")
    with right:
        weekday = data.metric("weekday", f)
        ui.chart(charts.weekday_fig(weekday), weekday, "weekday profile")

    if anomalies is not None:
        hits = anomalies[anomalies["is_anomaly"]].sort_values("z", key=abs, ascending=False)
        st.subheader(f"Anomalous days ({len(hits)})")
        ui.table(hits, "anomalous days")

    st.subheader("Drill down: orders of a month")
    months = sorted(pd.to_datetime(monthly["period"]).dt.date.unique(), reverse=True)
    if not months:
        st.caption("No orders in the selected window.")
        return
    month = st.selectbox("Month", months, format_func=lambda d: d.strftime("%B %Y"), key="rev_month")
    end = (pd.Timestamp(month) + pd.offsets.MonthEnd(0)).date()
    orders = data.orders(data.narrow(f, start=month, end=end))
    st.caption(f"{len(orders):,} orders (at most {data.DRILL_LIMIT:,} shown and exported)")
    ui.table(orders, f"orders {month:%Y-%m}", height=360)


ui.guard(body)
