"""All data access and caching of the dashboard: every number comes from the metric catalogue.

``st.cache_resource`` holds one database connection per URL (with a lock: DuckDB and psycopg
connections are not shared across threads safely); ``st.cache_data`` holds every result frame,
keyed by the database URL, the metric name, the filters and the params. Pages ask for catalogue
metrics by name with :func:`metric` (drill-downs too: ``orders``, ``customers``, ``product_lines``)
and :func:`kpis`, and never touch the database, the metric layer or the models directly.

The database is ``DATABASE_URL`` and saved models are read from ``SA_MODELS_DIR`` (default
``data/models``, where ``sales-analytics train`` writes), both from
:func:`sales_analytics.config.get_settings`; one :class:`~sales_analytics.models.ModelStore` per
models folder (``st.cache_resource``) loads them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from sales_analytics import insights, metrics
from sales_analytics.config import get_settings
from sales_analytics.dashboard.figures import content_key
from sales_analytics.metrics import NO_FILTERS, Filters
from sales_analytics.models import MODEL_NAMES as ALL_MODEL_NAMES
from sales_analytics.models import LoadedModel, ModelMissing, ModelStore, ModelUnusable
from sales_analytics.present import format as fmt
from sales_analytics.storage import Database, DataVersion, StorageError, connect

TTL = 3600  # seconds a cached result lives (the data changes only when reloaded)
DRILL_LIMIT = 5000  # rows shown in a drill-down table (the export has the same rows)
#: The saved models the Predictions page shows (the K-Means segments are the API's).
MODEL_NAMES: tuple[str, ...] = tuple(n for n in ALL_MODEL_NAMES if n not in ("segments", "demand"))

FilterKey = tuple[date | None, date | None, tuple[str, ...], tuple[str, ...]]


class DashboardError(RuntimeError):
    """A problem the dashboard shows as one line (no database, no schema, no data)."""


class ModelUnavailable(DashboardError):
    """A saved model that cannot be used (saved by another version, corrupt...)."""


def _model_error(name: str, exc: Exception) -> ModelUnavailable:
    return ModelUnavailable(f"the saved {name} model could not be used ({type(exc).__name__}: "
                            f"{exc}); retrain it with `sales-analytics train`")  # fmt: skip


# ------------------------------------------------------------------------------------ connection
@dataclass
class Connection:
    db: Database
    lock: threading.Lock


#: Per-run memo in the session state: what one script run reads once (see :func:`begin_run`).
_RUN = "_sa_run"


def begin_run() -> None:
    """At the start of every script run (app.py): read the settings and the data version once.

    Every ``data.*`` call of the run then uses them: building the settings costs ~40 ms and the
    version is a query, and a page makes dozens of calls. A new run reads them again, so a new
    data version shows on the next rerun. Outside a script run nothing is memoised."""
    st.session_state[_RUN] = {"settings": get_settings()}
    st.session_state[_RUN]["version"] = _read_version()


def _memo() -> dict | None:
    if get_script_run_ctx() is None:
        return None
    return st.session_state.get(_RUN)


def _settings():
    m = _memo()
    return m["settings"] if m else get_settings()


def database_url() -> str:
    return _settings().database_url


@st.cache_resource(show_spinner=False)
def _connection(url: str) -> Connection:
    return Connection(connect(url, read_only=True), threading.Lock())


def _run(url: str, fn):
    """Run ``fn(db)`` on the cached read-only connection, one query at a time; a DuckDB file a
    writer swapped in since (a load, import or refresh) is reopened first."""
    try:
        conn = _connection(url)
    except StorageError as exc:
        raise DashboardError(str(exc)) from exc
    with conn.lock:
        if conn.db.changed_on_disk():
            conn.db.reopen()
        return fn(conn.db)


def _read_version() -> DataVersion | None:
    return _run(database_url(), lambda db: db.data_version())


def data_version() -> DataVersion | None:
    """The database's data version (one small query per rerun, :func:`begin_run`): every cached
    result is keyed by it, so a committed load or refresh shows at once and nothing older is
    mixed in."""
    m = _memo()
    return m["version"] if m and "version" in m else _read_version()


def _version() -> int:
    v = data_version()
    return v.version if v is not None else 0


def key(f: Filters) -> FilterKey:
    """A hashable cache key for a :class:`Filters`."""
    return f.key()


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
def _status(url: str, version: int) -> Status:
    def go(db: Database) -> Status:
        if not db.has_schema():
            raise DashboardError(
                f"no sales-analytics schema in {url}: run `sales-analytics build` first"
            )
        bounds = insights.data_bounds(db)
        if bounds is None:
            raise DashboardError(f"no orders in {url}: load data with `sales-analytics build`")
        # every country with registered customers (one row each; one small aggregate)
        areas = metrics.compute(db, "penetration", NO_FILTERS, level="country")
        return Status(url, db.kind, bounds[0], bounds[1], tuple(sorted(areas["country"])))

    return _run(url, go)


def status() -> Status:
    """The database's kind, first and last order day and countries (raises DashboardError)."""
    return _status(database_url(), _version())


def default_window(s: Status) -> tuple[date, date]:
    """The last 12 months of data (or all of it when shorter)."""
    return max(s.first_day, s.last_day - timedelta(days=364)), s.last_day


# ------------------------------------------------------------------------------------ metrics
@st.cache_data(ttl=TTL, show_spinner=False)
def _metric(url: str, version: int, name: str, k: FilterKey, params: tuple) -> pd.DataFrame:
    return _run(url, lambda db: metrics.compute(db, name, filters_of(k), **dict(params)))


def metric(name: str, f: Filters = NO_FILTERS, **params: Any) -> pd.DataFrame:
    """Catalogue metric ``name`` for ``f`` and ``params`` (cached): ``metrics.compute``.

    Unknown names and invalid params raise ``ValueError`` with the valid ones (the catalogue's
    message). Drill-downs are metrics too: ``metric("orders", f, limit=DRILL_LIMIT)``.
    """
    return _metric(database_url(), _version(), name, key(f), tuple(sorted(params.items())))


def segments_present(f: Filters) -> tuple[str, ...]:
    """The RFM segments holding customers as of ``f``'s end, in the canonical order: what the
    segment filter offers (a segment no customer is in is not offered)."""
    frame = metric("segment_summary", Filters(end=f.end))
    present = set(frame.loc[frame["customers"] > 0, "segment"])
    return tuple(s for s in metrics.SEGMENT_NAMES if s in present)


@st.cache_data(ttl=TTL, show_spinner=False)
def _kpis(url: str, version: int, k: FilterKey) -> dict[str, Any]:
    return _run(url, lambda db: metrics.kpis(db, filters_of(k)))


def kpis(f: Filters) -> dict[str, Any]:
    """The ``kpis`` metric for ``f`` as plain values (``metrics.kpis``, cached)."""
    return _kpis(database_url(), _version(), key(f))


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=256)
def _formatted(digest: str, _frame: pd.DataFrame, columns: tuple, code: str) -> pd.DataFrame:
    return fmt.frame(_frame, columns)


def formatted(frame: pd.DataFrame, columns: tuple[metrics.Column, ...]) -> pd.DataFrame:
    """``present.format.frame(frame, columns)``, cached by the frame's content and currency."""
    return _formatted(content_key(frame), frame, tuple(columns), fmt.currency())


def previous(f: Filters) -> Filters:
    """The previous period of the same length (see ``insights.previous_period``)."""
    s = status()
    return insights.previous_period(f, s.first_day, s.last_day)


def kpi_comparison(f: Filters) -> pd.DataFrame:
    """KPIs of ``f`` against the previous period (``insights.kpi_comparison``)."""
    return insights.kpi_comparison(kpis(f), kpis(previous(f)))


@st.cache_data(ttl=TTL, show_spinner=False)
def _anomalies(url: str, version: int, k: FilterKey) -> pd.DataFrame:
    return insights.revenue_anomalies(metric("revenue", filters_of(k), grain="day"))


def anomalies(f: Filters) -> pd.DataFrame:
    """``insights.revenue_anomalies`` on the daily revenue of ``f`` (cached)."""
    return _anomalies(database_url(), _version(), key(f))


@st.cache_data(ttl=TTL, show_spinner=False)
def _findings(url: str, version: int, k: FilterKey) -> list[insights.Finding]:
    f = filters_of(k)
    return insights.findings_from(insights.inputs_from(metric, kpis, f, previous(f)))


def findings(f: Filters) -> list[insights.Finding]:
    """All automated findings for ``f``, most money at stake first (computed from the cached
    metric frames; cached)."""
    return _findings(database_url(), _version(), key(f))


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
def _row_count(url: str, version: int, name: str, k: FilterKey, params: tuple) -> int:
    return _run(url, lambda db: metrics.count(db, name, filters_of(k), **dict(params)))


def row_count(name: str, f: Filters, **params: Any) -> int:
    """How many rows metric ``name`` has for ``f`` (``metrics.count``, cached): a drill-down's
    full size, whatever ``DRILL_LIMIT`` it is shown with."""
    return _row_count(database_url(), _version(), name, key(f), tuple(sorted(params.items())))


# ------------------------------------------------------------------------------------ models
def models_dir() -> Path:
    """``Settings.models_dir`` (``SA_MODELS_DIR``, default ``data/models``)."""
    return _settings().models_dir


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
        "outlook": insights.forecast_outlook(store),  # the total and range the report gives
    }


def forecast() -> dict[str, Any]:
    """The saved forecaster's prediction (``forecast``), backtest ``table``, ``coverage``..."""
    folder = models_dir()
    return _forecast(str(folder), _stamp(folder))


def revenue_history() -> pd.DataFrame:
    """Daily net revenue of the whole shop (``ds, y``), what the forecaster models."""
    ts = metric("revenue", NO_FILTERS, grain="day")
    return pd.DataFrame({"ds": pd.to_datetime(ts["period"]), "y": ts["revenue"]})


@st.cache_data(ttl=TTL, show_spinner=False)
def _customer_scores(folder: str, stamp: tuple) -> pd.DataFrame:
    return insights.customer_risk(_scores(folder, stamp, "clv"), _scores(folder, stamp, "churn"))


@st.cache_data(ttl=TTL, show_spinner=False)
def _scores(folder: str, stamp: tuple, name: str) -> pd.DataFrame:  # once for all its uses
    return _predicted(folder, name, lambda m: m.predict())


def customer_risk(f: Filters) -> pd.DataFrame:
    """CLV and churn risk per customer (saved models), for the customers of ``f``'s countries and
    segments (the whole history: the models score every customer as of the data's end), with
    their RFM segment as of the data's end."""
    folder = models_dir()
    scores = _customer_scores(str(folder), _stamp(folder))
    whole = f.without_dates()
    who = metric("customer_summary", whole)[["customer_id", "country"]]
    seg = metric("rfm_segments", whole)[["customer_id", "segment"]]
    out = scores.merge(who, on="customer_id", how="inner").merge(seg, on="customer_id", how="left")
    out["segment"] = out["segment"].fillna(metrics.OTHER_SEGMENT)
    return out


def clear_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()


@st.cache_data(ttl=TTL, show_spinner=False)
def _action_lists(folder: str, stamp: tuple, url: str, version: int) -> dict[str, pd.DataFrame]:
    from sales_analytics.models.actions import saved_action_lists

    _load(folder, "clv")  # a missing or broken CLV model: ModelUnavailable with its message
    predicted = {n: _scores(folder, stamp, n) for n, *_ in stamp if n in ("clv", "churn")}
    try:
        return _run(url, lambda db: saved_action_lists(_store(folder), db, predicted=predicted))
    except (ModelMissing, ModelUnusable) as exc:
        raise ModelUnavailable(str(exc)) from exc


def action_lists() -> dict[str, pd.DataFrame]:
    """The action lists (win-back, high-value-at-risk, second-purchase) from the saved CLV and
    churn models, as the CLI's ``predict --list`` and the API's ``/v1/actions`` give them."""
    folder = models_dir()
    return _action_lists(str(folder), _stamp(folder), database_url(), _version())


# ------------------------------------------------------------------------------------ demand
def reorder_advice() -> pd.DataFrame:
    """Reorder advice per product (saved demand model vs ``stock_cover``'s units in stock)."""
    from sales_analytics.models.reorder import advice

    folder = models_dir()
    forecast = _scores(str(folder), _store(str(folder)).stamp(("demand",)), "demand")
    stock = metric("stock_cover", NO_FILTERS)
    return advice(forecast, stock[["product_id", "product_name", "category", "stock_quantity"]])
