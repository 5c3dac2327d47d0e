"""The Streamlit dashboard (``sales-analytics dashboard``): a thin adapter over the metric catalogue.

``app.py`` is the entry point: it draws the global filters and routes to one page per section with
``st.navigation``; ``views/`` (one file per page, the Metric explorer included) only lay out;
``data.py`` holds all data access and caching: ``data.metric(name, filters, **params)`` computes
any catalogue metric (drill-downs too) and ``data.kpis(filters)`` the KPI row (``st.cache_resource``
for the connection, ``st.cache_data`` for results); ``ui.py`` has the shared widgets (KPI cards
labelled and formatted from the catalogue, charts and tables formatted by
``present.format.frame`` with raw CSV/Excel export); ``columns.py`` declares the display columns
of the model and insight frames. Nothing imports this package: the CLI runs ``streamlit run`` on
``app.py`` by path.
"""
