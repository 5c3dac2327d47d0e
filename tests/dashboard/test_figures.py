"""The dashboard's figure cache and background prewarm (dashboard/figures.py, prewarm.py)."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st
from streamlit.testing.v1 import AppTest

from sales_analytics import metrics
from sales_analytics.dashboard import figures, prewarm
from sales_analytics.present import charts
from tests.dashboard.conftest import APP


def test_a_figure_is_built_once_per_content_without_a_template():
    st.cache_resource.clear()
    frame = pd.DataFrame({"weekday_name": ["Mon", "Tue"], "revenue_index": [0.9, 1.1],
                          "avg_daily_revenue": [90.0, 110.0], "revenue_share": [0.45, 0.55]})  # fmt: skip
    fig = figures.figure(charts.weekday_fig, frame)
    assert "template" not in fig.to_plotly_json()["layout"]  # Streamlit's theme styles it
    assert figures.figure(charts.weekday_fig, frame.copy()) is fig  # equal content: the same figure
    changed = frame.assign(revenue_index=[0.9, 1.2])
    assert figures.figure(charts.weekday_fig, changed) is not fig
    # the same chart as the reports' (their template aside)
    report = charts.weekday_fig(frame)
    report.layout.template = None
    assert json.loads(fig.to_json()) == json.loads(report.to_json())
    assert figures.fingerprint(charts.weekday_fig, (frame,), {}) != figures.fingerprint(
        charts.segment_fig, (frame,), {}
    )


def test_prewarm_computes_what_every_page_asks_for(app_env, monkeypatch, trained_models):
    """After prewarm.warm() a page's first run makes no query and builds no figure: the warm
    list matches the pages' default views (if a page changes its calls, this fails)."""
    monkeypatch.setenv("SA_MODELS_DIR", str(trained_models))
    st.cache_data.clear()
    st.cache_resource.clear()
    prewarm.warm()
    queries: list = []
    compute, kpis = metrics.compute, metrics.kpis
    monkeypatch.setattr(metrics, "compute", lambda db, name, f=metrics.NO_FILTERS, **p: (
        queries.append(name), compute(db, name, f, **p))[1])  # fmt: skip
    monkeypatch.setattr(metrics, "kpis", lambda db, *a, **k: (
        queries.append("kpis"), kpis(db, *a, **k))[1])  # fmt: skip
    cache = figures._cache()
    built = cache.misses
    for page in prewarm.PAGES:
        at = AppTest.from_file(str(APP), default_timeout=120)
        at.query_params["page"] = page
        at.run()
        assert not at.exception and not at.error, page
        assert at.title[0].value.lower().startswith(page[:4]), page
        assert queries == [], (page, queries)
        assert cache.misses == built, page


def test_prewarm_compiles_every_one_country_query(app_env, monkeypatch, trained_models):
    """The prewarm's second pass (a country no customer has) compiles the SQL of every query a
    page runs for one country: a page filtered to a real country then runs its queries (its
    results are not cached) without compiling any (metrics/compiled.py)."""
    from sales_analytics.metrics import compiled

    monkeypatch.setenv("SA_MODELS_DIR", str(trained_models))
    st.cache_data.clear()
    st.cache_resource.clear()
    prewarm.warm()
    hits, missed = compiled.STORE.hits, []
    put = compiled.STORE.put
    monkeypatch.setattr(compiled.STORE, "put", lambda k, e: (missed.append(k[1]), put(k, e)))
    for page in prewarm.PAGES:
        at = AppTest.from_file(str(APP), default_timeout=120)
        at.query_params["page"] = page
        at.query_params["country"] = "Germany"
        at.run()
        assert not at.exception and not at.error, page
        assert at.sidebar.multiselect(key="f_countries").value == ["Germany"], page
        # a product's order lines are compiled per product (the product id is in the SQL)
        assert [m for m in missed if m != "product_lines"] == [], page
    assert compiled.STORE.hits > hits
