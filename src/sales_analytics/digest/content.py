"""What the digest says: computed from the catalogue, the insights and the saved models.

The window is the days not reported yet: from ``since`` (the day after the last digest sent, from
the state file, or ``--since``) to the last day of data; the first digest covers the last full
Monday-Sunday week. Every KPI is :func:`sales_analytics.metrics.kpis` of that window and of the
window of the same length before it, so the digest's numbers are the catalogue's.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from sales_analytics import insights, metrics
from sales_analytics.digest.rules import Alert, Rule, below_forecast, kpi_change
from sales_analytics.insights import outlook
from sales_analytics.metrics import Filters, TableSource
from sales_analytics.models import ModelStore
from sales_analytics.present.links import filters_link, finding_link

#: The KPIs the digest lists, in order.
DIGEST_KPIS: tuple[str, ...] = (
    "revenue", "orders", "aov", "customers", "new_customers", "return_rate", "cancel_rate",
)  # fmt: skip
#: Days of history before the window the anomaly baseline needs (3 weeks each side + its scale).
ANOMALY_CONTEXT_DAYS = 70


class NothingNew(Exception):
    """No day of data after the last digest: nothing to send (not an error)."""


@dataclass
class Digest:
    start: date
    end: date
    previous: Filters
    comparison: pd.DataFrame  # insights.kpi_comparison of the window and the one before
    kpis: dict[str, Any]  # metrics.kpis of the window (what the tests compare with)
    findings: list[insights.Finding]  # the most money at stake first
    anomalies: pd.DataFrame  # the window's anomalous days (insights.revenue_anomalies rows)
    planned: pd.DataFrame  # the window's planned events that stood out (Black Friday...)
    value_at_risk: outlook.ValueAtRisk
    alerts: list[Alert]
    action_lists: dict[str, tuple[int, float]] | None  # list -> (customers, value at stake); None: not available
    action_lists_note: str | None
    links: dict[str, str] = field(default_factory=dict)
    finding_links: list[str] = field(default_factory=list)
    data_version: Any = None

    @property
    def fired(self) -> list[Alert]:
        return [a for a in self.alerts if a.fired]

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def window(last_day: date, since: date | None) -> tuple[date, date]:
    """The digest's days: ``since`` .. ``last_day``; without ``since`` the last full week (the
    whole data when shorter). :class:`NothingNew` when ``since`` is after ``last_day``."""
    if since is not None:
        if since > last_day:
            raise NothingNew(f"no data after {since - timedelta(days=1):%Y-%m-%d} (the last day with data is {last_day:%Y-%m-%d})")
        return since, last_day
    return outlook.last_full_week(last_day)


def build(
    db: TableSource,
    *,
    since: date | None = None,
    rules: list[Rule] = (),
    models_dir: Path | None = None,
    dashboard_url: str | None = None,
    filters: Filters = metrics.NO_FILTERS,
) -> Digest:
    """The digest of the days from ``since`` to the last day of data (see the module)."""
    from sales_analytics.config import get_settings

    settings = get_settings()
    bounds = insights.data_bounds(db)
    if bounds is None:
        raise ValueError("no orders in the database: load data with `sales-analytics build`")
    start, end = window(bounds[1], since)
    start = max(start, bounds[0])
    f = replace(filters, start=start, end=end)
    prev = insights.previous_period(f, *bounds)
    cur_k, prev_k = metrics.kpis(db, f), metrics.kpis(db, prev)
    comparison = insights.kpi_comparison(cur_k, prev_k)
    inputs = insights.gather(db, f)
    store = ModelStore(models_dir or settings.models_dir)
    risk = outlook.customer_value_at_risk(store)
    found = [x for x in insights.sort_findings(insights.findings_from(inputs)) if x.kind != "kpi"]
    context = replace(f, start=start - timedelta(days=ANOMALY_CONTEXT_DAYS))
    daily = metrics.compute(db, "revenue", context, grain="day")
    scored = insights.revenue_anomalies(daily)
    days = pd.to_datetime(scored["period"]).dt.date
    inside = (days >= start) & (days <= end)
    anomalies = scored[scored["is_anomaly"] & inside].reset_index(drop=True)
    planned = scored[scored["is_planned"] & inside].reset_index(drop=True) if "is_planned" in scored else scored.iloc[:0]
    forecast = outlook.forecast_outlook(store)
    alerts = [
        below_forecast(r, daily, forecast.forecast, start, end) if r.when == "below_forecast" else kpi_change(r, comparison)
        for r in rules
    ]
    sizes, note = action_list_sizes(db, store)
    base = dashboard_url or settings.dashboard_url
    return Digest(
        start=start, end=end, previous=prev, comparison=comparison, kpis=cur_k,
        findings=found[:3], anomalies=anomalies, planned=planned, value_at_risk=risk, alerts=alerts,
        action_lists=sizes, action_lists_note=note,
        links={"revenue": filters_link(base, "revenue", f), "predictions": filters_link(base, "predictions", f)},
        finding_links=[finding_link(base, x, f) for x in found[:3]],
        data_version=getattr(db, "data_version", lambda: None)(),
    )  # fmt: skip


def action_list_sizes(db: TableSource, store: ModelStore) -> tuple[dict[str, tuple[int, float]] | None, str | None]:
    """Customers and value at stake on each action list (win-back, high-value at risk, second
    purchase: :func:`sales_analytics.models.actions.saved_action_lists`, the lists the dashboard,
    API and ``predict --list`` give), or ``None`` and why."""
    from sales_analytics.models import ModelMissing, ModelUnusable
    from sales_analytics.models.actions import saved_action_lists

    try:
        lists = saved_action_lists(store, db)
    except ModelMissing:
        return None, "not available: no CLV model is trained (run `sales-analytics train`)"
    except ModelUnusable as exc:
        return None, f"not available: the saved {exc.name} model cannot be used ({exc.cause})"
    except Exception as exc:  # noqa: BLE001 - the digest still goes out, saying why
        detail = (str(exc).strip().splitlines() or [""])[0]
        return None, f"not available ({type(exc).__name__}: {detail})"
    return {name: (len(f), float(f["value_at_stake"].sum())) for name, f in lists.items()}, None
