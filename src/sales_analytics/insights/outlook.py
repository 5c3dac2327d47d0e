"""What the saved models say about the coming months, and calendar comparisons.

* :func:`forecast_outlook` - the saved forecaster's next-days revenue total with its interval;
* :func:`customer_value_at_risk` - CLV and churn per customer and the value-at-risk finding;
* :func:`same_days_last_year` - a window and the same calendar days a year earlier.

Both model functions read the one :class:`~sales_analytics.models.ModelStore` and never raise
for a missing or unusable model: the result says why there is nothing (``message``), in words an
owner can act on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from sales_analytics.insights.findings import Finding
from sales_analytics.insights.risk import customer_risk, value_at_risk
from sales_analytics.models.store import ModelMissing, ModelStore, ModelUnusable

TRAIN_HINT = "run `sales-analytics train`"


@dataclass
class ForecastOutlook:
    """The forecast total of the next ``days`` days.

    ``total`` is the sum of the daily forecasts; ``low``/``high`` the ``level``% range of that
    total (``range_from``: ``"backtest"`` when drawn from the selected model's own backtest errors
    by :func:`total_range`, ``"daily bounds"`` when only the sum of the daily bounds is known, a
    much wider, cautious range). ``message`` says why there is no forecast when ``total`` is
    ``None``.
    """

    total: float | None = None
    low: float | None = None
    high: float | None = None
    level: int = 80
    start: date | None = None
    end: date | None = None
    days: int = 0
    model: str | None = None
    #: backtest MAE of the selected model relative to the seasonal-naive baseline (< 1: better)
    mae_vs_naive: float | None = None
    forecast: pd.DataFrame | None = None
    table: pd.DataFrame | None = None
    message: str | None = None
    range_from: str = "daily bounds"

    @property
    def available(self) -> bool:
        return self.total is not None


def forecast_total(pred: pd.DataFrame, *, days: int | None = None, level: int = 80) -> dict[str, Any]:
    """``total``, ``low``, ``high``, ``start``, ``end``, ``days`` of the first ``days`` rows of a
    forecast frame (``ds, yhat, lo_<level>, hi_<level>``)."""
    f = pred.sort_values("ds").head(days) if days else pred.sort_values("ds")
    lo, hi = f"lo_{level}", f"hi_{level}"
    return {
        "total": float(f["yhat"].sum()),
        "low": float(f[lo].sum()) if lo in f else None,
        "high": float(f[hi].sum()) if hi in f else None,
        "start": pd.Timestamp(f["ds"].min()).date(),
        "end": pd.Timestamp(f["ds"].max()).date(),
        "days": len(f),
    }


def forecast_outlook(store: ModelStore, *, days: int = 90, level: int = 80) -> ForecastOutlook:
    """The saved forecaster's total for the next ``days`` days (at most its horizon)."""
    try:
        model = store.model("forecast")
        pred = model.predict()
        ev = model.evaluate()
    except ModelMissing:
        return ForecastOutlook(level=level, message=f"No forecast model is trained: {TRAIN_HINT}.")
    except ModelUnusable as exc:
        return ForecastOutlook(
            level=level, message=f"The saved forecast model cannot be used ({exc.cause}): {TRAIN_HINT}."
        )
    except Exception as exc:  # noqa: BLE001 - loaded but cannot predict: said, not raised
        return ForecastOutlook(
            level=level,
            message=f"The saved forecast model cannot predict ({type(exc).__name__}: "
            f"{(str(exc).strip().splitlines() or [''])[0]}): {TRAIN_HINT}.",
        )
    total = forecast_total(pred, days=days, level=level)
    table = ev.table
    row = table[table["model"] == ev.best]
    ratio = float(row["mae_vs_naive"].iloc[0]) if len(row) and "mae_vs_naive" in row else None
    span = total_range(getattr(model, "cv_", None), ev.best, total["days"], level)
    if span is not None:
        total |= {"low": max(0.0, total["total"] + span[0]), "high": total["total"] + span[1]}
    return ForecastOutlook(
        level=level, model=ev.best, mae_vs_naive=ratio, forecast=pred, table=table,
        range_from="backtest" if span is not None else "daily bounds", **total,
    )  # fmt: skip


def total_range(
    cv: pd.DataFrame | None, model: str, days: int, level: int = 80, *, block: int = 14,
    draws: int = 4000, seed: int = 0,
) -> tuple[float, float] | None:  # fmt: skip
    """The ``level``% range of the error of a ``days``-day total, from the backtest.

    Daily errors (``y - yhat`` of ``model`` in the rolling-origin backtest ``cv``: ``model,
    cutoff, ds, y, yhat``) are correlated, so neither the sum of the daily bounds (far too wide)
    nor independent errors (far too narrow) give the range of a total. This draws the total's
    error by a block bootstrap aligned on the horizon: each ``block``-day stretch of the horizon
    takes the errors of the same horizon days from one backtest window picked at random, which
    keeps both the correlation within a fortnight and the growth of the error with the horizon.
    ``None`` without a backtest of ``model``.
    """
    if cv is None or not {"model", "cutoff", "y", "yhat"} <= set(cv.columns):
        return None
    c = cv[cv["model"] == model].dropna(subset=["y", "yhat"])
    windows = [(w["y"] - w["yhat"]).to_numpy(float) for _, w in c.sort_values("ds").groupby("cutoff")]
    windows = [w for w in windows if len(w)]
    if len(windows) < 2 or days <= 0:
        return None
    horizon = min(len(w) for w in windows)
    errors = np.stack([w[:horizon] for w in windows])  # windows x horizon days
    steps = np.arange(days) % horizon
    rng = np.random.default_rng(seed)
    sums = np.zeros(draws)
    for start in range(0, days, block):
        pick = rng.integers(len(windows), size=draws)
        sums += errors[pick][:, steps[start : start + block]].sum(axis=1)
    tail = (1 - level / 100) / 2
    lo, hi = np.quantile(sums, [tail, 1 - tail])
    return float(lo), float(hi)


@dataclass
class ValueAtRisk:
    """Customers scored by the CLV and churn models, and the value-at-risk finding."""

    risk: pd.DataFrame | None = None
    findings: list[Finding] = field(default_factory=list)
    message: str | None = None

    @property
    def finding(self) -> Finding | None:
        return self.findings[0] if self.findings else None


def customer_value_at_risk(store: ModelStore, customers: pd.DataFrame | None = None) -> ValueAtRisk:
    """CLV x churn per customer (only ``customers``' ids when given) and its finding."""
    scores = {}
    for name in ("clv", "churn"):
        try:
            scores[name] = store.model(name).predict()
        except ModelMissing:
            return ValueAtRisk(message=f"No {name.upper() if name == 'clv' else name} model is trained: {TRAIN_HINT}.")
        except ModelUnusable as exc:
            return ValueAtRisk(message=f"The saved {name} model cannot be used ({exc.cause}): {TRAIN_HINT}.")
        except Exception as exc:  # noqa: BLE001 - said, not raised
            detail = (str(exc).strip().splitlines() or [""])[0]
            why = f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
            return ValueAtRisk(message=f"The saved {name} model cannot predict ({why}): {TRAIN_HINT}.")
    risk = customer_risk(scores["clv"], scores["churn"])
    if customers is not None:
        risk = risk[risk["customer_id"].isin(customers["customer_id"])].reset_index(drop=True)
    found = value_at_risk(risk)
    message = None if found else "No high-value customer is at high churn risk."
    return ValueAtRisk(risk=risk, findings=found, message=message)


def same_days_last_year(start: date, end: date) -> tuple[date, date]:
    """The same calendar days one year earlier (29 February becomes the 28th)."""

    def back(d: date) -> date:
        try:
            return d.replace(year=d.year - 1)
        except ValueError:  # 29 February
            return d.replace(year=d.year - 1, day=28)

    return back(start), back(end)


def year_to_date(end: date, first_day: date | None = None) -> tuple[date, date]:
    """1 January of ``end``'s year (or ``first_day`` when later) to ``end``."""
    start = date(end.year, 1, 1)
    return (max(start, first_day) if first_day else start), end


def last_full_week(last_day: date) -> tuple[date, date]:
    """The last Monday-Sunday week that ends on or before ``last_day``."""
    end = last_day - timedelta(days=(last_day.weekday() + 1) % 7)
    return end - timedelta(days=6), end
