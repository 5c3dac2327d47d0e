"""Customer scores (CLV, churn, action lists) and demand forecasts on Spark, equal to the local
results.

A model is fitted where it is fitted today (on the driver, on all customers or a sample: fitting
estimates a handful of parameters); scoring is per customer, so it runs on Spark's executors: the
completed orders are split into buckets by customer (``SparkDatabase.map_groups``: groupBy +
applyInPandas), and each bucket is summarised and scored by the same pure functions as locally
(``clv.rfm`` + ``CLVModel.score_summary``) with the fitted parameters, which travel to the
executors pickled. Every customer's rows are in one bucket, and the scores of a customer depend on
nothing else, so the result equals ``CLVModel.score_summary(model.rfm_)`` row for row.

Churn features depend on two quantities of the whole population: the purchase model fitted at the
scoring date and the typical gap between orders of repeat customers. A first pass over the
buckets returns every customer's summary (``clv.rfm`` + orders and mean gap: a few numbers per
customer); the driver fits the purchase model on it exactly as ``churn_features`` does and takes
the median gap; a second pass computes the features and scores them (probability and reasons,
the expensive part: the forest is evaluated once per reason group) with those two and the fitted
classifier. The risk tiers (their fallback looks at every score) and the action lists (top 20%
by value, median gap) are assembled on the driver from the per-customer rows by the same
functions as locally (``ChurnModel.rank``, ``actions.build_lists``).

Only a Spark lake (``spark://``) can do this; the executors need this package installed.
"""

from __future__ import annotations

import copy
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa

from sales_analytics.models.btyd import SCORE_COLUMNS


def on_spark(db) -> bool:
    """Whether ``db`` is a Spark lake (its customers are scored on Spark's executors)."""
    return hasattr(db, "map_groups")


def _require_spark(db) -> None:
    if not on_spark(db):
        kind = getattr(db, "kind", type(db).__name__)
        raise ValueError(f"scoring on Spark needs a Spark lake (spark://...), not {kind}")


def transactions_sql(
    db, statuses: tuple[str, ...] = ("completed",), *, status: bool = False
) -> str:
    """The SQL of ``models.data.transactions`` (``customer_id, order_id, order_date, amount``,
    and ``status`` when asked), unsorted, compiled for ``db``'s engine from the catalogue's
    ``orders`` metric."""
    from sales_analytics.metrics import build

    t = build(db, "orders", params={"limit": None})
    extra = {"status": t.status.cast("string")} if status else {}
    expr = t.filter(t.status.cast("string").isin(list(statuses))).select(
        "customer_id", "order_id", "order_date", amount=t.total_amount, **extra
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


#: order statuses read by the scoring passes (returned orders are a churn feature)
_SCORED = ("completed", "returned")
_FLOAT, _INT, _TEXT = pa.float64(), pa.int64(), pa.string()
#: per customer, first pass: the purchase summary, orders and mean gap (churn's features)
_SUMMARY = {"customer_id": _INT, "frequency": _FLOAT, "recency": _FLOAT, "T": _FLOAT,
            "monetary_value": _FLOAT, "orders": _FLOAT, "mean_gap_days": _FLOAT}  # fmt: skip
_VALUES = {"value_at_stake": _FLOAT, "days_since_last_order": _INT, "gone_in": _FLOAT}
_CHURN = {"customer_id": _INT, "recency_days": _FLOAT, "frequency": _FLOAT, "p_alive": _FLOAT,
          "churn_probability": _FLOAT, "reasons": _TEXT}  # fmt: skip


def data_end(db) -> pd.Timestamp:
    """The scoring date of the database's current orders: the midnight after the last completed
    order (``features.default_end`` of ``models.data.transactions(db)``)."""
    from sales_analytics.models.features import DAY

    last = db.query(f"SELECT max(order_date) FROM ({transactions_sql(db)}) AS t")[0][0]
    if last is None:
        raise ValueError("no completed orders in the database: load or import data first")
    return pd.Timestamp(last).normalize() + DAY


def _map_customers(db, fn, columns: dict[str, pa.DataType], groups: int | None) -> pd.DataFrame:
    """``fn(tx, returns)`` over buckets of customers (their completed and returned orders, as
    ``models.data.transactions`` gives them) on Spark; the rows of ``columns``, by customer."""
    from sales_analytics.models.data import prepare_transactions

    names = list(columns)

    def run(frame: pd.DataFrame) -> pd.DataFrame:
        done = frame["status"] == "completed"
        if not done.any():
            return pd.DataFrame(
                {c: pd.Series(dtype=t.to_pandas_dtype()) for c, t in columns.items()}
            )
        returned = frame[~done]
        returns = prepare_transactions(returned) if len(returned) else None
        return fn(prepare_transactions(frame[done]), returns)[names]

    sql = transactions_sql(db, _SCORED, status=True)
    out = db.map_groups(sql, run, pa.schema(list(columns.items())), by="customer_id", groups=groups)
    frame = out.to_pandas()
    return frame.sort_values("customer_id", kind="stable").reset_index(drop=True)


def _summaries(db, until: pd.Timestamp, clv=None, *, values: bool = False, groups=None):
    """First pass: every customer's purchase summary at ``until`` with ``orders`` and
    ``mean_gap_days``; with a CLV model its scores instead of the bare summary (``values``: and
    the action lists' value columns; otherwise ``clv_rf`` when it has a regressor)."""
    from sales_analytics.models.actions import value_columns
    from sales_analytics.models.clv import rfm
    from sales_analytics.models.features import customer_features

    columns = dict(_SUMMARY)
    light = regressor = None
    if clv is not None:
        clv._check_fitted()
        regressor = None if values else clv.regressor_
        light = _light(clv, _tx=None, rfm_=None, calibration_={}, regressor_=regressor)
        columns = {"customer_id": _INT} | {c: _FLOAT for c in SCORE_COLUMNS[1:]}
        columns |= _VALUES if values else ({"clv_rf": _FLOAT} if regressor is not None else {})
        columns |= {"orders": _FLOAT, "mean_gap_days": _FLOAT}

    def summarise(tx: pd.DataFrame, _returns) -> pd.DataFrame:
        summary = rfm(tx, until)
        X = customer_features(tx, until)
        if light is not None:
            summary = light.score_summary(summary)
            summary = value_columns(light, summary) if values else summary
            if regressor is not None:
                rf = regressor.predict(tx, at=until)
                summary = summary.merge(rf, on="customer_id", how="left")
        return summary.assign(
            orders=X["frequency"].to_numpy(), mean_gap_days=X["mean_gap_days"].to_numpy()
        )

    return _map_customers(db, summarise, columns, groups)


def _churn_pass(db, churn, summary: pd.DataFrame, until: pd.Timestamp, groups) -> pd.DataFrame:
    """Second pass: ``ChurnModel.predict`` of the current orders, from the first pass' summary."""
    from sales_analytics.models import btyd
    from sales_analytics.models.churn_features import churn_features, typical_gap

    churn._check_fitted()
    if not hasattr(churn, "reference_"):
        raise ValueError("churn: this saved model predates scoring on Spark; train it again")
    c = churn.config
    fit = btyd.fit_purchases(c["purchase_model"], summary[["frequency", "recency", "T"]])
    typical = typical_gap(
        pd.DataFrame({"frequency": summary["orders"], "mean_gap_days": summary["mean_gap_days"]})
    )
    light = _light(churn, _tx=None, _returns=None, model_=_single_threaded(churn.model_))

    def score(tx: pd.DataFrame, returns) -> pd.DataFrame:
        X, _ = churn_features(
            tx, until, window_days=c["window_days"], family=c["purchase_model"],
            returns=returns, fit=fit, typical=typical,
        )  # fmt: skip
        if c["active_days"] is not None:
            X = X[X["recency_days"] <= c["active_days"]].reset_index(drop=True)
        return light.score_features(X)

    return churn.rank(_map_customers(db, score, _CHURN, groups))


def _single_threaded(model):
    """A copy of a fitted scikit-learn model scoring on one thread (each executor task is one
    core's work); the same predictions."""
    model = copy.deepcopy(model)
    for calibrated in getattr(model, "calibrated_classifiers_", ()):
        if hasattr(calibrated.estimator, "n_jobs"):
            calibrated.estimator.n_jobs = 1
    return model


def score_current_clv(db, model, *, groups: int | None = None) -> pd.DataFrame:
    """``model.predict(transactions(db))`` (the CLI's ``predict --model clv``) computed on Spark,
    sorted by customer."""
    _require_spark(db)
    out = _summaries(db, data_end(db), model, groups=groups)
    return out.drop(columns=["orders", "mean_gap_days"])


def score_churn(db, churn, *, groups: int | None = None) -> pd.DataFrame:
    """``churn.predict(transactions(db), returns=<returned orders>)`` (the CLI's ``predict
    --model churn``) computed on Spark: the same rows in the same order."""
    _require_spark(db)
    until = data_end(db)
    return _churn_pass(db, churn, _summaries(db, until, groups=groups), until, groups)


def action_lists_spark(
    db, clv, churn, contacts: pd.DataFrame, *, names: tuple[str, ...] | None = None,
    groups: int | None = None,
) -> dict[str, pd.DataFrame]:  # fmt: skip
    """``actions.action_lists(clv, churn, contacts, tx=<current orders>, returns=<returned>)``
    with every customer scored on Spark (CLV values in the first pass, churn in the second)."""
    from sales_analytics.models.actions import LISTS, build_lists

    _require_spark(db)
    until = data_end(db)
    summary = _summaries(db, until, clv, values=True, groups=groups)
    risk = _churn_pass(db, churn, summary, until, groups) if churn is not None else None
    scores = summary.drop(columns=["orders", "mean_gap_days"])
    return build_lists(scores, risk, contacts, names=names or LISTS)


def forecast_demand_spark(db, frame: pd.DataFrame, **kwargs: Any):
    """``models.demand.forecast_demand(frame, **kwargs)`` with statsforecast on ``db``'s Spark
    session (its distributed fugue backend: the SKUs are spread over the executors). Same model
    chosen per SKU and the same forecasts as locally, up to the backend's float32 results
    (relative differences below 1e-6)."""
    from sales_analytics.models.demand import forecast_demand

    _require_spark(db)
    return forecast_demand(frame, spark=db.raw, **kwargs)
