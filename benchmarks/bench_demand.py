"""Demand forecast for every SKU: backtest + per-SKU choice + forecast, one core vs all cores.

Run: ``python -m benchmarks.bench_demand [--scales 1] [--jobs 1 -1]``.

The weekly units of every product of ``generate(scale, seed=42)`` (1,000 SKUs at scale 1) go
through :func:`sales_analytics.models.demand.forecast_demand` (2 backtest windows of 8 weeks, six
models, 8 weeks ahead). Baseline measured in the same run: the seasonal naive alone through the
same function (what any per-SKU forecast pays for the data handling). Reported: seconds, ms per
SKU, multiples of the baseline and of the one-core run, and the per-SKU choice's backtest MAE vs
the seasonal naive.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

from benchmarks.common import print_table


def main(argv: list[str] | None = None) -> list[list[object]]:
    from sales_analytics.models.data import orders_to_weekly_units
    from sales_analytics.models.demand import forecast_demand
    from sales_analytics.synth import generate

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, -1])
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    rows: list[list[object]] = []
    for scale in args.scales:
        data = generate(scale, seed=42)
        weekly = orders_to_weekly_units(data.tables["orders"], data.tables["order_items"])
        skus = weekly["unique_id"].nunique()
        t0 = time.perf_counter()
        forecast_demand(weekly, models=("seasonal_naive",), n_jobs=1)
        base = time.perf_counter() - t0
        rows.append([f"seasonal naive only (scale {scale:g}, {skus:,} SKUs, 1 job)", base,
                     1000 * base / skus, 1.0, "", ""])  # fmt: skip
        one = None
        for jobs in args.jobs:
            t0 = time.perf_counter()
            res = forecast_demand(weekly, n_jobs=jobs)
            t = time.perf_counter() - t0
            one = one or t
            bt, ch = res.backtest, res.choice
            chosen = ch[ch["status"] == "backtested"]
            naive = bt.loc[bt["model"] == "seasonal_naive", "mae"].sum()
            n = jobs if jobs > 0 else os.cpu_count()
            rows.append([f"all six models (scale {scale:g}, {n} job{'s' if n != 1 else ''})", t,
                         1000 * t / skus, t / base, one / t,
                         f"{chosen['mae'].sum() / naive:.3f}"])  # fmt: skip
    print_table(
        "Demand forecast for every SKU (backtest 2 x 8 weeks, choice per SKU, 8 weeks ahead)",
        ["run", "seconds", "ms per SKU", "x naive only", "speed-up vs 1 job", "MAE / naive"],
        rows,
    )
    return rows


if __name__ == "__main__":
    main()
