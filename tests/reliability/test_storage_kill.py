"""kill -9 of a writer at every step of a write leaves the database exactly as it was.

Each writer (``build --replace``, ``load``, ``import`` of a generic CSV, ``refresh``) runs as the
real CLI in a subprocess with ``SA_TEST_PAUSE_AT=<step>`` (tests only: the write pauses there), is
killed with SIGKILL while paused, and the database is compared with its state before: row counts,
data version, materialized copies (digests and rows), indexes, and the keys (a duplicate customer is
still rejected). On DuckDB the served file is the same file (inode) and a reader answers while the
writer is paused; the writer's leftover copy goes with the next write. On PostgreSQL the server
rolls the open transaction back when the client dies.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sales_analytics import metrics
from sales_analytics.storage import connect
from sales_analytics.storage.swap import TMP_SUFFIX, FileStamp
from sales_analytics.synth import generate
from tests.conftest import BACKENDS, make_url
from tests.storage.snapshot import (
    CLI,
    assert_keys_enforced,
    kill9,
    run_until_paused,
    shifted,
    state,
)


@pytest.fixture(scope="module")
def frames():
    return generate(scale=0.01, seed=5).tables


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path, pg_databases, frames) -> str:
    url = make_url(request.param, tmp_path, pg_databases)
    with connect(url) as db:
        metrics.load(db, frames, replace=True)
    return url


def _parquet_folder(tmp_path: Path, frames: dict[str, pa.Table]) -> Path:
    folder = tmp_path / "parquet"
    folder.mkdir()
    for name, table in frames.items():
        pq.write_table(table, folder / f"{name}.parquet")
    return folder


def _generic_csv(tmp_path: Path) -> Path:
    path = tmp_path / "export.csv"
    path.write_text(
        "order_id,customer_id,order_date,product_id,quantity,unit_price\n"
        "X-900001,C-900001,2024-05-01,P-900001,1,9.99\n"
        "X-900001,C-900001,2024-05-01,P-900002,2,5.00\n"
        "X-900002,C-900002,2024-05-02,P-900001,1,9.99\n"
    )
    return path


def _writer(name: str, tmp_path: Path, frames) -> list[str]:
    if name == "build":
        return ["build", "--replace", "--scale", "0.005", "--seed", "11"]
    if name == "load":
        return ["load", str(_parquet_folder(tmp_path, shifted(frames, 1_000_000)))]
    if name == "import":
        return ["import", str(_generic_csv(tmp_path)), "--format", "generic"]
    return ["refresh"]


CASES = [
    ("build", "after_drop"),
    ("build", "after_load"),
    ("build", "after_copies"),
    ("build", "before_commit"),
    ("build", "before_swap"),
    ("load", "after_load"),
    ("load", "before_commit"),
    ("import", "after_copies"),
    ("refresh", "after_copies"),
    ("refresh", "before_swap"),
]


#: PostgreSQL commits in place: it has no swap step
KILLS = [
    pytest.param(b.values[0], w, s, marks=b.marks, id=f"{b.id}-{w}-{s}")
    for b in BACKENDS
    for w, s in CASES
    if s != "before_swap" or b.values[0] == "duckdb"
]


@pytest.mark.parametrize("url, writer, step", KILLS, indirect=["url"])
def test_kill_9_while_writing_changes_nothing(url, writer, step, tmp_path, frames):
    before = state(url)
    path = Path(url.removeprefix("duckdb:///")) if url.startswith("duckdb") else None
    stamp = FileStamp.of(path) if path else None

    proc = run_until_paused(_writer(writer, tmp_path, frames), url, step)
    try:
        if path is not None:  # serving while loading: readers answer from the served file
            assert state(url) == before
    finally:
        kill9(proc)

    assert state(url) == before
    if path is not None:
        assert FileStamp.of(path) == stamp  # the very same file
        leftover = path.with_name(path.name + TMP_SUFFIX)
        assert leftover.exists()  # the killed writer's copy
    assert_keys_enforced(url)  # a (failing) write: it cleans the leftover up
    if path is not None:
        assert not leftover.exists()
        with connect(url) as db:
            metrics.refresh(db)  # the next write goes through
        assert state(url).version.version == before.version.version + 1


def test_killed_writer_then_the_same_write_succeeds(url, tmp_path, frames):
    """After a kill, the write runs again to the end: nothing was left locked or half-made."""
    before = state(url)
    kill9(run_until_paused(_writer("build", tmp_path, frames), url, "before_commit"))
    args = _writer("build", tmp_path, frames)
    import subprocess

    done = subprocess.run([CLI, *args, "-d", url], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    after = state(url)
    assert after.version.version == before.version.version + 1
    assert after.counts != before.counts and after.digests == before.digests
    assert after.indexes == before.indexes


def test_failing_replace_keeps_everything(url, tmp_path, frames):
    """``load --replace`` of a folder with a bad row: one line that says nothing was changed."""
    import subprocess

    before = state(url)
    bad = dict(frames)
    items = bad["order_items"]
    bad["order_items"] = pa.concat_tables([items, items.slice(0, 1)])  # a duplicate key
    folder = _parquet_folder(tmp_path, bad)
    done = subprocess.run(
        [CLI, "load", str(folder), "--replace", "-d", url], capture_output=True, text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "replace failed, nothing was changed" in done.stderr
    assert "nothing was written" not in done.stderr
    assert state(url) == before
    assert_keys_enforced(url)
