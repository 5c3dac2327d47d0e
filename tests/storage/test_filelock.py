"""The one writer lock (storage/filelock.py) behind both the DuckDB file and the Spark lake."""

from __future__ import annotations

import os
import threading

import pytest

from sales_analytics.storage.errors import StorageError
from sales_analytics.storage.lake import Lake
from sales_analytics.storage.swap import writer_lock


def _held_by_another_thread(lock_cm):
    """Start a thread holding ``lock_cm``; returns (release event, thread)."""
    holding, release = threading.Event(), threading.Event()

    def hold():
        with lock_cm:
            holding.set()
            release.wait(10)

    t = threading.Thread(target=hold)
    t.start()
    assert holding.wait(5)
    return release, t


@pytest.mark.parametrize("kind", ["duckdb", "lake"])
def test_a_second_writer_gets_one_line_naming_the_holder(tmp_path, kind):
    if kind == "duckdb":
        target = tmp_path / "shop.duckdb"

        def lock(timeout=300.0):
            return writer_lock(target, timeout)

        lock_file, what = tmp_path / "shop.duckdb.lock", str(target)
    else:
        lake = Lake(tmp_path / "lake")
        lock, lock_file, what = lake.writer, tmp_path / "lake" / "_lock", "the Spark lake"
    release, t = _held_by_another_thread(lock())
    try:
        assert lock_file.read_text() == str(os.getpid())
        with pytest.raises(StorageError) as err, lock(0.1):
            pass
    finally:
        release.set()
        t.join()
    message = str(err.value)
    assert "\n" not in message
    assert what in message and f"process {os.getpid()}" in message
    assert message.endswith("waited 0.1 s: nothing was changed, try again later")
    with lock(0.1):  # free again once the holder let go
        pass
