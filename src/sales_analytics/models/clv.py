"""Customer lifetime value: a purchase model chosen on a holdout, Gamma-Gamma spend, intervals.

:class:`CLVModel` fits three buy-till-you-die purchase models (BG/NBD, modified BG/NBD and
Pareto/NBD: :mod:`.btyd`) by maximum likelihood on a calibration period, forecasts every
customer's purchases in the holdout after it, and keeps the one that best predicts who buys again
in the holdout (lowest log-loss of "at least one purchase day", a proper score; the RMSE of the
purchase counts is reported next to it), refitted on all the data. The holdout adapts to the data's span
(a third of it, between 30 and 365 days). With the BG/NBD a one-time buyer is always "alive"; the
other two let P(alive) decay with the time since the only purchase, and win when the data say so.
Spend per purchase is a Gamma-Gamma model; CLV = expected purchases x expected spend. 80%
intervals of the expected purchases and CLV come from a Laplace approximation around the
maximum-likelihood estimate (parameter uncertainty). A :class:`CLVRegressor` (RandomForest on
behavioural features) is fitted for comparison on the same backtest.

Dates: ``fit(end=...)`` is the **last day observed, inclusive**, like every end date.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from sales_analytics.models import btyd
from sales_analytics.models.base import BaseModel, Evaluation
from sales_analytics.models.clv_eval import evaluate_clv
from sales_analytics.models.clv_regressor import CLVRegressor
from sales_analytics.models.data import prepare_transactions
from sales_analytics.models.features import DAY, default_end, window_totals

log = logging.getLogger(__name__)

BGNBD_PARAMS: tuple[str, ...] = btyd.FAMILIES["bgnbd"]
GG_PARAMS: tuple[str, ...] = btyd.GG_PARAMS
TRUTH_COLUMNS: tuple[str, ...] = ("customer_id", "alive_at_end")


def rfm(tx: pd.DataFrame, until: pd.Timestamp) -> pd.DataFrame:
    """The purchase-model summary in days: ``customer_id, frequency, recency, T, monetary_value``.

    Uses orders strictly before ``until`` (the midnight after the last day observed); purchases
    on the same day count once: ``frequency`` = purchase days - 1, ``recency`` = days from the
    first to the last purchase day, ``T`` = days from the first purchase day to the last day
    observed, ``monetary_value`` = mean spend per repeat purchase day (0 without one).
    """
    tx = tx[tx["order_date"] < until]
    if tx.empty:
        raise ValueError(f"no transactions before {until.date()}")
    days = (
        tx.assign(day=tx["order_date"].dt.normalize())
        .groupby(["customer_id", "day"], sort=True)["amount"]
        .sum()
        .reset_index()
    )
    g = days.groupby("customer_id", sort=True)
    first, last, n = g["day"].min(), g["day"].max(), g.size()
    first_spend = g["amount"].first()
    repeat_spend = g["amount"].sum() - first_spend
    frequency = (n - 1).astype(float)
    out = pd.DataFrame(
        {
            "frequency": frequency,
            "recency": ((last - first) / DAY).astype(float),
            "T": ((until - DAY - first) / DAY).astype(float),
            "monetary_value": np.where(frequency > 0, repeat_spend / frequency.clip(lower=1), 0.0),
        }
    )
    return out.rename_axis("customer_id").reset_index()


def holdout_for_span(span_days: float) -> int:
    """The selection/backtest holdout for ``span_days`` of data: a third, 30 to 365 days."""
    return int(min(365, max(30, span_days // 3)))


def purchase_errors(expected: np.ndarray, actual: np.ndarray) -> dict[str, float]:
    return {
        "rmse": float(np.sqrt(np.mean((expected - actual) ** 2))),
        "mae": float(np.mean(np.abs(expected - actual))),
        "predicted_total": float(expected.sum()),
        "actual_total": float(actual.sum()),
    }


def repeat_scores(p_none: np.ndarray, actual: np.ndarray) -> dict[str, float]:
    """Log-loss and Brier score of "buys again in the holdout" (a purchase day in it)."""
    p_buy = np.clip(1 - p_none, 1e-9, 1 - 1e-9)
    bought = actual > 0
    return {
        "logloss": float(-np.mean(np.where(bought, np.log(p_buy), np.log1p(-p_buy)))),
        "brier": float(np.mean((p_buy - bought) ** 2)),
    }


class CLVModel(BaseModel):
    """Purchase model (chosen on a holdout) + Gamma-Gamma CLV, with a RandomForest comparison.

    Config (``CLVModel.default_config | config``):

    ``horizon_days``    CLV horizon (365 = 12 months);
    ``holdout_days``    holdout of the model choice and of evaluate() (None: a third of the data's
                        span, 30 to 365 days);
    ``candidates``      purchase models to choose from (:data:`.btyd.FAMILIES`);
    ``discount_rate``   monthly discount rate for CLV (0 = none);
    ``interval``        central probability of the ``*_lo``/``*_hi`` columns (0.8);
    ``interval_draws``  parameter draws of the Laplace approximation (0: no intervals);
    ``regressor``       also fit the :class:`CLVRegressor` (column ``clv_rf``).
    """

    name: ClassVar[str] = "clv"
    default_config: ClassVar[dict[str, Any]] = {
        "horizon_days": 365,
        "holdout_days": None,
        "candidates": tuple(btyd.FAMILIES),
        "discount_rate": 0.0,
        "interval": 0.8,
        "interval_draws": 100,
        "regressor": True,
        "regressor_config": {},
        "random_seed": 42,
    }

    # ------------------------------------------------------------------ fitting
    def fit(self, data: pd.DataFrame, *, end=None) -> CLVModel:
        """Fit on transactions (``customer_id, order_date, amount``) up to ``end``.

        ``end`` is the last day observed, **inclusive** (default: the day of the last order).
        """
        tx = prepare_transactions(data)
        for family in self.config["candidates"]:
            btyd.check_family(family)
        self.until_ = pd.Timestamp(end).normalize() + DAY if end is not None else default_end(tx)
        self.end_ = self.until_ - DAY
        tx = tx[tx["order_date"] < self.until_]
        self.rfm_ = rfm(tx, self.until_)
        self._tx = tx
        self._select(tx)
        self.fits_ = {f: btyd.fit_purchases(f, self.rfm_) for f in self.config["candidates"]}
        self.purchase_fit_ = self.fits_[self.family_]
        self.spend_fit_ = btyd.fit_spend(self.rfm_)
        self.params_ = self.purchase_fit_.params | self.spend_fit_.params
        self.regressor_ = None
        if self.config["regressor"]:
            try:
                self.regressor_ = CLVRegressor(self._regressor_config()).fit(tx)
            except ValueError as exc:
                log.warning("CLV regressor skipped: %s", exc)
        self._mark_fitted(
            data_until=tx["order_date"].max(),
            end=self.end_,
            customers=len(self.rfm_),
            transactions=len(tx),
            repeat_customers=int((self.rfm_["frequency"] > 0).sum()),
            purchase_model=self.family_,
        )
        return self

    def holdout_days(self, tx: pd.DataFrame | None = None) -> int:
        if self.config["holdout_days"]:
            return int(self.config["holdout_days"])
        tx = self._tx if tx is None else tx
        return holdout_for_span((self.until_ - tx["order_date"].min().normalize()) / DAY)

    def _select(self, tx: pd.DataFrame) -> None:
        """Fit every candidate before ``until - holdout``; keep the best on holdout purchases."""
        holdout = self.holdout_days(tx)
        cutoff = self.until_ - holdout * DAY
        self.calibration_: dict[str, Any] = {"holdout_days": holdout, "cutoff": cutoff}
        candidates = list(self.config["candidates"])
        if cutoff <= tx["order_date"].min().normalize() + 30 * DAY:
            # too short to hold anything out: the best in-sample likelihood (same parameter count)
            fits = {f: btyd.fit_purchases(f, self.rfm_) for f in candidates}
            self.family_ = max(fits, key=lambda f: fits[f].loglik)
            self.selection_ = btyd.params_frame(fits).assign(logloss=np.nan, rmse=np.nan)
            self.calibration_["reason"] = f"data span too short for a {holdout}-day holdout"
            return
        calib = rfm(tx, cutoff)
        actual = (
            window_totals(tx, cutoff, self.until_)
            .set_index("customer_id")["purchase_days"]
            .reindex(calib["customer_id"], fill_value=0.0)
            .to_numpy()
        )
        rows, fits = [], {}
        for family in candidates:
            fits[family] = fit = btyd.fit_purchases(family, calib)
            exp = btyd.expected_purchases(
                family, fit.params, holdout, calib["frequency"], calib["recency"], calib["T"]
            )
            none = btyd.p_no_purchase(
                family,
                fit.params,
                holdout,
                calib["frequency"],
                calib["recency"],
                calib["T"],
                seed=self.config["random_seed"],
            )
            rows.append(
                {"model": family, "loglik": fit.loglik}
                | repeat_scores(none, actual)
                | purchase_errors(exp, actual)
            )
        self.selection_ = pd.DataFrame(rows)
        self.family_ = str(self.selection_.sort_values("logloss", kind="stable").iloc[0]["model"])
        self.calibration_ |= {"summary": calib, "fits": fits, "actual_purchase_days": actual}

    def _regressor_config(self) -> dict[str, Any]:
        return {
            "horizon_days": self.config["horizon_days"],
            "random_seed": self.config["random_seed"],
        } | dict(self.config["regressor_config"])

    # ------------------------------------------------------------------ prediction
    def score_summary(self, summary: pd.DataFrame, horizon_days: int | None = None) -> pd.DataFrame:
        """:func:`.btyd.score` with this model's fits and config (a pure function of ``summary``)."""
        self._check_fitted()
        return btyd.score(
            summary,
            self.purchase_fit_,
            self.spend_fit_,
            horizon_days=int(horizon_days or self.config["horizon_days"]),
            discount_rate=self.config["discount_rate"],
            interval=self.config["interval"],
            draws=self.config["interval_draws"],
            seed=self.config["random_seed"],
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
            :data:`.btyd.SCORE_COLUMNS` (``customer_id, frequency, recency, T, monetary_value,
            expected_purchases``, its 80% interval ``expected_purchases_lo/_hi``, ``p_alive,
            expected_spend, clv, clv_lo, clv_hi``) and ``clv_rf`` (the RandomForest's spend
            forecast) when the regressor was fitted.
        """
        self._check_fitted()
        if data is None:
            tx, until, summary = self._tx, self.until_, self.rfm_
        else:
            tx = prepare_transactions(data)
            until = default_end(tx)
            summary = rfm(tx, until)
        out = self.score_summary(summary, horizon_days)
        if self.regressor_ is not None:
            out = out.merge(self.regressor_.predict(tx, at=until), on="customer_id", how="left")
        return out

    # ------------------------------------------------------------------ evaluation
    def evaluate(
        self,
        *,
        truth: pd.DataFrame | None = None,
        true_params: Mapping[str, float] | None = None,
        holdout_days: int | None = None,
    ) -> Evaluation:
        """Backtest on the holdout: the chosen purchase model + Gamma-Gamma fitted before the
        cutoff vs the RandomForest (trained one holdout earlier) vs the naive baseline (spend in
        the holdout = spend in the same length of time before the cutoff).

        ``truth`` (the generator's per-customer ``customer_id, alive_at_end``) adds P(alive) AUC
        and Brier score against the planted dropouts, next to a recency-only baseline;
        ``true_params`` adds fitted-vs-planted BG/NBD parameters.

        ``table`` has the rows model, mae, rmse, total_error_pct, spearman, top_decile_share;
        ``best`` the lowest MAE; ``details``: ``purchase_model``, ``selection`` (holdout
        purchases per candidate), ``cutoff``, ``holdout_days``, ``customers``, ``purchases``
        (chosen model vs naive), ``params``, ``one_time_buyers`` and, when given, ``truth`` and
        ``param_recovery``.
        """
        self._check_fitted()
        return self._evaluated(
            evaluate_clv(self, truth=truth, true_params=true_params, holdout_days=holdout_days)
        )
