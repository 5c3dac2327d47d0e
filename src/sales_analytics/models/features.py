"""Behavioural customer features at a cutoff, shared by the CLV regressor, churn and segments.

Every feature is computed from transactions strictly before ``cutoff`` (the first statement of
:func:`customer_features` drops the rest), so nothing after the cutoff can leak into a model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sales_analytics.models.data import prepare_transactions

DAY = pd.Timedelta(days=1)

#: Feature columns returned by :func:`customer_features` (besides ``customer_id``).
FEATURES: tuple[str, ...] = (
    "recency_days",
    "tenure_days",
    "frequency",
    "monetary_total",
    "monetary_mean",
    "monetary_max",
    "orders_30d",
    "orders_90d",
    "orders_180d",
    "orders_365d",
    "spend_90d",
    "spend_365d",
    "mean_gap_days",
    "recency_over_gap",
)


def default_end(tx: pd.DataFrame) -> pd.Timestamp:
    """The exclusive end of the observed window: midnight after the last order."""
    return tx["order_date"].max().normalize() + DAY


def customer_features(data: pd.DataFrame, cutoff) -> pd.DataFrame:
    """One row per customer with at least one order before ``cutoff`` (exclusive).

    Parameters
    ----------
    data
        Transactions (``customer_id, order_date, amount``).
    cutoff
        Timestamp; only orders with ``order_date < cutoff`` are used.
    """
    cutoff = pd.Timestamp(cutoff)
    tx = prepare_transactions(data)
    tx = tx[tx["order_date"] < cutoff]
    if tx.empty:
        raise ValueError(f"no transactions before the cutoff {cutoff.date()}")
    age = (cutoff - tx["order_date"]) / DAY
    tx = tx.assign(age=age.to_numpy())
    g = tx.groupby("customer_id", sort=True)
    out = pd.DataFrame(
        {
            "recency_days": g["age"].min(),
            "tenure_days": g["age"].max(),
            "frequency": g.size().astype(float),
            "monetary_total": g["amount"].sum(),
            "monetary_mean": g["amount"].mean(),
            "monetary_max": g["amount"].max(),
        }
    )
    for days in (30, 90, 180, 365):
        recent = tx[tx["age"] <= days].groupby("customer_id")
        out[f"orders_{days}d"] = recent.size().reindex(out.index, fill_value=0).astype(float)
        if days in (90, 365):
            out[f"spend_{days}d"] = recent["amount"].sum().reindex(out.index, fill_value=0.0)
    span = out["tenure_days"] - out["recency_days"]
    out["mean_gap_days"] = np.where(
        out["frequency"] > 1, span / (out["frequency"] - 1).clip(1), 0.0
    )
    out["recency_over_gap"] = out["recency_days"] / (out["mean_gap_days"] + 1.0)
    return out[list(FEATURES)].reset_index()


def window_totals(data: pd.DataFrame, start, end) -> pd.DataFrame:
    """Per customer: orders, distinct purchase days and spend in ``[start, end)``."""
    tx = prepare_transactions(data)
    tx = tx[(tx["order_date"] >= pd.Timestamp(start)) & (tx["order_date"] < pd.Timestamp(end))]
    g = tx.assign(day=tx["order_date"].dt.normalize()).groupby("customer_id")
    return pd.DataFrame(
        {
            "orders": g.size().astype(float),
            "purchase_days": g["day"].nunique().astype(float),
            "spend": g["amount"].sum(),
        }
    ).reset_index()
