"""Forecast frames and prediction intervals: Nixtla wide output to long rows, interval widening,
empirical coverage and conformal bands for the ML forecasters (used by
:mod:`sales_analytics.models.forecast`).

Conformal bands: the absolute backtest errors, each divided by the mean forecast of its window,
give a quantile per level; a band is ``yhat`` -/+ that quantile times the mean forecast. In the
backtest each window's band comes from the other windows' errors (cross-conformal), so its
coverage is measured out of sample.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def to_long(frame: pd.DataFrame, names: Sequence[str], levels: Sequence[int]) -> pd.DataFrame:
    """Wide Nixtla output -> long ``ds, [cutoff, y,] model, yhat, lo_80, hi_80, ...``."""
    keep = [c for c in ("ds", "cutoff", "y") if c in frame.columns]
    parts = []
    for name in names:
        if name not in frame.columns:
            continue
        part = frame[keep].copy()
        part["model"] = name
        part["yhat"] = frame[name].to_numpy()
        for lv in levels:
            part[f"lo_{lv}"] = frame.get(f"{name}-lo-{lv}", np.nan)
            part[f"hi_{lv}"] = frame.get(f"{name}-hi-{lv}", np.nan)
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    value_cols = ["yhat"] + [f"{s}_{lv}" for lv in levels for s in ("lo", "hi")]
    out[value_cols] = out[value_cols].clip(lower=0.0)  # revenue is never negative
    return out


def widen(frame: pd.DataFrame, level: int, factor: float) -> tuple[pd.Series, pd.Series]:
    """``lo_<level>``/``hi_<level>`` around ``yhat`` scaled by ``factor`` (lower bound >= 0)."""
    lo = frame["yhat"] - factor * (frame["yhat"] - frame[f"lo_{level}"])
    hi = frame["yhat"] + factor * (frame[f"hi_{level}"] - frame["yhat"])
    return lo.clip(lower=0.0), hi


def coverage(frame: pd.DataFrame, level: int, factor: float = 1.0) -> float:
    """Percentage of actual ``y`` inside the (widened) ``level`` interval."""
    lo, hi = widen(frame, level, factor)
    return float(100 * np.mean((frame["y"] >= lo) & (frame["y"] <= hi)))


def widening_factor(frame: pd.DataFrame, level: int) -> float:
    """The smallest widening factor (>= 1) whose coverage on ``frame`` reaches ``level``."""
    for factor in np.arange(1.0, 5.01, 0.05):
        if coverage(frame, level, factor) >= level:
            return float(round(factor, 2))
    return 5.0


def conformal_scores(frame: pd.DataFrame) -> np.ndarray:
    """Absolute errors of a backtest frame (``cutoff, y, yhat``), each divided by the mean
    forecast of its window: errors on a scale that follows a growing series."""
    scale = frame.groupby("cutoff")["yhat"].transform("mean").clip(lower=1e-9)
    return (np.abs(frame["y"] - frame["yhat"]) / scale).to_numpy()


def conformal_quantile(scores: np.ndarray, level: int) -> float:
    """The split-conformal quantile of ``scores`` for a ``level``% interval."""
    n = len(scores)
    if n == 0:
        return float("nan")
    q = min(1.0, np.ceil((n + 1) * level / 100) / n)
    return float(np.quantile(scores, q, method="higher"))


def conformal_bands(
    frame: pd.DataFrame, scores: np.ndarray, levels: Sequence[int]
) -> pd.DataFrame:
    """``lo_<level>``/``hi_<level>`` = ``yhat`` -/+ the conformal quantile of ``scores`` times the
    mean forecast of each window (``cutoff``; the whole frame without one)."""
    out = frame.copy()
    if "cutoff" in out:
        scale = out.groupby("cutoff")["yhat"].transform("mean")
    else:
        scale = pd.Series(out["yhat"].mean(), index=out.index)
    for lv in levels:
        half = conformal_quantile(scores, lv) * scale.clip(lower=0.0)
        out[f"lo_{lv}"] = (out["yhat"] - half).clip(lower=0.0)
        out[f"hi_{lv}"] = out["yhat"] + half
    return out


def cross_conformal(frame: pd.DataFrame, levels: Sequence[int]) -> pd.DataFrame:
    """Backtest bands of one model: each window's band from the errors of the other windows
    (NaN with a single window)."""
    parts = []
    for cutoff, held in frame.groupby("cutoff", sort=True):
        others = frame[frame["cutoff"] != cutoff]
        parts.append(conformal_bands(held, conformal_scores(others), levels))
    return pd.concat(parts).loc[frame.index]
