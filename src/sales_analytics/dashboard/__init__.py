"""The Streamlit dashboard (``sales-analytics dashboard``).

``app.py`` is the entry point: it draws the global filters and routes to one page per section with
``st.navigation``; ``views/`` (one file per page) only lay out; ``data.py`` holds all data access and caching
(``st.cache_resource`` for the connection, ``st.cache_data`` for results); ``ui.py`` has the shared
widgets (KPI cards, charts and tables with CSV/Excel export, drill-downs). Nothing imports this
package: the CLI runs ``streamlit run`` on ``app.py`` by path.
"""
