"""All data access and caching of the dashboard.

``st.cache_resource`` holds one database connection per URL (with a lock: DuckDB and psycopg
connections are not shared across threads safely); ``st.cache_data`` holds every result frame,
keyed by the database URL, the metric and the filters. Pages call the functions here and never
touch the database, the metric layer or the models directly.

The database is ``DATABASE_URL`` and saved models are read from ``SA_MODELS_DIR`` (default
``data/models``, where ``sales-analytics train`` writes), both from
:func:`sales_analytics.config.get_settings`; one :class:`~sales_analytics.models.ModelStore` per
models folder (``st.cache_resource``) loads them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import streamlit as st

from sales_analytics import insights, metrics
from sales_analytics.config import get_settings
from sales_analytics.metrics import Filters
from sales_analytics.models import MODEL_NAMES as ALL_MODEL_NAMES
from sales_analytics.models import LoadedModel, ModelMissing, ModelStore, ModelUnusable
from sales_analytics.storage import Database, StorageError, connect

TTL = 3600  # seconds a cached result lives (the data changes only when reloaded)
DRILL_LIMIT = 5000  # rows shown in a drill-down table (the export has the same rows)
#: The saved models the Predictions page shows (the K-Means segments are the API's).
MODEL_NAMES: tuple[str, ...] = tuple(n for n in ALL_MODEL_NAMES if n != "segments")

FilterKey = tuple[date | None, date | None, tuple[str, ...], tuple[str, ...]]


class DashboardError(RuntimeError):
    """A problem the dashboard shows as one line (no database, no schema, no data)."""


class ModelUnavailable(DashboardError):
    """A saved model that cannot be used (saved by another version, corrupt...)."""


def _model_error(name: str, exc: Exception) -> ModelUnavailable:
    return ModelUnavailable(
        f"the saved {name} model could not be used ({type(exc).__name__}: {exc}); "
        "retrain it with `sales-analytics train`"
    )


# ------------------------------------------------------------------------------------ connection
@dataclass
class Connection:
    db: Database
    lock: threading.Lock


def database_url() -> str:
    return get_settings().database_url


@st.cache_resource(show_spinner=False)
def _connection(url: str) -> Connection:
    return Connection(connect(url), threading.Lock())


def _run(url: str, fn):
    """Run ``fn(db)`` on the cached connection, one query at a time."""
    try:
        conn = _connection(url)
    except StorageError as exc:
        raise DashboardError(str(exc)) from exc
    with conn.lock:
        return fn(conn.db)


def key(f: Filters) -> FilterKey:
    """A hashable cache key for a :class:`Filters`."""
    return (f.start, f.end, tuple(f.countries), tuple(f.segments))


def filters_of(k: FilterKey) -> Filters:
    return Filters(start=k[0], end=k[1], countries=k[2], segments=k[3])


# ------------------------------------------------------------------------------------ status
@dataclass(frozen=True)
class Status:
    url: str
    kind: str
    first_day: date
    last_day: date
    countries: tuple[str, ...]


@st.cache_data(ttl=TTL, show_spinner=False)
def _status(url: str) -> Status:
    def go(db: Database) -> Status:
        if not db.has_schema():
            raise DashboardError(
                f"no sales-analytics schema in {url}: run `sales-analytics build` first"
            )
        bounds = insights.data_bounds(db)
        if bounds is None:
            raise DashboardError(f"no orders in {url}: load data with `sales-analytics build`")
        c = db.table("customers")
        countries = c.select("country").distinct().order_by("country").to_pandas()["country"]
        return Status(url, db.kind, bounds[0], bounds[1], tuple(countries))

    return _run(url, go)


def status() -> Status:
    """The database's kind, first and last order day and countries (raises DashboardError)."""
    return _status(database_url())


def default_window(s: Status) -> tuple[date, date]:
    """The last 12 months of data (or all of it when shorter)."""
    return max(s.first_day, s.last_day - timedelta(days=364)), s.last_day


# ------------------------------------------------------------------------------------ metrics
def _frame(result) -> pd.DataFrame:
    return result if isinstance(result, pd.DataFrame) else metrics.to_pandas(result)


@st.cache_data(ttl=TTL, show_spinner=False)
def _metric(url: str, name: str, k: FilterKey, params: tuple = ()) -> pd.DataFrame:
    f = filters_of(k)
    kw = dict(params)
    calls = {
        "timeseries": lambda db: metrics.revenue_timeseries(db, kw["grain"], f),
        "weekday": lambda db: metrics.weekday_profile(db, f),
        "segments": lambda db: metrics.segment_summary(db, None, f),
        "rfm": lambda db: metrics.rfm_segments(db, None, f),
        "cohorts": lambda db: metrics.cohorts(db, f),
        "new_returning": lambda db: metrics.new_vs_returning(db, kw["grain"], f),
        "categories": lambda db: metrics.category_rollup(db, f),
        "brands": lambda db: metrics.brand_rollup(db, f),
        "products": lambda db: metrics.product_performance(db, f),
        "abc": lambda db: metrics.abc_classes(db, f),
        "slow_movers": lambda db: metrics.slow_movers(db, f),
        "pairs": lambda db: metrics.product_pairs(db, f, limit=50),
        "geography": lambda db: metrics.geography(db, kw["level"], f),
        "penetration": lambda db: metrics.penetration(db, "country", f),
    }
    return _run(url, lambda db: _frame(calls[name](db)))


def metric(name: str, f: Filters, **params: Any) -> pd.DataFrame:
    """A metric frame for ``f`` (cached): see ``_metric`` for the names."""
    return _metric(database_url(), name, key(f), tuple(sorted(params.items())))


@st.cache_data(ttl=TTL, show_spinner=False)
def _kpis(url: str, k: FilterKey) -> dict[str, Any]:
    return _run(url, lambda db: metrics.kpis(db, filters_of(k)))


def kpis(f: Filters) -> dict[str, Any]:
    """``metrics.kpis`` for ``f`` (cached)."""
    return _kpis(database_url(), key(f))


def previous(f: Filters) -> Filters:
    """The previous period of the same length (see ``insights.previous_period``)."""
    s = status()
    return insights.previous_period(f, s.first_day, s.last_day)


def kpi_comparison(f: Filters) -> pd.DataFrame:
    """KPIs of ``f`` against the previous period (``insights.kpi_comparison``)."""
    return insights.kpi_comparison(kpis(f), kpis(previous(f)))


def anomalies(f: Filters) -> pd.DataFrame:
    """``insights.revenue_anomalies`` on the daily revenue of ``f``."""
    return insights.revenue_anomalies(metric("timeseries", f, grain="day"))


def findings(f: Filters) -> list[insights.Finding]:
    """All automated findings for ``f`` (computed from the cached metric frames)."""
    prev = previous(f)
    inputs = insights.InsightInputs(
        comparison=kpi_comparison(f),
        categories=metric("categories", f),
        categories_previous=metric("categories", prev),
        countries=metric("geography", f, level="country"),
        countries_previous=metric("geography", prev, level="country"),
        segments=metric("segments", f),
        daily=metric("timeseries", f, grain="day"),
    )
    return insights.findings_from(inputs)


# ------------------------------------------------------------------------------------ drill-down
def _ts(d: date) -> datetime:
    return datetime.combine(d, time.min)


def _orders_expr(db: Database, f: Filters) -> ibis.Table:
    """Orders in the window of the filtered customers, with the customer's name and country."""
    c = metrics.customer_summary(db, replace(f, start=None, end=None))
    c = c.select("customer_id", "first_name", "last_name", "country", "city")
    o = db.table("orders")
    preds = []
    if f.start is not None:
        preds.append(o.order_date >= ibis.literal(_ts(f.start)))
    if f.end is not None:
        preds.append(o.order_date < ibis.literal(_ts(f.end + timedelta(days=1))))
    o = o.filter(*preds) if preds else o
    j = o.join(c, "customer_id")
    return j.select(
        "order_id", "order_date", "status", "payment_method",
        total_amount=j.total_amount.cast("float64"),
        customer_id=j.customer_id, first_name=j.first_name, last_name=j.last_name,
        country=j.country, city=j.city,
    )


def _drill_orders(db: Database, f: Filters, limit: int) -> pd.DataFrame:
    expr = _orders_expr(db, f).order_by([ibis.desc("order_date"), "order_id"])
    return expr.limit(limit).to_pandas()


@st.cache_data(ttl=TTL, show_spinner=False)
def _orders(url: str, k: FilterKey, limit: int) -> pd.DataFrame:
    return _run(url, lambda db: _drill_orders(db, filters_of(k), limit))


def orders(f: Filters, *, limit: int = DRILL_LIMIT) -> pd.DataFrame:
    """The orders behind a summary: ``f`` narrowed to a month, a country or a segment."""
    return _orders(database_url(), key(f), limit)


def narrow(f: Filters, *, start: date | None = None, end: date | None = None,
           country: str | None = None, segment: str | None = None) -> Filters:
    """``f`` narrowed to a sub-window, one country or one segment (intersected with ``f``)."""
    new_start = max(d for d in (f.start, start) if d is not None) if (f.start or start) else None
    new_end = min(d for d in (f.end, end) if d is not None) if (f.end or end) else None
    if new_start and new_end and new_start > new_end:
        new_start = new_end
    countries = (country,) if country else f.countries
    segments = (segment,) if segment else f.segments
    return Filters(start=new_start, end=new_end, countries=countries, segments=segments)


@st.cache_data(ttl=TTL, show_spinner=False)
def _customers(url: str, k: FilterKey, segment: str | None, limit: int) -> pd.DataFrame:
    f = filters_of(k)

    def go(db: Database) -> pd.DataFrame:
        cs = metrics.customer_summary(db, f)
        cs = cs.filter(cs.order_count > 0)
        if segment is None:
            return cs.order_by(ibis.desc("total_spent")).limit(limit).to_pandas()
        r = metrics.rfm_segments(db, None, f)
        r = r.filter(r.segment == segment).select(
            "customer_id", "segment", "recency_days", "frequency", "monetary", "rfm_score"
        )
        j = cs.join(r, "customer_id")
        return j.order_by(ibis.desc("monetary")).limit(limit).to_pandas()

    return _run(url, go)


def customers(f: Filters, *, segment: str | None = None, limit: int = DRILL_LIMIT) -> pd.DataFrame:
    """Customers with a completed order in ``f`` (optionally those of one RFM segment)."""
    return _customers(database_url(), key(f), segment, limit)


@st.cache_data(ttl=TTL, show_spinner=False)
def _product_lines(url: str, k: FilterKey, product_id: int, limit: int) -> pd.DataFrame:
    f = filters_of(k)

    def go(db: Database) -> pd.DataFrame:
        it = db.table("order_items")
        it = it.filter(it.product_id == ibis.literal(int(product_id)))
        it = it.select(
            "order_item_id", "order_id", "product_id", "quantity",
            unit_price=it.unit_price.cast("float64"),
        )
        j = it.join(_orders_expr(db, f), "order_id")
        j = j.mutate(line_total=j.quantity.cast("float64") * j.unit_price)
        expr = j.order_by([ibis.desc("order_date"), "order_item_id"]).limit(limit)
        return expr.to_pandas()

    return _run(url, go)


def product_lines(f: Filters, product_id: int, *, limit: int = DRILL_LIMIT) -> pd.DataFrame:
    """The order lines of one product in ``f`` (with the order and customer)."""
    return _product_lines(database_url(), key(f), int(product_id), limit)


# ------------------------------------------------------------------------------------ models
def models_dir() -> Path:
    """``Settings.models_dir`` (``SA_MODELS_DIR``, default ``data/models``)."""
    return get_settings().models_dir


@st.cache_resource(show_spinner=False)
def _store(folder: str) -> ModelStore:
    """One :class:`ModelStore` per models folder for all sessions (it reloads changed files)."""
    return ModelStore(folder)


def _stamp(folder: Path) -> tuple:
    """Saved models with their file times and sizes: retraining invalidates cached predictions."""
    return _store(str(folder)).stamp(MODEL_NAMES)


def saved_models() -> tuple[str, ...]:
    return tuple(s[0] for s in _stamp(models_dir()))  # among MODEL_NAMES


def _load(folder: str, name: str) -> LoadedModel:
    """The loaded model (:class:`ModelUnavailable` with the store's one-line message)."""
    try:
        return _store(folder).get(name)
    except (ModelMissing, ModelUnusable) as exc:
        raise ModelUnavailable(str(exc)) from exc


def _predicted(folder: str, name: str, compute) -> Any:
    """``compute(model)`` on the saved model ``name``; a failure is :class:`ModelUnavailable`."""
    model = _load(folder, name).model
    try:
        return compute(model)
    except Exception as exc:  # noqa: BLE001 - any failure of a saved model is shown, not raised
        raise _model_error(name, exc) from exc


@st.cache_data(ttl=TTL, show_spinner=False)
def _forecast(folder: str, stamp: tuple) -> dict[str, Any]:
    store = _store(folder)
    pred, ev, meta = _predicted(
        folder, "forecast", lambda m: (m.predict(), m.evaluate(), store.metadata(m.name))
    )
    d = ev.details
    return {
        "forecast": pred,
        "table": ev.table,
        "coverage": pd.DataFrame(d["coverage"]).T.reset_index(names="level"),
        "best": ev.best,
        "most_accurate": d.get("most_accurate", ev.best),
        "cv_windows": d["cv_windows"],
        "cv_horizon": d["cv_horizon"],
        "fitted_at": meta.get("fitted_at"),
        "data": meta.get("data", {}),
    }


def forecast() -> dict[str, Any]:
    """The saved forecaster's prediction (``forecast``), backtest ``table``, ``coverage``..."""
    folder = models_dir()
    return _forecast(str(folder), _stamp(folder))


@st.cache_data(ttl=TTL, show_spinner=False)
def _history(url: str) -> pd.DataFrame:
    def go(db: Database) -> pd.DataFrame:
        ts = metrics.revenue_timeseries(db, "day").to_pandas()
        return pd.DataFrame({"ds": pd.to_datetime(ts["period"]), "y": ts["revenue"]})

    return _run(url, go)


def revenue_history() -> pd.DataFrame:
    """Daily net revenue of the whole shop (``ds, y``), what the forecaster models."""
    return _history(database_url())


@st.cache_data(ttl=TTL, show_spinner=False)
def _customer_scores(folder: str, stamp: tuple) -> pd.DataFrame:
    scores = {name: _predicted(folder, name, lambda m: m.predict()) for name in ("clv", "churn")}
    return insights.customer_risk(scores["clv"], scores["churn"])


def customer_risk(f: Filters) -> pd.DataFrame:
    """CLV and churn risk per customer (saved models), for the customers in ``f``'s countries and
    segments, with their RFM segment."""
    folder = models_dir()
    scores = _customer_scores(str(folder), _stamp(folder))
    who = customers(replace(f, start=None, end=None), limit=10**9)[["customer_id", "country"]]
    seg = metric("rfm", Filters())[["customer_id", "segment"]]
    out = scores.merge(who, on="customer_id", how="inner").merge(seg, on="customer_id", how="left")
    out["segment"] = out["segment"].fillna(metrics.OTHER_SEGMENT)
    return out


def clear_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()
