"""Rolling-origin backtests shared by the forecasters: how many windows of how many days a history
allows, and the model-vs-baseline table of a backtest frame.

A backtest frame has one row per model, cutoff and day: ``ds, cutoff, y, model, yhat`` and
``lo_<level>, hi_<level>`` per interval level.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sales_analytics.models.intervals import coverage

#: the shortest backtest window (two weeks: two weekly seasons)
MIN_WINDOW_DAYS = 14


@dataclass(frozen=True)
class BacktestPlan:
    """``windows`` windows of ``cv_horizon`` days on a history of ``days`` days; ``horizon`` is
    the forecast horizon (shortened with the windows); ``notes`` say what was shortened."""

    days: int
    windows: int
    cv_horizon: int
    horizon: int
    notes: tuple[str, ...] = field(default=())


def plan_backtest(
    days: int,
    *,
    horizon: int,
    windows: int,
    cv_horizon: int,
    min_windows: int = 2,
    min_train: int = 90,
    what: str = "forecast",
) -> BacktestPlan:
    """The backtest a history of ``days`` days allows.

    ``windows`` windows of ``cv_horizon`` days need ``min_train + windows * cv_horizon`` days.
    A shorter history first loses windows (down to ``min_windows``), then window length (in whole
    weeks, down to two); the horizon is cut to the window length, since days further ahead were
    never tested.

    Raises
    ------
    ValueError
        ``"<what>: N days of history is too short: ..."`` when not even ``min_windows`` windows of
        two weeks fit.
    """
    need = min_train + min_windows * MIN_WINDOW_DAYS
    if days < need:
        raise ValueError(
            f"{what}: {days} days of history is too short: the backtest needs at least {need} "
            f"days ({min_train} days of training and {min_windows} windows of {MIN_WINDOW_DAYS} "
            "days)"
        )
    if days >= min_train + windows * cv_horizon:
        return BacktestPlan(days, windows, cv_horizon, horizon)
    fits = [w for w in range(windows, min_windows - 1, -1) if days >= min_train + w * cv_horizon]
    if fits:
        w, h = fits[0], cv_horizon
    else:
        w = min_windows
        h = (days - min_train) // w
        h = max(MIN_WINDOW_DAYS, h - h % 7)
    new_horizon = min(horizon, h)
    notes = [
        f"short history ({days} days): the backtest uses {w} window{'s' if w != 1 else ''} of "
        f"{h} days instead of {windows} of {cv_horizon}"
    ]
    if new_horizon < horizon:
        notes.append(
            f"the forecast covers {new_horizon} days instead of {horizon}: the longest horizon "
            "the backtest could test"
        )
    return BacktestPlan(days, w, h, new_horizon, tuple(notes))


def score_table(
    cv: pd.DataFrame,
    levels: Sequence[int],
    baseline: str,
    pruned: Mapping[str, Mapping[str, Any]] | None = None,
    windows: int | None = None,
) -> pd.DataFrame:
    """One row per model: ``mae, rmse, mape`` (days with ``y > 0``), ``coverage_<level>``,
    ``mae_vs_naive`` (against the baseline on the same windows), ``windows`` (backtested) and
    ``pruned_after`` (the window after which the model was dropped, or NaN).

    Models backtested on every window come first, by MAE; pruned ones follow, by MAE.
    """
    pruned = pruned or {}
    base = cv[cv["model"] == baseline]
    rows = []
    for name, g in cv.groupby("model", sort=False):
        err = g["yhat"] - g["y"]
        pos = g["y"] > 0
        same = base[base["cutoff"].isin(g["cutoff"].unique())]
        base_mae = float(np.mean(np.abs(same["yhat"] - same["y"]))) if len(same) else np.nan
        mae = float(np.mean(np.abs(err)))
        row = {
            "model": name,
            "mae": mae,
            "rmse": float(np.sqrt(np.mean(err**2))),
            "mape": float(100 * np.mean(np.abs(err[pos]) / g["y"][pos])) if pos.any() else np.nan,
        }
        for lv in levels:
            row[f"coverage_{lv}"] = coverage(g, lv) if g[f"lo_{lv}"].notna().any() else np.nan
        row["mae_vs_naive"] = mae / base_mae if base_mae else np.nan
        row["windows"] = int(g["cutoff"].nunique())
        row["pruned_after"] = pruned.get(name, {}).get("after_window", np.nan)
        rows.append(row)
    table = pd.DataFrame(rows)
    full = windows or int(table["windows"].max())
    table["_partial"] = table["windows"] < full
    table = table.sort_values(["_partial", "mae", "model"], kind="stable")
    return table.drop(columns="_partial").reset_index(drop=True)
