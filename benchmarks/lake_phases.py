"""``sales-analytics load DIR -d URL --replace`` into a Spark lake, printing when each phase ends.

Run: ``python -m benchmarks.tree_run -- python -m benchmarks.lake_phases DIR URL`` (tree_run adds
the wall time and the peak RSS of the driver, the JVM and the whole tree). Prints, with the
seconds since the start: the rows written, the key checks and each materialized copy built by
the lake's writer (``storage/lake_write.VersionWriter``), then the total. The figures of
docs/benchmarks.md#the-spark-lake-at-scale-1000-2026-12-02-issue-14 come from it.
"""

from __future__ import annotations

import sys
import time

from sales_analytics.storage import lake_write

T0 = time.perf_counter()


def _say(text: str) -> None:
    print(f"[{time.perf_counter() - T0:7.1f}] {text}", flush=True)


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        sys.exit("usage: python -m benchmarks.lake_phases PARQUET_DIR spark:///LAKE")
    writer = lake_write.VersionWriter
    copy, violations = writer.copy, writer.violations

    def timed_copy(self, c) -> None:
        t = time.perf_counter()
        copy(self, c)
        _say(f"copy {c.name}: {time.perf_counter() - t:.1f} s")

    def timed_violations(self, tables):
        _say("rows written")
        t = time.perf_counter()
        found = violations(self, tables)
        _say(f"key checks {time.perf_counter() - t:.1f} s")
        return found

    writer.copy, writer.violations = timed_copy, timed_violations
    from sales_analytics.cli import app

    sys.argv = ["sales-analytics", "load", argv[0], "-d", argv[1], "--replace"]
    try:
        app()
    finally:
        _say("total")


if __name__ == "__main__":
    main(sys.argv[1:])
