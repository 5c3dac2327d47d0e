"""The generic metrics router on both backends: every catalogue entry against ``metrics.compute``,
paging, filters against pandas, the catalogue listing and the units in the OpenAPI schema."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from fastapi.encoders import jsonable_encoder

from sales_analytics import metrics
from sales_analytics.metrics import SEGMENT_NAMES, Filters
from tests.api.conftest import as_json

GERMANY = "Germany"
START, END = date(2024, 3, 1), date(2025, 6, 30)
#: Params a metric needs to be called at all.
REQUIRED = {"product_lines": {"product_id": 1}}
#: Query filters -> the same metrics.Filters.
FILTER_SETS = [
    pytest.param({}, Filters(), id="unfiltered"),
    pytest.param(
        {"country": GERMANY, "start": START, "end": END},
        Filters(START, END, (GERMANY,)),
        id="germany-window",
    ),
    pytest.param(
        {"segment": ["Champions", "Can't Lose Them"], "end": END},
        Filters(end=END, segments=("Champions", "Can't Lose Them")),
        id="segments",
    ),
]


@pytest.fixture(scope="module")
def frames(small_frames) -> dict[str, pd.DataFrame]:
    return {name: table.to_pandas() for name, table in small_frames.items()}


def completed(frames, country: str | None = None, start=None, end=None) -> pd.DataFrame:
    o = frames["orders"].merge(frames["customers"][["customer_id", "country"]], on="customer_id")
    o = o[o["status"] == "completed"]
    if country:
        o = o[o["country"] == country]
    if start:
        o = o[o["order_date"] >= pd.Timestamp(start)]
    if end:
        o = o[o["order_date"] < pd.Timestamp(end + timedelta(days=1))]
    return o.assign(amount=o["total_amount"].astype(float))


def all_pages(client, path: str, params: dict, size: int) -> tuple[list[dict], dict]:
    """Walk ``path`` page by page; also return the first page."""
    first = client.get(path, params=params | {"limit": size})
    assert first.status_code == 200, first.text
    first = first.json()
    items, offset = [], 0
    while True:
        body = client.get(path, params=params | {"limit": size, "offset": offset}).json()
        assert (body["total"], body["limit"], body["offset"]) == (first["total"], size, offset)
        items += body["items"]
        if len(body["items"]) < size:
            break
        offset += size
    assert len(items) == first["total"]
    return items, first


def same_rows(got: list[dict], expected: list[dict]) -> None:
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert g.keys() >= e.keys(), (g, e)
        for key, value in e.items():
            if isinstance(value, float):
                assert g[key] == pytest.approx(value, rel=1e-9, abs=1e-9), (key, g, e)
            else:
                assert g[key] == value, (key, g, e)


def expected(db, name: str, f: Filters, **params) -> list[dict]:
    return as_json(name, metrics.compute(db, name, f, **params))


# ------------------------------------------------------------------------------------- compute
@pytest.mark.parametrize("query, f", FILTER_SETS)
@pytest.mark.parametrize("name", [m.name for m in metrics.public()])
def test_every_metric_matches_compute(client, loaded_db, name, query, f):
    """The API answers exactly what ``metrics.compute`` answers on the same database."""
    metric = metrics.get(name)
    params = REQUIRED.get(name, {})
    items, body = all_pages(client, f"/v1/metrics/{name}", query | params, size=1000)
    assert (body["metric"], body["label"]) == (name, metric.label)
    assert body["filters"] == jsonable_encoder(
        {"start": f.start, "end": f.end, "countries": list(f.countries),
         "segments": list(f.segments)}
    )  # fmt: skip
    resolved = metric.resolve(params)
    assert body["params"] == {("cap" if k == "limit" else k): v for k, v in resolved.items()}
    same_rows(items, expected(loaded_db, name, f, **params))
    declared = {c.name for c in metric.output(resolved)}
    assert all(set(row) == {c.name for c in metric.columns} for row in items)
    assert all(row[c] is None for row in items for c in set(row) - declared)


@pytest.mark.parametrize(
    "name, params",
    [
        ("revenue", {"grain": "week"}),
        ("yoy_growth", {"grain": "day"}),
        ("geography", {"level": "region"}),
        ("abc_classes", {"a_share": 0.5, "b_share": 0.7}),
        ("slow_movers", {"window_days": 30, "max_units": 3}),
        ("product_pairs", {"min_orders": 3, "limit": 20}),
        ("orders", {"limit": 30}),
    ],
)
def test_declared_params_match_compute(client, loaded_db, name, params):
    query = {("cap" if k == "limit" else k): v for k, v in params.items()}
    items, body = all_pages(client, f"/v1/metrics/{name}", query | {"country": GERMANY}, 1000)
    assert {k: body["params"][k] for k in query} == query
    same_rows(items, expected(loaded_db, name, Filters(countries=(GERMANY,)), **params))


# ------------------------------------------------------------------------------------- paging
@pytest.mark.parametrize(
    "path, params, key",
    [
        ("customer_summary", {}, "customer_id"),
        ("customer_summary", {"start": "2025-01-01", "country": GERMANY}, "customer_id"),
        ("product_performance", {"end": "2023-06-30"}, "product_id"),
        ("abc_classes", {}, "product_id"),
        ("rfm_segments", {"segment": "Loyal Customers"}, "customer_id"),
        ("stock_cover", {"end": "2023-03-31"}, "product_id"),
        ("orders", {"country": GERMANY}, "order_id"),
        ("orders", {"cap": 50}, "order_id"),
        ("revenue", {"grain": "week"}, "period"),
    ],
)
def test_pages_concatenate_to_the_full_list(client, path, params, key):
    items, first = all_pages(client, f"/v1/metrics/{path}", params, size=7)
    full = client.get(f"/v1/metrics/{path}", params=params | {"limit": 1000}).json()
    assert items == full["items"]
    ids = [row[key] for row in items]
    assert len(ids) == len(set(ids)) == full["total"] > 7


def test_scores_pages_concatenate(client):
    params = {"sort": "churn_probability", "order": "desc"}
    items, first = all_pages(client, "/v1/scores", params, size=7)
    ids = [row["customer_id"] for row in items]
    assert len(ids) == len(set(ids)) == first["total"] > 7


def test_cap_is_the_metrics_limit_and_paging_stays_within_it(client, loaded_db):
    capped = client.get("/v1/metrics/orders", params={"cap": 50, "limit": 20, "offset": 40}).json()
    assert (capped["total"], capped["limit"], capped["offset"]) == (50, 20, 40)
    assert capped["params"] == {"cap": 50}
    top = expected(loaded_db, "orders", Filters(), limit=50)
    same_rows(capped["items"], top[40:50])
    assert client.get("/v1/metrics/orders", params={"cap": 50, "offset": 50}).json()["items"] == []
    default = client.get("/v1/metrics/orders", params={"limit": 1}).json()
    assert default["params"] == {"cap": 5000}
    assert default["total"] == min(5000, len(expected(loaded_db, "orders", Filters(), limit=None)))


def test_declared_sort_is_stable_with_nulls_last(client):
    rows = client.get(
        "/v1/metrics/stock_cover", params={"end": "2023-03-31", "limit": 1000}
    ).json()["items"]
    cover = [r["days_of_cover"] for r in rows]
    known = [c for c in cover if c is not None]
    assert cover[: len(known)] == sorted(known)
    assert None in cover and all(c is None for c in cover[len(known) :])
    nulls = [r["product_id"] for r in rows if r["days_of_cover"] is None]
    assert nulls == sorted(nulls)


def test_offset_past_the_end_is_an_empty_page(client):
    body = client.get("/v1/metrics/customer_summary", params={"offset": 10_000}).json()
    assert body["items"] == [] and body["total"] == 200
    kpis = client.get("/v1/metrics/kpis", params={"offset": 1}).json()
    assert kpis["items"] == [] and kpis["total"] == 1


# ------------------------------------------------------------------------------------- pandas
def test_customer_filter_matches_pandas(client, frames):
    params = {"country": GERMANY, "start": START, "end": END, "limit": 1000}
    body = client.get("/v1/metrics/customer_summary", params=params).json()
    cust = frames["customers"]
    expected_ids = sorted(cust.loc[cust["country"] == GERMANY, "customer_id"])
    assert [r["customer_id"] for r in body["items"]] == expected_ids
    assert body["total"] == len(expected_ids)
    o = completed(frames, GERMANY, START, END)
    spent = o.groupby("customer_id")["amount"].sum()
    counts = o.groupby("customer_id").size()
    for row in body["items"]:
        cid = row["customer_id"]
        assert row["country"] == GERMANY
        assert row["order_count"] == counts.get(cid, 0)
        assert row["total_spent"] == pytest.approx(spent.get(cid, 0.0), abs=0.005)


def test_kpis_and_revenue_country_filter_match_pandas(client, frames):
    params = {"country": GERMANY, "start": START, "end": END}
    o = completed(frames, GERMANY, START, END)
    body = client.get("/v1/metrics/kpis", params=params).json()
    assert body["total"] == 1 and len(body["items"]) == 1
    k = body["items"][0]
    assert k["orders"] == len(o)
    assert k["revenue"] == pytest.approx(o["amount"].sum(), abs=0.005)
    assert k["customers"] == o["customer_id"].nunique()
    series = client.get("/v1/metrics/revenue", params=params | {"grain": "month"}).json()
    assert series["params"] == {"grain": "month"}
    by_month = o.groupby(o["order_date"].dt.to_period("M"))["amount"].sum()
    got = {p["period"]: p["revenue"] for p in series["items"]}
    for period, value in by_month.items():
        assert got[period.start_time.date().isoformat()] == pytest.approx(value, abs=0.005)
    assert sum(got.values()) == pytest.approx(o["amount"].sum(), abs=0.01)


def kpi(client, params) -> dict:
    return client.get("/v1/metrics/kpis", params=params).json()["items"][0]


def test_several_countries_and_segments(client):
    both = kpi(client, [("country", GERMANY), ("country", "France")])
    one = [kpi(client, {"country": c}) for c in (GERMANY, "France")]
    assert both["orders"] == sum(k["orders"] for k in one)
    params = {"segment": "Champions", "limit": 1000}
    seg = client.get("/v1/metrics/customer_summary", params=params).json()
    members = client.get("/v1/metrics/rfm_segments", params=params).json()
    assert seg["filters"]["segments"] == ["Champions"]
    assert [r["customer_id"] for r in seg["items"]] == [r["customer_id"] for r in members["items"]]
    assert {r["segment"] for r in members["items"]} == {"Champions"}


def test_segment_summary_reconciles_with_kpis_and_drill_downs(client):
    body = client.get("/v1/metrics/segment_summary").json()
    names = [r["segment"] for r in body["items"]]
    assert names == [s for s in SEGMENT_NAMES if s in names]
    assert sum(r["customers"] for r in body["items"]) == kpi(client, {})["customers"]
    for row in body["items"]:
        for drill in ("customers", "rfm_segments"):
            members = client.get(f"/v1/metrics/{drill}", params={"segment": row["segment"]})
            assert members.json()["total"] == row["customers"], (drill, row["segment"])


def test_growth_geography_cohorts_abc(client):
    yoy = client.get("/v1/metrics/yoy_growth", params={"limit": 1000}).json()["items"]
    assert yoy[0]["revenue_last_year"] is None  # nothing a year before the first month
    later = [r for r in yoy if r["revenue_last_year"]]
    assert later and all(
        r["revenue_growth"] == pytest.approx(r["revenue"] / r["revenue_last_year"] - 1)
        for r in later
    )
    pop = client.get("/v1/metrics/period_over_period", params={"grain": "week"}).json()
    assert pop["params"] == {"grain": "week"} and pop["items"][1]["revenue_previous"] is not None
    params = {"level": "region", "country": GERMANY}
    geo = client.get("/v1/metrics/geography", params=params).json()["items"]
    assert geo and {r["country"] for r in geo} == {GERMANY} and all(r["region"] for r in geo)
    countries = client.get("/v1/metrics/geography").json()["items"]
    assert countries and all(r["region"] is None for r in countries)
    cohorts = client.get("/v1/metrics/cohorts", params={"limit": 1000}).json()["items"]
    assert all(r["months_since"] > 0 or r["retention"] == 1.0 for r in cohorts)

    def a_class(a_share: float) -> int:
        rows = client.get("/v1/metrics/abc_classes", params={"a_share": a_share}).json()["items"]
        return sum(r["abc_class"] == "A" for r in rows)

    assert 1 <= a_class(0.5) < a_class(0.8)


def test_empty_window_gives_zeros_and_nulls(client):
    params = {"start": "1990-01-01", "end": "1990-12-31"}
    k = kpi(client, params)
    assert (k["revenue"], k["orders"], k["aov"], k["first_order_at"]) == (0.0, 0, None, None)
    empty = (
        "revenue",
        "yoy_growth",
        "cohorts",
        "geography",
        "segment_summary",
        "orders",
        "customers",
    )
    for name in empty:
        r = client.get(f"/v1/metrics/{name}", params=params)
        assert r.status_code == 200 and r.json()["items"] == [] and r.json()["total"] == 0, name
