"""Customer lifetime value: BG/NBD + Gamma-Gamma (pymc-marketing) and a RandomForest regressor.

:class:`CLVModel` fits the BG/NBD purchase model and the Gamma-Gamma spend model by MAP with flat
(``HalfFlat``) priors; ``pymc.find_MAP`` optimises without the log-Jacobian of the transform, so
the fit is the maximum-likelihood estimate (the tests check this against an independent scipy
MLE). Time is in calendar days. It also fits a :class:`CLVRegressor` (RandomForest on
behavioural features, trained on a time split, in :mod:`.clv_regressor`) so both can be compared
on the same backtest.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from sales_analytics.models.base import BaseModel, Evaluation, validate_columns
from sales_analytics.models.clv_regressor import CLVRegressor, spend_metrics
from sales_analytics.models.data import prepare_transactions
from sales_analytics.models.features import DAY, default_end, window_totals

log = logging.getLogger(__name__)

BGNBD_PARAMS: tuple[str, ...] = ("r", "alpha", "a", "b")
GG_PARAMS: tuple[str, ...] = ("p", "q", "v")
TRUTH_COLUMNS: tuple[str, ...] = ("customer_id", "alive_at_end")


def rfm(tx: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """BG/NBD summary in days: ``customer_id, frequency, recency, T, monetary_value``.

    Uses orders strictly before ``end`` (exclusive); purchases on the same day count once.
    """
    from pymc_marketing.clv import rfm_summary

    tx = tx[tx["order_date"] < end]
    if tx.empty:
        raise ValueError(f"no transactions before {end.date()}")
    summary = rfm_summary(
        tx,
        "customer_id",
        "order_date",
        "amount",
        observation_period_end=end - DAY,
        time_unit="D",
    )
    return summary.astype({"frequency": float, "recency": float, "T": float})


def _quiet_fit(model, data: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("pymc").setLevel(logging.ERROR)
        model.fit(data, method="map", progressbar=False)


def _point(da) -> np.ndarray:
    """A MAP prediction (chain=1, draw=1, customer_id) -> 1-d array."""
    return np.asarray(da.mean(("chain", "draw")).values, dtype=float)


# ------------------------------------------------------------------------------------ BG/NBD + GG
class CLVModel(BaseModel):
    """BG/NBD + Gamma-Gamma customer lifetime value with a RandomForest comparison.

    Config (``CLVModel.default_config | config``):

    ``horizon_days``  CLV horizon (365 = 12 months);
    ``holdout_days``  length of the evaluate() holdout (calibration ends ``holdout_days`` before
                      the data's end);
    ``discount_rate`` monthly discount rate for CLV (0 = none);
    ``regressor``     also fit the :class:`CLVRegressor` (column ``clv_rf``);
    ``bgnbd_priors`` / ``gg_priors``  pymc-marketing model_config overrides (default: flat).
    """

    name: ClassVar[str] = "clv"
    default_config: ClassVar[dict[str, Any]] = {
        "horizon_days": 365,
        "holdout_days": 365,
        "discount_rate": 0.0,
        "regressor": True,
        "regressor_config": {},
        "bgnbd_priors": None,
        "gg_priors": None,
        "random_seed": 42,
    }

    # ------------------------------------------------------------------ fitting
    def fit(self, data: pd.DataFrame, *, end=None) -> CLVModel:
        """Fit on transactions (``customer_id, order_date, amount``) observed until ``end``.

        ``end`` (exclusive) defaults to midnight after the last order.
        """
        tx = prepare_transactions(data)
        self.end_ = pd.Timestamp(end) if end is not None else default_end(tx)
        tx = tx[tx["order_date"] < self.end_]
        self.rfm_ = rfm(tx, self.end_)
        self._bg_idata, self._gg_idata = self._fit_pair(self.rfm_)
        self.params_ = self._read_params()
        self.regressor_ = None
        if self.config["regressor"]:
            try:
                self.regressor_ = CLVRegressor(self._regressor_config()).fit(tx)
            except ValueError as exc:
                log.warning("CLV regressor skipped: %s", exc)
        self._tx = tx
        self._mark_fitted(
            data_until=tx["order_date"].max(),
            end=self.end_,
            customers=len(self.rfm_),
            transactions=len(tx),
            repeat_customers=int((self.rfm_["frequency"] > 0).sum()),
        )
        return self

    def _regressor_config(self) -> dict[str, Any]:
        return {
            "horizon_days": self.config["horizon_days"],
            "random_seed": self.config["random_seed"],
        } | dict(self.config["regressor_config"])

    def _priors(self, key: str, names: tuple[str, ...]) -> dict:
        from pymc_extras.prior import Prior

        flat = {name: Prior("HalfFlat") for name in names}
        return flat | dict(self.config[key] or {})

    def _fit_pair(self, summary: pd.DataFrame):
        from pymc_marketing.clv import BetaGeoModel, GammaGammaModel

        bg = BetaGeoModel(model_config=self._priors("bgnbd_priors", BGNBD_PARAMS))
        _quiet_fit(bg, summary[["customer_id", "frequency", "recency", "T"]])
        repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
        if len(repeat) < 10:
            raise ValueError("CLV: fewer than 10 repeat customers, cannot fit the spend model")
        gg = GammaGammaModel(model_config=self._priors("gg_priors", GG_PARAMS))
        _quiet_fit(gg, repeat[["customer_id", "frequency", "monetary_value"]])
        self._bg, self._gg = bg, gg
        return bg.idata, gg.idata

    def _models(self):
        """The pymc-marketing models (rebuilt from their InferenceData after unpickling)."""
        from pymc_marketing.clv import BetaGeoModel, GammaGammaModel

        if getattr(self, "_bg", None) is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._bg = BetaGeoModel.build_from_idata(self._bg_idata)
                self._gg = GammaGammaModel.build_from_idata(self._gg_idata)
        return self._bg, self._gg

    def _read_params(self) -> dict[str, float]:
        bg, gg = self._models()
        out = {k: float(bg.fit_result[k].mean()) for k in BGNBD_PARAMS}
        out |= {k: float(gg.fit_result[k].mean()) for k in GG_PARAMS}
        return out

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_bg"] = state["_gg"] = None  # pymc models do not pickle; idata does
        return state

    # ------------------------------------------------------------------ prediction
    def _predict_summary(self, summary: pd.DataFrame, horizon_days: int) -> pd.DataFrame:
        bg, gg = self._models()
        s = summary.reset_index(drop=True)
        cols = ["customer_id", "frequency", "recency", "T"]
        purchases = _point(bg.expected_purchases(s[cols], future_t=horizon_days))
        p_alive = _point(bg.expected_probability_alive(s[cols]))
        spend = _point(
            gg.expected_customer_spend(s[["customer_id", "frequency", "monetary_value"]])
        )
        rate = self.config["discount_rate"]
        if rate:
            # discounted sum over months (30-day steps, pymc-marketing's convention)
            steps = np.unique(np.append(np.arange(30, horizon_days, 30), horizon_days))
            prev = np.zeros(len(s))
            clv = np.zeros(len(s))
            for t in steps:
                cum = _point(bg.expected_purchases(s[cols], future_t=int(t)))
                clv += spend * (cum - prev) / (1 + rate) ** (t / 30)
                prev = cum
        else:
            clv = purchases * spend
        return pd.DataFrame(
            {
                "customer_id": s["customer_id"].to_numpy(),
                "frequency": s["frequency"].to_numpy(),
                "recency": s["recency"].to_numpy(),
                "T": s["T"].to_numpy(),
                "monetary_value": s["monetary_value"].to_numpy(),
                "expected_purchases": purchases,
                "p_alive": p_alive,
                "expected_spend": spend,
                "clv": clv,
            }
        )

    def predict(
        self, data: pd.DataFrame | None = None, *, horizon_days: int | None = None
    ) -> pd.DataFrame:
        """Per customer: expected purchases, P(alive), expected spend and CLV over the horizon.

        Parameters
        ----------
        data
            Transactions to score (default: the fitted ones), summarised at their own end.
        horizon_days
            Default ``config["horizon_days"]`` (365: 12-month CLV).

        Returns
        -------
        DataFrame
            ``customer_id, frequency, recency, T, monetary_value, expected_purchases, p_alive,
            expected_spend, clv`` and ``clv_rf`` (the RandomForest's spend forecast) when the
            regressor was fitted.
        """
        self._check_fitted()
        horizon = int(horizon_days or self.config["horizon_days"])
        if data is None:
            tx, end, summary = self._tx, self.end_, self.rfm_
        else:
            tx = prepare_transactions(data)
            end = default_end(tx)
            summary = rfm(tx, end)
        out = self._predict_summary(summary, horizon)
        if self.regressor_ is not None:
            rf = self.regressor_.predict(tx, at=end)
            out = out.merge(rf, on="customer_id", how="left")
        return out

    # ------------------------------------------------------------------ evaluation
    def evaluate(
        self,
        *,
        truth: pd.DataFrame | None = None,
        true_params: Mapping[str, float] | None = None,
        holdout_days: int | None = None,
    ) -> Evaluation:
        """Backtest on the last ``holdout_days``: refit on the calibration period, forecast the
        holdout per customer, compare BG/NBD+GG, the RandomForest and the naive baseline
        (spend in the holdout = spend in the same length of time before the cutoff).

        ``truth`` (the generator's per-customer ``customer_id, alive_at_end``) adds P(alive) AUC
        and Brier score against the planted dropouts, next to a recency-only baseline;
        ``true_params`` adds the fitted-vs-planted BG/NBD parameters.

        ``table`` has the rows model, mae, rmse, total_error_pct, spearman, top_decile_share;
        ``best`` the lowest MAE; ``details``: ``cutoff``, ``holdout_days``, ``customers``,
        ``purchases`` (BG/NBD vs naive), ``params`` and, when given, ``truth`` and
        ``param_recovery``.
        """
        self._check_fitted()
        holdout = int(holdout_days or self.config["holdout_days"])
        tx = self._tx
        cutoff = self.end_ - holdout * DAY
        if cutoff <= tx["order_date"].min() + 30 * DAY:
            raise ValueError(f"CLV evaluate: the data span is too short for holdout_days={holdout}")
        calib = CLVModel(self.config | {"regressor": False})
        calib.fit(tx, end=cutoff)
        pred = calib._predict_summary(calib.rfm_, holdout)
        actual = (
            window_totals(tx, cutoff, self.end_)
            .set_index("customer_id")
            .reindex(pred["customer_id"], fill_value=0.0)
        )
        before = (
            window_totals(tx, cutoff - holdout * DAY, cutoff)
            .set_index("customer_id")
            .reindex(pred["customer_id"], fill_value=0.0)
        )
        rows = [{"model": "bgnbd_gamma_gamma"} | spend_metrics(actual["spend"], pred["clv"])]
        if self.config["regressor"]:
            try:
                reg = CLVRegressor(self._regressor_config() | {"horizon_days": holdout})
                reg.fit(tx[tx["order_date"] < cutoff], cutoff=cutoff - holdout * DAY)
                rf = reg.predict(tx, at=cutoff).set_index("customer_id")["clv_rf"]
                rf = rf.reindex(pred["customer_id"], fill_value=0.0)
                rows.append({"model": "random_forest"} | spend_metrics(actual["spend"], rf))
            except ValueError as exc:
                log.warning("CLV regressor backtest skipped: %s", exc)
        rows.append(
            {"model": "naive_last_period"} | spend_metrics(actual["spend"], before["spend"])
        )
        table = pd.DataFrame(rows)
        exp_p, act_p = pred["expected_purchases"].to_numpy(), actual["purchase_days"].to_numpy()
        naive_p = before["purchase_days"].to_numpy()
        purchases = {
            "bgnbd_mae": float(np.mean(np.abs(exp_p - act_p))),
            "naive_mae": float(np.mean(np.abs(naive_p - act_p))),
            "bgnbd_rmse": float(np.sqrt(np.mean((exp_p - act_p) ** 2))),
            "naive_rmse": float(np.sqrt(np.mean((naive_p - act_p) ** 2))),
            "actual_total": float(act_p.sum()),
            "bgnbd_total": float(exp_p.sum()),
        }
        details: dict[str, Any] = {
            "cutoff": cutoff,
            "holdout_days": holdout,
            "customers": len(pred),
            "purchases": purchases,
            "params": self.params_,
        }
        summary = [
            f"holdout purchases: BG/NBD RMSE {purchases['bgnbd_rmse']:.2f} vs naive "
            f"{purchases['naive_rmse']:.2f}; total {purchases['bgnbd_total']:,.0f} predicted vs "
            f"{purchases['actual_total']:,.0f} actual",
            "fitted: " + ", ".join(f"{k}={v:.3f}" for k, v in self.params_.items()),
        ]
        if truth is not None:
            details["truth"] = t = self._truth_metrics(truth)
            if "p_alive_auc" in t:
                summary.append(
                    f"P(alive) vs planted dropouts: AUC {t['p_alive_auc']:.3f} "
                    f"(recency only {t['recency_only_auc']:.3f}), Brier {t['p_alive_brier']:.3f}"
                )
        if true_params is not None:
            details["param_recovery"] = {
                k: {"fitted": self.params_[k], "true": float(true_params[k])} for k in BGNBD_PARAMS
            } | {
                "mean_rate_per_day": {
                    "fitted": self.params_["r"] / self.params_["alpha"],
                    "true": true_params["r"] / true_params["alpha"],
                },
                "mean_dropout": {
                    "fitted": self.params_["a"] / (self.params_["a"] + self.params_["b"]),
                    "true": true_params["a"] / (true_params["a"] + true_params["b"]),
                },
            }
        return self._evaluated(
            Evaluation(
                best=str(table.sort_values("mae").iloc[0]["model"]),
                table=table,
                summary=summary,
                details=details,
            )
        )

    def _truth_metrics(self, truth: pd.DataFrame) -> dict[str, float]:
        validate_columns(truth, TRUTH_COLUMNS, what="CLV truth")
        pred = self.predict().merge(truth[list(TRUTH_COLUMNS)], on="customer_id", how="inner")
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
