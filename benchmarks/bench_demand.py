"""Demand forecast for every SKU, locally (all cores) vs on Spark (``local[2]``), side by side.

Run: ``python -m benchmarks.bench_demand [--scales 1 10] [--engines local spark]
[--local-jobs -1 1] [--spark-master local[2]] [--skus N]``.

The weekly units of every product of ``generate(scale, seed=42)`` (1,000 products at scale 1,
10,000 at scale 10) go through :func:`sales_analytics.models.demand.forecast_demand` (2 backtest
windows of 8 weeks, six models, choice per SKU, 8 weeks ahead): locally with ``n_jobs`` processes
(-1: every core) and on a Spark session through statsforecast's distributed backend
(:func:`sales_analytics.models.distributed.forecast_demand_spark` on a temp lake). Every run is a
child process of its own: reported are its wall time for the forecast (the Spark session's start
apart), ms per SKU, the peak RSS of the child process and of its whole process tree (sampled every
0.2 s: the statsforecast workers, Spark's JVM and Python workers), the CPU seconds the forecast
used in that tree (what a loaded machine does not inflate), and time and CPU over the baseline,
the first local run of the same scale. Then the runs are compared with the baseline: the chosen
model of every SKU must be the same and every forecast column (``yhat``, ``lo_*``, ``hi_*``) equal
to 1e-5 (absolute or relative). ``--skus N`` runs the first N SKUs only (a documented sample).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.common import console, print_table

TOLERANCE = 1e-5


def _tree(root: int) -> tuple[int, float]:
    """(bytes resident, CPU seconds used) of ``root`` and its live descendants, from /proc; the
    CPU includes their reaped children's (``cutime``), so a delta over a span counts the work of
    short-lived workers too."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    cpu: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                stat = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry.name}/status") as f:
                vm = next((line for line in f if line.startswith("VmRSS")), "VmRSS: 0 kB")
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(stat[1])
        cpu[pid] = sum(int(x) for x in stat[11:15]) / tick  # utime stime cutime cstime
        rss[pid] = int(vm.split()[1]) * 1024
    tree, frontier = {root}, {root}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier and p not in tree}
        tree |= frontier
    return sum(rss.get(p, 0) for p in tree), sum(cpu.get(p, 0.0) for p in tree)


def _child(args) -> None:
    """One run (in its own process): forecast, write the result, print seconds and RSS."""
    from sales_analytics.models.demand import forecast_demand

    warnings.simplefilter("ignore")
    frame = pd.read_parquet(args.frame)
    out = Path(args.out)
    started = 0.0
    if args.child == "spark":
        from sales_analytics.models.distributed import forecast_demand_spark
        from sales_analytics.storage import connect

        t0 = time.perf_counter()
        url = f"spark:///{out / 'lake'}?master={args.spark_master}&spark.driver.memory={args.driver_memory}"  # fmt: skip
        with connect(url) as db:
            started = time.perf_counter() - t0
            cpu0, t0 = _tree(os.getpid())[1], time.perf_counter()
            res = forecast_demand_spark(db, frame)
            seconds, cpu = time.perf_counter() - t0, _tree(os.getpid())[1] - cpu0
    else:
        cpu0, t0 = _tree(os.getpid())[1], time.perf_counter()
        res = forecast_demand(frame, n_jobs=args.jobs)
        seconds, cpu = time.perf_counter() - t0, _tree(os.getpid())[1] - cpu0
    res.forecast.to_parquet(out / "forecast.parquet")
    res.choice.to_parquet(out / "choice.parquet")
    res.backtest.to_parquet(out / "backtest.parquet")
    with open("/proc/self/status") as f:
        hwm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM"))
    print(json.dumps({"seconds": seconds, "cpu": cpu, "session_s": started, "hwm": hwm}))


def _run(engine: str, frame_path: Path, workdir: Path, args, jobs: int = -1) -> dict:
    """Run one engine in a child process, sampling its process tree's RSS."""
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "benchmarks.bench_demand", "--child", engine, "--frame",
           str(frame_path), "--out", str(workdir), "--jobs", str(jobs), "--spark-master",
           args.spark_master, "--driver-memory", args.driver_memory]  # fmt: skip
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree(proc.pid)[0])
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = proc.communicate()
    done.set()
    sampler.join()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"bench_demand: the {engine} run failed: {stderr.strip()[-2000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    return result | {"tree_peak": peak[0], "process_wall": wall, "dir": workdir}


def _compare(base: Path, other: Path) -> tuple[int, float, float, bool]:
    """(SKUs whose chosen model differs, max abs and max relative difference of the forecast
    columns, all equal to TOLERANCE)."""
    ca, cb = (pd.read_parquet(d / "choice.parquet").set_index("unique_id") for d in (base, other))
    cb = cb.reindex(ca.index)
    differ = int((ca["model"] != cb["model"]).sum())
    fa, fb = (pd.read_parquet(d / "forecast.parquet") for d in (base, other))
    keys = ["unique_id", "ds"]
    m = fa.merge(fb, on=keys, how="outer", suffixes=("_a", "_b"), indicator=True)
    missing = int((m["_merge"] != "both").sum())
    cols = [c for c in fa.columns if c not in (*keys, "model")]
    a = m[[f"{c}_a" for c in cols]].to_numpy(float)
    b = m[[f"{c}_b" for c in cols]].to_numpy(float)
    diff = np.abs(a - b)
    rel = diff / np.maximum(np.abs(a), 1e-12)
    max_abs = float(np.nanmax(diff)) if diff.size else 0.0
    max_rel = float(np.nanmax(np.where(diff > 0, rel, 0))) if diff.size else 0.0
    close = bool(np.allclose(a, b, rtol=TOLERANCE, atol=TOLERANCE, equal_nan=True))
    return differ + missing, max_abs, max_rel, close and not missing


def weekly_frame(scale: float, skus: int | None) -> pd.DataFrame:
    from sales_analytics.models.data import orders_to_weekly_units
    from sales_analytics.synth import generate

    data = generate(scale, seed=42)
    weekly = orders_to_weekly_units(data.tables["orders"], data.tables["order_items"])
    if skus:
        keep = np.sort(weekly["unique_id"].unique())[:skus]
        weekly = weekly[weekly["unique_id"].isin(keep)].reset_index(drop=True)
    return weekly


def main(argv: list[str] | None = None) -> list[list[object]]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0])
    parser.add_argument("--engines", nargs="+", default=["local", "spark"], choices=["local", "spark"])  # fmt: skip
    parser.add_argument("--local-jobs", type=int, nargs="+", default=[-1],
                        help="local runs with these n_jobs (-1: every core); the first is the baseline")  # fmt: skip
    parser.add_argument("--spark-master", default="local[2]")
    parser.add_argument("--driver-memory", default="3g", help="spark.driver.memory")
    parser.add_argument("--skus", type=int, help="only the first N SKUs (a sample)")
    parser.add_argument("--workdir", help="folder for the frames and results (default: a temp one)")
    parser.add_argument("--child", choices=["local", "spark"], help=argparse.SUPPRESS)
    parser.add_argument("--frame", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--jobs", type=int, default=-1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args)
        return []
    rows: list[list[object]] = []
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        for scale in args.scales:
            weekly = weekly_frame(scale, args.skus)
            skus, weeks = weekly["unique_id"].nunique(), weekly["ds"].nunique()
            frame_path = Path(tmp) / f"weekly_{scale:g}.parquet"
            weekly.to_parquet(frame_path)
            console.print(f"scale {scale:g}: {skus:,} SKUs, {weeks} weeks, {len(weekly):,} rows")
            runs = []
            if "local" in args.engines:
                for jobs in args.local_jobs:
                    n = jobs if jobs > 0 else len(os.sched_getaffinity(0))
                    label = f"local, {n} job{'s' if n != 1 else ''}"
                    runs.append((label, _run("local", frame_path, Path(tmp) / f"s{scale:g}_local{jobs}", args, jobs)))  # fmt: skip
                    console.print(f"  {label}: {runs[-1][1]['seconds']:.1f} s")
            if "spark" in args.engines:
                label = f"Spark {args.spark_master}"
                runs.append((label, _run("spark", frame_path, Path(tmp) / f"s{scale:g}_spark", args)))  # fmt: skip
                console.print(f"  {label}: {runs[-1][1]['seconds']:.1f} s")
            base = runs[0][1]
            for label, r in runs:
                differ, max_abs, max_rel, close = _compare(base["dir"], r["dir"])
                rows.append([
                    f"s{scale:g} ({skus:,} SKUs) {label}", r["seconds"], 1000 * r["seconds"] / skus,
                    r["seconds"] / base["seconds"], r["cpu"], r["cpu"] / base["cpu"], r["session_s"], r["hwm"] / 2**20,
                    r["tree_peak"] / 2**20, differ, f"{max_abs:.1e} / {max_rel:.1e}",
                    "yes" if close and not differ else "NO",
                ])  # fmt: skip
    print_table(
        "Demand forecast for every SKU (backtest 2 x 8 weeks, six models, choice per SKU, 8 weeks"
        " ahead); x base = time / the first run's; equal = same choice per SKU and forecasts to 1e-5",  # fmt: skip
        ["run", "forecast s", "ms per SKU", "x base", "CPU s", "CPU x base", "session s", "peak RSS MB",
         "tree peak RSS MB", "models differ", "max diff abs / rel", "equal"],
        rows,
    )  # fmt: skip
    return rows


if __name__ == "__main__":
    main()
