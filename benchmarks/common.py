"""Helpers shared by the benchmarks: timing, throw-away PostgreSQL databases, result tables."""

from __future__ import annotations

import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from rich.console import Console
from rich.table import Table

PG_ADMIN_URL = os.environ.get("SA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
console = Console()


def timed(fn: Callable[[], object], repeat: int = 1, warmup: int = 0) -> tuple[float, object]:
    """Median wall time in seconds over ``repeat`` runs (after ``warmup`` runs), and the last result."""
    result = None
    for _ in range(warmup):
        result = fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


@contextmanager
def temp_pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database URL, dropped afterwards."""
    name = f"sa_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rpartition("/")[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def print_table(title: str, columns: list[str], rows: list[list[object]]) -> None:
    table = Table(title=title)
    for col in columns:
        table.add_column(col, justify="right" if col != columns[0] else "left")
    for row in rows:
        table.add_row(*[f"{v:,.2f}" if isinstance(v, float) else str(v) for v in row])
    console.print(table)
