"""DuckDB vs PostgreSQL vs Spark (local) on the same shop: load, every catalogue metric, ratios.

Run: ``python -m benchmarks.bench_engines [--scales 1 10] [--engines duckdb postgres spark]
[--spark-master local[2]] [--start 2025-01-01]``, or on databases loaded beforehand (e.g. scale
100 with ``sales-analytics generate`` + ``load``, timed on their own): ``--scales 100 --database
duckdb=duckdb:///s100.duckdb --database postgres=postgresql://… --database spark=spark:///lake``.

Each scale's shop is generated once and loaded into a temp DuckDB file, a temp PostgreSQL database
and a temp Spark lake (``spark:///…?master=local[2]``), each with the catalogue's materialized copies
(the time of that load is reported). Then every public metric (default params; as in
``bench_metrics``) runs once to warm up and ``--repeat`` times (median), unfiltered (copies where
the catalogue has them) and, with ``--start``, from that date (live). The baseline is DuckDB in the
same run: ``x duckdb`` is the engine's time over DuckDB's for the same metric (> 1: slower). The
crossover table of docs/scale.md comes from this script. The 1-minute load average after each
engine's metrics is reported next to its figures (the machine may be shared).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.bench_metrics import CASES
from benchmarks.common import console, print_table, temp_pg_database, timed
from sales_analytics import metrics
from sales_analytics.metrics import Filters, compute
from sales_analytics.storage import connect
from sales_analytics.synth import generate

SPARK_DRIVER_MEMORY = "3g"  # the local session's JVM heap (the whole process stays below ~4 GB)


@contextmanager
def loaded(
    engine: str, frames, master: str, given: str | None = None
) -> Iterator[tuple[object, float | None]]:
    """(database of ``engine`` holding ``frames`` with its copies, seconds the load took), or the
    database at ``given`` as it is (no load: None)."""
    if given:
        with connect(given) as db:
            yield db, None
        return
    with tempfile.TemporaryDirectory() as tmp:
        if engine == "duckdb":
            url = f"duckdb:///{Path(tmp) / 'bench.duckdb'}"
        elif engine == "spark":
            url = f"spark:///{Path(tmp) / 'lake'}?master={master}&spark.driver.memory={SPARK_DRIVER_MEMORY}"
        else:
            url = None
        if url is None:
            with temp_pg_database() as pg:
                with connect(pg) as db:
                    t0 = time.perf_counter()
                    metrics.load(db, frames, replace=True)
                    yield db, time.perf_counter() - t0
            return
        with connect(url) as db:
            t0 = time.perf_counter()
            metrics.load(db, frames, replace=True)
            yield db, time.perf_counter() - t0


def bench(
    scales, engines, repeat, names, start, master, given=None
) -> tuple[list[list], list[list]]:
    timings: dict[tuple[str, str, str], float] = {}
    loads: list[list] = []
    given = given or {}
    filter_sets = [("", Filters())] + ([(f" from {start}", Filters(start=start))] if start else [])
    for scale in scales:
        frames = None
        if any(e not in given for e in engines):
            frames = generate(scale, seed=42).tables
            items = frames["order_items"].num_rows
            console.print(f"scale {scale:g}: {frames['orders'].num_rows:,} orders, {items:,} items")
        for engine in engines:
            with loaded(engine, frames, master, given.get(engine)) as (db, load_s):
                console.print(f"  {engine}: loaded ({load_s or 0:.1f} s), load average {os.getloadavg()[0]:.1f}")  # fmt: skip
                loads.append([f"s{scale:g}", engine, load_s])
                for label, flt in filter_sets:
                    for name in names:
                        metric, params = CASES[name]
                        seconds, _ = timed(
                            lambda m=metric, p=params, f=flt: compute(db, m, f, **p),
                            repeat=repeat, warmup=1,
                        )  # fmt: skip
                        timings[(f"s{scale:g}{label}", engine, name)] = seconds
                loads[-1].append(os.getloadavg()[0])
                console.print(f"  {engine}: metrics done, load average {loads[-1][3]:.1f}")
            gc.collect()
        del frames
        gc.collect()
    rows = []
    for (key, engine, name), seconds in timings.items():
        base = timings.get((key, "duckdb", name))
        ratio = seconds / base if base else float("nan")
        rows.append([key, engine, name, seconds * 1000, ratio])
    return rows, loads


def summary(rows: list[list], loads: list[list]) -> list[list]:
    """Per scale (and filter) and engine: median and total metric time, median ratio to DuckDB."""
    out = []
    for key in dict.fromkeys(r[0] for r in rows):
        for engine in dict.fromkeys(r[1] for r in rows):
            mine = [r for r in rows if r[0] == key and r[1] == engine]
            if not mine:
                continue
            scale = key.split(" ")[0]
            load = next((x for x in loads if x[0] == scale and x[1] == engine), None)
            out.append([
                key, engine, statistics.median(r[3] for r in mine), sum(r[3] for r in mine) / 1000,
                statistics.median(r[4] for r in mine), max(r[3] for r in mine),
                "loaded before" if load is None or load[2] is None else load[2],
                load[3] if load else "",
            ])  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> list[list]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--engines", nargs="+", default=["duckdb", "postgres", "spark"],
                        choices=["duckdb", "postgres", "spark"])  # fmt: skip
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per metric (median)")
    parser.add_argument("--metrics", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--start", help="also run every metric from this date (YYYY-MM-DD)")
    parser.add_argument("--spark-master", default="local[2]")
    parser.add_argument("--database", action="append", default=[], metavar="ENGINE=URL",
                        help="use this loaded database for ENGINE instead of loading the scale")  # fmt: skip
    args = parser.parse_args(argv)
    given = dict(d.split("=", 1) for d in args.database)
    if unknown := set(given) - {"duckdb", "postgres", "spark"}:
        parser.error(f"--database: unknown engine(s) {', '.join(sorted(unknown))}")
    if given and len(args.scales) != 1:
        parser.error("--database: give one scale (the loaded database's)")
    if "duckdb" not in args.engines:
        args.engines.insert(0, "duckdb")  # the baseline
    rows, loads = bench(
        args.scales, args.engines, args.repeat, args.metrics, args.start, args.spark_master, given
    )
    print_table("Every metric per engine (median ms; x duckdb = time / DuckDB's in this run)",
                ["scale", "engine", "metric", "ms", "x duckdb"], rows)  # fmt: skip
    print_table(
        "Summary per engine",
        ["scale", "engine", "median ms", "all metrics s", "median x duckdb", "slowest ms",
         "load + copies s", "load avg"],
        summary(rows, loads),
    )  # fmt: skip
    return rows


if __name__ == "__main__":
    main()
