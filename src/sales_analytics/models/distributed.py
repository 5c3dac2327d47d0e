"""Customer scores (CLV, churn) and demand forecasts on Spark, equal to the local results.

A model is fitted where it is fitted today (on the driver, on all customers or a sample: fitting
estimates a handful of parameters); scoring is per customer, so it runs on Spark's executors: the
completed orders are split into buckets by customer (``SparkDatabase.map_groups``: groupBy +
applyInPandas), and each bucket is summarised and scored by the same pure functions as locally
(``clv.rfm`` + ``CLVModel.score_summary``; ``customer_features`` + ``ChurnModel.predict_proba`` and
``tiers``) with the fitted parameters, which travel to the executors pickled. Every customer's rows
are in one bucket, and the scores of a customer depend on nothing else, so the result equals
``CLVModel.score_summary(model.rfm_)`` and ``ChurnModel.predict(at=...)`` row for row.

Only a Spark lake (``spark://``) can do this; the executors need this package installed.
"""

from __future__ import annotations

import copy
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa

from sales_analytics.models.btyd import SCORE_COLUMNS
from sales_analytics.models.features import DAY

CHURN_COLUMNS = (
    "customer_id", "recency_days", "frequency", "churn_probability", "churn_predicted", "risk_tier",
)  # fmt: skip


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


def score_churn(db, model, *, at=None, groups: int | None = None) -> pd.DataFrame:
    """Every active customer's churn risk (``ChurnModel.predict``'s columns) at ``at`` (default:
    the midnight after the last completed order) computed on Spark; highest risk first. Equals
    ``model.predict(at=at)``."""
    from sales_analytics.models.features import customer_features

    _require_spark(db)
    model._check_fitted()
    sql = transactions_sql(db)
    if at is None:
        from sales_analytics.metrics import build

        t = build(db, "orders", params={"limit": None})
        last = t.filter(t.status.cast("string") == "completed").order_date.max().execute()
        at = pd.Timestamp(last).normalize() + DAY
    at = pd.Timestamp(at)
    light = _light(model, _tx=None)
    active = model.config["active_days"]

    def score(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame[frame["order_date"] < at]
        if frame.empty:
            return _empty_churn()
        X = customer_features(frame, at)
        if active is not None:
            X = X[X["recency_days"] <= active].reset_index(drop=True)
        if X.empty:
            return _empty_churn()
        proba = light.predict_proba(X)
        return pd.DataFrame(
            {
                "customer_id": X["customer_id"].astype("int64"),
                "recency_days": X["recency_days"].astype(float),
                "frequency": X["frequency"].astype(float),
                "churn_probability": proba,
                "churn_predicted": proba >= light.threshold_,
                "risk_tier": light.tiers(proba),
            }
        )

    schema = pa.schema(
        [("customer_id", pa.int64()), ("recency_days", pa.float64()), ("frequency", pa.float64()),
         ("churn_probability", pa.float64()), ("churn_predicted", pa.bool_()),
         ("risk_tier", pa.string())]
    )  # fmt: skip
    out = db.map_groups(sql, score, schema, by="customer_id", groups=groups).to_pandas()
    out = out.sort_values(["churn_probability", "customer_id"], ascending=[False, True])
    return out.reset_index(drop=True)


def _empty_churn() -> pd.DataFrame:
    dtypes = ("int64", "float64", "float64", "float64", "bool", "object")
    return pd.DataFrame({c: pd.Series(dtype=d) for c, d in zip(CHURN_COLUMNS, dtypes, strict=True)})


def forecast_demand_spark(db, frame: pd.DataFrame, **kwargs: Any):
    """``models.demand.forecast_demand(frame, **kwargs)`` with statsforecast on ``db``'s Spark
    session (its distributed fugue backend: the SKUs are spread over the executors). Same model
    chosen per SKU and the same forecasts as locally, up to the backend's float32 results
    (relative differences below 1e-6)."""
    from sales_analytics.models.demand import forecast_demand

    _require_spark(db)
    return forecast_demand(frame, spark=db.raw, **kwargs)
