"""present/charts: what the figures mean (shared by the dashboard and the reports), checked on
the figure objects: ordered risk-matrix axes with the high x high cell called out, growth on a
diverging scale centred on 0, amounts from 0, partial periods marked, no second y axis laid over
the first, cohorts in percent with their values."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from sales_analytics.insights import ForecastOutlook, predictions_headline, risk_matrix
from sales_analytics.present import charts
from sales_analytics.present.charts.base import amount_range, growth_range, partial_periods


def _risk() -> pd.DataFrame:
    rows = [("high", "high", 1), ("high", "low", 3), ("medium", "medium", 2), ("low", "low", 5)]
    out = []
    for value, risk, n in rows:
        for i in range(n):
            out.append({"customer_id": len(out), "clv": {"high": 900.0, "medium": 300.0, "low": 50.0}[value] + i,
                        "value_tier": value, "risk_tier": risk, "churn_probability": 0.5})  # fmt: skip
    return pd.DataFrame(out)


def test_risk_matrix_axes_read_low_to_high_and_high_high_is_called_out():
    fig = charts.risk_matrix_fig(risk_matrix(_risk()))
    heat = fig.data[0]
    assert list(heat.x) == ["Low", "Medium", "High"] and list(heat.y) == ["Low", "Medium", "High"]
    assert list(fig.layout.xaxis.categoryarray) == ["Low", "Medium", "High"]
    # urgency grows towards high x high: the top-right cell is the most urgent colour
    assert heat.z[2][2] == max(max(r) for r in heat.z) and heat.z[0][0] == 0
    top_right = heat.text[2][2]
    assert "<b>1</b><br>customer<br>$900" in top_right  # singular, money with its currency
    assert "customers" in heat.text[0][0]
    (shape,) = fig.layout.shapes
    assert (shape.x0, shape.x1, shape.y0, shape.y1) == (1.5, 2.5, 1.5, 2.5)
    assert any("act here" in a.text for a in fig.layout.annotations)


def test_growth_is_diverging_around_zero_and_amounts_start_at_zero():
    geo = pd.DataFrame({
        "country": ["United Kingdom", "Germany", "France"], "revenue": [100.0, 50.0, 10.0],
        "orders": [3, 2, 1], "customers": [2, 1, 1], "aov": [33.3, 25.0, 10.0],
        "growth_12m": [1.13, -0.33, 0.05],
    })  # fmt: skip
    growth = charts.country_map_fig(geo, "growth_12m")
    lo, hi = growth.layout.coloraxis.cmin, growth.layout.coloraxis.cmax
    assert lo == pytest.approx(-1.0) and hi == pytest.approx(1.0)  # +113% is capped at +100%
    bars = charts.country_bars_fig(geo)
    assert (bars.layout.coloraxis.cmin, bars.layout.coloraxis.cmax) == (lo, hi)
    scale = [c for _, c in bars.layout.coloraxis.colorscale]
    assert scale == [c for _, c in growth.layout.coloraxis.colorscale]  # one growth scale
    # one country: the scale runs from 0 to its revenue, not over a sliver around it
    one = charts.country_map_fig(geo.head(1), "revenue")
    assert (one.layout.coloraxis.cmin, one.layout.coloraxis.cmax) == (0.0, 100.0)
    assert growth_range([0.0]) == (-0.01, 0.01) and amount_range([123_323.8]) == (0.0, 123_323.8)
    # one +1000% country does not leave the others pale: the range stops at +/-100%
    assert growth_range([-0.3, 0.2, 10.0]) == (-1.0, 1.0) and growth_range([-0.3, 0.2]) == (-0.3, 0.3)


def test_partial_periods_are_marked_not_drawn_as_drops():
    weeks = pd.date_range("2024-12-30", "2025-12-29", freq="W-MON")
    assert partial_periods(weeks, "week", date(2025, 1, 1), date(2025, 12, 31)).tolist() == (
        [True] + [False] * (len(weeks) - 2) + [True]
    )
    assert not partial_periods(weeks, "day", date(2025, 1, 1), date(2025, 12, 31)).any()
    ts = pd.DataFrame({"period": weeks.date, "revenue": np.r_[500.0, [1000.0] * (len(weeks) - 2), 200.0]})
    fig = charts.revenue_fig(ts, "week", window=(date(2025, 1, 1), date(2025, 12, 31)))
    line, partial = fig.data[0], fig.data[1]
    assert min(line.y) == 1000.0  # the cut weeks are not on the line
    assert partial.name == "partial period" and list(partial.y) == [500.0, 200.0]


def test_orders_and_aov_have_a_panel_each_and_cohorts_are_percent():
    months = pd.date_range("2025-01-01", periods=4, freq="MS")
    ts = pd.DataFrame({"period": months.date, "orders": [10, 12, 11, 3], "aov": [20.0, 21.0, 19.0, 20.0]})
    fig = charts.orders_aov_fig(ts, window=(date(2025, 1, 1), date(2025, 4, 10)))
    assert fig.layout.yaxis2.overlaying is None and fig.data[1].yaxis == "y2"
    assert list(fig.data[0].marker.opacity)[-1] < 0.5  # the cut month is pale
    cohorts = pd.DataFrame({
        "cohort": pd.to_datetime(["2025-01-01"] * 3 + ["2025-02-01"] * 2), "months_since": [0, 1, 2, 0, 1],
        "customers": [10, 4, 2, 8, 2], "retention": [1.0, 0.4, 0.2, 1.0, 0.25],
    })  # fmt: skip
    heat = charts.cohort_fig(cohorts).data[0]
    assert heat.texttemplate == "%{z:.0%}" and list(heat.x) == ["1", "2"]  # month 0 is always 100%


def test_predictions_headline_gives_the_reports_forecast_range():
    """The dashboard's headline reads the same ForecastOutlook as the report and the digest."""
    out = ForecastOutlook(total=1_710_000.0, low=1_670_000.0, high=1_990_000.0, days=90,
                          range_from="backtest")  # fmt: skip
    text = predictions_headline(out, []).changed
    assert text == ("Next 90 days: $1,710,000.00 of net revenue forecast "
                    "(80% range $1,670,000.00 to $1,990,000.00).")  # fmt: skip
    # a backtest that ran low moves the range above the model's own total: said so, not hidden
    biased = ForecastOutlook(total=552_009.93, low=563_699.57, high=683_817.56, days=28,
                             range_from="backtest")  # fmt: skip
    assert predictions_headline(biased, []).changed == (
        "Next 28 days: $552,009.93 of net revenue forecast; past forecasts ran low, so expect "
        "$563,699.57 to $683,817.56 (80% range).")  # fmt: skip
    wide = ForecastOutlook(total=30.0, low=23.0, high=38.0, days=2)
    assert "a wide bound from the daily bands" in predictions_headline(wide, []).changed
    missing = ForecastOutlook(message="No forecast model is trained: run `sales-analytics train`.")
    assert predictions_headline(missing, []).changed == missing.message


def test_planned_events_are_marked_as_such_not_as_unusual_days():
    from sales_analytics.insights import revenue_anomalies

    days = pd.date_range("2024-09-01", "2024-12-31")
    rng = np.random.default_rng(1)
    daily = pd.DataFrame({"period": days.date, "revenue": rng.normal(1000, 50, len(days)),
                          "orders": rng.poisson(20, len(days)).astype(float)})  # fmt: skip
    daily.loc[daily["period"] == date(2024, 11, 29), ["revenue", "orders"]] = [5000.0, 100.0]
    fig = charts.revenue_fig(daily, "day", revenue_anomalies(daily))
    names = [t.name for t in fig.data]
    assert "planned event" in names and "unusually high day" not in names
    (bf,) = [t for t in fig.data if t.name == "planned event"]
    assert "Black Friday" in list(bf.customdata[:, 0])


def test_the_clv_churn_chart_draws_the_customers_with_most_value_at_risk():
    rng = np.random.default_rng(3)
    n = 2_000
    risk = pd.DataFrame({
        "customer_id": np.arange(n), "clv": rng.gamma(2.0, 100.0, n), "churn_probability": rng.random(n),
        "value_tier": "medium", "risk_tier": "medium", "segment": "Champions",
    })  # fmt: skip
    top = charts.most_at_risk(risk)
    assert len(top) == charts.SCATTER_POINTS < n
    at_risk = risk["clv"] * risk["churn_probability"]
    assert set(top["customer_id"]) == set(risk.loc[at_risk.nlargest(len(top)).index, "customer_id"])
    fig = charts.clv_churn_fig(top, total=n)
    assert sum(len(t.x) for t in fig.data) == len(top)
    assert f"{len(top):,} of 2,000 customers" in fig.layout.title.text
    assert "of" not in charts.clv_churn_fig(risk.head(10), total=10).layout.title.text.split(":")[-1]
