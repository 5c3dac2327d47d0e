"""Streaming generation and load at large scales: time and peak memory (RSS), each in its own process.

Run: ``python -m benchmarks.bench_stream [--scales 100 1000] [--load duckdb] [--keep DIR]``.
For each scale, a child process runs ``sales-analytics generate`` (the blocks of customers written
to Parquet one by one), then, with ``--load``, another child loads those files into a fresh DuckDB
file through ``sales-analytics load`` (the Parquet files read a batch at a time, appended in ONE
transaction, copies built in it). Peak RSS is the child's ``ru_maxrss``; the baseline in the same
run is the in-memory ``generate()`` at ``--baseline-scale`` (what the generator needed before it
streamed: memory grows with the scale). Target (issue 14): generation peak RSS <= 2 GB at any scale.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import print_table

CLI = str(Path(sys.executable).with_name("sales-analytics"))
CODE_BASELINE = (
    "import sys; from sales_analytics.synth import generate; "
    "d = generate(float(sys.argv[1]), seed=42); print(d.num_rows['order_items'])"
)


def child(args: list[str]) -> tuple[float, float, str]:
    """Run ``args`` in a child process: wall seconds, its own peak RSS in MB and its stdout."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=err, env=os.environ.copy())
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode:
            raise SystemExit(f"{' '.join(args)} failed:\n{err.read()[-2000:]}")
        return seconds, usage.ru_maxrss / 1024, out.read()


def items_in(folder: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(folder / "order_items.parquet").metadata.num_rows


def main(argv: list[str] | None = None) -> list[list[object]]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=float, nargs="+", default=[100.0, 1000.0])
    parser.add_argument("--baseline-scale", type=float, default=10.0)
    parser.add_argument("--load", choices=["duckdb"], help="also load the files into a DuckDB file")
    parser.add_argument("--keep", type=Path, help="folder to keep the files in (default: temp)")
    args = parser.parse_args(argv)

    rows: list[list[object]] = []
    t, rss, out = child([sys.executable, "-c", CODE_BASELINE, str(args.baseline_scale)])
    n = int(out.strip())
    rows.append([f"generate() in memory (scale {args.baseline_scale:g})", n, t, n / t, rss])
    for scale in sorted(args.scales):
        root = Path(tempfile.mkdtemp(prefix=f"sa_stream_{scale:g}_", dir=args.keep))
        try:
            data = root / "data"
            t, rss, _ = child([CLI, "generate", "--out", str(data), "--scale", f"{scale:g}"])
            n = items_in(data)
            rows.append([f"generate to Parquet (scale {scale:g})", n, t, n / t, rss])
            if args.load:
                url = f"duckdb:///{root / 'shop.duckdb'}"
                t, rss, _ = child([CLI, "load", str(data), "-d", url])
                rows.append([f"load Parquet into DuckDB (scale {scale:g})", n, t, n / t, rss])
        finally:
            if args.keep is None:
                shutil.rmtree(root, ignore_errors=True)
    print_table(
        "Streaming generation and load (peak RSS of the child process; target: generation <= 2 GB)",
        ["run", "order items", "seconds", "items/s", "peak RSS MB"],
        rows,
    )
    return rows


if __name__ == "__main__":
    main()
