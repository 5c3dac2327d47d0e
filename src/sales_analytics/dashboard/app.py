"""Entry point of the dashboard: page config, global filters, routing (``st.navigation``).

Run with ``sales-analytics dashboard`` (or ``streamlit run app.py --server.enableStaticServing true``
with ``DATABASE_URL`` set: ``static/`` holds the world map's country outlines, see ``ui.plotly_config``).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit import runtime

from sales_analytics.dashboard import data, prewarm, state, ui

VIEWS = Path(__file__).resolve().parent / "views"

st.set_page_config(page_title="Sales analytics", page_icon=":material/monitoring:", layout="wide")

PAGES = {  # url path (state.PAGES) -> (file, title, icon)
    "revenue": ("revenue.py", "Revenue", ":material/payments:"),
    "customers": ("customers.py", "Customers", ":material/group:"),
    "products": ("products.py", "Products", ":material/inventory_2:"),
    "geography": ("geography.py", "Geography", ":material/public:"),
    "predictions": ("predictions.py", "Predictions", ":material/query_stats:"),
    "metrics": ("explorer.py", "Metric explorer", ":material/table_view:"),
}
# ?page=<path> on the bare address opens that page (a shared link); otherwise Revenue
start_page = state.requested_page() or "revenue"
pages = [
    st.Page(VIEWS / file, title=title, icon=icon, url_path=path, default=path == start_page)
    for path, (file, title, icon) in PAGES.items()
]
page = st.navigation(pages)
ui.style()

try:
    data.begin_run()
    status = data.status()
except data.DashboardError as exc:
    st.error(str(exc))
    st.stop()
# a served app (not AppTest's mock runtime): every page's default view computed in the background
if runtime.exists() and type(runtime.get_instance()) is runtime.Runtime:
    version = data.data_version()
    prewarm.start(status.url, version.version if version is not None else 0)

path_of = {title: path for path, (_, title, _) in PAGES.items()}
ui.sidebar_filters(status, page=path_of.get(page.title, start_page))
page.run()
