"""Entry point of the dashboard: page config, global filters, routing (``st.navigation``).

Run with ``sales-analytics dashboard`` (or ``streamlit run app.py --server.enableStaticServing true``
with ``DATABASE_URL`` set: ``static/`` holds the world map's country outlines, see ``ui.plotly_config``).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from sales_analytics.dashboard import data, ui

VIEWS = Path(__file__).resolve().parent / "views"

st.set_page_config(page_title="Sales analytics", page_icon=":material/monitoring:", layout="wide")

pages = [
    st.Page(VIEWS / "revenue.py", title="Revenue", icon=":material/payments:", url_path="revenue", default=True),
    st.Page(VIEWS / "customers.py", title="Customers", icon=":material/group:", url_path="customers"),
    st.Page(VIEWS / "products.py", title="Products", icon=":material/inventory_2:", url_path="products"),
    st.Page(VIEWS / "geography.py", title="Geography", icon=":material/public:", url_path="geography"),
    st.Page(VIEWS / "predictions.py", title="Predictions", icon=":material/query_stats:", url_path="predictions"),
    st.Page(VIEWS / "explorer.py", title="Metric explorer", icon=":material/table_view:", url_path="metrics"),
]
page = st.navigation(pages)

try:
    status = data.status()
except data.DashboardError as exc:
    st.error(str(exc))
    st.stop()

ui.sidebar_filters(status)
page.run()
