"""The CLV backtest (:meth:`CLVModel.evaluate`): holdout spend and purchases, one-time buyers,
P(alive) against the generator's truth and parameter recovery."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from sales_analytics.models import btyd
from sales_analytics.models.base import Evaluation, validate_columns
from sales_analytics.models.clv_regressor import CLVRegressor, spend_metrics
from sales_analytics.models.features import DAY, window_totals

if TYPE_CHECKING:  # pragma: no cover
    from sales_analytics.models.clv import CLVModel

#: days since a one-time buyer's only purchase: bucket edges for the P(alive) profile
ONE_TIME_BUCKETS: tuple[int, ...] = (0, 90, 180, 365, 730)


def one_time_profile(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean P(alive) of one-time buyers by days since their only purchase."""
    one = scores[scores["frequency"] == 0]
    edges = [*ONE_TIME_BUCKETS, np.inf]
    labels = [
        f"{lo}-{hi} days" if np.isfinite(hi) else f"{lo}+ days"
        for lo, hi in zip(edges[:-1], edges[1:], strict=True)
    ]
    bucket = pd.cut(one["T"], edges, labels=labels, right=False)
    g = one.groupby(bucket, observed=True)["p_alive"]
    return (
        pd.DataFrame({"customers": g.size(), "mean_p_alive": g.mean()})
        .rename_axis("since_purchase")
        .reset_index()
        .astype({"since_purchase": str})
    )


def evaluate_clv(
    model: CLVModel,
    *,
    truth: pd.DataFrame | None = None,
    true_params: Mapping[str, float] | None = None,
    holdout_days: int | None = None,
) -> Evaluation:
    from sales_analytics.models.clv import TRUTH_COLUMNS, purchase_errors, rfm

    tx, until, family = model._tx, model.until_, model.family_
    calibration = model.calibration_
    holdout = int(holdout_days or calibration["holdout_days"])
    cutoff = until - holdout * DAY
    if cutoff <= tx["order_date"].min().normalize() + 30 * DAY:
        raise ValueError(f"CLV evaluate: the data span is too short for holdout_days={holdout}")
    if holdout == calibration["holdout_days"] and "summary" in calibration:
        calib, fit = calibration["summary"], calibration["fits"][family]
    else:
        calib = rfm(tx, cutoff)
        fit = btyd.fit_purchases(family, calib)
    pred = btyd.score(calib, fit, btyd.fit_spend(calib), horizon_days=holdout, draws=0)
    ids = pred["customer_id"]
    actual = window_totals(tx, cutoff, until).set_index("customer_id").reindex(ids, fill_value=0.0)
    before = (
        window_totals(tx, cutoff - holdout * DAY, cutoff)
        .set_index("customer_id")
        .reindex(ids, fill_value=0.0)
    )
    label = f"{family}_gamma_gamma"
    rows = [{"model": label} | spend_metrics(actual["spend"], pred["clv"])]
    if model.config["regressor"]:
        try:
            reg = CLVRegressor(model._regressor_config() | {"horizon_days": holdout})
            reg.fit(tx[tx["order_date"] < cutoff], cutoff=cutoff - holdout * DAY)
            rf = reg.predict(tx, at=cutoff).set_index("customer_id")["clv_rf"]
            rows.append(
                {"model": "random_forest"}
                | spend_metrics(actual["spend"], rf.reindex(ids, fill_value=0.0))
            )
        except ValueError:
            pass
    rows.append({"model": "naive_last_period"} | spend_metrics(actual["spend"], before["spend"]))
    table = pd.DataFrame(rows)
    act_p = actual["purchase_days"].to_numpy()
    model_err = purchase_errors(pred["expected_purchases"].to_numpy(), act_p)
    naive_err = purchase_errors(before["purchase_days"].to_numpy(), act_p)
    purchases = {
        "model_rmse": model_err["rmse"],
        "naive_rmse": naive_err["rmse"],
        "model_mae": model_err["mae"],
        "naive_mae": naive_err["mae"],
        "model_total": model_err["predicted_total"],
        "actual_total": model_err["actual_total"],
    }
    current = btyd.score(model.rfm_, model.purchase_fit_, model.spend_fit_, draws=0)
    one_time = one_time_profile(current)
    selection = model.selection_
    name = btyd.FAMILY_LABELS[family]
    summary = [
        f"purchase model: {name}, chosen on a {calibration['holdout_days']}-day holdout of "
        "per-customer purchases (log-loss of buying again: "
        + ", ".join(
            f"{btyd.FAMILY_LABELS[r.model]} {r.logloss:.4f}" for r in selection.itertuples()
        )
        + ")"
        if selection["logloss"].notna().any()
        else f"purchase model: {name} ({calibration.get('reason', 'no holdout')}; best likelihood)",
        f"holdout purchases: {name} RMSE {purchases['model_rmse']:.2f} vs naive "
        f"{purchases['naive_rmse']:.2f}; total {purchases['model_total']:,.0f} predicted vs "
        f"{purchases['actual_total']:,.0f} actual",
        "one-time buyers' P(alive) by days since their purchase: "
        + ", ".join(f"{r.since_purchase} {r.mean_p_alive:.0%}" for r in one_time.itertuples()),
        f"{model.config['interval']:.0%} intervals of expected purchases and CLV: parameter "
        "uncertainty (Laplace approximation around the maximum-likelihood fit), not the spread "
        "of a customer's actual purchases",
        "fitted: " + ", ".join(f"{k}={v:.3f}" for k, v in model.params_.items()),
    ]
    details: dict[str, Any] = {
        "purchase_model": family,
        "selection": selection,
        "cutoff": cutoff,
        "holdout_days": holdout,
        "customers": len(pred),
        "purchases": purchases,
        "params": model.params_,
        "one_time_buyers": one_time,
    }
    if truth is not None:
        validate_columns(truth, TRUTH_COLUMNS, what="CLV truth")
        details["truth"] = t = truth_metrics(current, truth)
        if "p_alive_auc" in t:
            summary.append(
                f"P(alive) vs planted dropouts: AUC {t['p_alive_auc']:.3f} "
                f"(recency only {t['recency_only_auc']:.3f}), Brier {t['p_alive_brier']:.3f}"
            )
    if true_params is not None and "bgnbd" in model.fits_:
        fitted = model.fits_["bgnbd"].params
        details["param_recovery"] = {
            k: {"fitted": fitted[k], "true": float(true_params[k])} for k in btyd.FAMILIES["bgnbd"]
        } | {
            "mean_rate_per_day": {
                "fitted": fitted["r"] / fitted["alpha"],
                "true": true_params["r"] / true_params["alpha"],
            },
            "mean_dropout": {
                "fitted": fitted["a"] / (fitted["a"] + fitted["b"]),
                "true": true_params["a"] / (true_params["a"] + true_params["b"]),
            },
        }
    return Evaluation(
        best=str(table.sort_values("mae").iloc[0]["model"]),
        table=table,
        summary=summary,
        details=details,
        tables={
            "clv: purchase model choice (holdout purchases)": selection,
            "clv: one-time buyers' P(alive)": one_time,
        },
    )


def truth_metrics(scores: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    from sales_analytics.models.clv import TRUTH_COLUMNS

    pred = scores.merge(truth[list(TRUTH_COLUMNS)], on="customer_id", how="inner")
    alive = pred["alive_at_end"].astype(bool).to_numpy()
    if alive.all() or not alive.any():
        return {"customers": len(pred)}
    recency_score = -(pred["T"] - pred["recency"]).to_numpy()  # days since last purchase
    return {
        "customers": len(pred),
        "alive_share": float(alive.mean()),
        "p_alive_mean": float(pred["p_alive"].mean()),
        "p_alive_auc": float(roc_auc_score(alive, pred["p_alive"])),
        "p_alive_brier": float(np.mean((pred["p_alive"] - alive) ** 2)),
        "recency_only_auc": float(roc_auc_score(alive, recency_score)),
    }
