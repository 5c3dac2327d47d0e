"""Daily revenue forecast: scikit-learn regressors vs statsforecast models, chosen by backtest.

Candidates (names used in every table):

* ``random_forest``, ``gradient_boosting``, ``linear``: recursive regressors on the series divided
  by its linear trend (:class:`~sales_analytics.models.recursive.RecursiveForecaster`: lags 7 and
  30, rolling means over 7 and 30 days, day of week, month, quarter, trend and the events
  calendar's flags); conformal intervals from their backtest errors;
* ``auto_ets``, ``auto_arima`` (a bounded search), ``seasonal_naive`` (weekly season; the
  baseline) from statsforecast, with their own intervals.

:meth:`RevenueForecaster.fit` runs a rolling-origin backtest: ``cv_windows`` windows of
``cv_horizon`` days, each model refitted on the data before each cutoff. After every window but
the last, candidates that lose badly are dropped (more than ``prune_margin`` worse than the best
so far, or outside the best ``prune_keep``); the survivors are compared on every window and the
lowest MAE wins. The windows and the horizon shrink to fit a short history (and say so). The 80/95%
intervals of the winner are checked on the backtest and widened where they under-cover (the factor
for each window chosen on the others); when even that falls short, the most accurate model whose
own intervals cover takes over, if its MAE is at most ``switch_mae_tolerance`` worse.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from sales_analytics.models.backtest import BacktestPlan, plan_backtest, score_table
from sales_analytics.models.base import BaseModel, Evaluation
from sales_analytics.models.candidates import ml_models, stat_models
from sales_analytics.models.data import series_frame
from sales_analytics.models.events import FAMILIES, EventCalendar
from sales_analytics.models.intervals import (
    conformal_bands,
    conformal_scores,
    coverage,
    cross_conformal,
    to_long,
    widen,
    widening_factor,
)
from sales_analytics.models.recursive import RecursiveForecaster

ML_MODELS: tuple[str, ...] = ("random_forest", "gradient_boosting", "linear")
STAT_MODELS: tuple[str, ...] = ("auto_ets", "auto_arima", "seasonal_naive")
BASELINE = "seasonal_naive"
UID = "revenue"


class RevenueForecaster(BaseModel):
    """Daily revenue forecaster with automatic model selection by rolling-origin backtest."""

    name: ClassVar[str] = "forecast"
    default_config: ClassVar[dict[str, Any]] = {
        "horizon": 90,
        "cv_windows": 3,
        "cv_horizon": None,  # None: the horizon
        "min_windows": 2,  # a short history may cut the windows down to this many
        "levels": (80, 95),
        "models": ML_MODELS + STAT_MODELS,
        "season_length": 7,
        "lags": (7, 30),
        "rolling": (7, 30),
        "detrend": True,  # ML models forecast the series divided by its linear trend
        "events": True,  # the events calendar's flags are ML features
        "prune_margin": 0.25,  # drop candidates more than 25% worse than the best after a window
        "prune_keep": 3,  # ... and all but the best 3 (None: no limit)
        "coverage_tolerance": 5.0,  # percentage points below nominal before widening
        "switch_mae_tolerance": 0.10,  # switch model for coverage if MAE is at most 10% worse
        "rf_n_estimators": 60,
        "gb_n_estimators": 150,
        "n_jobs": 2,
        "random_seed": 42,
    }

    @property
    def _levels(self) -> list[int]:
        return [int(lv) for lv in self.config["levels"]]

    def _recursive(self, names: Sequence[str]) -> RecursiveForecaster:
        return RecursiveForecaster(
            ml_models(self.config, names),
            lags=self.config["lags"],
            rolling=self.config["rolling"],
            difference=0,
            detrend=self.config["detrend"],
            calendar=self.calendar_,
        )

    # ------------------------------------------------------------------ fitting
    def fit(
        self, data: pd.DataFrame, *, events: EventCalendar | None = None, progress=None
    ) -> RevenueForecaster:
        """Backtest every candidate, select the best, fit it on the whole series.

        Parameters
        ----------
        data
            ``ds, y`` daily revenue (missing days count as zero).
        events
            The events calendar (built-in events and the shop's promotions); default: the
            built-in events. Ignored when ``config["events"]`` is false.
        progress
            Optional callable ``progress(step: str)`` called as stages finish (for the CLI).
        """
        unknown = sorted(set(self.config["models"]) - set(ML_MODELS + STAT_MODELS))
        if unknown:
            raise ValueError(f"forecast: unknown model(s): {', '.join(unknown)}")
        if BASELINE not in self.config["models"]:
            raise ValueError(f"forecast: the baseline {BASELINE} must be among the models")
        series = series_frame(data)
        self.calendar_ = (events or EventCalendar()) if self.config["events"] else None
        self.plan_: BacktestPlan = plan_backtest(
            len(series),
            horizon=int(self.config["horizon"]),
            windows=int(self.config["cv_windows"]),
            cv_horizon=int(self.config["cv_horizon"] or self.config["horizon"]),
            min_windows=int(self.config["min_windows"]),
            min_train=max(self.config["lags"] + self.config["rolling"]) + 56,
        )
        step = progress or (lambda _s: None)
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cv = self._backtest(series, step)
        self.cv_ = cv
        self.table_ = score_table(cv, self._levels, BASELINE, self.pruned_, self.plan_.windows)
        full = self.table_[self.table_["windows"] == self.plan_.windows]
        self.best_ = str(full.iloc[0]["model"])
        self.switched_from_ = None
        self._calibrate_intervals(cv)
        if not self._intervals_ok():
            # widening could not restore coverage: switch to the most accurate model whose own
            # intervals cover well, if its MAE is within ``switch_mae_tolerance`` of the best
            tol = self.config["coverage_tolerance"]
            limit = full.iloc[0]["mae"] * (1 + self.config["switch_mae_tolerance"])
            for row in full.itertuples(index=False):
                ok = all(getattr(row, f"coverage_{lv}") >= lv - tol for lv in self._levels)
                if ok and row.mae <= limit and row.model != self.best_:
                    self.switched_from_, self.best_ = self.best_, str(row.model)
                    self._calibrate_intervals(cv)
                    break
        selected = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._fit_final(series)
        step("final fit")
        self.timings_ = {
            "selection_seconds": selected - started,
            "final_fit_seconds": time.perf_counter() - selected,
        }
        self.series_end_ = series["ds"].max()
        self._mark_fitted(
            data_until=self.series_end_,
            start=series["ds"].min(),
            end=self.series_end_,
            days=len(series),
            best=self.best_,
        )
        return self

    @property
    def horizon_(self) -> int:
        """Days the forecast covers by default (the configured horizon, shortened to what the
        backtest could test on a short history)."""
        return self.plan_.horizon

    def _backtest(self, series: pd.DataFrame, step) -> pd.DataFrame:
        plan = self.plan_
        last = series["ds"].max()
        cutoffs = [last - pd.Timedelta(days=plan.cv_horizon * (plan.windows - k)) for k in range(plan.windows)]  # fmt: skip
        alive = list(self.config["models"])
        self.pruned_: dict[str, dict[str, Any]] = {}
        self.importance_: dict[str, pd.Series] = {}
        parts: list[pd.DataFrame] = []
        for i, cutoff in enumerate(cutoffs, start=1):
            train = series[series["ds"] <= cutoff]
            test = series[series["ds"] > cutoff].head(plan.cv_horizon)
            ml = [m for m in alive if m in ML_MODELS]
            stat = [m for m in alive if m in STAT_MODELS]
            if ml:
                parts.append(self._ml_window(train, test, cutoff, ml))
            if stat:
                parts.append(self._stat_window(train, test, cutoff, stat))
            step(f"backtest window {i}/{plan.windows}")
            if i < plan.windows:
                alive = self._prune(pd.concat(parts, ignore_index=True), alive, i)
        cv = pd.concat(parts, ignore_index=True)
        for name in ML_MODELS:
            rows = cv["model"] == name
            if rows.any() and cv.loc[rows, "cutoff"].nunique() > 1:
                cv.loc[rows] = cross_conformal(cv[rows], self._levels)
        return cv

    def _ml_window(self, train, test, cutoff, names) -> pd.DataFrame:
        rf = self._recursive(names).fit(train["ds"], train["y"])
        pred = rf.predict(len(test))
        for name, model in rf.models.items():
            if hasattr(model, "feature_importances_"):
                self.importance_[name] = pd.Series(model.feature_importances_, rf.feature_names_)
        out = []
        for name in names:
            part = pd.DataFrame(
                {"ds": test["ds"].to_numpy(), "cutoff": cutoff, "y": test["y"].to_numpy()}
            )
            part["model"] = name
            part["yhat"] = np.clip(pred[name].to_numpy(), 0.0, None)
            for lv in self._levels:
                part[f"lo_{lv}"] = part[f"hi_{lv}"] = np.nan
            out.append(part)
        return pd.concat(out, ignore_index=True)

    def _stat_window(self, train, test, cutoff, names) -> pd.DataFrame:
        from statsforecast import StatsForecast

        sf = StatsForecast(models=stat_models(self.config, names), freq="D", n_jobs=1)
        df = train.assign(unique_id=UID)[["unique_id", "ds", "y"]]
        out = sf.forecast(df=df, h=len(test), level=self._levels)
        out = out.assign(cutoff=cutoff, y=test["y"].to_numpy())
        return to_long(out, names, self._levels)

    def _prune(self, cv: pd.DataFrame, alive: list[str], window: int) -> list[str]:
        """Drop the candidates that lose badly over the windows so far (never the baseline)."""
        mae = cv[cv["model"].isin(alive)].assign(err=lambda d: (d["yhat"] - d["y"]).abs())
        mae = mae.groupby("model")["err"].mean()
        ranked = sorted((m for m in alive if m != BASELINE), key=lambda m: (mae[m], m))
        if not ranked:
            return alive
        best = mae[ranked[0]]
        margin, keep = self.config["prune_margin"], self.config["prune_keep"]
        survivors = ranked[:keep] if keep else ranked
        if margin is not None:
            survivors = [m for m in survivors if mae[m] <= best * (1 + margin)]
        for m in ranked:
            if m not in survivors:
                self.pruned_[m] = {
                    "after_window": window,
                    "mae_vs_best": float(mae[m] / best) if best else float("nan"),
                }
        return [m for m in alive if m in survivors or m == BASELINE]

    def _calibrate_intervals(self, cv: pd.DataFrame) -> None:
        """Coverage of the selected model's intervals; widening factors where they fall short."""
        self.widen_, self.coverage_ = {}, {}
        best_cv = cv[cv["model"] == self.best_]
        for lv in self._levels:
            raw = coverage(best_cv, lv)
            factor = 1.0
            if raw < lv - self.config["coverage_tolerance"]:
                factor = widening_factor(best_cv, lv)
            self.widen_[lv] = factor
            self.coverage_[lv] = {
                "nominal": lv,
                "raw": raw,
                "factor": factor,
                "widened_out_of_window": self._honest_coverage(best_cv, lv) if factor > 1 else raw,
            }

    def _intervals_ok(self) -> bool:
        tol = self.config["coverage_tolerance"]
        return all(c["widened_out_of_window"] >= lv - tol for lv, c in self.coverage_.items())

    def _honest_coverage(self, best_cv: pd.DataFrame, level: int) -> float:
        """Coverage of widened intervals, each window's factor chosen on the other windows."""
        hits = []
        for cutoff, held in best_cv.groupby("cutoff"):
            others = best_cv[best_cv["cutoff"] != cutoff]
            factor = widening_factor(others, level) if len(others) else 1.0
            lo, hi = widen(held, level, factor)
            hits.append(((held["y"] >= lo) & (held["y"] <= hi)).to_numpy())
        return float(100 * np.mean(np.concatenate(hits)))

    def _fit_final(self, series: pd.DataFrame) -> None:
        """Refit only the selected model on the whole series."""
        from statsforecast import StatsForecast

        self.ml_ = self.stat_ = self.ml_scores_ = None
        if self.best_ in ML_MODELS:
            self.ml_ = self._recursive([self.best_]).fit(series["ds"], series["y"])
            self.ml_scores_ = conformal_scores(self.cv_[self.cv_["model"] == self.best_])
        else:
            self.stat_ = StatsForecast(
                models=stat_models(self.config, [self.best_]), freq="D", n_jobs=1
            )
            self.stat_.fit(df=series.assign(unique_id=UID)[["unique_id", "ds", "y"]])

    # ------------------------------------------------------------------ prediction
    def predict(self, *, h: int | None = None, level: Sequence[int] | None = None) -> pd.DataFrame:
        """Forecast the next ``h`` days (default :attr:`horizon_`) with the selected model.

        Returns ``ds, yhat, lo_80, hi_80, lo_95, hi_95, model`` (one ``lo_/hi_`` pair per level;
        intervals already widened where the backtest showed under-coverage).
        """
        self._check_fitted()
        h = int(h or self.horizon_)
        levels = [int(lv) for lv in (level or self._levels)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if self.ml_ is not None:
                raw = self.ml_.predict(h)
                out = pd.DataFrame(
                    {"ds": raw["ds"], "model": self.best_, "yhat": raw[self.best_].clip(lower=0.0)}
                )
                out = conformal_bands(out, self.ml_scores_, levels)
            else:
                out = to_long(self.stat_.predict(h=h, level=levels), [self.best_], levels)
        for lv in levels:
            out[f"lo_{lv}"], out[f"hi_{lv}"] = widen(out, lv, self.widen_.get(lv, 1.0))
        cols = ["ds", "yhat"] + [f"{s}_{lv}" for lv in levels for s in ("lo", "hi")] + ["model"]
        return out[cols].reset_index(drop=True)

    def feature_importance(self) -> pd.DataFrame:
        """Impurity importances of the tree models as fitted in their last backtest window
        (fitted once, not refitted for this), one column per model, summing to one."""
        self._check_fitted()
        if not self.importance_:
            return pd.DataFrame(columns=["feature"])
        frame = pd.DataFrame(self.importance_).rename_axis("feature").reset_index()
        return frame.sort_values(frame.columns[1], ascending=False).reset_index(drop=True)

    def evaluate(self) -> Evaluation:
        """The rolling-origin backtest run by :meth:`fit`.

        ``table`` (model, mae, rmse, mape, coverage_80, coverage_95, mae_vs_naive, windows,
        pruned_after; the models backtested on every window first, lowest MAE first), ``best``
        (the selected model); ``details``: ``most_accurate``, ``switched_from``, ``baseline``,
        ``cv_windows``, ``cv_horizon``, ``horizon``, ``history_days``, ``short_history``,
        ``cutoffs``, ``pruned`` (model -> window and MAE vs the best then), ``coverage`` (per
        level: raw / widening factor / out-of-window coverage after widening, for the selected
        model), ``lift_vs_naive`` (1 - MAE / seasonal-naive MAE of the selected model),
        ``events`` (families and promotions the ML models saw), ``timings`` and
        ``feature_importance``.
        """
        self._check_fitted()
        table = self.table_.set_index("model")
        lift = 1.0 - float(table.loc[self.best_, "mae_vs_naive"])
        details = {
            "most_accurate": str(self.table_.iloc[0]["model"]),
            "switched_from": self.switched_from_,
            "baseline": BASELINE,
            "cv_windows": self.plan_.windows,
            "cv_horizon": self.plan_.cv_horizon,
            "horizon": self.plan_.horizon,
            "history_days": self.plan_.days,
            "short_history": bool(self.plan_.notes),
            "cutoffs": sorted(pd.to_datetime(self.cv_["cutoff"].unique())),
            "pruned": self.pruned_,
            "coverage": self.coverage_,
            "lift_vs_naive": lift,
            "events": self._events_summary(),
            "timings": self.timings_,
            "feature_importance": self.feature_importance(),
        }
        summary = list(self.plan_.notes)
        if self.best_ == BASELINE:
            summary.append(
                "no model beat the seasonal naive (same weekday last week) in the backtest: "
                "the forecast repeats the last week"
            )
        else:
            summary.append(
                f"{self.best_}: backtest MAE {lift:.0%} below the seasonal naive "
                f"({self.plan_.windows} windows of {self.plan_.cv_horizon} days)"
            )
        for name, p in self.pruned_.items():
            summary.append(
                f"{name} dropped after window {p['after_window']} "
                f"(MAE {p['mae_vs_best']:.2f}x the best so far)"
            )
        if self.switched_from_:
            summary.append(
                f"switched from {self.switched_from_} to {self.best_}: "
                "its intervals kept their coverage in the backtest"
            )
        for lv, cov in self.coverage_.items():
            summary.append(
                f"{lv}% interval of {self.best_}: backtest coverage {cov['raw']:.1f}%"
                + (
                    f", widened x{cov['factor']:.2f} -> {cov['widened_out_of_window']:.1f}%"
                    " (out of window)"
                    if cov["factor"] > 1
                    else ""
                )
            )
        fi = details["feature_importance"]
        return self._evaluated(
            Evaluation(
                best=self.best_,
                table=self.table_,
                summary=summary,
                details=details,
                tables={"forecast: feature importance": fi} if len(fi) else {},
            )
        )

    def _events_summary(self) -> dict[str, Any]:
        cal = self.calendar_
        if cal is None:
            return {"families": [], "promotions": 0, "source": None}
        families = [f for f in FAMILIES if f != "promotion" or cal.promotions]
        return {"families": families, "promotions": len(cal.promotions), "source": cal.source}
