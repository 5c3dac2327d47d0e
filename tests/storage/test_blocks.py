"""Writes in blocks: the streaming generator's blocks and Parquet files read a batch at a time
are appended in ONE transaction; a failure in any block leaves the previous data as it was."""

from __future__ import annotations

import pyarrow as pa
import pytest

from sales_analytics import metrics
from sales_analytics.storage import StorageError, connect
from sales_analytics.storage.parquet import read_blocks
from sales_analytics.synth import stream
from sales_analytics.synth.files import write_parquet
from tests.storage.snapshot import index_names, state

BLOCK = 60  # customers per block: scale 0.04 (200 customers) in four blocks


def shop():
    return stream(0.04, seed=9, block_customers=BLOCK)


def test_blocks_load_in_one_transaction(backend_url, tmp_path):
    with connect(backend_url) as db:
        counts = metrics.load(db, (b.tables for b in shop().blocks()), replace=True)
        assert counts == {name: n for name, n in db.counts().items() if name in counts}
        assert counts["customers"] == 200 and counts["order_items"] > 1000
        assert db.query("SELECT kind, rows FROM sa_data_version") == [
            ("replace", sum(counts.values()))
        ]
        kpis = metrics.kpis(db)
        indexes = index_names(db)
    # the same shop from Parquet files read 500 rows at a time: the same tables
    write_parquet(shop(), tmp_path)
    files = {n: tmp_path / f"{n}.parquet" for n in counts}
    assert max(b[next(iter(b))].num_rows for b in read_blocks(files, 500)) == 500
    with connect(backend_url) as db:
        assert metrics.load(db, read_blocks(files, 500), replace=True) == counts
        assert metrics.kpis(db) == kpis
        assert index_names(db) == indexes  # checks dropped for the bulk load came back


def test_failure_in_a_later_block_changes_nothing(backend_url):
    with connect(backend_url) as db:
        metrics.load(db, (b.tables for b in stream(0.02, seed=1).blocks()), replace=True)
    before = state(backend_url)

    def broken():
        for block in shop().blocks():
            if block.index == 2:  # an order id that exists already: the key rejects it
                orders = block.tables["orders"]
                block.tables["orders"] = pa.concat_tables([orders, orders.slice(0, 1)])
            yield block.tables

    with connect(backend_url) as db, pytest.raises(StorageError) as err:
        metrics.load(db, broken(), replace=True)
    assert str(err.value).startswith("replace failed, nothing was changed")
    assert state(backend_url) == before

    def raising():
        yield from (b.tables for b in shop().blocks() if b.index < 2)
        raise OSError("generator stopped")

    with connect(backend_url) as db, pytest.raises(StorageError, match="generator stopped"):
        metrics.load(db, raising(), replace=True)
    assert state(backend_url) == before
