"""The generator in blocks of customers: the same shop per seed, valid keys across blocks, Parquet
files written block by block (and left alone by a failed run)."""

from __future__ import annotations

import io
import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from sales_analytics.storage import TABLES
from sales_analytics.synth import generate, stream
from sales_analytics.synth.files import write_parquet


def ipc_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()

BLOCK = 150  # customers per block: scale 0.1 (500 customers) in four blocks


def concat(shop) -> tuple[dict[str, pa.Table], pa.Table, list[int]]:
    parts: dict[str, list[pa.Table]] = {}
    truths, sizes = [], []
    for block in shop.blocks():
        sizes.append(block.tables["customers"].num_rows)
        for name, table in block.tables.items():
            parts.setdefault(name, []).append(table)
        truths.append(block.truth)
    tables = {k: pa.concat_tables(v).combine_chunks() for k, v in parts.items()}
    return tables, pa.concat_tables(truths).combine_chunks(), sizes


@pytest.fixture(scope="module")
def blocks():
    return concat(stream(0.1, seed=5, block_customers=BLOCK))


def test_blocks_cover_every_customer_once(blocks):
    tables, truth, sizes = blocks
    assert sizes == [150, 150, 150, 50]
    assert set(tables) == {"customers", "products", "orders", "order_items", "refunds",
                           "shop_settings"}
    for name, table in tables.items():
        assert table.schema.equals(TABLES[name]), name
    ids = tables["customers"]["customer_id"].to_numpy()
    assert (ids == np.arange(1, 501)).all()
    assert (truth["customer_id"].to_numpy() == ids).all()


def test_keys_and_references_across_blocks(blocks):
    tables, truth, _ = blocks
    orders, items = tables["orders"], tables["order_items"]
    n_orders, n_items = orders.num_rows, items.num_rows
    assert (orders["order_id"].to_numpy() == np.arange(1, n_orders + 1)).all()
    assert (items["order_item_id"].to_numpy() == np.arange(1, n_items + 1)).all()
    assert pc.all(pc.is_in(items["order_id"], orders["order_id"])).as_py()
    assert pc.all(pc.is_in(items["product_id"], tables["products"]["product_id"])).as_py()
    # every block's customers place their own orders, chronological within the block
    per_customer = np.bincount(orders["customer_id"].to_numpy(), minlength=501)[1:]
    assert (per_customer == truth["orders"].to_numpy()).all()
    emails = tables["customers"]["email"]
    assert pc.count_distinct(emails).as_py() == emails.length()


def test_same_seed_same_blocks_other_block_size_other_data(blocks):
    again, truth, _ = concat(stream(0.1, seed=5, block_customers=BLOCK))
    for name in again:
        assert ipc_bytes(again[name]) == ipc_bytes(blocks[0][name]), name
    assert ipc_bytes(truth) == ipc_bytes(blocks[1])
    one = generate(0.1, seed=5)  # one block: the generator as it was before it streamed
    assert ipc_bytes(one.tables["products"]) == ipc_bytes(blocks[0]["products"])
    assert ipc_bytes(one.tables["orders"]) != ipc_bytes(blocks[0]["orders"])


def test_a_stream_is_read_once():
    shop = stream(0.01, seed=1)
    assert len(list(shop.blocks())) == 1
    with pytest.raises(RuntimeError, match="read once"):
        next(shop.blocks())


def test_parquet_written_block_by_block(tmp_path, blocks):
    shop = stream(0.1, seed=5, block_customers=BLOCK)
    counts = write_parquet(shop, tmp_path)
    tables = blocks[0]
    assert counts == {name: t.num_rows for name, t in tables.items()}
    for name, table in tables.items():
        f = pq.ParquetFile(tmp_path / f"{name}.parquet")
        assert f.read().equals(table), name
    assert pq.ParquetFile(tmp_path / "orders.parquet").num_row_groups == 4  # one per block
    assert pq.read_table(tmp_path / "truth.parquet").equals(blocks[1])
    doc = json.loads((tmp_path / "params.json").read_text())
    assert doc["seed"] == 5 and doc["scale"] == 0.1 and doc["end"] == "2025-12-31"


def test_failed_generation_leaves_earlier_files(tmp_path, monkeypatch):
    write_parquet(stream(0.02, seed=1), tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    shop = stream(0.1, seed=2, block_customers=BLOCK)
    calls = []

    def fail_on_third(block):
        calls.append(block.index)
        if block.index == 2:
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_parquet(shop, tmp_path, on_block=fail_on_third)
    assert calls == [0, 1, 2]
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
