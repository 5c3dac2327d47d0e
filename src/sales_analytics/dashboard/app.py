"""Entry point of the dashboard: page config, global filters, routing (``st.navigation``).

Run with ``sales-analytics dashboard`` (or ``streamlit run app.py`` with ``DATABASE_URL`` set).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from sales_analytics.dashboard import data, ui

PAGES = Path(__file__).resolve().parent / "pages"

st.set_page_config(page_title="Sales analytics", page_icon="📈", layout="wide")

pages = [
    st.Page(PAGES / "revenue.py", title="Revenue", icon="💰", url_path="revenue", default=True),
    st.Page(PAGES / "customers.py", title="Customers", icon="👥", url_path="customers"),
    st.Page(PAGES / "products.py", title="Products", icon="📦", url_path="products"),
    st.Page(PAGES / "geography.py", title="Geography", icon="🌍", url_path="geography"),
    st.Page(PAGES / "predictions.py", title="Predictions", icon="🔮", url_path="predictions"),
]
page = st.navigation(pages)

try:
    status = data.status()
except data.DashboardError as exc:
    st.error(str(exc))
    st.stop()

ui.sidebar_filters(status)
page.run()
