"""90-day daily revenue forecast: mlforecast ML models vs statsforecast baselines.

Candidates (names used in every table):

* ``random_forest``, ``gradient_boosting``, ``linear`` (mlforecast, recursive) on a trend, day of
  week, month, quarter, lags 7 and 30 and rolling means over 7 and 30 days; conformal intervals;
* ``auto_ets``, ``auto_arima``, ``seasonal_naive`` (statsforecast, weekly season) with their own
  intervals.

:meth:`RevenueForecaster.fit` runs rolling-origin cross-validation (``cv_windows`` windows of
``cv_horizon`` days), picks the model with the lowest MAE, measures the empirical coverage of the
80/95% intervals and, where coverage falls short of nominal by more than ``coverage_tolerance``
points, widens that model's intervals by the smallest factor that restores it on the backtest.
The coverage after widening is checked honestly (factor chosen on the other windows); when even
that stays short, it switches to the most accurate model whose own intervals cover well, provided
its MAE is at most ``switch_mae_tolerance`` worse.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from sales_analytics.models.base import BaseModel, Evaluation
from sales_analytics.models.data import series_frame
from sales_analytics.models.intervals import coverage, to_long, widen, widening_factor

ML_MODELS: tuple[str, ...] = ("random_forest", "gradient_boosting", "linear")
STAT_MODELS: tuple[str, ...] = ("auto_ets", "auto_arima", "seasonal_naive")
BASELINE = "seasonal_naive"
UID = "revenue"
_EPOCH = np.datetime64("2000-01-01", "D")


def trend(dates: pd.DatetimeIndex) -> np.ndarray:
    """Days since 2000-01-01: the trend feature (a module-level function so models pickle)."""
    return (np.asarray(dates, dtype="datetime64[D]") - _EPOCH).astype(np.int64)


def _ml_models(config: dict[str, Any], names: Sequence[str]) -> dict[str, Any]:
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
    from sklearn.linear_model import LinearRegression

    seed = config["random_seed"]
    factories = {
        "random_forest": lambda: RandomForestRegressor(
            n_estimators=config["rf_n_estimators"],
            min_samples_leaf=3,
            n_jobs=config["n_jobs"],
            random_state=seed,
        ),
        "gradient_boosting": lambda: GradientBoostingRegressor(
            n_estimators=config["gb_n_estimators"],
            max_depth=3,
            learning_rate=0.05,
            random_state=seed,
        ),
        "linear": LinearRegression,
    }
    return {name: factories[name]() for name in names if name in factories}


def _stat_models(config: dict[str, Any], names: Sequence[str]) -> list[Any]:
    from statsforecast.models import AutoARIMA, AutoETS, SeasonalNaive

    season = config["season_length"]
    factories = {
        "auto_ets": lambda: AutoETS(season_length=season, alias="auto_ets"),
        "auto_arima": lambda: AutoARIMA(season_length=season, alias="auto_arima"),
        "seasonal_naive": lambda: SeasonalNaive(season_length=season, alias="seasonal_naive"),
    }
    return [factories[name]() for name in names if name in factories]


def _mlforecast(config: dict[str, Any], names: Sequence[str]):
    from mlforecast import MLForecast
    from mlforecast.lag_transforms import RollingMean

    return MLForecast(
        models=_ml_models(config, names),
        freq="D",
        lags=list(config["lags"]),
        lag_transforms={1: [RollingMean(window_size=w) for w in config["rolling"]]},
        date_features=["dayofweek", "month", "quarter", trend],
    )


class RevenueForecaster(BaseModel):
    """Daily revenue forecaster with automatic model selection by rolling-origin CV."""

    name: ClassVar[str] = "forecast"
    default_config: ClassVar[dict[str, Any]] = {
        "horizon": 90,
        "cv_windows": 3,
        "cv_horizon": None,  # None: the horizon
        "levels": (80, 95),
        "models": ML_MODELS + STAT_MODELS,
        "season_length": 7,
        "lags": (7, 30),
        "rolling": (7, 30),
        "conformal_windows": 2,
        "coverage_tolerance": 5.0,  # percentage points below nominal before widening
        "switch_mae_tolerance": 0.10,  # switch model for coverage if MAE is at most 10% worse
        "rf_n_estimators": 200,
        "gb_n_estimators": 200,
        "n_jobs": 2,
        "random_seed": 42,
    }

    @property
    def _levels(self) -> list[int]:
        return [int(lv) for lv in self.config["levels"]]

    def _cv_horizon(self) -> int:
        return int(self.config["cv_horizon"] or self.config["horizon"])

    def _ml_names(self) -> list[str]:
        return [m for m in self.config["models"] if m in ML_MODELS]

    def _stat_names(self) -> list[str]:
        return [m for m in self.config["models"] if m in STAT_MODELS]

    def _check_length(self, n: int) -> None:
        h = max(self._cv_horizon(), self.config["horizon"])
        need = (self.config["cv_windows"] + self.config["conformal_windows"]) * self._cv_horizon()
        need = max(need, self.config["conformal_windows"] * h) + max(self.config["lags"]) + 60
        if n < need:
            raise ValueError(
                f"forecast: {n} days of history is too short for cv_windows="
                f"{self.config['cv_windows']} x {self._cv_horizon()} days; need at least {need}"
            )

    # ------------------------------------------------------------------ fitting
    def fit(self, data: pd.DataFrame, *, progress=None) -> RevenueForecaster:
        """Cross-validate every candidate, select the best, fit it on the whole series.

        Parameters
        ----------
        data
            ``ds, y`` daily revenue (missing days count as zero).
        progress
            Optional callable ``progress(step: str)`` called as stages finish (for the CLI).
        """
        unknown = sorted(set(self.config["models"]) - set(ML_MODELS + STAT_MODELS))
        if unknown:
            raise ValueError(f"forecast: unknown model(s): {', '.join(unknown)}")
        if BASELINE not in self.config["models"]:
            raise ValueError(f"forecast: the baseline {BASELINE} must be among the models")
        series = series_frame(data)
        self._check_length(len(series))
        df = series.assign(unique_id=UID)[["unique_id", "ds", "y"]]
        step = progress or (lambda _s: None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cv = self._cross_validate(df, step)
        self.cv_ = cv
        self.table_ = self._score(cv)
        self.best_ = str(self.table_.iloc[0]["model"])
        self.switched_from_ = None
        self._calibrate_intervals(cv)
        if not self._intervals_ok():
            # widening could not restore coverage: switch to the most accurate model whose own
            # intervals cover well, if its MAE is within ``switch_mae_tolerance`` of the best
            tol = self.config["coverage_tolerance"]
            limit = self.table_.iloc[0]["mae"] * (1 + self.config["switch_mae_tolerance"])
            for row in self.table_.itertuples(index=False):
                ok = all(getattr(row, f"coverage_{lv}") >= lv - tol for lv in self._levels)
                if ok and row.mae <= limit and row.model != self.best_:
                    self.switched_from_, self.best_ = self.best_, str(row.model)
                    self._calibrate_intervals(cv)
                    break
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._fit_final(df)
        step("final fit")
        self.series_end_ = series["ds"].max()
        self._mark_fitted(
            data_until=self.series_end_,
            start=series["ds"].min(),
            end=self.series_end_,
            days=len(series),
            best=self.best_,
        )
        return self

    def _cross_validate(self, df: pd.DataFrame, step) -> pd.DataFrame:
        from mlforecast.utils import PredictionIntervals
        from statsforecast import StatsForecast

        h, n_windows, levels = self._cv_horizon(), self.config["cv_windows"], self._levels
        parts = []
        if self._ml_names():
            mlf = _mlforecast(self.config, self._ml_names())
            out = mlf.cross_validation(
                df,
                n_windows=n_windows,
                h=h,
                step_size=h,
                prediction_intervals=PredictionIntervals(
                    n_windows=self.config["conformal_windows"], h=h
                ),
                level=levels,
            )
            parts.append(to_long(out, self._ml_names(), levels))
            step("cross-validated ML models")
        if self._stat_names():
            sf = StatsForecast(
                models=_stat_models(self.config, self._stat_names()), freq="D", n_jobs=1
            )
            out = sf.cross_validation(h=h, df=df, n_windows=n_windows, step_size=h, level=levels)
            parts.append(to_long(out, self._stat_names(), levels))
            step("cross-validated statistical models")
        return pd.concat(parts, ignore_index=True)

    def _score(self, cv: pd.DataFrame) -> pd.DataFrame:
        rows = []
        for name, g in cv.groupby("model", sort=False):
            err = g["yhat"] - g["y"]
            pos = g["y"] > 0
            row = {
                "model": name,
                "mae": float(np.mean(np.abs(err))),
                "rmse": float(np.sqrt(np.mean(err**2))),
                "mape": float(100 * np.mean(np.abs(err[pos]) / g["y"][pos]))
                if pos.any()
                else float("nan"),
            }
            for lv in self._levels:
                row[f"coverage_{lv}"] = coverage(g, lv)
            rows.append(row)
        table = pd.DataFrame(rows)
        base = table.set_index("model").loc[BASELINE, "mae"]
        table["mae_vs_naive"] = table["mae"] / base if base else float("nan")
        return table.sort_values(["mae", "model"], kind="stable").reset_index(drop=True)

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

    def _fit_final(self, df: pd.DataFrame) -> None:
        from mlforecast.utils import PredictionIntervals
        from statsforecast import StatsForecast

        h = int(self.config["horizon"])
        self.ml_ = None
        self.stat_ = None
        if self._ml_names():
            # every ML model is refitted (for the feature importances); only the best predicts
            self.ml_ = _mlforecast(self.config, self._ml_names()).fit(
                df,
                prediction_intervals=PredictionIntervals(
                    n_windows=self.config["conformal_windows"], h=h
                ),
            )
        if self.best_ in STAT_MODELS:
            self.stat_ = StatsForecast(
                models=_stat_models(self.config, [self.best_]), freq="D", n_jobs=1
            )
            self.stat_.fit(df=df)

    # ------------------------------------------------------------------ prediction
    def predict(self, *, h: int | None = None, level: Sequence[int] | None = None) -> pd.DataFrame:
        """Forecast the next ``h`` days (default ``config["horizon"]``) with the selected model.

        Returns ``ds, yhat, lo_80, hi_80, lo_95, hi_95, model`` (one ``lo_/hi_`` pair per level;
        intervals already widened where the backtest showed under-coverage).
        """
        self._check_fitted()
        h = int(h or self.config["horizon"])
        levels = [int(lv) for lv in (level or self._levels)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if self.best_ in ML_MODELS:
                if h > self.config["horizon"]:
                    raise ValueError(
                        f"forecast: h={h} exceeds the fitted horizon {self.config['horizon']}"
                    )
                raw = self.ml_.predict(h, level=levels)
            else:
                raw = self.stat_.predict(h=h, level=levels)
        out = to_long(raw, [self.best_], levels)
        for lv in levels:
            out[f"lo_{lv}"], out[f"hi_{lv}"] = widen(out, lv, self.widen_.get(lv, 1.0))
        cols = ["ds", "yhat"] + [f"{s}_{lv}" for lv in levels for s in ("lo", "hi")] + ["model"]
        return out[cols].reset_index(drop=True)

    def feature_importance(self) -> pd.DataFrame:
        """Impurity importances of the tree models, one column per model, summing to one."""
        self._check_fitted()
        if self.ml_ is None:
            return pd.DataFrame(columns=["feature"])
        features = list(self.ml_.ts.features_order_)
        cols = {
            name: model.feature_importances_
            for name, model in self.ml_.models_.items()
            if hasattr(model, "feature_importances_")
        }
        frame = pd.DataFrame({"feature": features} | cols)
        if cols:
            frame = frame.sort_values(next(iter(cols)), ascending=False)
        return frame.reset_index(drop=True)

    def evaluate(self) -> Evaluation:
        """The rolling-origin backtest run by :meth:`fit`.

        ``table`` (model, mae, rmse, mape, coverage_80, coverage_95, mae_vs_naive; most accurate
        first), ``best`` (the selected model); ``details``: ``most_accurate``, ``switched_from``,
        ``baseline``, ``cv_windows``, ``cv_horizon``, ``cutoffs``, ``coverage`` (per level: raw /
        widening factor / out-of-window coverage after widening, for the selected model) and
        ``feature_importance``.
        """
        self._check_fitted()
        details = {
            "most_accurate": str(self.table_.iloc[0]["model"]),
            "switched_from": self.switched_from_,
            "baseline": BASELINE,
            "cv_windows": self.config["cv_windows"],
            "cv_horizon": self._cv_horizon(),
            "cutoffs": sorted(pd.to_datetime(self.cv_["cutoff"].unique())),
            "coverage": self.coverage_,
            "feature_importance": self.feature_importance(),
        }
        summary = []
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
