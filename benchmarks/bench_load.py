"""Bulk-load rates: PostgreSQL COPY (psycopg) vs pandas.to_sql, and DuckDB from Arrow.

Run: ``python -m benchmarks.bench_load [--scales 1 10] [--baseline-scale 0.25]``.
Both PostgreSQL paths load the same rows into the same schema (keys, FKs, checks, indexes), each
into a fresh database. Target (issue 2): COPY >= 10x to_sql.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pyarrow as pa
from sqlalchemy import create_engine
from sqlalchemy.dialects.postgresql import ENUM

from benchmarks.common import print_table, temp_pg_database, timed
from sales_analytics.storage import ORDER_STATUSES, TABLES, connect
from sales_analytics.synth import generate


def rows_of(frames) -> int:
    return sum(t.num_rows for t in frames.values())


def load_copy(url: str, frames) -> None:
    with connect(url) as db:
        db.create_schema()
        db.load(frames)


def load_to_sql(url: str, frames) -> None:
    with connect(url) as db:
        db.create_schema()
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:  # one transaction, like Database.load
        for name in TABLES:
            df = frames[name].to_pandas()
            for field in frames[name].schema:
                if pa.types.is_decimal(field.type):
                    df[field.name] = df[field.name].astype(float)  # as a pandas user would
            dtype = {"status": ENUM(*ORDER_STATUSES, name="order_status", create_type=False)}
            df.to_sql(name, conn, if_exists="append", index=False, chunksize=10_000,
                      dtype={k: v for k, v in dtype.items() if k in df.columns})
    engine.dispose()


def load_duckdb(frames) -> None:
    with tempfile.TemporaryDirectory() as tmp, connect(f"duckdb:///{Path(tmp) / 'b.duckdb'}") as db:
        db.create_schema()
        db.load(frames)


def main(argv: list[str] | None = None) -> list[list[object]]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--baseline-scale", type=float, default=1.0)
    args = parser.parse_args(argv)

    base = generate(args.baseline_scale, seed=42).tables
    n = rows_of(base)
    with temp_pg_database() as url:
        t_sql, _ = timed(lambda: load_to_sql(url, base))
    with temp_pg_database() as url:
        t_copy, _ = timed(lambda: load_copy(url, base))
    sql_rate = n / t_sql
    rows = [
        [f"pandas.to_sql (scale {args.baseline_scale:g})", n, t_sql, sql_rate, 1.0],
        [f"COPY (scale {args.baseline_scale:g})", n, t_copy, n / t_copy, (n / t_copy) / sql_rate],
    ]
    for scale in args.scales:
        frames = generate(scale, seed=42).tables
        m = rows_of(frames)
        with temp_pg_database() as url:
            t, _ = timed(lambda u=url, f=frames: load_copy(u, f))
        rows.append([f"COPY (scale {scale:g})", m, t, m / t, (m / t) / sql_rate])
        t, _ = timed(lambda f=frames: load_duckdb(f))
        rows.append([f"DuckDB Arrow (scale {scale:g})", m, t, m / t, (m / t) / sql_rate])
    print_table(
        "Bulk load, all four tables, constraints and indexes on (target: COPY >= 10x to_sql)",
        ["run", "rows", "seconds", "rows/s", "x to_sql"],
        rows,
    )
    return rows


if __name__ == "__main__":
    main()
