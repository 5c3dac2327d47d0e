"""The metric tests of ``test_metrics.py`` rerun on ibis' PySpark backend (Spark local mode).

Needs the optional ``spark`` extra (``pip install -e '.[spark]'``) and Java 17. The small data set is
written to Parquet with microsecond timestamps and registered as Spark views; a tiny adapter exposes
``.table(name)``, which is all the metrics use.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow.parquet as pq
import pytest

from tests.spark_required import require_pyspark

from . import test_contract, test_metrics

pytestmark = pytest.mark.spark

require_pyspark()


class SparkDatabase:
    """A ``Database`` stand-in over an ibis PySpark backend: ``table``, ``ibis`` and ``kind``."""

    kind = "spark"

    def __init__(self, backend) -> None:
        self.ibis = backend

    def table(self, name: str):
        return self.ibis.table(name)


@pytest.fixture(scope="module")
def loaded_db(small_frames, tmp_path_factory) -> Iterator[SparkDatabase]:
    import ibis
    from pyspark.sql import SparkSession

    root = tmp_path_factory.mktemp("spark")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("sales-analytics-tests")
        .config("spark.sql.warehouse.dir", str(root / "warehouse"))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={root / 'derby'}")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    backend = ibis.pyspark.connect(session)
    for name, tbl in small_frames.items():
        path = root / f"{name}.parquet"
        pq.write_table(tbl, path, coerce_timestamps="us", allow_truncated_timestamps=False)
        backend.read_parquet(str(path), table_name=name)
    yield SparkDatabase(backend)
    session.stop()


class TestMetricsSpark(test_metrics.TestMetrics):
    """Same bodies as on DuckDB and PostgreSQL."""


@pytest.mark.parametrize("name", test_contract.NAMES)
def test_declared_columns_and_dtypes(loaded_db, name):
    """The catalogue's contract on PySpark (materialized copies do not exist there: all live)."""
    test_contract.check_declared(loaded_db, name)
