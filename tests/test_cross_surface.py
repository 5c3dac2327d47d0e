"""One truth: the same question gets the same number on every surface.

On the default shop (scale 1, seed 42) and several filter sets, including Germany + Champions +
2025-Q4, the KPI row, the segment chart's data, the drill-downs, the API, the report, the CLI and
the dashboard's data layer give the same numbers, and each drill-down's caption reconciles with its
KPI.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from sales_analytics import metrics
from sales_analytics.metrics import Filters
from sales_analytics.present import captions
from sales_analytics.storage import connect
from sales_analytics.synth import generate

KEY = "k" * 32
FILTER_SETS = {
    "germany-champions-q4": Filters(date(2025, 10, 1), date(2025, 12, 31), ("Germany",), ("Champions",)),
    "2025": Filters(start=date(2025, 1, 1), end=date(2025, 12, 31)),
    "us-fr-at-risk": Filters(countries=("United States", "France"), segments=("At Risk", "Lost")),
    "everything": Filters(),
}
KPIS = ("revenue", "orders", "customers", "aov", "units", "new_customers", "return_rate")


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    url = f"duckdb:///{tmp_path_factory.mktemp('shop') / 'shop.duckdb'}"
    with connect(url) as db:
        db.create_schema()
        metrics.load(db, generate(scale=1, seed=42).tables)
    db = connect(url)
    yield db
    db.close()


@pytest.fixture(scope="module")
def api(shop):
    from sales_analytics.api import create_app

    with TestClient(create_app(shop.url, KEY)) as client:
        yield client


def query(f: Filters) -> dict:
    q: dict = {}
    if f.start:
        q["start"] = f.start.isoformat()
    if f.end:
        q["end"] = f.end.isoformat()
    if f.countries:
        q["country"] = list(f.countries)
    if f.segments:
        q["segment"] = list(f.segments)
    return q


def api_rows(api, name: str, f: Filters, **params) -> list[dict]:
    rows, offset = [], 0
    while True:
        r = api.get(f"/v1/metrics/{name}", params=query(f) | params | {"offset": offset},
                    headers={"X-API-Key": KEY})  # fmt: skip
        assert r.status_code == 200, r.text
        body = r.json()
        rows += body["items"]
        offset += len(body["items"])
        if offset >= body["total"] or not body["items"]:
            return rows


@pytest.mark.parametrize("case", FILTER_SETS)
def test_kpis_segments_and_drilldowns_agree(shop, api, case):
    f = FILTER_SETS[case]
    k = metrics.kpis(shop, f)
    assert k["orders"] > 0
    seg = metrics.compute(shop, "segment_summary", f)
    # the segment chart adds up to the KPI row
    assert seg.active_customers.sum() == k["customers"]
    assert seg.orders.sum() == k["orders"]
    assert seg.revenue.sum() == pytest.approx(k["revenue"])
    if f.segments:
        assert set(seg.segment) <= set(f.segments)
    # the customers drill-down of each segment is that segment's bar
    for row in seg.itertuples():
        people = metrics.compute(shop, "customers", Filters(f.start, f.end, f.countries, (row.segment,)), limit=None)
        assert len(people) == row.customers
        assert (people.orders > 0).sum() == row.active_customers
        assert people.revenue.sum() == pytest.approx(row.revenue)
        text = captions.segment_customers(row.segment, row._asdict(), f.end or k["last_order_at"], len(people))
        assert f"{row.customers:,} customers are {row.segment}" in text
        assert f"{row.active_customers:,} of them bought in the window" in text
    # the orders drill-down: every status, adding up to the KPIs
    orders = metrics.compute(shop, "orders", f, limit=None)
    by_status = orders.status.value_counts()
    assert by_status.get("completed", 0) == k["orders"]
    total = k["orders"] + k["cancelled_orders"] + k["returned_orders"]
    assert len(orders) == total
    text = captions.orders(k, len(orders))
    assert text.startswith(f"{total:,} orders: {k['orders']:,} completed (the Orders KPI)")
    # the API
    api_k = api_rows(api, "kpis", f)[0]
    for key in KPIS:
        assert api_k[key] == pytest.approx(k[key]), key
    api_seg = {r["segment"]: r for r in api_rows(api, "segment_summary", f)}
    for row in seg.itertuples():
        assert api_seg[row.segment]["customers"] == row.customers
        assert api_seg[row.segment]["revenue"] == pytest.approx(row.revenue)
    assert len(api_rows(api, "orders", f, cap=1_000_000, limit=1000)) == total


def test_germany_champions_q4_in_numbers(shop):
    """The issue's example: one answer per question, whatever the screen."""
    f = FILTER_SETS["germany-champions-q4"]
    k = metrics.kpis(shop, f)
    seg = metrics.compute(shop, "segment_summary", f)
    assert list(seg.segment) == ["Champions"]
    people = metrics.compute(shop, "customers", f, limit=None)
    assert len(people) == seg.customers.iloc[0]
    assert (people.orders > 0).sum() == k["customers"] == seg.active_customers.iloc[0]
    assert set(people.segment) == {"Champions"} and set(people.country) == {"Germany"}


@pytest.mark.parametrize("case", ["germany-champions-q4", "everything"])
def test_dashboard_data_layer_agrees(shop, monkeypatch, case):
    """The dashboard's cached data functions (what its KPI cards, charts and drill-downs show)."""
    from sales_analytics.dashboard import data

    monkeypatch.setenv("DATABASE_URL", shop.url)
    data.clear_caches()
    f = FILTER_SETS[case]
    k = metrics.kpis(shop, f)
    assert {key: data.kpis(f)[key] for key in KPIS} == pytest.approx({key: k[key] for key in KPIS})
    seg = data.metric("segment_summary", f)
    assert seg.active_customers.sum() == k["customers"] and seg.orders.sum() == k["orders"]
    top = seg.iloc[0]
    narrowed = data.narrow(f, segment=top.segment)
    assert data.row_count("customers", narrowed) == top.customers
    assert data.row_count("orders", f) == k["orders"] + k["cancelled_orders"] + k["returned_orders"]
    data.clear_caches()


@pytest.mark.parametrize("case", ["germany-champions-q4", "2025"])
def test_report_and_cli_show_the_kpis(shop, tmp_path, case):
    from sales_analytics.cli import app
    from sales_analytics.reports.executive import collect, parse_kpis, render

    f = FILTER_SETS[case]
    k = metrics.kpis(shop, f)
    html = render(collect(shop, f, models_dir=tmp_path / "none"))
    shown = parse_kpis(html)["current"]
    for key in ("revenue", "orders", "customers", "aov", "return_rate"):
        assert shown[key] == pytest.approx(k[key]), key
    args = ["analyze", "-d", shop.url, "--out", str(tmp_path / "a"), "--metric", "kpis"]
    args += [f"--start={f.start}", f"--end={f.end}"]
    for c in f.countries:
        args += ["--country", c]
    for s in f.segments:
        args += ["--segment", s]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    money = re.search(r"Net revenue\s*│\s*\$([\d,]+\.\d\d)", result.output)
    assert money and float(money.group(1).replace(",", "")) == pytest.approx(k["revenue"], abs=0.005)
