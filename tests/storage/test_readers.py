"""storage.ReadPool: borrow, statement timeout, a full pool, data version, health and the DuckDB
file swap, on each backend; ``Database.cursor()`` on DuckDB."""

from __future__ import annotations

import threading
import time

import pytest

from sales_analytics import metrics
from sales_analytics.storage import (
    PoolBusy,
    ReadPool,
    StatementTimeout,
    StorageError,
    connect,
)

#: A statement that runs for many seconds on either backend (cancelled long before).
SLOW = {
    "duckdb": "SELECT sum(i * i) FROM range(20000000000) t(i)",
    "postgres": "SELECT pg_sleep(30)",
}


@pytest.fixture
def pool(loaded_db):
    with ReadPool(loaded_db.url, size=2, statement_timeout=5) as p:
        yield p


def test_borrow_lends_a_read_only_database(pool, loaded_db):
    assert pool.kind == loaded_db.kind and pool.has_schema()
    with pool.borrow() as db:
        assert db.query("SELECT 1") == [(1,)]
        assert db.table("orders").count().execute() == loaded_db.counts()["orders"]
        with pytest.raises(StorageError, match="read-only"):
            db.execute("DELETE FROM orders")
    with pool.borrow() as again:  # the same wrapper comes back (per-source caches survive)
        assert again is db


def test_two_borrows_at_once_each_get_their_own_connection(pool):
    with pool.borrow() as a, pool.borrow() as b:
        assert a is not b and a.raw is not b.raw
        assert (a.query("SELECT 1"), b.query("SELECT 2")) == ([(1,)], [(2,)])


def test_statement_timeout_is_a_one_line_storage_error(pool):
    started = time.monotonic()
    with pytest.raises(StatementTimeout, match=r"longer than the 0\.5 s statement timeout") as err:
        with pool.borrow(timeout=0.5) as db:
            db.query(SLOW[pool.kind])
    assert time.monotonic() - started < 3
    assert "\n" not in str(err.value) and isinstance(err.value, StorageError)
    with pool.borrow() as db:  # the connection is still good, with the usual timeout
        assert db.query("SELECT 1") == [(1,)]


def test_a_full_pool_is_pool_busy_after_the_wait(pool):
    held, release = threading.Barrier(3), threading.Event()

    def hold() -> None:
        with pool.borrow() as db:
            db.query("SELECT 1")
            held.wait(5)
            release.wait(5)

    threads = [threading.Thread(target=hold) for _ in range(2)]
    for t in threads:
        t.start()
    held.wait(5)
    try:
        started = time.monotonic()
        with pytest.raises(PoolBusy, match="all 2 database"), pool.borrow(wait=0.3):
            pass
        assert 0.25 < time.monotonic() - started < 2
        report = pool.health(0.3)
        assert report.status == "degraded" and "stayed busy" in report.detail
    finally:
        release.set()
        for t in threads:
            t.join(5)
    assert pool.health(2).ok


def test_health_and_data_version(pool, loaded_db):
    report = pool.health(2)
    assert report.ok and report.detail is None
    assert report.version == loaded_db.data_version() == pool.data_version()


def test_a_new_version_is_seen_after_a_write(db, backend_url):
    with ReadPool(backend_url, size=2, statement_timeout=5) as pool:
        assert pool.data_version() is None and pool.has_schema()
        metrics.refresh(db)  # a committed write (DuckDB: a new file swapped in)
        time.sleep(0.3)  # a DuckDB pool looks for a swapped file at most every 0.25 s
        assert pool.data_version().version == 1
        assert pool.health(2).version.version == 1


def test_unreachable_or_missing_database_is_a_storage_error(tmp_path):
    started = time.monotonic()
    with pytest.raises(StorageError, match="cannot connect to PostgreSQL at 127.0.0.1:1/shop"):
        ReadPool("postgresql://postgres:secret@127.0.0.1:1/shop", statement_timeout=5)
    assert time.monotonic() - started < 3
    with pytest.raises(StorageError, match="no DuckDB database at"):
        ReadPool(f"duckdb:///{tmp_path / 'missing.duckdb'}", statement_timeout=5)
    assert not (tmp_path / "missing.duckdb").exists()
    with pytest.raises(ValueError, match="size"):
        ReadPool("duckdb://", size=0, statement_timeout=1)


def test_duckdb_cursor_shares_the_file(loaded_db, tmp_path):
    if loaded_db.kind != "duckdb":
        with pytest.raises(StorageError, match="for DuckDB"):
            loaded_db.cursor()
        return
    root = connect(loaded_db.url, read_only=True)
    try:
        a, b = root.cursor(), root.cursor()
        assert a.read_only and a.is_file and not a.changed_on_disk()
        assert a.counts() == b.counts() == root.counts()
        with pytest.raises(StorageError, match="reopen"):
            a.reopen()
        a.close()
        assert b.counts() == root.counts()  # closing a cursor leaves the others
    finally:
        root.close()
