"""The Spark lake's writer (an in-memory DuckDB over a version's Parquet files), without Spark:
its memory bound, and the materialized copies it builds and checks."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sales_analytics.storage import StorageError
from sales_analytics.storage.dialects import DuckDBDialect
from sales_analytics.storage.lake_write import VersionWriter
from sales_analytics.storage.swap import WRITE_MEMORY_LIMIT


@dataclass
class _Copy:
    name: str
    duckdb_sql: str
    key: tuple[str, ...]
    sql: str = ""
    digest: str = ""
    indexed: tuple[str, ...] = ()


def _bytes(setting: str) -> float:
    number, unit = setting.split()
    return float(number) * {"MiB": 2**20, "GiB": 2**30, "MB": 1e6, "GB": 1e9}[unit]


def test_writer_memory_is_bounded_like_the_duckdb_file_writer(tmp_path):
    w = VersionWriter(tmp_path)
    try:
        limit = w.query("SELECT current_setting('memory_limit')")[0][0]
        assert _bytes(limit) == pytest.approx(
            _bytes(WRITE_MEMORY_LIMIT.replace("GB", " GB")), rel=0.1
        )
        assert w.query("SELECT current_setting('temp_directory')")[0][0].endswith("_spill")
    finally:
        w.close()
    assert not (tmp_path / "_spill").exists()


def test_copy_is_written_as_parquet_on_one_thread_and_its_key_checked(tmp_path):
    w = VersionWriter(tmp_path)
    try:
        w.con.register("src", pa.table({"k": [1, 2, 2, 3], "v": [1.5, 2.0, 3.0, 4.0]}))
        threads = w.query("SELECT current_setting('threads')")[0][0]
        w.copy(_Copy("mv_sum", "SELECT k, sum(v) AS total FROM src GROUP BY k", ("k",)))
        got = pq.read_table(tmp_path / "mv_sum" / "part.parquet").sort_by("k").to_pydict()
        assert got == {"k": [1, 2, 3], "total": [1.5, 5.0, 4.0]}
        assert w.query("SELECT current_setting('threads')")[0][0] == threads  # restored
        with pytest.raises(StorageError, match=r"mv_dup: 1 rows break its key \(k\)"):
            w.copy(_Copy("mv_dup", "SELECT k, v FROM src", ("k",)))
    finally:
        w.close()
    assert DuckDBDialect.copy_threads == 1
