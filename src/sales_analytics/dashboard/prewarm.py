"""Warm the caches in the background when the dashboard starts (or sees a new data version).

A page's first visit after the server started ran every query of the page, the model
predictions and the first imports of pandas/scipy/sklearn code paths: 2-5 s on 2 cores, where a
warm visit is a fraction of that. :func:`start` runs, once per database URL and data version in
the server process, a daemon thread that computes what every page shows with the default
filters (the last 12 months, all countries and segments) through the same cached ``data.*``
calls and ``figures.figure`` as the pages, so the owner's first visit finds them cached.

Nothing here changes what a page shows: a page asks for its data as before and finds it cached
(or computes it, if the thread has not got there yet: ``st.cache_data`` computes a value once
even when two threads ask for it). "Reload data" clears the caches and does not warm them again
(the next visits compute afresh); a new data version (a load, import or refresh) is warmed again.
Errors are logged, never shown: the page that needs the value reports its own error.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace

import pandas as pd

from sales_analytics.dashboard import data, figures
from sales_analytics.insights import risk_matrix
from sales_analytics.metrics import Filters
from sales_analytics.present import charts

log = logging.getLogger("sales_analytics.dashboard.prewarm")
DONE = "dashboard caches warmed"  # the log line's start once every page is warm (benchmarks)

_started: set[tuple[str, int]] = set()
_lock = threading.Lock()


def _revenue(f: Filters) -> None:
    window = (f.start, f.end)
    ts = data.metric("revenue", f, grain="week")
    figures.figure(charts.revenue_fig, ts, "week", None, window=window)
    data.anomalies(f)
    monthly = data.metric("revenue", f, grain="month")
    figures.figure(charts.orders_aov_fig, monthly, window=window)
    figures.figure(charts.weekday_fig, data.metric("weekday_profile", f))
    # the drill-down's default: the last month with orders (no orders, as in the second pass:
    # the window's last month, the one a country's drill-down opens on)
    if len(monthly) or f.end is not None:
        last = max(pd.to_datetime(monthly["period"])) if len(monthly) else pd.Timestamp(f.end)
        month = pd.Timestamp(last).date().replace(day=1)
        end = (pd.Timestamp(month) + pd.offsets.MonthEnd(0)).date()
        narrowed = data.narrow(f, start=month, end=end)
        data.metric("orders", narrowed, limit=data.DRILL_LIMIT)
        data.kpis(narrowed)


def _customers(f: Filters) -> None:
    seg = data.metric("segment_summary", f)
    figures.figure(charts.segment_fig, seg)
    figures.figure(charts.cohort_fig, data.metric("cohorts", f))
    nvr = data.metric("new_vs_returning", f, grain="month")
    figures.figure(charts.new_returning_fig, nvr, window=(f.start, f.end))
    options = list(seg.loc[seg["customers"] > 0, "segment"]) if not seg.empty else []
    if not options and f.countries:  # none (the second pass): the segment all countries open on
        every = data.metric("segment_summary", replace(f, countries=()))
        options = list(every.loc[every["customers"] > 0, "segment"])[:1]
    if options:
        data.metric("customers", data.narrow(f, segment=options[0]), limit=data.DRILL_LIMIT)


def _products(f: Filters) -> None:
    data.metric("slow_movers", f)
    cats = data.metric("category_rollup", f)
    figures.figure(charts.category_fig, cats)
    products = data.metric("product_performance", f)
    figures.figure(charts.treemap_fig, products)
    figures.figure(charts.category_fig, data.metric("brand_rollup", f), key="brand")
    figures.figure(charts.abc_fig, data.metric("abc_classes", f))
    data.metric("product_pairs", f, limit=50)
    categories = list(cats.loc[cats["revenue"] > 0, "category"])
    if categories:  # the drill-down's default: the first category's best-selling product
        in_cat = products[products["category"] == categories[0]]
        sold = in_cat[in_cat["units_sold"] > 0].sort_values("revenue", ascending=False)
        if len(sold):
            product_id = int(sold["product_id"].iloc[0])
            data.metric("product_lines", f, product_id=product_id, limit=data.DRILL_LIMIT)
    try:
        data.reorder_advice()
    except data.ModelUnavailable:
        pass


def _geography(f: Filters) -> None:
    geo = data.metric("geography", f, level="country")
    figures.figure(charts.country_map_fig, geo, "revenue")
    figures.figure(charts.country_bars_fig, geo)
    data.metric("penetration", f, level="country")
    data.metric("geography", f, level="region")
    countries = list(geo.loc[geo["orders"] > 0, "country"]) or list(f.countries)
    if countries:  # the drill-down's default: the first country
        narrowed = data.narrow(f, country=countries[0])
        data.kpis(narrowed)
        data.metric("customers", narrowed, limit=data.DRILL_LIMIT)
        data.metric("orders", narrowed, limit=data.DRILL_LIMIT)


def _predictions(f: Filters) -> None:
    saved = data.saved_models()
    if "forecast" in saved:
        fc = data.forecast()
        figures.figure(charts.forecast_fig, data.revenue_history(), fc["forecast"])
        figures.figure(charts.accuracy_fig, fc["table"])
    if {"clv", "churn"} <= set(saved):
        risk = data.customer_risk(f)
        if not risk.empty:
            figures.figure(charts.risk_matrix_fig, risk_matrix(risk))
            figures.figure(charts.clv_churn_fig, charts.most_at_risk(risk), total=len(risk))
    if "clv" in saved:
        data.action_lists()


#: Page -> what it shows with the default filters, in the navigation's order.
PAGES: dict[str, Callable[[Filters], None]] = {
    "revenue": _revenue, "customers": _customers, "products": _products,
    "geography": _geography, "predictions": _predictions,
}  # fmt: skip


#: The country of the second pass: no customer lives there (see :func:`warm`).
NO_COUNTRY = "(prewarm: no such country)"


def _pages(f: Filters) -> None:
    data.segments_present(f)
    data.kpi_comparison(f)
    data.findings(f)
    for page, fn in PAGES.items():
        try:
            fn(f)
        except Exception:  # noqa: BLE001 - the page shows its own error when visited
            log.warning("prewarm of the %s page failed", page, exc_info=True)


def warm() -> float:
    """Compute every page's data with the default filters (cached); seconds taken.

    A second pass runs the pages for a one-country filter that matches no customer: its results
    are empty and cheap, but every query a page runs for one country is then compiled
    (``metrics.compiled``: one country's SQL serves any other), so the owner's first country
    filter only runs its queries."""
    t0 = time.perf_counter()
    status = data.status()
    start, end = data.default_window(status)
    _pages(Filters(start=start, end=end))
    _pages(Filters(start=start, end=end, countries=(NO_COUNTRY,)))
    return time.perf_counter() - t0


def _run() -> None:
    try:
        seconds = warm()
    except Exception:  # noqa: BLE001 - no database, no schema...: the pages say so
        log.warning("prewarm failed", exc_info=True)
        return
    log.warning("%s in %.1f s", DONE, seconds)  # warning: Streamlit's default log level


def start(url: str, version: int) -> bool:
    """Start warming in a daemon thread unless already done for ``url`` at ``version`` in this
    process; True when a thread was started."""
    with _lock:
        if (url, version) in _started:
            return False
        _started.add((url, version))
    threading.Thread(target=_run, name="sa-prewarm", daemon=True).start()
    return True
