"""A small recursive forecaster for one daily series: scikit-learn regressors on lags, rolling
means, calendar and event features, predicting one day at a time.

mlforecast builds the same kind of features, but recomputes them through pandas at every step for
every model (about 10 ms per step); the revenue forecaster predicts 90 steps for three models in
three backtest windows, so it does the bookkeeping here in numpy and predicts all models in one
loop.

Features of day ``t`` (``z`` is the target after the seasonal difference ``z_t = y_t -
y_{t-difference}``; ``difference=0`` keeps ``y``):

* ``lag<k>``: ``z_{t-k}``; ``rolling_mean_<w>``: the mean of ``z_{t-w} .. z_{t-1}``;
* ``dayofweek`` (Monday 0), ``month``, ``quarter``, ``trend`` (days since 2000-01-01);
* ``event_<family>``: 0/1 flags of the events calendar (:mod:`sales_analytics.models.events`).

Every feature of day ``t`` reads targets strictly before ``t`` (tested by scrambling the future).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sales_analytics.models.events import EventCalendar, event_features

_EPOCH = np.datetime64("2000-01-01", "D")


def _calendar_features(days: np.ndarray, calendar: EventCalendar | None) -> dict[str, np.ndarray]:
    """Date features of ``days`` (``datetime64[D]``), by name."""
    index = pd.DatetimeIndex(days.astype("datetime64[ns]"))
    out = {
        "dayofweek": index.dayofweek.to_numpy(dtype=float),
        "month": index.month.to_numpy(dtype=float),
        "quarter": index.quarter.to_numpy(dtype=float),
        "trend": (days - _EPOCH).astype(np.int64).astype(float),
    }
    if calendar is not None:
        for feature in event_features(calendar):
            out[feature.__name__] = feature(index).astype(float)
    return out


def _fast_predict(model: Any, X: np.ndarray) -> np.ndarray:
    """``model.predict(X)`` without the per-call overhead that dominates one-row predictions
    (a forest's thread pool, repeated validation); same numbers."""
    trees = getattr(model, "estimators_", None)
    if type(model).__name__ == "RandomForestRegressor" and trees is not None:
        X32 = np.ascontiguousarray(X, dtype=np.float32)
        return np.mean([t.predict(X32, check_input=False) for t in trees], axis=0)
    if type(model).__name__ == "LinearRegression":
        return X @ model.coef_ + model.intercept_
    return model.predict(X)


class RecursiveForecaster:
    """Fit regressors on one daily series; forecast ``h`` days ahead recursively.

    Parameters
    ----------
    models
        Name -> unfitted scikit-learn regressor.
    lags, rolling
        Lags of the (differenced) target and windows of the rolling means of lag 1.
    difference
        Seasonal difference applied to the target first (7: week on week; 0: none).
    calendar
        The events calendar whose flags are features (``None``: no event features).
    """

    def __init__(
        self,
        models: Mapping[str, Any],
        *,
        lags: Sequence[int] = (7, 30),
        rolling: Sequence[int] = (7, 30),
        difference: int = 7,
        detrend: bool = False,
        trend_days: int | None = None,
        calendar: EventCalendar | None = None,
    ):
        self.trend_days = trend_days
        self.detrend = bool(detrend)
        self.models = dict(models)
        self.lags = tuple(int(k) for k in lags)
        self.rolling = tuple(int(w) for w in rolling)
        self.difference = int(difference)
        self.calendar = calendar

    @property
    def warmup(self) -> int:
        """Days at the start of a series without complete features."""
        return self.difference + max(self.lags + self.rolling)

    def _lag_features(self, z: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Lag and rolling features of positions ``t`` of ``z`` (2-D: one row per path)."""
        out = {f"lag{k}": z[:, t - k] for k in self.lags}
        csum = np.concatenate([np.zeros((z.shape[0], 1)), np.cumsum(np.nan_to_num(z), axis=1)], axis=1)
        for w in self.rolling:
            out[f"rolling_mean_{w}"] = (csum[:, t] - csum[:, t - w]) / w
        return out

    def features(self, ds, y) -> pd.DataFrame:
        """The training frame: one row per day after the warm-up, columns ``feature_names_``
        (in order) and ``target``."""
        days = np.asarray(pd.to_datetime(ds), dtype="datetime64[D]")
        y = np.asarray(y, dtype=float)
        if self.detrend:
            y = y / self._trend(days)
        d = self.difference
        z = y - np.concatenate([np.full(d, np.nan), y[:-d]]) if d else y.copy()
        t = np.arange(self.warmup, len(y))
        lagged = {k: v[0] for k, v in self._lag_features(z[None, :], t).items()}
        frame = pd.DataFrame(lagged | _calendar_features(days[t], self.calendar))
        frame["target"] = z[t]
        return frame

    def _trend(self, days: np.ndarray) -> np.ndarray:
        x = (days - _EPOCH).astype(np.int64).astype(float)
        return np.maximum(self.trend_[0] + self.trend_[1] * x, self.trend_floor_)

    def fit(self, ds, y) -> RecursiveForecaster:
        if self.detrend:
            days = np.asarray(pd.to_datetime(ds), dtype="datetime64[D]")
            x = (days - _EPOCH).astype(np.int64).astype(float)
            keep = x > x[-1] - (self.trend_days or len(x) + 1)
            slope, intercept = np.polyfit(x[keep], np.asarray(y, dtype=float)[keep], 1)
            self.trend_ = (intercept, slope)
            self.trend_floor_ = max(1e-9, 0.1 * float(np.mean(y)))
        frame = self.features(ds, y)
        if len(frame) < 28:
            raise ValueError(
                f"forecast: {len(frame)} days after the {self.warmup}-day warm-up; need 28"
            )
        self.feature_names_ = [c for c in frame.columns if c != "target"]
        X, target = frame[self.feature_names_].to_numpy(), frame["target"].to_numpy()
        for model in self.models.values():
            model.fit(X, target)
        self.history_ = np.asarray(y, dtype=float)
        self.last_day_ = np.asarray(pd.to_datetime(ds), dtype="datetime64[D]")[-1]
        return self

    def predict(self, h: int) -> pd.DataFrame:
        """``ds`` and one column of forecasts per model for the ``h`` days after the series."""
        names = list(self.models)
        days = self.last_day_ + np.arange(1, h + 1).astype("timedelta64[D]")
        future = _calendar_features(days, self.calendar)
        n, d = len(self.history_), self.difference
        hist = self.history_
        if self.detrend:
            past = self.last_day_ - np.arange(n)[::-1].astype("timedelta64[D]")
            hist = hist / self._trend(past)
        y = np.tile(np.concatenate([hist, np.zeros(h)]), (len(names), 1))
        z = y - np.concatenate([np.full((len(names), d), np.nan), y[:, :-d]], axis=1) if d else y
        for step in range(h):
            t = n + step
            lagged = self._lag_features(z, np.array([t]))
            for i, name in enumerate(names):
                row = [
                    lagged[f][i, 0] if f in lagged else future[f][step]
                    for f in self.feature_names_
                ]
                z[i, t] = _fast_predict(self.models[name], np.array([row]))[0]
                if d:
                    y[i, t] = z[i, t] + y[i, t - d]
        scale = self._trend(days) if self.detrend else 1.0
        return pd.DataFrame({"ds": days.astype("datetime64[ns]")} | {
            name: y[i, n:] * scale for i, name in enumerate(names)
        })

    def feature_importance(self) -> pd.DataFrame:
        """Impurity importances of the tree models, one column per model."""
        cols = {
            name: model.feature_importances_
            for name, model in self.models.items()
            if hasattr(model, "feature_importances_")
        }
        return pd.DataFrame({"feature": self.feature_names_} | cols)
