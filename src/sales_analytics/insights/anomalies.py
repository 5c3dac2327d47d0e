"""Anomalies in daily revenue: robust z-scores of residuals against a weekly-seasonal baseline.

For each day the *expected* revenue is the median of the same weekday in the ``weeks`` weeks
before and after (the day itself excluded), so weekly seasonality, trend and slow yearly swings are
absorbed while a one-off spike (Black Friday) or outage is not. The residual is the log ratio
``log((y + c) / (expected + c))`` (``c`` = 10% of the median day, which keeps days with few orders
from dominating), and its robust z-score is ``0.6745 * (r - median(r)) / MAD(r)`` (Iglewicz and
Hoaglin); days with ``|z| > threshold`` (3.5) stand out.

A day that stands out on a day of the events calendar (:mod:`sales_analytics.models.events`:
Black Friday, Cyber Monday, Christmas, Easter and the shop's promotions) is a *planned event*,
not an anomaly: it is labelled so and reported apart (:func:`planned_events`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sales_analytics.insights.findings import Finding, fmt_money, fmt_num
from sales_analytics.models.events import EventCalendar, default_calendar

DEFAULT_THRESHOLD = 3.5
DEFAULT_WEEKS = 3
DEFAULT_SCALE_DAYS = 45


def daily_series(daily: pd.DataFrame, value: str = "revenue") -> pd.Series:
    """``period``/``value`` rows -> a daily series from the first to the last day, gaps = 0."""
    if daily.empty:
        return pd.Series(dtype="float64")
    s = daily.groupby(pd.to_datetime(daily["period"]))[value].sum().astype("float64").sort_index()
    days = pd.date_range(s.index.min(), s.index.max(), freq="D")
    return s.reindex(days, fill_value=0.0)


def anomaly_scores(
    daily: pd.DataFrame,
    *,
    value: str = "revenue",
    weeks: int = DEFAULT_WEEKS,
    threshold: float = DEFAULT_THRESHOLD,
    scale_days: int = DEFAULT_SCALE_DAYS,
) -> pd.DataFrame:
    """Per day: actual, expected, residual, robust z and the anomaly flag.

    Parameters
    ----------
    daily
        ``revenue_timeseries(db, "day", filters)`` (columns ``period`` and ``value``).

    Returns
    -------
    pandas.DataFrame
        ``period`` (Timestamp), ``actual``, ``expected``, ``residual`` (log ratio), ``z``,
        ``is_anomaly``, ``direction`` (``"high"``/``"low"``/``""``). Days without enough
        same-weekday neighbours (``weeks`` of them) get NaN and are never anomalies.
    """
    s = daily_series(daily, value)
    cols = ["period", "actual", "expected", "residual", "z", "is_anomaly", "direction"]
    if s.empty:
        return pd.DataFrame(columns=cols)
    neighbours = pd.concat([s.shift(7 * k) for k in range(-weeks, weeks + 1) if k != 0], axis=1)
    enough = neighbours.notna().sum(axis=1) >= weeks
    expected = neighbours.median(axis=1, skipna=True).where(enough)
    positive = s[s > 0]
    c = 0.1 * float(positive.median()) if len(positive) else 1.0
    resid = np.log((s + c) / (expected + c))
    # noise shrinks as the shop grows: centre and scale with a rolling median and MAD
    roll = {"window": 2 * scale_days + 1, "center": True, "min_periods": scale_days}
    med = resid.rolling(**roll).median()
    mad = (resid - med).abs().rolling(**roll).median()
    z = 0.6745 * (resid - med) / mad.where(mad > 0)
    flag = (z.abs() > threshold).fillna(False)
    direction = np.where(flag, np.where(z > 0, "high", "low"), "")
    return pd.DataFrame(
        {
            "period": s.index,
            "actual": s.to_numpy(),
            "expected": expected.to_numpy(),
            "residual": resid.to_numpy(),
            "z": z.to_numpy(),
            "is_anomaly": flag.to_numpy(dtype=bool),
            "direction": direction,
        },
        columns=cols,
    )


def revenue_anomalies(
    daily: pd.DataFrame,
    *,
    weeks: int = DEFAULT_WEEKS,
    threshold: float = DEFAULT_THRESHOLD,
    scale_days: int = DEFAULT_SCALE_DAYS,
    events: EventCalendar | None = None,
) -> pd.DataFrame:
    """Anomalous days in daily revenue, scored on revenue and on its order count.

    Revenue per day is orders x basket value, and basket values are heavy-tailed, so a day with
    three times the usual orders can hide in revenue noise. A day is an anomaly when its revenue
    z-score passes ``threshold``, or when its order-count z-score does and revenue moved the same
    way. ``z`` is the larger of the two in absolute value. Such a day on a day of the events
    calendar (``events``; default: the built-in events and the promotions of the
    ``SA_PROMOTIONS_FILE`` setting) is a planned event, not an anomaly.

    Returns
    -------
    pandas.DataFrame
        ``period``, ``revenue``, ``expected_revenue``, ``z_revenue``, ``orders``,
        ``expected_orders``, ``z_orders`` (NaN without an ``orders`` column), ``z``,
        ``is_anomaly`` (unexpected days only), ``direction`` (``"high"``/``"low"``/``""``),
        ``event`` (the calendar's event of the day, or ``""``), ``is_planned`` (stands out on an
        event day) and ``label`` (``"anomaly"``, ``"planned event"`` or ``""``).
    """
    kw = {"weeks": weeks, "threshold": threshold, "scale_days": scale_days}
    rev = anomaly_scores(daily, value="revenue", **kw)
    out = pd.DataFrame(
        {
            "period": rev["period"],
            "revenue": rev["actual"],
            "expected_revenue": rev["expected"],
            "z_revenue": rev["z"].astype(float),
        }
    )
    if "orders" in daily.columns and not rev.empty:
        orders = anomaly_scores(daily, value="orders", **kw)
        out["orders"] = orders["actual"].to_numpy()
        out["expected_orders"] = orders["expected"].to_numpy()
        out["z_orders"] = orders["z"].astype(float).to_numpy()
    else:
        out["orders"] = out["expected_orders"] = out["z_orders"] = np.nan
    zr = out["z_revenue"].fillna(0.0)
    zo = out["z_orders"].fillna(0.0)
    same_way = np.sign(rev["residual"].fillna(0.0).to_numpy()) == np.sign(zo)
    by_orders = (zo.abs() > threshold) & same_way
    out["z"] = np.where(zo.abs() > zr.abs(), zo, zr)
    flagged = ((zr.abs() > threshold) | by_orders).to_numpy(dtype=bool)
    calendar = events if events is not None else default_calendar()
    out["event"] = calendar.names(out["period"]).to_numpy() if len(out) else []
    out["is_planned"] = flagged & (out["event"] != "").to_numpy()
    out["is_anomaly"] = flagged & ~out["is_planned"].to_numpy()
    out.loc[~flagged & out["z_revenue"].isna(), "z"] = np.nan
    out["direction"] = np.where(flagged, np.where(out["z"] > 0, "high", "low"), "")
    out["label"] = np.where(out["is_planned"], "planned event", np.where(flagged, "anomaly", ""))
    return out


def daily_anomalies(
    daily: pd.DataFrame,
    *,
    weeks: int = DEFAULT_WEEKS,
    threshold: float = DEFAULT_THRESHOLD,
    top: int = 5,
    events: EventCalendar | None = None,
    scores: pd.DataFrame | None = None,
) -> list[Finding]:
    """Findings for the ``top`` most anomalous days (largest ``|z|``) in daily revenue; days of
    planned events are left to :func:`planned_events`.

    ``daily`` is ``revenue_timeseries(db, "day", filters)`` (``period``, ``revenue`` and, for the
    order-count score, ``orders``); ``scores`` its :func:`revenue_anomalies` when already computed.
    """
    return _flagged(daily, "is_anomaly", weeks, threshold, top, events, scores)


def planned_events(
    daily: pd.DataFrame,
    *,
    weeks: int = DEFAULT_WEEKS,
    threshold: float = DEFAULT_THRESHOLD,
    top: int = 5,
    events: EventCalendar | None = None,
    scores: pd.DataFrame | None = None,
) -> list[Finding]:
    """Findings (kind ``event``, severity ``info``) for the ``top`` days of planned events that
    stood out as much as an anomaly would (Black Friday, Cyber Monday...)."""
    return _flagged(daily, "is_planned", weeks, threshold, top, events, scores)


def _flagged(
    daily: pd.DataFrame,
    flag: str,
    weeks: int,
    threshold: float,
    top: int,
    events: EventCalendar | None,
    scores: pd.DataFrame | None,
) -> list[Finding]:
    """The shared part of :func:`daily_anomalies` and :func:`planned_events`: score ``daily``
    (unless ``scores`` is given), keep the days whose ``flag`` column is set, the ``top`` first."""
    if scores is None:
        scores = revenue_anomalies(daily, weeks=weeks, threshold=threshold, events=events)
    return _findings(scores[scores[flag]], top)


def _findings(hits: pd.DataFrame, top: int) -> list[Finding]:
    hits = hits.reindex(hits["z"].abs().sort_values(ascending=False).index).head(top)
    out = []
    for _, r in hits.iterrows():
        day = pd.Timestamp(r["period"])
        high = r["z"] > 0
        label = day.strftime("%a %d %b %Y")
        weekday = day.strftime("%A")
        text = (
            f"Revenue on {label} was {fmt_money(r['revenue'])}, "
            f"{_versus(r['revenue'], r['expected_revenue'], fmt_money)} expected for a {weekday}"
        )
        if np.isfinite(r["orders"]) and np.isfinite(r["expected_orders"]):
            if r["orders"] == 0:
                text += f", with no orders (usually {fmt_num(r['expected_orders'])})"
            else:
                text += (
                    f", from {fmt_num(r['orders'])} orders "
                    f"({_versus(r['orders'], r['expected_orders'], fmt_num)} usual)"
                )
        planned = bool(r.get("is_planned", False))
        if planned:
            text += f": a planned event ({r['event']})."
        else:
            text += f": an unusually {'high' if high else 'low'} day."
        title = f"Unusually {'high' if high else 'low'} revenue on {label}"
        out.append(
            Finding(
                kind="event" if planned else "anomaly",
                severity="info" if planned else ("positive" if high else "warning"),
                title=f"{r['event']}: {'high' if high else 'low'} revenue on {label}"
                if planned
                else title,
                text=text,
                value=float(r["z"]),
                impact=abs(float(r["revenue"]) - float(r["expected_revenue"])),
                subject=day.date().isoformat(),
                data={
                    "revenue": float(r["revenue"]),
                    "expected_revenue": float(r["expected_revenue"]),
                    "orders": float(r["orders"]),
                    "expected_orders": float(r["expected_orders"]),
                    "z": float(r["z"]),
                    "z_revenue": float(r["z_revenue"]),
                    "z_orders": float(r["z_orders"]),
                },
            )
        )
    return out


def _versus(actual: float, expected: float, fmt) -> str:
    """``"2.4x the 9,761"`` (ratio to one decimal), ``"against the 9,761"`` for zero, or
    ``"above the 0"``."""
    if expected > 0 and actual > 0:
        return f"{actual / expected:.1f}x the {fmt(expected)}"
    return f"{'above' if actual > 0 else 'against'} the {fmt(expected)}"
