"""What a write may change, captured to compare before and after a failed or killed write."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from sales_analytics.storage import Database, DataVersion, StorageError, connect
from sales_analytics.storage.faults import MARKER

CLI = str(Path(sys.executable).with_name("sales-analytics"))


def index_names(db: Database) -> set[str]:
    if db.kind == "duckdb":
        return {r[0] for r in db.query("SELECT index_name FROM duckdb_indexes()")}
    return {r[0] for r in db.query("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")}


@dataclass(frozen=True)
class State:
    counts: dict[str, int]
    version: DataVersion | None
    digests: dict[str, str]
    copy_rows: dict[str, int]
    indexes: frozenset[str]
    revenue: object


def state(url: str) -> State:
    """The state of the database at ``url``, read through a fresh read-only connection."""
    with connect(url, read_only=True) as db:
        digests = db.materialized_digests()
        return State(
            counts=db.counts(),
            version=db.data_version(),
            digests=digests,
            copy_rows={n: db.query(f"SELECT count(*) FROM {n}")[0][0] for n in sorted(digests)},
            indexes=frozenset(index_names(db)),
            revenue=db.query("SELECT sum(total_amount) FROM orders")[0][0],
        )


def assert_keys_enforced(url: str) -> None:
    """A duplicate customer key is still rejected (the keys survived), and changes nothing."""
    with connect(url) as db:
        before = db.data_version()
        first = db.table("customers").limit(1).to_pyarrow()
        try:
            db.load({"customers": first})
        except StorageError as exc:
            assert "nothing was written" in str(exc)
        else:
            raise AssertionError("a duplicate customer was accepted")
        assert db.data_version() == before


def shifted(frames: dict[str, pa.Table], offset: int) -> dict[str, pa.Table]:
    """``frames`` with every id moved by ``offset`` and emails made unique: appendable."""
    ids = ("customer_id", "product_id", "order_id", "order_item_id", "refund_id", "event_id")
    out = {}
    for name, table in frames.items():
        for col in ids:
            if col in table.column_names:
                i = table.column_names.index(col)
                table = table.set_column(i, col, pc.add(table[col], offset))
        if "email" in table.column_names:
            i = table.column_names.index("email")
            table = table.set_column(i, "email", pc.binary_join_element_wise(f"s{offset}.", table["email"], ""))
        out[name] = table
    return out


def run_until_paused(args: list[str], url: str, step: str, timeout: float = 120) -> subprocess.Popen:
    """Start ``sales-analytics ARGS -d URL`` paused at ``step``; return it once it is there."""
    env = os.environ | {"SA_TEST_PAUSE_AT": step, "DATABASE_URL": url}
    proc = subprocess.Popen(
        [CLI, *args, "-d", url], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break  # ended without pausing
        seen.append(line)
        if line.startswith(f"{MARKER} {step}"):
            return proc
    proc.kill()
    proc.wait()
    raise AssertionError(f"{args} never paused at {step}: {''.join(seen)[-2000:]}")


def kill9(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    proc.stderr.close()
