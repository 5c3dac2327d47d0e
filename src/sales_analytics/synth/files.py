"""Writing a generated shop to Parquet block by block: memory stays bounded at any scale.

Each table (and ``truth``) is one Parquet file with one row group per block (or per million
rows). The files are written under temporary names and renamed only when every block is written,
so a failure leaves the files of an earlier run as they were.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from sales_analytics.synth.generator import Block, Stream

PART = ".part"


def params_doc(shop) -> dict:
    """What ``params.json`` holds: the seed, scale, window and the true process parameters."""
    return {
        "seed": shop.seed,
        "scale": shop.scale,
        "start": shop.start.isoformat(),
        "end": shop.end.isoformat(),
        "time_unit": "operational day (see synth/generator.py)",
        "params": shop.params,
    }


class ParquetSink:
    """Parquet writers by name: ``write(name, table)`` appends a row group; ``commit()`` closes
    them and renames ``<name>.parquet.part`` to ``<name>.parquet``; ``abort()`` removes them."""

    def __init__(self, out: Path):
        self.out = out
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.rows: dict[str, int] = {}

    def write(self, name: str, table: pa.Table) -> None:
        writer = self.writers.get(name)
        if writer is None:
            self.out.mkdir(parents=True, exist_ok=True)
            path = self.out / f"{name}.parquet{PART}"
            writer = self.writers[name] = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
        self.rows[name] = self.rows.get(name, 0) + table.num_rows

    def commit(self) -> None:
        for name, writer in self.writers.items():
            writer.close()
            os.replace(self.out / f"{name}.parquet{PART}", self.out / f"{name}.parquet")
        self.writers.clear()

    def abort(self) -> None:
        for name, writer in self.writers.items():
            writer.close()
            (self.out / f"{name}.parquet{PART}").unlink(missing_ok=True)
        self.writers.clear()


def write_parquet(
    shop: Stream, out: Path, on_block: Callable[[Block], None] | None = None
) -> dict[str, int]:
    """Write every block of ``shop`` to ``out/<table>.parquet`` and ``out/truth.parquet``, plus
    ``params.json``; returns rows per table. ``on_block`` is called after each block."""
    sink = ParquetSink(out)
    try:
        for block in shop.blocks():
            for name, table in block.tables.items():
                sink.write(name, table)
            sink.write("truth", block.truth)
            if on_block is not None:
                on_block(block)
        sink.commit()
    except BaseException:
        sink.abort()
        raise
    (out / "params.json").write_text(json.dumps(params_doc(shop), indent=2))
    return {k: v for k, v in sink.rows.items() if k != "truth"}


def tables_with_truth(shop: Stream, sink: ParquetSink) -> Iterator[dict[str, pa.Table]]:
    """The blocks' tables, for a load (``Database.write`` takes blocks), writing each block's
    truth to ``sink`` on the way (commit or abort it after the load)."""
    for block in shop.blocks():
        sink.write("truth", block.truth)
        yield block.tables
