"""Churn features beyond the shared behavioural ones, and per-customer reasons in plain words.

At a cutoff (orders strictly before it):

``p_alive``, ``expected_purchases``  the purchase model (:mod:`.btyd`, fitted on the same orders)
                                     P(still active) and purchases expected in the churn window;
``gap_ratio``        days since the last order / the customer's own usual gap between orders
                     (one-time buyers: the median gap of repeat customers);
``spend_trend``      (last 180 days' spend - the 180 days before) / their sum, in [-1, 1];
``returned_orders``, ``return_share``  returned orders before the cutoff and their share of the
                     customer's orders (0 when no returns are given).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sales_analytics.models import btyd
from sales_analytics.models.features import DAY, FEATURES, customer_features

EXTRA_FEATURES: tuple[str, ...] = (
    "p_alive",
    "expected_purchases",
    "gap_ratio",
    "spend_trend",
    "returned_orders",
    "return_share",
)
CHURN_FEATURES: tuple[str, ...] = (*FEATURES, *EXTRA_FEATURES)

#: feature groups explained together (correlated features move together), in report order
REASON_GROUPS: dict[str, tuple[str, ...]] = {
    "recency": ("recency_days", "recency_over_gap", "gap_ratio", "orders_30d", "orders_90d",
                "spend_90d"),
    "alive": ("p_alive", "expected_purchases"),
    "frequency": ("frequency", "orders_180d", "orders_365d", "mean_gap_days", "tenure_days"),
    "trend": ("spend_trend", "spend_365d", "monetary_total", "monetary_mean", "monetary_max"),
    "returns": ("returned_orders", "return_share"),
}  # fmt: skip
TREND_DAYS = 180


def churn_features(
    tx: pd.DataFrame,
    cutoff: pd.Timestamp,
    *,
    window_days: int,
    family: str,
    returns: pd.DataFrame | None = None,
    fit: btyd.Fit | None = None,
    typical: float | None = None,
) -> tuple[pd.DataFrame, btyd.Fit]:
    """``customer_id`` + :data:`CHURN_FEATURES` per customer with an order before ``cutoff``, and
    the purchase model fitted on those orders.

    The two quantities that depend on every customer, the purchase model ``fit`` and the
    ``typical`` gap of repeat customers (:func:`typical_gap`), may be given: computed once over
    all customers, they make the features of any subset of the customers equal to theirs in the
    whole (``models.distributed`` scores buckets of customers this way).
    """
    from sales_analytics.models.clv import rfm

    cutoff = pd.Timestamp(cutoff)
    X = customer_features(tx, cutoff)
    summary = rfm(tx, cutoff).set_index("customer_id").reindex(X["customer_id"])
    if fit is None:
        fit = btyd.fit_purchases(family, summary.reset_index())
    x, t_x, T = (summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    X["p_alive"] = btyd.p_alive(family, fit.params, x, t_x, T)
    X["expected_purchases"] = btyd.expected_purchases(family, fit.params, window_days, x, t_x, T)
    repeat = X["frequency"] > 1
    typical = typical_gap(X) if typical is None else typical
    usual = np.where(repeat, X["mean_gap_days"], typical)
    X["gap_ratio"] = X["recency_days"] / np.maximum(usual, 1.0)
    before = tx[tx["order_date"] < cutoff]
    age = (cutoff - before["order_date"]) / DAY
    recent = before[age < TREND_DAYS].groupby("customer_id")["amount"].sum()
    prior = before[(age >= TREND_DAYS) & (age < 2 * TREND_DAYS)].groupby("customer_id")["amount"]
    ids = X["customer_id"]
    r = recent.reindex(ids, fill_value=0.0).to_numpy()
    p = prior.sum().reindex(ids, fill_value=0.0).to_numpy()
    X["spend_trend"] = np.where(r + p > 0, (r - p) / np.maximum(r + p, 1e-9), 0.0)
    if returns is not None and len(returns):
        ret = returns[pd.to_datetime(returns["order_date"]) < cutoff]
        n = ret.groupby("customer_id").size().reindex(ids, fill_value=0).to_numpy(float)
    else:
        n = np.zeros(len(X))
    X["returned_orders"] = n
    X["return_share"] = n / (n + X["frequency"].to_numpy())
    return X, fit


def typical_gap(X: pd.DataFrame) -> float:
    """The median ``mean_gap_days`` of the repeat customers (``frequency > 1``) of the features
    ``X`` (30 days without any): one-time buyers' usual gap."""
    repeat = X["frequency"] > 1
    return float(X.loc[repeat, "mean_gap_days"].median()) if repeat.any() else 30.0


def reasons(
    X: pd.DataFrame, proba: np.ndarray, predict, reference: pd.Series, *, top: int = 2
) -> list[str]:
    """The ``top`` reasons for each customer's churn risk, in plain words.

    A group's weight is how much the predicted probability falls when the group's features are
    set to those of a typical retained customer (``reference``: medians of the training
    customers who did not churn); the strongest positive groups are worded with the customer's
    own numbers.
    """
    groups = list(REASON_GROUPS)
    n = len(X)
    # one predict call for every group: block k of ``typical`` is X with group k set to typical
    typical = pd.concat([X] * len(groups), ignore_index=True)
    for c in {c for cols in REASON_GROUPS.values() for c in cols}:
        blocks = [
            np.full(n, reference[c], dtype=float) if c in cols else X[c].to_numpy(dtype=float)
            for cols in REASON_GROUPS.values()
        ]
        typical[c] = np.concatenate(blocks) if blocks else typical[c]
    D = np.asarray(proba)[None, :] - np.asarray(predict(typical)).reshape(len(groups), n)
    rows = None  # the customers' numbers, only if some customer has a reason
    out = []
    for i in range(n):
        drops = zip(groups, D[:, i], strict=True)
        weights = sorted(((w, g) for g, w in drops if w > 0.02), reverse=True)
        if not weights:
            out.append("nothing unusual")
            continue
        if rows is None:
            rows = X.to_dict("records")
        words = [_words(g, rows[i]) for _, g in weights[:top]]
        out.append("; ".join(w for w in words if w) or "nothing unusual")
    return out


def _words(group: str, x) -> str:
    days, n = int(round(x["recency_days"])), int(x["frequency"])
    if group == "recency":
        if n <= 1:
            return f"no order in the {days} days since their only order"
        return (
            f"no order for {days} days, {x['gap_ratio']:.1f}x their usual gap of "
            f"{x['mean_gap_days']:.0f} days"
        )
    if group == "alive":
        return f"the purchase model gives a {x['p_alive']:.0%} chance they are still a customer"
    if group == "frequency":
        return f"{n} order{'s' if n != 1 else ''} in {x['tenure_days']:.0f} days as a customer"
    if group == "trend":
        t = x["spend_trend"]
        if t < 0:
            down = 1 - (1 + t) / (1 - t)  # t = (recent - prior) / (recent + prior)
            return f"spend down {down:.0%} (last 6 months vs the 6 before)"
        return "low spend"
    if group == "returns" and x["returned_orders"] > 0:
        k = int(x["returned_orders"])
        return f"returned {k} order{'s' if k != 1 else ''}"
    return ""
