"""Customers: RFM segment distribution, segments at risk, cohorts, new vs returning, drill-down."""

from __future__ import annotations

import streamlit as st

from sales_analytics.dashboard import data, ui
from sales_analytics.reports import charts


def body() -> None:
    f = ui.current_filters()
    st.title("Customers")
    st.caption(ui.describe(f))
    cmp = data.kpi_comparison(f)
    ui.kpi_row(cmp, ["customers", "new_customers", "revenue_per_customer", "orders"])

    st.subheader("Segments at risk")
    ui.findings(data.findings(f), kinds=("segment_risk",))

    seg = data.metric("segments", f)
    ui.chart(charts.segment_fig(seg), seg, "segment distribution")

    left, right = st.columns(2)
    with left:
        cohorts = data.metric("cohorts", f)
        ui.chart(charts.cohort_fig(cohorts), cohorts, "cohort retention")
    with right:
        nvr = data.metric("new_returning", f, grain="month")
        ui.chart(charts.new_returning_fig(nvr), nvr, "new vs returning")

    st.subheader("Drill down: customers of a segment")
    options = list(seg["segment"]) if not seg.empty else []
    if not options:
        st.caption("No customers in the selected window.")
        return
    segment = st.selectbox("Segment", options, key="cust_segment")
    rows = data.customers(f, segment=segment)
    st.caption(f"{len(rows):,} customers in {segment} (at most {data.DRILL_LIMIT:,} shown)")
    ui.table(rows, f"customers {segment}", height=360)


ui.guard(body)
