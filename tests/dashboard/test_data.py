"""The dashboard's data module on DuckDB and PostgreSQL: the same numbers as the metric layer,
drill-downs that add up to their summaries, and the CSV/Excel export."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pandas as pd
import pytest

from sales_analytics import insights, metrics
from sales_analytics.dashboard import data, ui
from sales_analytics.metrics import Filters


@pytest.fixture
def dash(loaded_db, monkeypatch):
    """The data module pointed at the loaded test database (its own cached connection)."""
    monkeypatch.setenv("DATABASE_URL", loaded_db.url)
    return data


def test_status_and_metrics_equal_the_metric_layer(loaded_db, dash):
    s = dash.status()
    assert s.kind == loaded_db.kind
    k = metrics.kpis(loaded_db)
    assert (s.first_day, s.last_day) == (k["first_order_at"].date(), k["last_order_at"].date())
    f = Filters(*dash.default_window(s))
    assert dash.kpis(f) == metrics.kpis(loaded_db, f)
    pd.testing.assert_frame_equal(
        dash.metric("timeseries", f, grain="month"),
        metrics.revenue_timeseries(loaded_db, "month", f).to_pandas(),
    )
    prev = insights.previous_period(f, s.first_day, s.last_day)
    cmp = dash.kpi_comparison(f).set_index("kpi")
    assert cmp.loc["revenue", "previous"] == pytest.approx(metrics.kpis(loaded_db, prev)["revenue"])
    assert [x.text for x in dash.findings(f)] == [
        x.text for x in insights.compute_insights(loaded_db, f)
    ]


def test_drill_downs_add_up(loaded_db, dash):
    s = dash.status()
    f = Filters(*dash.default_window(s))
    geo = dash.metric("geography", f, level="country")
    country = geo["country"].iloc[0]
    orders = dash.orders(dash.narrow(f, country=country))
    assert set(orders["country"]) == {country}
    done = orders[orders["status"] == "completed"]
    assert done["total_amount"].sum() == pytest.approx(geo["revenue"].iloc[0])
    assert len(done) == geo["orders"].iloc[0]

    seg = dash.metric("segments", f)
    name, n = seg["segment"].iloc[0], seg["customers"].iloc[0]
    members = dash.customers(f, segment=name)
    assert len(members) == n and set(members["segment"]) == {name}

    products = dash.metric("products", f)
    top = products.sort_values("revenue", ascending=False).iloc[0]
    lines = dash.product_lines(f, int(top["product_id"]))
    sold = lines[lines["status"] == "completed"]
    assert sold["line_total"].sum() == pytest.approx(top["revenue"])
    assert sold["quantity"].sum() == top["units_sold"]


def test_narrow_intersects_the_window():
    f = Filters("2024-01-01", "2024-06-30", countries=("France",))
    n = data.narrow(f, start=pd.Timestamp("2023-12-01").date(), end=pd.Timestamp("2024-01-31").date())
    assert (str(n.start), str(n.end), n.countries) == ("2024-01-01", "2024-01-31", ("France",))
    assert data.narrow(f, country="Spain").countries == ("Spain",)
    assert data.narrow(Filters(), segment="Lost").segments == ("Lost",)


def test_export_round_trip(tmp_path):
    df = pd.DataFrame(
        {
            "order_id": [1, 2],
            "order_date": [datetime(2024, 1, 1, 12), datetime(2024, 2, 3)],
            "amount": [Decimal("10.50"), Decimal("3.25")],
            "name": ["Zoë", "Ann"],
        }
    )
    csv = pd.read_csv(pd.io.common.BytesIO(ui.to_csv(df)))
    assert list(csv["name"]) == ["Zoë", "Ann"] and list(csv["amount"]) == [10.5, 3.25]
    path = tmp_path / "x.xlsx"
    path.write_bytes(ui.to_excel(df, "orders"))
    back = pd.read_excel(path, sheet_name="orders")
    assert list(back["order_id"]) == [1, 2] and list(back["amount"]) == [10.5, 3.25]
    assert back["order_date"].iloc[0] == pd.Timestamp("2024-01-01 12:00")
