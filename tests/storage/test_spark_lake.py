"""Spark as an engine behind DATABASE_URL (``spark:///PATH``): same answers as DuckDB, safe writes.

One local Spark session (``local[2]``) for the module: the shop is built once in a DuckDB file and
in a Spark lake, every public catalogue metric is compared, then appends, rejected rows, readers
during a write, a failure at every step of a write and a ``kill -9`` of the real CLI.
"""

from __future__ import annotations

import math
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from sales_analytics import metrics
from sales_analytics.cli import app
from sales_analytics.metrics import Filters
from sales_analytics.storage import StorageError, connect, parse_url
from sales_analytics.synth import generate
from tests.spark_required import require_pyspark
from tests.storage.snapshot import kill9, run_until_paused, shifted

pytestmark = pytest.mark.spark

require_pyspark()

OPTIONS = "?master=local[2]&spark.sql.shuffle.partitions=2"


def lake_url(path: Path) -> str:
    return f"spark:///{path}{OPTIONS}"  # spark:////abs/path: an absolute folder


@pytest.fixture(scope="module")
def frames():
    return generate(scale=0.03, seed=9).tables


@pytest.fixture(scope="module")
def shop(tmp_path_factory, frames):
    """(DuckDB url, Spark lake url), both holding ``frames`` with their copies."""
    root = tmp_path_factory.mktemp("engines")
    duck, spark = f"duckdb:///{root / 'shop.duckdb'}", lake_url(root / "lake")
    for url in (duck, spark):
        with connect(url) as db:
            metrics.load(db, frames, replace=True)
    yield duck, spark
    from sales_analytics.storage.spark import stop

    stop()


def _same(a: pd.DataFrame, b: pd.DataFrame, name: str) -> None:
    assert list(a.columns) == list(b.columns), name
    assert len(a) == len(b), name
    a, b = a.reset_index(drop=True), b.reset_index(drop=True)
    keys = [c for c in a.columns if a[c].dtype == object or "int" in str(a[c].dtype)]
    if keys:  # ties in the declared order may come out in another order
        a = a.sort_values(keys, kind="stable").reset_index(drop=True)
        b = b.sort_values(keys, kind="stable").reset_index(drop=True)
    for col in a.columns:
        x, y = a[col], b[col]
        if pd.api.types.is_numeric_dtype(x) and pd.api.types.is_numeric_dtype(y):
            assert all(
                (pd.isna(u) and pd.isna(v))
                or math.isclose(float(u), float(v), rel_tol=1e-9, abs_tol=1e-9)
                for u, v in zip(x, y, strict=True)
            ), f"{name}.{col}"
        else:
            assert [None if pd.isna(u) else u for u in x] == [
                None if pd.isna(v) else v for v in y
            ], f"{name}.{col}"


def test_every_public_metric_same_as_duckdb(shop):
    duck, spark = shop
    names = [m.name for m in metrics.public() if not any(p.required for p in m.params)]
    window = Filters(start=date(2024, 3, 1), end=date(2025, 2, 28), countries=("Germany", "France"))
    with connect(duck, read_only=True) as d, connect(spark, read_only=True) as s:
        assert s.kind == "spark" and s.has_schema()
        assert s.counts() == d.counts()
        assert set(s.materialized_digests()) == set(d.materialized_digests())
        for name in names:
            _same(metrics.compute(d, name), metrics.compute(s, name), name)
        for name in ("kpis", "revenue", "category_rollup"):  # filtered: the live expressions
            _same(metrics.compute(d, name, window), metrics.compute(s, name, window), name)


def test_copies_built_by_the_writer_equal_spark_own(shop):
    """The lake's copies are built by the writer's DuckDB from each definition's DuckDB
    compilation: every one holds the rows Spark computes from the Spark compilation."""
    from sales_analytics.metrics.run import definitions

    with connect(shop[1], read_only=True) as s:
        defs = definitions(s)
        assert len(defs) >= 10 and set(s.materialized_digests()) == {d.name for d in defs}
        for d in defs:
            stored = s.raw.sql(f"SELECT * FROM {d.name}").toPandas()
            computed = s.raw.sql(d.sql).toPandas()
            assert len(stored) > 0, d.name
            _same(stored, computed, d.name)


def test_refresh_rebuilds_the_copies_in_a_new_version(frames, tmp_path):
    url = lake_url(tmp_path / "lake")
    with connect(url) as db:
        metrics.load(db, frames, replace=True)
        before, digests = db.data_version().version, db.materialized_digests()
        old = db.lake.current()
        names = metrics.refresh(db)
        assert set(names) == set(digests) and db.materialized_digests() == digests
        assert db.data_version().version == before + 1 and db.lake.current() != old
        assert (old / "mv_daily_units").is_dir()  # the previous version stays for its readers
        assert db.counts()["orders"] == frames["orders"].num_rows
        kpis = metrics.compute(db, "kpis")
    with connect(lake_url(tmp_path / "lake"), read_only=True) as again:
        _same(kpis, metrics.compute(again, "kpis"), "kpis")


def test_cli_info_and_analyze(shop, tmp_path):
    _, spark = shop
    runner = CliRunner()
    info = runner.invoke(app, ["info", "-d", spark], env={"COLUMNS": "200"})
    assert info.exit_code == 0, info.output
    assert "spark:" in info.output and "Data version" in info.output
    out = tmp_path / "analysis"
    result = runner.invoke(
        app, ["analyze", "-d", spark, "--out", str(out), "--metric", "kpis", "--metric", "revenue"]
    )
    assert result.exit_code == 0, result.output
    assert (out / "kpis.parquet").is_file()


def test_append_reject_and_readers(shop, frames, tmp_path):
    """Append in a new version (a reader keeps its own until it reopens); broken keys and
    foreign keys are rejected in one line and change nothing."""
    _, spark = shop
    url = lake_url(tmp_path / "lake")
    more = shifted(frames, 1_000_000)
    with connect(url) as db:
        db.load(frames)
        first = db.data_version()
        reader = connect(url, read_only=True)
        db.load(more)
        assert db.counts()["orders"] == 2 * frames["orders"].num_rows
        assert db.data_version().version == first.version + 1
        assert reader.changed_on_disk()
        assert reader.counts()["orders"] == frames["orders"].num_rows  # its snapshot
        assert reader.query("SELECT count(*) FROM orders")[0][0] == frames["orders"].num_rows
        reader.reopen()
        assert reader.query("SELECT count(*) FROM orders")[0][0] == 2 * frames["orders"].num_rows
        before = db.data_version()
        with pytest.raises(
            StorageError, match=r"nothing was written: customers: 1 rows break PRIMARY KEY"
        ):
            db.load({"customers": frames["customers"].slice(0, 1)})
        orphan = shifted({"order_items": frames["order_items"].slice(0, 2)}, 5_000_000)
        with pytest.raises(
            StorageError, match=r"order_items: 2 rows break FOREIGN KEY \(order_id\)"
        ):
            db.load(orphan)
        assert db.data_version() == before
        assert len([p for p in (tmp_path / "lake").glob("v*") if p.is_dir()]) <= 2
        # an import's upsert: the rows of changed orders deleted and written again
        import pyarrow as pa
        import pyarrow.compute as pc

        keys = frames["orders"]["order_id"].slice(0, 3)
        orders = frames["orders"].filter(pc.is_in(frames["orders"]["order_id"], keys))
        orders = orders.set_column(
            orders.column_names.index("status"), "status", pa.array(["returned"] * 3)
        )
        items = frames["order_items"].filter(pc.is_in(frames["order_items"]["order_id"], keys))
        counts = db.counts()
        db.write(
            {"orders": orders, "order_items": items},
            delete={"order_items": ("order_id", keys), "orders": ("order_id", keys)},
        )
        assert db.counts() == counts
        listed = ", ".join(str(k) for k in keys.to_pylist())
        statuses = db.query(f"SELECT DISTINCT status FROM orders WHERE order_id IN ({listed})")
        assert statuses == [("returned",)]
        reader.close()


@pytest.mark.parametrize(
    "step", ["after_drop", "after_load", "after_copies", "before_commit", "before_swap"]
)
def test_failure_at_every_step_changes_nothing(shop, frames, tmp_path, monkeypatch, step):
    from sales_analytics.storage import spark as spark_mod

    url = lake_url(tmp_path / "lake")
    with connect(url) as db:
        db.load(frames)
        served, version, counts = db.lake.current_name(), db.data_version(), db.counts()

        def pause(at: str) -> None:
            if at == step:
                raise RuntimeError(f"failure at {at}")

        monkeypatch.setattr(spark_mod, "pauser", lambda: pause)
        with pytest.raises(StorageError, match="nothing was"):
            db.write(shifted(frames, 1_000_000), replace=step == "after_drop")
        assert db.lake.current_name() == served and db.data_version() == version
        assert db.counts() == counts
        assert db.query("SELECT count(*) FROM orders")[0][0] == counts["orders"]
        assert {p.name for p in (tmp_path / "lake").glob("v*")} == {served}


def test_kill_cli_load_before_swap_then_import(shop, frames, tmp_path):
    """``kill -9`` of the real ``load`` after everything but the pointer switch: the lake
    serves the old version; the next write removes the leftover. Then ``import`` of a CSV."""
    url = lake_url(tmp_path / "lake")
    with connect(url) as db:
        metrics.load(db, frames)
        served, version = db.lake.current_name(), db.data_version()
    folder = tmp_path / "more"
    folder.mkdir()
    for name, table in shifted(frames, 1_000_000).items():
        pq.write_table(table, folder / f"{name}.parquet")
    proc = run_until_paused(["load", str(folder)], url, "before_swap", timeout=600)
    kill9(proc)
    with connect(url) as db:
        assert db.lake.current_name() == served and db.data_version() == version
        assert db.counts()["orders"] == frames["orders"].num_rows
        assert len(list((tmp_path / "lake").glob("v*"))) == 3  # served, previous, leftover
        db.load({"customers": shifted({"customers": frames["customers"]}, 9_000_000)["customers"]})
        assert len(list((tmp_path / "lake").glob("v*"))) == 2  # leftover gone, previous kept
        orders = db.counts()["orders"]
    export = tmp_path / "export.csv"  # `import` of a shop's own export (generic format)
    export.write_text(
        "order_id,customer_id,order_date,product_id,quantity,unit_price\n"
        "X-900001,C-900001,2024-05-01,P-900001,1,9.99\n"
        "X-900001,C-900001,2024-05-01,P-900002,2,5.00\n"
        "X-900002,C-900002,2024-05-02,P-900001,1,9.99\n"
    )
    result = CliRunner().invoke(app, ["import", str(export), "--format", "generic", "-d", url])
    assert result.exit_code == 0, result.output
    with connect(url, read_only=True) as db:
        assert db.counts()["orders"] == orders + 2
        assert set(db.materialized_digests()) == {d.name for d in metrics.definitions(db)}


def test_urls_and_missing_lake(tmp_path):
    local = parse_url("spark:////data/lake?master=local[2]&spark.sql.shuffle.partitions=4")
    assert (local.kind, local.path, local.host) == ("spark", "/data/lake", "local[2]")
    assert dict(local.options) == {"spark.sql.shuffle.partitions": "4"}
    assert parse_url("spark:///rel/lake").path == "rel/lake"
    cluster = parse_url("spark://master.example:7077/shared/lake")
    assert (cluster.host, cluster.path) == ("spark://master.example:7077", "/shared/lake")
    with pytest.raises(StorageError, match="no Spark lake at"):
        connect(lake_url(tmp_path / "nothing"), read_only=True)
    assert not (tmp_path / "nothing").exists()


def test_missing_pyspark_is_one_line(monkeypatch):
    from sales_analytics.storage.spark import MISSING_EXTRA, session

    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(StorageError) as err:
        session("local[1]")
    assert str(err.value) == MISSING_EXTRA and "\n" not in str(err.value)


def test_clv_scores_on_spark_equal_local(shop):
    """CLV scores computed on Spark's executors (applyInPandas with the fitted parameters) equal
    the local scores of the same fitted model, customer for customer."""
    from sales_analytics.models.clv import CLVModel
    from sales_analytics.models.data import transactions
    from sales_analytics.models.distributed import score_clv

    duck, spark = shop
    with connect(duck, read_only=True) as d:
        tx = transactions(d)
    clv = CLVModel({"regressor": False, "candidates": ("bgnbd",), "interval_draws": 20}).fit(tx)
    local_clv = clv.score_summary(clv.rfm_).sort_values("customer_id").reset_index(drop=True)
    with connect(spark, read_only=True) as s:
        remote_clv = score_clv(s, clv, groups=3)
    assert len(remote_clv) == len(local_clv) > 50
    _same(local_clv, remote_clv, "clv")
    with connect(duck, read_only=True) as d, pytest.raises(ValueError, match="needs a Spark lake"):
        score_clv(d, clv)


def test_churn_and_action_lists_on_spark_equal_local(shop, tmp_path):
    """Churn risk, CLV on the current orders and the three action lists scored on Spark's
    executors (two passes of applyInPandas: summaries, then features and the fitted forest) equal
    the local predictions row for row; `predict` on a spark:// URL writes the same CSV."""
    from sales_analytics.models.actions import action_lists
    from sales_analytics.models.churn import ChurnModel
    from sales_analytics.models.clv import CLVModel
    from sales_analytics.models.data import customer_contacts, transactions
    from sales_analytics.models.distributed import (
        action_lists_spark,
        score_churn,
        score_current_clv,
    )

    duck, spark = shop
    with connect(duck, read_only=True) as d:
        tx, returned = transactions(d), transactions(d, statuses=("returned",))
        contacts = customer_contacts(d)
    clv = CLVModel(
        {"candidates": ("bgnbd",), "interval_draws": 20, "regressor_config": {"n_estimators": 20}}
    ).fit(tx)
    churn = ChurnModel({"n_estimators": 30}).fit(tx, returns=returned)
    local_lists = action_lists(clv, churn, contacts, tx=tx, returns=returned)
    with connect(spark, read_only=True) as s:
        remote_churn = score_churn(s, churn, groups=3)
        remote_clv = score_current_clv(s, clv, groups=3)
        remote_lists = action_lists_spark(s, clv, churn, customer_contacts(s), groups=3)
    local_churn = churn.predict(tx, returns=returned)
    assert len(remote_churn) == len(local_churn) > 50
    assert list(remote_churn["customer_id"]) == list(local_churn["customer_id"])  # same ranking
    _same(local_churn, remote_churn, "churn")
    _same(clv.predict(tx), remote_clv, "clv")
    assert sum(map(len, local_lists.values())) > 10
    for name, frame in local_lists.items():
        assert list(remote_lists[name]["customer_id"]) == list(frame["customer_id"]), name
        _same(frame, remote_lists[name], name)
    models = tmp_path / "models"
    churn.save(models)
    clv.save(models)
    for url in (duck, spark):
        out = tmp_path / f"{url[:5]}.csv"
        args = ["predict", "--list", "win-back", "-d", url, "--models-dir", str(models)]
        result = CliRunner().invoke(app, [*args, "--out", str(out)])
        assert result.exit_code == 0, result.output
    assert (tmp_path / "spark.csv").read_text() == (tmp_path / "duckd.csv").read_text()


def test_read_pool_serves_the_lake(shop):
    """The API's ReadPool on a lake: health with the data version, answers equal DuckDB's."""
    from sales_analytics.storage import ReadPool

    duck, spark = shop
    with ReadPool(spark, size=2, statement_timeout=300) as pool:
        health = pool.health(300)
        assert health.ok, health.detail
        with pool.borrow() as db:
            assert health.version == db.data_version()
            remote = metrics.kpis(db)
    with connect(duck, read_only=True) as d:
        assert remote == metrics.kpis(d)


def test_demand_forecast_on_spark_equals_local(shop):
    """statsforecast's distributed (fugue) backend on the lake's Spark session: the same model per
    SKU, the same backtest errors and forecasts as locally (the backend returns float32)."""
    import numpy as np

    from sales_analytics.models.demand import forecast_demand
    from sales_analytics.models.distributed import forecast_demand_spark

    rng = np.random.default_rng(3)
    weeks = pd.date_range("2024-01-01", periods=30, freq="W-MON")
    frame = pd.concat(
        [pd.DataFrame({"unique_id": u, "ds": weeks, "y": rng.poisson(lam, 30).astype(float)})
         for u, lam in ((101, 0.3), (102, 2.0), (103, 6.0))]
        + [pd.DataFrame({"unique_id": 104, "ds": weeks[-6:], "y": [0, 1, 0, 0, 2, 1.0]})]
    )  # fmt: skip
    kw = {"h": 4, "n_windows": 2, "season_length": 4, "n_jobs": 1}
    local = forecast_demand(frame, **kw)
    with connect(shop[1], read_only=True) as s:
        remote = forecast_demand_spark(s, frame, **kw)
    assert list(remote.choice["model"]) == list(local.choice["model"])
    assert list(remote.choice["status"]) == list(local.choice["status"])
    for got, want in ((remote.forecast, local.forecast), (remote.backtest, local.backtest)):
        assert list(got.columns) == list(want.columns) and len(got) == len(want)
        for col in got.select_dtypes("number").columns:
            assert np.allclose(got[col], want[col], rtol=1e-5, atol=1e-6, equal_nan=True), col
