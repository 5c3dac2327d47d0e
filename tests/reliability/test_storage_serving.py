"""Serving while loading on DuckDB: readers hold the file read-only while writers swap in new data.

A reader's open connection keeps answering from the file it opened (the old snapshot);
``changed_on_disk()`` tells it a write was swapped in, and a reopened reader sees the new data
version. Two writers queue on the writer lock (or one gives up with a clear message).
"""

from __future__ import annotations

import subprocess
import threading

import pytest

from sales_analytics import metrics
from sales_analytics.storage import StorageError, connect
from sales_analytics.storage.swap import writer_lock
from sales_analytics.synth import generate
from tests.storage.snapshot import CLI, shifted


@pytest.fixture(scope="module")
def frames():
    return generate(scale=0.005, seed=3).tables


@pytest.fixture
def url(tmp_path, frames) -> str:
    url = f"duckdb:///{tmp_path / 'served.duckdb'}"
    with connect(url) as db:
        metrics.load(db, frames, replace=True)
    return url


def test_reader_keeps_its_snapshot_while_a_write_swaps_in(url, frames):
    reader = connect(url, read_only=True)
    old_counts, old_version = reader.counts(), reader.data_version()
    assert not reader.changed_on_disk()

    # another process appends new customers, orders and items (the CLI's `load`)
    folder = reader.path.parent / "more"
    folder.mkdir()
    import pyarrow.parquet as pq

    for name, table in shifted(frames, 1_000_000).items():
        pq.write_table(table, folder / f"{name}.parquet")
    done = subprocess.run([CLI, "load", str(folder), "-d", url], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr

    assert reader.counts() == old_counts  # the old snapshot, still answering
    assert reader.data_version() == old_version
    assert metrics.kpis(reader)["orders"] > 0
    assert reader.changed_on_disk()

    fresh = connect(url, read_only=True)
    # the load appended a second copy of every table; the shop's settings stay one row
    assert fresh.counts() == {k: v if k == "shop_settings" else 2 * v for k, v in old_counts.items()}
    assert fresh.data_version().version == old_version.version + 1
    assert fresh.data_version().committed_at >= old_version.committed_at

    reader.reopen()  # the same Database, now on the new file
    assert reader.counts() == fresh.counts() and not reader.changed_on_disk()
    fresh.close()
    reader.close()


def test_writer_in_the_same_process_sees_its_write_and_others_keep_theirs(url, frames):
    reader = connect(url, read_only=True)
    writer = connect(url)
    before = reader.counts()
    metrics.load(writer, shifted(frames, 2_000_000))
    assert writer.counts()["orders"] == 2 * before["orders"]  # reattached to the new file
    assert reader.counts() == before and reader.changed_on_disk()
    assert not writer.changed_on_disk()
    writer.close()
    reader.close()


def test_read_only_connection_refuses_to_write(url):
    with connect(url, read_only=True) as db, pytest.raises(StorageError, match="read-only"):
        db.refresh([])


def test_a_second_writer_waits_for_the_lock_then_gives_up_clearly(url):
    with connect(url) as db:
        db.write_lock_timeout = 0.2
        holding = threading.Event()
        release = threading.Event()

        def hold():
            with writer_lock(db.path):
                holding.set()
                release.wait(10)

        t = threading.Thread(target=hold)
        t.start()
        holding.wait(5)
        try:
            with pytest.raises(StorageError, match="another write to .* is still running"):
                metrics.refresh(db)
        finally:
            release.set()
            t.join()
        version = db.data_version().version
        metrics.refresh(db)  # the lock is free again
        assert db.data_version().version == version + 1
