"""Forecast frames and prediction intervals: Nixtla wide output to long rows, interval widening
and empirical coverage (used by :mod:`sales_analytics.models.forecast`)."""

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
