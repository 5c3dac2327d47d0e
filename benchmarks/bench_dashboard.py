"""Dashboard page render time at scale 1 and 10: cold and warm cache, vs the raw metric work.

Run: ``python -m benchmarks.bench_dashboard [--scales 1 10] [--backend duckdb|postgres]
[--no-models]``.

Each scale's shop is generated once and loaded into a temp database; fast-config forecast, CLV and
churn models are trained on it for the Predictions page. Each page is rendered with Streamlit's
AppTest (the app's real code path, minus the browser):

* ``cold``: caches cleared (new connection, every query runs), then the page renders;
* ``warm``: a new session renders the same page again (results come from ``st.cache_data``);
* ``raw``: the baseline measured in the same run: the catalogue calls the page makes
  (``metrics.compute`` / ``metrics.kpis``, each distinct call once, drill-downs of the default
  selection included) and its model predictions, run directly on a fresh connection with no
  Streamlit and no cache.

``cold / raw`` is the dashboard's overhead over its queries (layout, Plotly figures, dataframes);
``cold / warm`` is what the cache buys on every rerun (filter change back, page switch, another user).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from benchmarks.common import console, print_table, temp_pg_database
from sales_analytics import insights, metrics
from sales_analytics.metrics import Filters
from sales_analytics.storage import connect
from sales_analytics.synth import generate

APP = Path(__file__).resolve().parents[1] / "src" / "sales_analytics" / "dashboard" / "app.py"
PAGES = ("revenue", "customers", "products", "geography", "predictions", "explorer")
FAST_MODELS = {
    "forecast": {"models": ("linear", "seasonal_naive"), "horizon": 90, "cv_windows": 2},
    "churn": {"n_estimators": 60},
    "clv": {"regressor": False},
}
RESULTS = Path(__file__).resolve().parent / "results"


@contextmanager
def database(kind: str, frames) -> Iterator[str]:
    """A database URL holding ``frames`` (the connection is closed: the app opens its own)."""
    if kind == "duckdb":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"duckdb:///{Path(tmp) / 'bench.duckdb'}"
            with connect(url) as db:
                db.create_schema()
                metrics.load(db, frames)  # the tables and the catalogue's materialized copies
            yield url
        return
    with temp_pg_database() as url:
        with connect(url) as db:
            db.create_schema()
            metrics.load(db, frames)
            db.raw.commit()
            db.raw.autocommit = True
            db.raw.execute("VACUUM ANALYZE")
        yield url


def train(url: str, folder: Path) -> float:
    from sales_analytics.models import MODELS, daily_revenue, transactions

    t0 = time.perf_counter()
    with connect(url) as db:
        tx = transactions(db)
        revenue = daily_revenue(db)
    for name, config in FAST_MODELS.items():
        model = MODELS[name](config).fit(revenue if name == "forecast" else tx)
        if name == "forecast":
            model.evaluate()
        model.save(folder)
    return time.perf_counter() - t0


# ------------------------------------------------------------------------------------ raw baseline
#: One catalogue call: (metric name, filters, params); "kpis" is ``metrics.kpis``.
Call = tuple[str, Filters, dict]


def _window(db) -> tuple[Filters, Filters]:
    first, last = insights.data_bounds(db)
    f = Filters(start=max(first, last - timedelta(days=364)), end=last)
    return f, insights.previous_period(f, first, last)


def _findings(f: Filters, prev: Filters) -> list[Call]:
    """The calls behind ``data.findings`` (and the KPI row's comparison)."""
    return [
        ("kpis", f, {}), ("kpis", prev, {}),
        ("category_rollup", f, {}), ("category_rollup", prev, {}),
        ("geography", f, {"level": "country"}), ("geography", prev, {"level": "country"}),
        ("segment_summary", f, {}), ("revenue", f, {"grain": "day"}),
    ]  # fmt: skip


def _calls(db, page: str, f: Filters, prev: Filters) -> list[Call]:
    """The catalogue calls ``page`` makes with its default widgets (drill-downs included)."""
    limit = {"limit": 5000}
    if page == "revenue":
        month = replace(f, start=f.end.replace(day=1))
        return _findings(f, prev) + [
            ("revenue", f, {"grain": "month"}), ("weekday_profile", f, {}),
            ("orders", month, limit), ("kpis", month, {}),
        ]  # fmt: skip
    if page == "customers":
        seg = metrics.compute(db, "segment_summary", f)
        first = replace(f, segments=(seg["segment"].iloc[0],))
        return _findings(f, prev) + [
            ("cohorts", f, {}), ("new_vs_returning", f, {"grain": "month"}),
            ("customers", first, limit),
        ]  # fmt: skip
    if page == "products":
        perf = metrics.compute(db, "product_performance", f)
        cat = metrics.compute(db, "category_rollup", f)["category"].iloc[0]
        top = perf[perf["category"] == cat].sort_values("revenue", ascending=False).iloc[0]
        return _findings(f, prev) + [
            ("brand_rollup", f, {}), ("product_performance", f, {}), ("abc_classes", f, {}),
            ("slow_movers", f, {}), ("product_pairs", f, {"limit": 50}),
            ("product_lines", f, {"product_id": int(top["product_id"]), **limit}),
        ]  # fmt: skip
    if page == "geography":
        country = metrics.compute(db, "geography", f, level="country")["country"].iloc[0]
        there = replace(f, countries=(country,))
        return _findings(f, prev) + [
            ("penetration", f, {"level": "country"}), ("geography", f, {"level": "region"}),
            ("kpis", there, {}), ("customers", there, limit), ("orders", there, limit),
        ]  # fmt: skip
    if page == "explorer":
        return [("revenue", f, {"grain": "day"})]
    if page == "predictions":
        whole = f.without_dates()
        return [("revenue", metrics.NO_FILTERS, {"grain": "day"}),
                ("customer_summary", whole, {}), ("rfm_segments", whole, {})]
    raise ValueError(page)


def _run_calls(db, calls: list[Call]) -> dict[tuple, object]:
    """Each distinct call once (the dashboard's st.cache_data does the same within a render)."""
    out: dict[tuple, object] = {}
    for name, filters, params in calls:
        key = (name, filters.key(), tuple(sorted(params.items())))
        if key not in out:
            out[key] = (
                metrics.kpis(db, filters) if name == "kpis"
                else metrics.compute(db, name, filters, **params)
            )  # fmt: skip
    return out


def _raw_findings(results: dict[tuple, object], f: Filters, prev: Filters) -> None:
    """``data.findings`` from the frames already computed."""

    def get(name: str, filters: Filters, **params):
        return results[(name, filters.key(), tuple(sorted(params.items())))]

    insights.findings_from(insights.inputs_from(get, lambda ff: get("kpis", ff), f, prev))


def _raw_predictions(folder: Path | None) -> None:
    if folder is None:
        return
    from sales_analytics.models import load_model

    fc = load_model("forecast", folder)
    fc.predict(), fc.evaluate()
    risk = insights.customer_risk(
        load_model("clv", folder).predict(), load_model("churn", folder).predict()
    )
    insights.risk_matrix(risk)


def raw_seconds(url: str, page: str, models: Path | None) -> float:
    """The page's catalogue calls (and model predictions) straight on a fresh connection."""
    t0 = time.perf_counter()
    with connect(url) as db:
        f, prev = _window(db)
        results = _run_calls(db, _calls(db, page, f, prev))
        if page in ("revenue", "customers", "products", "geography"):
            _raw_findings(results, f, prev)
        if page == "predictions":
            _raw_predictions(models)
    return time.perf_counter() - t0


# ------------------------------------------------------------------------------------ AppTest
def render_seconds(page: str, *, cold: bool) -> float:
    """Seconds to render ``page`` in a new AppTest session (after clearing the caches if cold)."""
    import logging

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    for name in ("streamlit.runtime.caching.cache_data_api", "streamlit.runtime.caching.cache_resource_api"):
        logging.getLogger(name).setLevel(logging.ERROR)  # "No runtime found" when clearing
    at = AppTest.from_file(str(APP), default_timeout=900)
    at.run()  # the session lands on the default page; pages are registered
    if cold:
        st.cache_data.clear()
        st.cache_resource.clear()
    at.switch_page(f"views/{page}.py")
    t0 = time.perf_counter()
    at.run()
    seconds = time.perf_counter() - t0
    if at.exception or at.error:
        errors = [e.value for e in at.exception] + [e.value for e in at.error]
        raise RuntimeError(f"{page}: {errors[0]}")
    return seconds


def bench(scales: list[float], backend: str, with_models: bool) -> list[list]:
    rows: list[list] = []
    for scale in scales:
        frames = generate(scale, seed=42).tables
        counts = {k: v.num_rows for k, v in frames.items()}
        console.print(
            f"scale {scale:g} ({backend}): {counts['customers']:,} customers, "
            f"{counts['orders']:,} orders, {counts['order_items']:,} order items"
        )
        with database(backend, frames) as url, tempfile.TemporaryDirectory() as models_tmp:
            models = Path(models_tmp) if with_models else None
            if models is not None:
                console.print(f"  trained fast models in {train(url, models):.1f} s")
            os.environ["DATABASE_URL"] = url
            os.environ["SA_MODELS_DIR"] = str(models or Path(models_tmp) / "none")
            for page in PAGES:
                gc.collect()
                raw = raw_seconds(url, page, models)
                cold = render_seconds(page, cold=True)
                warm = render_seconds(page, cold=False)
                rows.append(
                    [f"{scale:g}", page, raw, cold, warm, cold / raw if raw else float("nan"),
                     cold / warm]
                )
                console.print(f"  {page}: raw {raw:.2f} s, cold {cold:.2f} s, warm {warm:.2f} s")
    return rows


def main(argv: list[str] | None = None) -> list[list]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--backend", choices=["duckdb", "postgres"], default="duckdb")
    parser.add_argument("--no-models", action="store_true", help="skip training (Predictions empty)")
    args = parser.parse_args(argv)
    rows = bench(args.scales, args.backend, not args.no_models)
    print_table(
        f"Dashboard page render (AppTest, {args.backend}): seconds; cold = caches cleared, "
        "warm = cached; raw = the page's metric/model calls without Streamlit",
        ["scale", "page", "raw s", "cold s", "warm s", "cold / raw", "cold / warm"],
        rows,
    )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"dashboard_{args.backend}.json"
    keys = ["scale", "page", "raw_s", "cold_s", "warm_s", "cold_over_raw", "cold_over_warm"]
    out.write_text(json.dumps([dict(zip(keys, r, strict=True)) for r in rows], indent=2))
    return rows


if __name__ == "__main__":
    main()
