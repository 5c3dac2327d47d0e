"""Insights: every number in a finding's text is computed, and findings follow the data."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from sales_analytics import metrics
from sales_analytics.insights import (
    Finding,
    biggest_movers,
    compute_insights,
    daily_anomalies,
    fmt_money,
    fmt_num,
    fmt_pct,
    fmt_signed_money,
    fmt_signed_pct,
    gather,
    kpi_comparison,
    planned_events,
    previous_period,
    revenue_anomalies,
    segments_at_risk,
    sort_findings,
)
from sales_analytics.metrics import Filters
from sales_analytics.models.events import EventCalendar, read_promotions


# ------------------------------------------------------------------------------------ movers
def _rollup(values: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame({"category": list(values), "revenue": list(values.values())})


def test_biggest_movers_text_holds_the_computed_numbers():
    prev = _rollup({"Books": 1000.0, "Toys": 2000.0, "Garden": 500.0, "Food": 800.0})
    cur = _rollup({"Books": 1500.0, "Toys": 1200.0, "Garden": 510.0, "Food": 800.0})
    found = biggest_movers(cur, prev, "category", top=2)
    by = {f.subject: f for f in found}
    assert set(by) == {"Books", "Toys"}  # Garden +2% is below min_change; Food did not move
    books, toys = by["Books"], by["Toys"]
    assert books.severity == "positive" and toys.severity == "warning"
    assert books.value == pytest.approx(0.5) and toys.value == pytest.approx(-0.4)
    assert "grew 50.0%" in books.text and "$1,000.00 -> $1,500.00" in books.text and "+$500.00" in books.text
    assert fmt_pct(500 / 4300) in books.text  # share of the previous total
    assert "fell 40.0%" in toys.text and "$2,000.00 -> $1,200.00" in toys.text and "-$800.00" in toys.text


def test_findings_are_ranked_by_money_at_stake():
    """A small country's large percentage drop ranks below a big country's large gain in money
    (the owner's question: where is the most money moving?)."""
    prev = pd.DataFrame({"country": ["United Kingdom", "Malta"], "revenue": [100_000.0, 900.0]})
    cur = pd.DataFrame({"country": ["United Kingdom", "Malta"], "revenue": [213_000.0, 600.0]})
    ranked = sort_findings(biggest_movers(cur, prev, "country"))
    assert [f.subject for f in ranked] == ["United Kingdom", "Malta"]
    assert [f.impact for f in ranked] == [pytest.approx(113_000.0), pytest.approx(300.0)]
    assert ranked[1].severity == "warning"  # more urgent, less money: still second


def test_biggest_movers_follow_the_data():
    prev = _rollup({"Books": 1000.0, "Toys": 2000.0})
    first = biggest_movers(_rollup({"Books": 1500.0, "Toys": 2000.0}), prev, "category")
    second = biggest_movers(_rollup({"Books": 1000.0, "Toys": 3000.0}), prev, "category")
    assert [f.subject for f in first] == ["Books"] and [f.subject for f in second] == ["Toys"]
    assert first[0].text != second[0].text
    # nothing to compare against: no movers rather than made-up growth
    assert biggest_movers(prev, _rollup({}), "category") == []
    # one category only (an imported shop's products are all Uncategorised): its change is the
    # total's, said by the KPIs, not a mover
    only = _rollup({"Uncategorised": 1000.0})
    assert biggest_movers(_rollup({"Uncategorised": 600.0}), only, "category") == []


# ------------------------------------------------------------------------------------ segments
def test_segments_at_risk_from_the_metric_layer(loaded_db):
    summary = metrics.compute(loaded_db, "segment_summary")
    found = segments_at_risk(summary)
    rows = summary.set_index("segment")
    present = [s for s in ("Can't Lose Them", "At Risk") if s in rows.index]
    assert [f.subject for f in found] == present and present
    lifetime = rows.customers * rows.avg_monetary
    for f in found:
        r = rows.loc[f.subject]
        share = lifetime[f.subject] / lifetime.sum()
        for number in (
            fmt_num(r["customers"]),
            fmt_pct(r["customer_share"]),
            fmt_money(lifetime[f.subject]),
            fmt_pct(share),
            fmt_num(r["avg_recency_days"]),
        ):
            assert number in f.text
        assert f.value == pytest.approx(share)


def test_segments_at_risk_follow_the_data():
    base = pd.DataFrame(
        {
            "segment": ["Champions", "At Risk"],
            "customers": [10, 5],
            "customer_share": [2 / 3, 1 / 3],
            "avg_monetary": [900.0, 200.0],  # all-time spend: 9,000 and 1,000
            "avg_frequency": [6.0, 3.0],
            "avg_recency_days": [12.0, 300.0],
        }
    )
    (f,) = segments_at_risk(base)
    assert f.severity == "critical" and "$1,000.00 in all (10.0%" in f.text and "300 days" in f.text
    smaller = base.assign(avg_monetary=[990.0, 20.0])
    (g,) = segments_at_risk(smaller)
    assert g.severity == "warning" and "$100.00 in all (1.0%" in g.text
    assert segments_at_risk(base[base.segment == "Champions"]) == []


# ------------------------------------------------------------------------------------ anomalies
def _flat_daily(days: int = 140, spike_at: int | None = None, factor: float = 4.0) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    period = pd.date_range("2024-01-01", periods=days, freq="D")
    weekly = np.array([1.1, 1.0, 1.0, 0.95, 0.9, 0.85, 1.2])[period.dayofweek]
    orders = rng.poisson(100 * weekly).astype(float)
    revenue = orders * rng.normal(50, 2, size=days)
    if spike_at is not None:
        orders[spike_at] *= factor
        revenue[spike_at] *= factor
    return pd.DataFrame({"period": period.date, "revenue": revenue, "orders": orders})


def test_planted_spike_is_found_and_only_when_present():
    spiked = daily_anomalies(_flat_daily(spike_at=70))
    assert [f.subject for f in spiked] == ["2024-03-11"]
    f = spiked[0]
    assert f.kind == "anomaly" and f.severity == "positive" and f.value > 3.5
    assert fmt_money(f.data["revenue"]) in f.text and fmt_money(f.data["expected_revenue"]) in f.text
    assert "an unusually high day" in f.text and "Monday" in f.text
    assert "z" not in f.text.lower().replace("size", "")  # no statistics jargon for the owner
    assert f.impact == pytest.approx(f.data["revenue"] - f.data["expected_revenue"])
    assert daily_anomalies(_flat_daily()) == []
    dip = daily_anomalies(_flat_daily(spike_at=70, factor=0.2))
    assert [(d.subject, d.severity) for d in dip] == [("2024-03-11", "warning")]


@pytest.fixture(scope="module")
def shop_daily() -> tuple[pd.DataFrame, list[date]]:
    """Daily completed revenue and orders of a scale-1 synthetic shop, and its Black Fridays."""
    from sales_analytics.synth import generate
    from sales_analytics.synth.generator import _black_friday

    data = generate(scale=1, seed=7)
    o = data.tables["orders"].to_pandas()
    o = o[o["status"] == "completed"]
    g = o.groupby(o["order_date"].dt.normalize())
    daily = pd.DataFrame(
        {"revenue": g["total_amount"].sum().astype(float), "orders": g.size()}
    ).rename_axis("period").reset_index()
    return daily, [_black_friday(y) for y in (2023, 2024, 2025)]


def test_black_friday_and_cyber_monday_are_planned_events_not_anomalies(shop_daily):
    """The synthetic shop's Black Friday weekends stand out every year: labelled "planned event",
    never reported as anomalies (issue 13)."""
    daily, black_fridays = shop_daily
    scores = revenue_anomalies(daily).set_index("period")
    for bf in black_fridays:
        row = scores.loc[pd.Timestamp(bf)]
        assert row["is_planned"] and not row["is_anomaly"], bf
        assert row["label"] == "planned event" and row["event"] == "Black Friday"
        assert row["direction"] == "high" and row["z"] > 3.5
        cyber = scores.loc[pd.Timestamp(bf + timedelta(days=3))]
        assert cyber["event"] == "Cyber Monday" and not cyber["is_anomaly"]
        assert cyber["label"] == ("planned event" if abs(cyber["z"]) > 3.5 else "")
        assert scores.loc[pd.Timestamp(bf), "revenue"] > 1.5 * scores.loc[pd.Timestamp(bf), "expected_revenue"]
    events = set()
    for bf in black_fridays:
        events |= {bf + timedelta(days=d) for d in range(-1, 5)}
    events |= {date(y, 12, d) for y in (2023, 2024, 2025) for d in (24, 25, 26)}
    # no anomaly finding on a calendar day; the planned ones are reported as events
    found = daily_anomalies(daily, top=50)
    assert not any(date.fromisoformat(f.subject) in events for f in found)
    assert (scores["label"] == "anomaly").sum() == len(found)
    planned = planned_events(daily, top=8)
    assert len(planned) == 8
    assert all(f.kind == "event" and f.severity == "info" for f in planned)
    assert all(date.fromisoformat(f.subject) in events for f in planned)
    assert "a planned event (Black Friday)" in " ".join(f.text for f in planned)


def test_promotions_file_turns_a_spike_into_a_planned_event(tmp_path):
    daily = _flat_daily(spike_at=70)  # 2024-03-11
    assert [f.subject for f in daily_anomalies(daily)] == ["2024-03-11"]
    csv = tmp_path / "promotions.csv"
    csv.write_text("name,start,end\nSpring sale,2024-03-10,2024-03-12\n")
    calendar = EventCalendar.from_frame(read_promotions(csv))
    scores = revenue_anomalies(daily, events=calendar).set_index("period")
    row = scores.loc[pd.Timestamp("2024-03-11")]
    assert row["is_planned"] and not row["is_anomaly"] and row["event"] == "Spring sale"
    assert daily_anomalies(daily, events=calendar) == []
    (f,) = planned_events(daily, events=calendar)
    assert f.title == "Spring sale: high revenue on Mon 11 Mar 2024"
    assert "a planned event (Spring sale)" in f.text


# ------------------------------------------------------------------------------------ periods
def test_previous_period_and_kpi_comparison():
    f = Filters(start="2024-03-01", end="2024-03-31", countries=("Germany",))
    prev = previous_period(f, date(2023, 1, 1), date(2025, 12, 31))
    assert (prev.start, prev.end, prev.countries) == (date(2024, 1, 30), date(2024, 2, 29), ("Germany",))
    open_window = previous_period(Filters(), date(2023, 1, 1), date(2023, 1, 10))
    assert (open_window.start, open_window.end) == (date(2022, 12, 22), date(2022, 12, 31))
    cmp = kpi_comparison(
        {"revenue": 150.0, "orders": 3, "return_rate": 0.2},
        {"revenue": 100.0, "orders": 0, "return_rate": 0.1},
    ).set_index("kpi")
    assert cmp.loc["revenue", "change_pct"] == pytest.approx(0.5)
    assert np.isnan(cmp.loc["orders", "change_pct"])  # no previous orders: no growth rate
    assert cmp.loc["return_rate", "change"] == pytest.approx(0.1)
    assert np.isnan(cmp.loc["return_rate", "change_pct"])  # rates change in points


def test_compute_insights_on_both_backends(loaded_db):
    bounds = metrics.kpis(loaded_db)
    last = bounds["last_order_at"].date()
    f = Filters(start=last - timedelta(days=364), end=last)
    found = compute_insights(loaded_db, f)
    assert found and all(isinstance(x, Finding) for x in found)
    kinds = {x.kind for x in found}
    assert {"kpi", "segment_risk"} <= kinds
    cur = metrics.kpis(loaded_db, f)
    prev = metrics.kpis(loaded_db, previous_period(f, bounds["first_order_at"].date(), last))
    (rev,) = [x for x in found if x.kind == "kpi" and x.subject == "revenue"]
    assert fmt_money(cur["revenue"]) in rev.text and fmt_money(prev["revenue"]) in rev.text
    assert fmt_signed_pct(cur["revenue"] / prev["revenue"] - 1) in rev.text
    # a narrower window gives different findings
    other = compute_insights(loaded_db, Filters(start=last - timedelta(days=89), end=last))
    assert [x.text for x in other] != [x.text for x in found]
    inputs = gather(loaded_db, f)
    assert inputs.daily is not None and len(inputs.daily) > 0


def test_signed_formats():
    assert fmt_signed_pct(0.1234) == "+12.3%" and fmt_signed_pct(-0.05) == "-5.0%"
    assert fmt_signed_money(-1234.4) == "-$1,234.40" and fmt_money(9683114.55) == "$9,683,114.55"
