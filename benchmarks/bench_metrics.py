"""Latency of every metric on DuckDB and PostgreSQL, end to end (build, compile, run, to pandas).

Run: ``python -m benchmarks.bench_metrics [--scales 1 10] [--backends duckdb postgres]``.
Each scale's data set is generated once and loaded into a temp DuckDB file and a temp PostgreSQL
database (the catalogue's materialized copies built, as every load does). Every public metric of
the catalogue (default params; ``revenue`` per grain and ``geography`` per level; drill-downs with a
required param left out) runs once to warm up, then the median
of ``--repeat`` runs is reported. Targets (metrics issue): < 100 ms per metric at scale 1 on DuckDB,
< 1 s at scale 100; the ``x target`` column is the time over the target for that scale (scale <= 1:
100 ms, larger scales: 1 s), so <= 1 meets it. The baseline measured in the same run is exporting
the raw orders and order items to pandas (what any computation outside the database pays first):
``x export`` is how many times faster the metric is than that export.

``--start YYYY-MM-DD`` (and ``--end``) runs every metric under that date filter as well (the
product metrics, rollups and pairs sum their day and month copies under it, see
``metrics/preagg.py``; the others compute live).
The time of one ``metrics.refresh()`` (rebuilding every materialized copy, which each load pays)
is printed per backend and scale.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.common import console, print_table, temp_pg_database, timed
from sales_analytics import metrics
from sales_analytics.metrics import Filters, compute
from sales_analytics.storage import connect
from sales_analytics.synth import generate


def cases() -> dict[str, tuple[str, dict]]:
    """Label -> (metric, params): every public metric without required params, default params;
    ``revenue`` per grain and ``geography`` per level (the figures before the catalogue had those)."""
    out: dict[str, tuple[str, dict]] = {}
    for m in metrics.public():
        if any(p.required for p in m.params):
            continue
        if m.name in ("revenue", "geography"):
            p = m.params[0]
            out |= {f"{m.name}_{c}": (m.name, {p.name: c}) for c in p.choices}
        else:
            out[m.name] = (m.name, {})
    return out


CASES = cases()


def target_seconds(scale: float) -> float:
    return 0.1 if scale <= 1 else 1.0


@contextmanager
def loaded(kind: str, frames) -> Iterator:
    """A database of ``kind`` holding ``frames`` (temp DuckDB file or temp PostgreSQL database)."""
    if kind == "duckdb":
        with tempfile.TemporaryDirectory() as tmp:
            db = connect(f"duckdb:///{Path(tmp) / 'bench.duckdb'}")
            try:
                db.create_schema()
                metrics.load(db, frames)  # builds the materialized copies, as any load does
                yield db
            finally:
                db.close()
        return
    with temp_pg_database() as url:
        db = connect(url)
        try:
            db.create_schema()
            db.load(frames)
            db.raw.commit()
            prev = db.raw.autocommit
            db.raw.autocommit = True
            db.raw.execute("VACUUM ANALYZE")  # fresh statistics, as after any bulk load
            db.raw.autocommit = prev
            metrics.refresh(db)  # the materialized copies
            yield db
        finally:
            db.close()


def export_baseline(db, scale: float) -> float:
    def run() -> int:
        return sum(len(db.table(n).to_pandas()) for n in ("orders", "order_items"))

    big = scale > 10  # the export takes minutes at scale 100: time it once
    seconds, _ = timed(run, repeat=1 if big else 3, warmup=0 if big else 1)
    return seconds


def bench(
    scales: list[float],
    backends: list[str],
    repeat: int,
    names: list[str],
    start: str | None = None,
    refreshes: list[list] | None = None,
    end: str | None = None,
) -> list[list]:
    rows: list[list] = []
    filter_sets = [("", Filters())] + _window(start, end)
    for scale in scales:
        data = generate(scale, seed=42)
        frames = data.tables
        counts = {k: v.num_rows for k, v in frames.items()}
        console.print(
            f"scale {scale:g}: {counts['customers']:,} customers, {counts['orders']:,} orders, "
            f"{counts['order_items']:,} order items"
        )
        target = target_seconds(scale)
        for kind in backends:
            with loaded(kind, frames) as db:
                if refreshes is not None:
                    seconds, _ = timed(lambda d=db: metrics.refresh(d), repeat=1, warmup=0)
                    refreshes.append([f"{kind} s{scale:g}", seconds])
                export = export_baseline(db, scale)
                for label, flt in filter_sets:
                    key = f"{kind} s{scale:g}{label}"
                    rows.append([key, "(baseline) export orders+items", export * 1000,
                                 export / target, 1.0, ""])  # fmt: skip
                    for name in names:
                        metric, params = CASES[name]
                        seconds, frame = timed(
                            lambda m=metric, p=params, f=flt: compute(db, m, f, **p),
                            repeat=repeat, warmup=1,
                        )
                        rows.append([key, name, seconds * 1000, seconds / target,
                                     export / seconds, f"{len(frame):,}"])  # fmt: skip
            gc.collect()
        del data, frames
        gc.collect()
    return rows


def _window(start: str | None, end: str | None) -> list[tuple[str, Filters]]:
    if start is None and end is None:
        return []
    label = f" from {start}" if start else ""
    return [(label + (f" to {end}" if end else ""), Filters(start=start, end=end))]


def bench_url(
    url: str,
    repeat: int,
    names: list[str],
    start: str | None,
    label: str,
    live: bool = False,
    end: str | None = None,
) -> list[list]:
    """The metrics on a database that is loaded already (``--database-url``; its copies current,
    target 1 s), without and with the date filter: no generation, no load. ``live`` also times
    each filtered metric computed live (no copy read, once): the baseline of the same run.
    ``cpu ms`` is the median CPU time of this process per run (Python and DuckDB's threads):
    what the work costs whatever else shares the machine (wall time ~ CPU / 2 at best on two
    idle cores, ~ CPU when the work does not parallelise)."""
    from sales_analytics.metrics.source import live_only

    rows: list[list] = []
    filter_sets = [("", Filters())] + _window(start, end)
    with connect(url, read_only=True) as db:
        for suffix, flt in filter_sets:
            for name in names:
                metric, params = CASES[name]
                cpu: list[float] = []

                def run(m=metric, p=params, f=flt, cpu=cpu):
                    c0 = time.process_time()
                    out = compute(db, m, f, **p)
                    cpu.append(time.process_time() - c0)
                    return out

                seconds, frame = timed(run, repeat=repeat, warmup=1)
                cpu_ms = statistics.median(cpu[1:]) * 1000
                vs_live = ""
                if live and not flt.is_empty:
                    with live_only():
                        slow, _ = timed(run, repeat=1)
                    vs_live = f"{slow * 1000:,.0f} ms live ({slow / seconds:,.1f}x)"
                rows.append([f"{label}{suffix}", name, seconds * 1000, seconds, vs_live,
                             f"{len(frame):,}", cpu_ms])  # fmt: skip
    return rows


def summary(rows: list[list]) -> list[list]:
    """Per backend and scale: median, worst metric and how many meet the target."""
    out = []
    for key in dict.fromkeys(r[0] for r in rows):
        ms = [r for r in rows if r[0] == key and not r[1].startswith("(baseline)")]
        times = sorted(r[2] for r in ms)
        worst = max(ms, key=lambda r: r[2])
        met = sum(1 for r in ms if r[3] <= 1)
        out.append([key, times[len(times) // 2], f"{worst[1]} ({worst[2]:,.1f})", f"{met}/{len(ms)}"])
    return out


def main(argv: list[str] | None = None) -> list[list]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--backends", nargs="+", default=["duckdb", "postgres"],
                        choices=["duckdb", "postgres"])  # fmt: skip
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per metric (median)")
    parser.add_argument("--metrics", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--start", help="also run every metric from this date (YYYY-MM-DD)")
    parser.add_argument("--end", help="... and to this date (YYYY-MM-DD, inclusive)")
    parser.add_argument("--database-url", help="time a database loaded already (target 1 s) "
                        "instead of generating and loading --scales")  # fmt: skip
    parser.add_argument("--label", default="given database", help="its row label")
    parser.add_argument("--compare-live", action="store_true",
                        help="with --database-url: also time each filtered metric live, once")  # fmt: skip
    args = parser.parse_args(argv)

    refreshes: list[list] = []
    if args.database_url:
        rows = bench_url(args.database_url, args.repeat, args.metrics, args.start, args.label,
                         args.compare_live, args.end)  # fmt: skip
    else:
        rows = bench(args.scales, args.backends, args.repeat, args.metrics, args.start, refreshes,
                     args.end)  # fmt: skip
    print_table(
        "Metric latency, median of runs after a warm-up (target: < 100 ms at scale 1 on DuckDB, "
        "< 1 s at scale 100)",
        ["backend / scale", "metric", "ms", "x target", "x export", "rows"]
        + (["cpu ms"] if args.database_url else []),
        rows,
    )
    print_table(
        "Summary",
        ["backend / scale", "median ms", "slowest metric (ms)", "within target"],
        summary(rows),
    )
    print_table("Refresh of all materialized copies (once)", ["backend / scale", "s"], refreshes)
    return rows


if __name__ == "__main__":
    main()
