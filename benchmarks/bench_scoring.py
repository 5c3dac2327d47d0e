"""Customer scoring on Spark vs locally: churn risk and the three action lists, same process.

Run: ``python -m benchmarks.bench_scoring [--scales 1 10] [--spark-master local[2]]``.

Each scale's shop is generated once and written to a temp DuckDB file and a temp Spark lake (the
tables only: scoring reads ``orders``, ``order_items``, ``customers`` and ``products``). The CLV
model (one purchase model, no forest) and the churn model (default config: 200 trees) are
fitted once, locally. Then, each timed from the database to the finished frame:

``local``   what ``predict --model churn`` / ``predict --list`` do on DuckDB: read the orders
            (and contacts) into pandas, ``ChurnModel.predict`` / ``actions.action_lists``;
``spark``   the same on the lake: ``models.distributed.score_churn`` /
            ``action_lists_spark`` (two applyInPandas passes over buckets of customers).

``x local`` is Spark's time over the local time of the same task in the same run (> 1: slower).
Every run checks that the Spark rows equal the local ones (max |difference| of the
probabilities). The load average is printed next to the table.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from benchmarks.common import console, print_table
from sales_analytics.storage import connect
from sales_analytics.synth import generate


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def bench(scale: float, master: str, seed: int = 42) -> list[list[object]]:
    from sales_analytics.models.actions import action_lists
    from sales_analytics.models.churn import ChurnModel
    from sales_analytics.models.clv import CLVModel
    from sales_analytics.models.data import customer_contacts, transactions
    from sales_analytics.models.distributed import action_lists_spark, score_churn

    tables = generate(scale=scale, seed=seed).tables
    rows = []
    with tempfile.TemporaryDirectory(dir=os.environ.get("SA_BENCH_TMP")) as tmp:
        duck = f"duckdb:///{Path(tmp) / 'shop.duckdb'}"
        lake = f"spark:///{Path(tmp) / 'lake'}?master={master}"
        for url in (duck, lake):
            with connect(url) as db:
                db.write(tables, replace=True)
        del tables

        def local_read(db):
            return transactions(db), transactions(db, statuses=("returned",))

        with connect(duck, read_only=True) as db:
            tx, returned = local_read(db)
        clv = CLVModel({"candidates": ("bgnbd",), "regressor": False}).fit(tx)
        churn = ChurnModel().fit(tx, returns=returned)
        customers = tx["customer_id"].nunique()
        del tx, returned

        def local_churn():
            with connect(duck, read_only=True) as db:
                tx, ret = local_read(db)
            return churn.predict(tx, returns=ret)

        def local_lists():
            with connect(duck, read_only=True) as db:
                tx, ret = local_read(db)
                contacts = customer_contacts(db)
            return action_lists(clv, churn, contacts, tx=tx, returns=ret)

        def spark_churn():
            with connect(lake, read_only=True) as db:
                return score_churn(db, churn)

        def spark_lists():
            with connect(lake, read_only=True) as db:
                return action_lists_spark(db, clv, churn, customer_contacts(db))

        with connect(lake, read_only=True) as db:  # start the session (not timed)
            db.query("SELECT 1")
        for task, local_fn, spark_fn in (
            ("churn", local_churn, spark_churn),
            ("action lists", local_lists, spark_lists),
        ):
            t_local, want = _timed(local_fn)
            t_spark, got = _timed(spark_fn)
            if task == "churn":
                assert list(got["customer_id"]) == list(want["customer_id"])
                diff = float((got["churn_probability"] - want["churn_probability"]).abs().max())
                n = len(want)
            else:
                diff = 0.0
                for name, frame in want.items():
                    assert list(got[name]["customer_id"]) == list(frame["customer_id"]), name
                    d = (got[name]["p_alive"] - frame["p_alive"]).abs().max()
                    diff = max(diff, float(d) if len(frame) else 0.0)
                n = sum(map(len, want.values()))
            load = os.getloadavg()[0]
            rows.append([scale, task, customers, n, t_local, t_spark, t_spark / t_local, f"{diff:.1e}",
                         f"{load:.1f}"])  # fmt: skip
            console.print(f"scale {scale} {task}: local {t_local:.1f}s spark {t_spark:.1f}s")
    return rows


def main(argv: list[str] | None = None) -> list[list[object]]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", type=float, nargs="+", default=[1, 10])
    parser.add_argument("--spark-master", default="local[2]")
    args = parser.parse_args(argv)
    rows = []
    for scale in args.scales:
        rows += bench(scale, args.spark_master)
    print_table(
        f"customer scoring, local pandas vs Spark {args.spark_master} (same process)",
        ["scale", "task", "customers", "rows", "local s", "spark s", "x local", "max |diff|",
         "load 1m"],
        rows,
    )  # fmt: skip
    from sales_analytics.storage.spark import stop

    stop()
    return rows


if __name__ == "__main__":
    main()
