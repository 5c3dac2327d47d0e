"""Three-line headlines: what changed, why, what to do, for each surface's page or section.

Each function takes the frames and findings a page already has and returns a :class:`Headline`;
every number is computed from them and written for an owner (money with its currency, changes
with their sign, no statistics jargon). The "why" is the finding with the most money at stake
(``Finding.impact``), the "what to do" the biggest loss to look into or the biggest gain to
build on.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from sales_analytics.insights.findings import (
    Finding,
    finite,
    fmt_money,
    fmt_num,
    fmt_pct,
    fmt_signed_money,
    fmt_signed_pct,
    sort_findings,
)
from sales_analytics.insights.outlook import ForecastOutlook


@dataclass(frozen=True)
class Headline:
    """What changed, why, and what to do (one sentence each)."""

    changed: str
    why: str
    todo: str

    def lines(self) -> tuple[str, str, str]:
        return self.changed, self.why, self.todo


def _kpi(comparison: pd.DataFrame, key: str) -> pd.Series | None:
    rows = comparison.set_index("kpi")
    return rows.loc[key] if key in rows.index and finite(rows.loc[key, "current"]) else None


def _versus(r: pd.Series, money: bool) -> str:
    """``$1,234.00 (+12.3% on the previous period)`` or without the change when unknown."""
    value = fmt_money(r["current"]) if money else fmt_num(r["current"])
    if finite(r["change_pct"]):
        return f"{value} ({fmt_signed_pct(r['change_pct'])} on the previous period)"
    return value


def _mover_text(f: Finding) -> str:
    d = f.data
    what = "category" if d.get("key") == "category" else d.get("key", "")
    return (f"{f.subject} ({what}) moved {fmt_signed_money(d['change'])} "
            f"({fmt_signed_pct(d['growth'])})")  # fmt: skip


def _why(findings: list[Finding], kinds: tuple[str, ...]) -> Finding | None:
    ranked = [f for f in sort_findings(findings) if f.kind in kinds and f.impact]
    return ranked[0] if ranked else None


def _todo_movers(findings: list[Finding]) -> str | None:
    """Look into the biggest loss in money, else build on the biggest gain."""
    movers = [f for f in sort_findings(findings) if f.kind == "mover"]
    falls = [f for f in movers if f.data.get("change", 0) < 0]
    if falls:
        f = falls[0]
        return (f"Look into {f.subject}: {fmt_money(-f.data['change'])} less than in the "
                f"previous period.")  # fmt: skip
    if movers:
        f = movers[0]
        return f"Build on {f.subject}: {fmt_signed_money(f.data['change'])} on the previous period."
    return None


def revenue_headline(comparison: pd.DataFrame, findings: list[Finding]) -> Headline:
    """The Revenue page: net revenue and orders, the biggest mover or unusual day, the action."""
    rev, orders = _kpi(comparison, "revenue"), _kpi(comparison, "orders")
    changed = "No orders in the selected period."
    if rev is not None:
        changed = f"Net revenue {_versus(rev, True)}"
        changed += f" from {_versus(orders, False)} orders." if orders is not None else "."
    top = _why(findings, ("mover", "anomaly"))
    if top is None:
        why = "No category or country moved by 5% or more and no day was unusual."
    elif top.kind == "mover":
        why = f"Biggest driver: {_mover_text(top)}."
    else:
        why = f"Biggest single day: {top.text}"
    todo = _todo_movers(findings) or _todo_segments(findings) or "Nothing urgent: keep watching."
    return Headline(changed, why, todo)


def _todo_segments(findings: list[Finding]) -> str | None:
    at_risk = [f for f in sort_findings(findings) if f.kind == "segment_risk"]
    if not at_risk:
        return None
    f = at_risk[0]
    return (f"Win back the {fmt_num(f.data['customers'])} {f.subject} customers first: they "
            f"spent {fmt_money(f.impact)} with the shop.")  # fmt: skip


def customers_headline(comparison: pd.DataFrame, findings: list[Finding]) -> Headline:
    """The Customers page: buying and new customers, the segment slipping away, who to contact."""
    cust, new = _kpi(comparison, "customers"), _kpi(comparison, "new_customers")
    spend = _kpi(comparison, "revenue_per_customer")
    changed = "No customers bought in the selected period."
    if cust is not None:
        changed = f"{_versus(cust, False)} customers bought"
        changed += f", {_versus(new, False)} of them new" if new is not None else ""
        changed += f"; each spent {_versus(spend, True)}." if spend is not None else "."
    at_risk = _why(findings, ("segment_risk",))
    why = (
        f"{fmt_num(at_risk.data['customers'])} {at_risk.subject} customers have not ordered for "
        f"{fmt_num(at_risk.data['avg_recency_days'])} days on average."
        if at_risk is not None else "No valuable customers are slipping away."
    )  # fmt: skip
    todo = _todo_segments(findings) or "Keep new customers coming back: see the cohorts below."
    return Headline(changed, why, todo)


def products_headline(
    comparison: pd.DataFrame, findings: list[Finding], slow_movers: int | None = None
) -> Headline:
    """The Products page: units and revenue, the category that moved most, the action."""
    units, rev = _kpi(comparison, "units"), _kpi(comparison, "revenue")
    changed = "Nothing sold in the selected period."
    if units is not None:
        changed = f"{_versus(units, False)} units sold"
        changed += f" for {_versus(rev, True)}." if rev is not None else "."
    cats = [f for f in findings if f.kind == "mover" and f.data.get("key") == "category"]
    top = _why(cats, ("mover",))
    why = f"Biggest driver: {_mover_text(top)}." if top else "No category moved by 5% or more."
    todo = _todo_movers(cats)
    if todo is None and slow_movers:
        todo = f"Review the {fmt_num(slow_movers)} slow movers below: they tie up stock."
    return Headline(changed, why, todo or "Nothing urgent: keep watching.")


def geography_headline(geo: pd.DataFrame, findings: list[Finding]) -> Headline:
    """The Geography page: where revenue comes from, the country that moved most, the action."""
    sold = geo[geo["revenue"] > 0].sort_values("revenue", ascending=False)
    total = float(sold["revenue"].sum())
    if sold.empty or total <= 0:
        return Headline("No revenue in the selected period.", "–", "–")
    first = sold.iloc[0]
    changed = (f"{fmt_num(len(sold))} countries bought; {first['country']} brings "
               f"{fmt_pct(first['revenue'] / total)} of net revenue ({fmt_money(first['revenue'])}).")  # fmt: skip
    countries = [f for f in findings if f.kind == "mover" and f.data.get("key") == "country"]
    top = _why(countries, ("mover",))
    why = f"Biggest driver: {_mover_text(top)}." if top else "No country moved by 5% or more."
    return Headline(changed, why, _todo_movers(countries) or "Nothing urgent: keep watching.")


def predictions_headline(outlook: ForecastOutlook | None, at_risk: list[Finding]) -> Headline:
    """The Predictions page: the forecast total with its range (the one
    :func:`~sales_analytics.insights.outlook.forecast_outlook`, as in the report and the digest),
    the value at risk, who to contact."""
    changed = "No forecast saved: run `sales-analytics train`."
    if outlook is not None and not outlook.available:
        changed = outlook.message or changed
    elif outlook is not None:
        band = ""
        if outlook.low is not None and finite(outlook.low):
            how = "" if outlook.range_from == "backtest" else ", a wide bound from the daily bands"
            span = f"{fmt_money(outlook.low)} to {fmt_money(outlook.high)}"
            band = f" ({outlook.level}% range {span}{how})"
            if not outlook.low <= outlook.total <= outlook.high:  # the backtest's bias moves it
                ran = "low" if outlook.total < outlook.low else "high"
                band = (f"; past forecasts ran {ran}, so expect {span} "
                        f"({outlook.level}% range{how})")  # fmt: skip
        changed = (f"Next {fmt_num(outlook.days)} days: {fmt_money(outlook.total)} of net revenue "
                   f"forecast{band}.")  # fmt: skip
    var = next((f for f in at_risk if f.kind == "value_at_risk"), None)
    if var is None:
        return Headline(changed, "No high-value customer is at high churn risk.",
                        "Nothing urgent: keep watching.")
    why = (f"{fmt_num(var.data['customers'])} high-value customers are at high churn risk, "
           f"{fmt_money(var.impact)} of predicted value.")  # fmt: skip
    todo = "Contact them first: the risk matrix's outlined cell lists them below."
    return Headline(changed, why, todo)
