"""Spark as a database: ``spark:///PATH`` (local session) or ``spark://HOST:PORT/PATH`` (a cluster).

A :class:`SparkDatabase` is a :class:`~sales_analytics.storage.connection.Database` whose tables
are Parquet files of a lake (:mod:`~sales_analytics.storage.lake`), served through an ibis PySpark
backend: each table and materialized copy of the served version is a temporary view of the
Database's own Spark session (``SparkSession.newSession()``: one JVM and SparkContext per process,
views per Database). Metrics run on it through the catalogue like on DuckDB and PostgreSQL.

A write (:meth:`SparkDatabase.write`, the one write, like ``Database.write``) makes a new version:
the previous version's table files linked in (append) or not (replace), the new rows written and
every constraint of the schema checked on the driver (:mod:`~sales_analytics.storage.lake_write`;
orders and order_items partitioned by the month of the order), the materialized copies built
there too from their DuckDB compilation (at scale 10 in 7 s where Spark ``local[2]`` took 66 s;
the same rows, tested), the meta file written, and then the ``_current`` pointer replaced
atomically. A failure or a kill at any step serves the previous version unchanged. Writes run
on the driver; reads (every metric, model and page) run on Spark.

pyspark is the optional ``spark`` extra and needs Java 17: without them, one line says so.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from sales_analytics.storage import shop
from sales_analytics.storage.connection import Database, DataVersion
from sales_analytics.storage.errors import StorageError, first_line
from sales_analytics.storage.faults import pauser
from sales_analytics.storage.lake import MONTH, Lake, Meta
from sales_analytics.storage.lake_write import PARTITIONED, write_tables
from sales_analytics.storage.load import FAILED, Frames, _conform
from sales_analytics.storage.schema import SETTINGS_TABLE, TABLES

MISSING_EXTRA = (
    "Spark needs the optional `spark` extra (pyspark) and Java 17: "
    "pip install 'sales-analytics[spark]'"
)
#: default Spark settings (an URL option ``spark.x=y`` overrides)
DEFAULT_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "8",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
}

_SESSION_LOCK = threading.Lock()


def session(master: str, conf: Mapping[str, str] = ()) -> Any:
    """The process' Spark session (made once; ``master`` and ``conf`` apply when it is made)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise StorageError(MISSING_EXTRA) from None
    with _SESSION_LOCK:
        active = SparkSession.getActiveSession()
        if active is not None:
            return active
        builder = SparkSession.builder.master(master).appName("sales-analytics")
        if master.startswith("local"):  # the Python workers run this interpreter (its packages)
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        for key, value in (DEFAULT_CONF | dict(conf)).items():
            builder = builder.config(key, value)
        try:
            spark = builder.getOrCreate()
        except Exception as exc:  # noqa: BLE001 - the JVM did not start
            if "JAVA_GATEWAY" in str(exc) or "Java gateway" in str(exc):
                raise StorageError(f"{MISSING_EXTRA} (Java did not start)") from None
            raise StorageError(f"cannot start Spark ({master}): {first_line(exc)}") from None
        spark.sparkContext.setLogLevel("ERROR")
        # pyspark logs every failed statement with its Java stack; the error itself reaches the
        # caller as an exception (one line at the CLI)
        logging.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
        return spark


def stop() -> None:
    """Stop the process' Spark session (tests, benchmarks; the CLI just exits)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        return
    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()


def spark_schema(name: str):
    """The Spark schema of table ``name`` (its Arrow schema; timestamps without time zone)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(TABLES[name], prefer_timestamp_ntz=True)


def read_table(spark, folder: Path, name: str):
    """Table ``name`` of the version in ``folder`` as a DataFrame (its declared columns)."""
    from pyspark.sql.types import StringType, StructField

    schema = spark_schema(name)
    path = folder / name
    if name in PARTITIONED and any(p.name.startswith(f"{MONTH}=") for p in path.iterdir()):
        schema = schema.add(StructField(MONTH, StringType()))
        df = spark.read.schema(schema).option("basePath", str(path)).parquet(str(path))
        return df.drop(MONTH)
    return spark.read.schema(schema).parquet(str(path))


class SparkDatabase(Database):
    """A Spark lake behind the ``Database`` interface (see the module docstring)."""

    def __init__(self, url, parsed, backend, *, read_only: bool = False, cursor_of=None):
        super().__init__(url, parsed, backend, read_only=read_only, cursor_of=cursor_of)
        self.lake = Lake(parsed.path)
        self.write_lock_timeout = 300.0
        self._served: str | None = None
        self._meta = Meta()
        self._views: set[str] = set()
        self.reopen()

    # ------------------------------------------------------------------ basics
    @property
    def raw(self):
        """The Database's Spark session."""
        return self.ibis._session

    @property
    def path(self) -> Path:
        return self.lake.root

    def cursor(self) -> Database:
        return self  # a Spark session serves many threads at once

    def close(self) -> None:
        """Drop this Database's views (the process' Spark session stays: see :func:`stop`)."""
        for name in self._views:
            self.raw.catalog.dropTempView(name)
        self._views = set()

    def transaction(self):
        raise StorageError("a Spark lake has no SQL transactions: write with Database.write")

    def query(self, sql: str, params: tuple | list | None = None) -> list[tuple]:
        if params:
            raise StorageError("a Spark lake takes no bound parameters")
        return [tuple(row) for row in self.raw.sql(sql).collect()]

    def existing_tables(self) -> set[str]:
        return set(self._meta.counts) | set(self._meta.materialized)

    def counts(self) -> dict[str, int]:
        return {name: int(self._meta.counts.get(name, 0)) for name in TABLES}

    def shop_settings(self):
        """The lake's ``shop_settings`` row, else the configured defaults (no failing query:
        pyspark logs every failed statement with its Java stack)."""
        if SETTINGS_TABLE not in getattr(self, "_views", ()) or not self._meta.counts.get(
            SETTINGS_TABLE
        ):
            return shop.ShopSettings.defaults()
        return super().shop_settings()

    def materialized_digests(self) -> dict[str, str]:
        return dict(self._meta.materialized)

    def map_groups(
        self, sql: str, fn: Callable, schema: pa.Schema, *, by: str, groups: int | None = None
    ) -> pa.Table:
        """Run ``fn(pandas frame) -> pandas frame`` on Spark's executors over the rows of ``sql``
        split into ``groups`` buckets by the hash of column ``by`` (all rows of one ``by`` value in
        one call: groupBy(bucket).applyInPandas); returns the results (``schema``) as Arrow.
        ``fn`` travels to the executors pickled, with what it closes over (fitted parameters,
        never a database connection); the executors need this package installed."""
        from pyspark.sql import functions as F
        from pyspark.sql.pandas.types import from_arrow_schema

        spark = self.raw
        n = groups or max(2, 2 * spark.sparkContext.defaultParallelism)
        bucket = "_sa_bucket"
        df = spark.sql(sql).withColumn(bucket, F.expr(f"pmod(hash({by}), {int(n)})"))

        def run(frame):
            return fn(frame.drop(columns=[bucket]))

        out = df.groupBy(bucket).applyInPandas(run, schema=from_arrow_schema(schema))
        return out.toArrow().cast(schema)

    # ------------------------------------------------------------------ versions
    def data_version(self) -> DataVersion | None:
        if not self._meta.version or self._meta.committed_at is None:
            return None
        at = datetime.fromisoformat(self._meta.committed_at).replace(tzinfo=UTC)
        return DataVersion(self._meta.version, at)

    def changed_on_disk(self) -> bool:
        return self.lake.current_name() != self._served

    def reopen(self) -> None:
        """Serve the lake's current version: its tables and copies as this session's views."""
        folder = self.lake.current()
        meta = self.lake.meta(folder)
        views = set(meta.counts) | set(meta.materialized) if folder is not None else set()
        spark = self.raw
        for name in self._views - views:
            spark.catalog.dropTempView(name)
        for name in views:
            _view(spark, folder, name)
        self._views, self._meta = views, meta
        self._served = folder.name if folder is not None else None
        shop.note(self.shop_settings())

    # ------------------------------------------------------------------ schema
    def drop_all(self) -> None:
        self.write({}, replace=True, create=False)

    def create_schema(self, replace: bool = False) -> None:
        if replace or not self.has_schema():
            self.write({}, replace=True, kind="replace" if replace else "create")

    def refresh(self, copies) -> None:
        self.write({}, materialize=copies, kind="refresh")

    # ------------------------------------------------------------------ writing
    def write(
        self,
        frames: Frames,
        *,
        replace: bool = False,
        materialize: Sequence[Any] | None = None,
        kind: str | None = None,
        create: bool = True,
        delete: Mapping[str, tuple[str, Any]] | None = None,
    ) -> dict[str, int]:
        """The one write (see ``Database.write``; one mapping of Arrow tables or an iterable of
        them, one block in memory at a time), as a new lake version switched in at the end."""
        blocks = [frames] if isinstance(frames, Mapping) else frames
        counts: dict[str, int] = {}

        def conformed():
            for block in blocks:
                unknown = set(block) - set(TABLES)
                if unknown:
                    raise StorageError(f"unknown table(s): {', '.join(sorted(unknown))}")
                ordered = [(name, _conform(name, block[name])) for name in TABLES if name in block]
                for name, table in ordered:
                    counts[name] = counts.get(name, 0) + table.num_rows
                yield ordered

        self._write(conformed(), replace, materialize, kind, create, delete)
        return {name: counts[name] for name in TABLES if name in counts}

    def write_files(
        self,
        files: Mapping[str, str | Path | Sequence[str | Path]],
        *,
        replace: bool = False,
        materialize: Sequence[Any] | None = None,
    ) -> dict[str, int]:
        """The one write from Parquet files (table -> a file, a folder or a list of them), read
        by the writer's DuckDB straight from disk (a scale-1000 shop never sits in memory). The
        files need the table's columns (more are ignored); types are cast to the schema. Returns
        rows added per table."""
        unknown = set(files) - set(TABLES)
        if unknown:
            raise StorageError(f"unknown table(s): {', '.join(sorted(unknown))}")
        block = []
        for name in (t for t in TABLES if t in files):
            given = files[name]
            paths = [given] if isinstance(given, (str, Path)) else list(given)
            block.append((name, [str(f) for p in paths for f in _parquet_files(Path(p))]))
        return self._write([block], replace, materialize, None, True)

    def _write(self, blocks, replace, materialize, kind, create, delete=None) -> dict[str, int]:
        kind = kind or ("replace" if replace else "load")
        if replace and not create:
            kind = "drop"
        failed = FAILED.get(kind, FAILED["load"])
        if self.read_only:
            raise StorageError(f"{self.display_url} was opened read-only: nothing was changed")
        pause = pauser()
        try:
            with self.lake.writer(self.write_lock_timeout):
                self.lake.collect()
                old = self.lake.current()
                before = self.lake.meta(old)
                folder = self.lake.new_version(before.version + 1)
                try:
                    added = _build_version(
                        old,
                        before,
                        folder,
                        blocks,
                        replace,
                        create,
                        materialize,
                        pause,
                        delete,
                    )
                    meta = added.pop("_meta")
                    meta.kind = kind
                    self.lake.commit(folder, meta, pause)
                    self.lake.collect()  # the new version and the previous one stay
                except BaseException:
                    self.lake.discard(folder)
                    raise
        except StorageError as exc:
            if str(exc).startswith(failed) or "another write" in str(exc):
                raise
            raise StorageError(f"{failed}: {exc}") from exc
        except Exception as exc:  # noqa: BLE001 - Spark or file errors: one line
            raise StorageError(f"{failed}: {first_line(exc)}") from exc
        self.reopen()
        from sales_analytics.metrics.source import forget

        forget(self)
        return added


def _parquet_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(path.rglob("*.parquet"))
    if not path.exists():
        raise StorageError(f"no Parquet file at {path}")
    return [path]


def _view(spark, folder: Path, name: str) -> None:
    if name in TABLES:
        df = read_table(spark, folder, name)
    else:
        df = spark.read.parquet(str(folder / name))
    df.createOrReplaceTempView(name)


def _build_version(old, before: Meta, folder: Path, blocks, replace, create,
                   materialize, pause, delete=None) -> dict:  # fmt: skip
    """Fill the new version ``folder``; returns rows added per table and ``_meta``."""
    tables = list(TABLES) if create else []
    if old is not None and not replace:
        Lake(folder.parent).link_tables(old, folder, [t for t in before.counts if t in TABLES])
        tables = sorted(set(tables) | set(before.counts), key=list(TABLES).index)
    if replace:
        pause("after_drop")
    copies = list(materialize or ())
    counts, added = write_tables(
        folder, blocks, tables, replace, before.counts, delete, copies, lambda: pause("after_load")
    )
    digests = {copy.name: copy.digest for copy in copies}
    pause("after_copies")
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    return dict(
        added,
        _meta=Meta(
            version=before.version + 1,
            committed_at=now,
            rows=sum(added.values()),
            counts=counts,
            materialized=digests,
            refreshed_at=now if digests else None,
        ),
    )
