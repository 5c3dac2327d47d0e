"""Customers: RFM segment distribution, segments at risk, cohorts, new vs returning, drill-down."""

from __future__ import annotations

import streamlit as st

from sales_analytics.dashboard import data, figures, ui
from sales_analytics.insights import customers_headline
from sales_analytics.present import captions, charts


def body() -> None:
    f = ui.current_filters()
    ui.header("Customers", f)
    cmp = data.kpi_comparison(f)
    found = data.findings(f)
    ui.headline(customers_headline(cmp, found))
    seg = data.metric("segment_summary", f)
    ui.chart(figures.figure(charts.segment_fig, seg), seg, "segment distribution", "segment_summary")
    ui.kpi_row(cmp, ["customers", "new_customers", "revenue_per_customer", "orders"])
    st.subheader("Segments at risk")
    ui.findings(found, kinds=("segment_risk",))

    left, right = st.columns(2)
    with left:
        cohorts = data.metric("cohorts", f)
        ui.chart(figures.figure(charts.cohort_fig, cohorts), cohorts, "cohort retention", "cohorts")
    with right:
        nvr = data.metric("new_vs_returning", f, grain="month")
        ui.chart(figures.figure(charts.new_returning_fig, nvr, window=(f.start, f.end)), nvr, "new vs returning",
                 "new_vs_returning")  # fmt: skip

    st.subheader("Drill down: customers of a segment")
    options = list(seg.loc[seg["customers"] > 0, "segment"]) if not seg.empty else []
    if not options:
        st.caption("No customers in the selected window.")
        return
    segment = st.selectbox("Segment", options, key="cust_segment")
    rows = data.metric("customers", data.narrow(f, segment=segment), limit=data.DRILL_LIMIT)
    summary = seg.set_index("segment").loc[segment].to_dict()
    as_of = f.end or data.status().last_day
    st.caption(captions.segment_customers(segment, summary, as_of, len(rows)))
    ui.table(rows, f"customers {segment}", "customers", height=360)


ui.guard(body)
