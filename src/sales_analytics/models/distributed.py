"""Customer CLV scores and demand forecasts on Spark, equal to the local results.

A model is fitted where it is fitted today (on the driver, on all customers or a sample: fitting
estimates a handful of parameters); scoring is per customer, so it runs on Spark's executors: the
completed orders are split into buckets by customer (``SparkDatabase.map_groups``: groupBy +
applyInPandas), and each bucket is summarised and scored by the same pure functions as locally
(``clv.rfm`` + ``CLVModel.score_summary``) with the fitted parameters, which travel to the
executors pickled. Every customer's rows are in one bucket, and the scores of a customer depend on
nothing else, so the result equals ``CLVModel.score_summary(model.rfm_)`` row for row.

Only a Spark lake (``spark://``) can do this; the executors need this package installed.
"""

from __future__ import annotations

import copy
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa

from sales_analytics.models.btyd import SCORE_COLUMNS


def _require_spark(db) -> None:
    if not hasattr(db, "map_groups"):
        kind = getattr(db, "kind", type(db).__name__)
        raise ValueError(f"scoring on Spark needs a Spark lake (spark://...), not {kind}")


def transactions_sql(db, statuses: tuple[str, ...] = ("completed",)) -> str:
    """The SQL of ``models.data.transactions`` (``customer_id, order_id, order_date, amount``),
    unsorted, compiled for ``db``'s engine from the catalogue's ``orders`` metric."""
    from sales_analytics.metrics import build

    t = build(db, "orders", params={"limit": None})
    expr = t.filter(t.status.cast("string").isin(list(statuses))).select(
        "customer_id", "order_id", "order_date", amount=t.total_amount
    )
    return str(ibis.to_sql(expr))


def _light(model, **drop: Any):
    """A copy of ``model`` without its training data (it is pickled to every executor)."""
    light = copy.copy(model)
    for name, value in drop.items():
        setattr(light, name, value)
    return light


def score_clv(
    db, model, *, horizon_days: int | None = None, groups: int | None = None
) -> pd.DataFrame:
    """Every customer's CLV scores (:data:`.btyd.SCORE_COLUMNS`) from the fitted ``model`` (a
    :class:`~sales_analytics.models.clv.CLVModel`), summarised at the model's end, computed on
    Spark; sorted by customer. Equals ``model.score_summary(model.rfm_, horizon_days)``."""
    from sales_analytics.models.clv import rfm
    from sales_analytics.models.data import prepare_transactions

    _require_spark(db)
    model._check_fitted()
    light = _light(model, _tx=None, rfm_=None, calibration_={}, regressor_=None)
    until = model.until_
    columns = list(SCORE_COLUMNS)

    def score(frame: pd.DataFrame) -> pd.DataFrame:
        tx = prepare_transactions(frame)
        tx = tx[tx["order_date"] < until]
        if tx.empty:
            return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})
        return light.score_summary(rfm(tx, until), horizon_days)[columns]

    schema = pa.schema([("customer_id", pa.int64())] + [(c, pa.float64()) for c in columns[1:]])
    out = db.map_groups(transactions_sql(db), score, schema, by="customer_id", groups=groups)
    frame = out.to_pandas()
    return frame.sort_values("customer_id", kind="stable").reset_index(drop=True)


def forecast_demand_spark(db, frame: pd.DataFrame, **kwargs: Any):
    """``models.demand.forecast_demand(frame, **kwargs)`` with statsforecast on ``db``'s Spark
    session (its distributed fugue backend: the SKUs are spread over the executors). Same model
    chosen per SKU and the same forecasts as locally, up to the backend's float32 results
    (relative differences below 1e-6)."""
    from sales_analytics.models.demand import forecast_demand

    _require_spark(db)
    return forecast_demand(frame, spark=db.raw, **kwargs)
