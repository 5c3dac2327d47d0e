"""Training cost of every model ``sales-analytics train`` fits: time and peak memory per model at
each scale, and the forecaster's model selection against one plain AutoETS fit+predict.

Run: ``python -m benchmarks.bench_train [--scales 1 10] [--models forecast,clv,churn,segments]``.

``demand`` fits every SKU's demand model on all cores (``n_jobs=-1``). Each model trains in a
fresh child process (so its peak RSS is its own), exactly as ``train``
does: ``fit`` then ``evaluate`` (the backtest), on the synthetic shop's completed orders
(``generate(scale, seed=42)``). In the forecaster's process, one AutoETS fit+predict of the same
daily series (90 days, 80/95% intervals) is timed first (after a warm-up), then the forecaster:
its selection (the rolling-origin backtest of every candidate) and its whole fit as multiples of
that AutoETS run. Targets (issue 13): every model's fit+evaluate <= 30 s at scale 1 on 2 cores;
selection <= 10x the AutoETS run.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from benchmarks.common import print_table

SEED = 42


def _rss_mb() -> float:
    """Current resident set size of this process (MB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _autoets_seconds(revenue) -> float:
    """One AutoETS fit+predict of the series (90 days, 80/95%), after a warm-up on a short one."""
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    df = revenue.assign(unique_id="revenue")[["unique_id", "ds", "y"]]
    StatsForecast(models=[AutoETS(season_length=7)], freq="D").forecast(df=df.tail(60), h=7)
    t0 = time.perf_counter()
    sf = StatsForecast(models=[AutoETS(season_length=7)], freq="D")
    sf.fit(df=df)
    sf.predict(h=90, level=[80, 95])
    return time.perf_counter() - t0


def train_one(name: str, folder: str) -> dict:
    """Fit and evaluate one model as ``train`` does; time and memory (runs in a child)."""
    import pandas as pd

    from sales_analytics.models import MODELS
    from sales_analytics.models.events import EventCalendar

    warnings.simplefilter("ignore")
    data = Path(folder)
    tx = pd.read_parquet(data / "tx.parquet")
    out: dict = {"model": name}
    model = MODELS[name]({"random_seed": SEED})
    if name == "demand":
        loaded = _rss_mb()
        t0 = time.perf_counter()
        model.fit(pd.read_parquet(data / "weekly.parquet"))
    elif name == "forecast":
        revenue = pd.read_parquet(data / "revenue.parquet")
        out["autoets_s"] = _autoets_seconds(revenue)
        loaded = _rss_mb()
        t0 = time.perf_counter()
        model.fit(revenue, events=EventCalendar())
    else:
        loaded = _rss_mb()
        t0 = time.perf_counter()
        model.fit(tx)
    out["fit_s"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    if name == "clv":
        truth = pd.read_parquet(data / "truth.parquet")
        params = json.loads((data / "params.json").read_text())
        model.evaluate(truth=truth, true_params=params)
    else:
        model.evaluate()
    out["evaluate_s"] = time.perf_counter() - t1
    out["rss_loaded_mb"] = loaded
    out["peak_rss_mb"] = _peak_mb()
    if name == "forecast":
        out["selection_s"] = model.timings_["selection_seconds"]
        out["selected"] = model.best_
    return out


def _write_inputs(scale: float, folder: Path) -> dict:
    from sales_analytics.models.data import (
        daily_revenue,
        orders_to_transactions,
        orders_to_weekly_units,
    )
    from sales_analytics.synth import generate

    data = generate(scale, seed=SEED)
    tx = orders_to_transactions(data.tables["orders"])
    tx.to_parquet(folder / "tx.parquet")
    daily_revenue(tx).to_parquet(folder / "revenue.parquet")
    weekly = orders_to_weekly_units(data.tables["orders"], data.tables["order_items"])
    weekly.to_parquet(folder / "weekly.parquet")
    data.truth.to_pandas().to_parquet(folder / "truth.parquet")
    (folder / "params.json").write_text(json.dumps(getattr(data, "params", {}) or {}, default=str))
    return {"customers": int(tx["customer_id"].nunique()), "orders": len(tx)}


def main(argv: list[str] | None = None) -> list[list[object]]:
    from sales_analytics.models import MODEL_NAMES

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--models", default=",".join(MODEL_NAMES))
    args = parser.parse_args(argv)
    names = [n for n in args.models.split(",") if n]
    rows: list[list[object]] = []
    ratios: list[list[object]] = []
    spawn = get_context("spawn")
    for scale in args.scales:
        with tempfile.TemporaryDirectory(prefix="bench_train_") as tmp:
            size = _write_inputs(scale, Path(tmp))
            for name in names:
                with ProcessPoolExecutor(1, mp_context=spawn, max_tasks_per_child=1) as pool:
                    r = pool.submit(train_one, name, tmp).result()
                total = r["fit_s"] + r["evaluate_s"]
                rows.append([
                    f"{name} (scale {scale:g}, {size['customers']:,} customers)", r["fit_s"],
                    r["evaluate_s"], total, "yes" if total <= 30 or scale != 1 else "NO",
                    r["rss_loaded_mb"], r["peak_rss_mb"],
                ])  # fmt: skip
                if name == "forecast":
                    ratios.append([
                        f"scale {scale:g} (selected {r['selected']})", r["autoets_s"],
                        r["selection_s"], r["selection_s"] / r["autoets_s"],
                        r["fit_s"] / r["autoets_s"],
                    ])  # fmt: skip
    print_table(
        "Train cost per model: fit + evaluate as `train` runs them (target <= 30 s at scale 1)",
        ["model", "fit s", "evaluate s", "total s", "<= 30 s", "RSS loaded MB", "peak RSS MB"],
        rows,
    )
    if ratios:
        print_table(
            "Forecast model selection vs one AutoETS fit+predict (target: selection <= 10x)",
            ["run", "AutoETS s", "selection s", "selection / AutoETS", "whole fit / AutoETS"],
            ratios,
        )
    return rows + ratios


if __name__ == "__main__":
    main()
