"""The /v1 metric and customer endpoints on both backends: auth, paging, filters, errors."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from sales_analytics.api import MissingApiKeyError, create_app
from sales_analytics.metrics import SEGMENT_NAMES
from tests.api.conftest import KEY

#: One valid request per /v1 endpoint (the auth test walks them all).
V1_GETS = [
    "/v1/kpis",
    "/v1/revenue",
    "/v1/growth",
    "/v1/customers",
    "/v1/customers/1",
    "/v1/customers/1/scores",
    "/v1/segments",
    "/v1/segments/champions/customers",
    "/v1/products",
    "/v1/products/abc",
    "/v1/geography",
    "/v1/cohorts",
    "/v1/forecast",
    "/v1/scores",
    "/v1/models",
]
GERMANY = "Germany"
START, END = date(2024, 3, 1), date(2025, 6, 30)


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
    """Walk ``path`` page by page; also return the one-page answer (limit 1000)."""
    full = client.get(path, params=params | {"limit": 1000})
    assert full.status_code == 200, full.text
    full = full.json()
    items, offset = [], 0
    while True:
        body = client.get(path, params=params | {"limit": size, "offset": offset}).json()
        assert (body["total"], body["limit"], body["offset"]) == (full["total"], size, offset)
        items += body["items"]
        if len(body["items"]) < size:
            break
        offset += size
    return items, full


# ------------------------------------------------------------------------------------- auth
def test_every_v1_endpoint_needs_the_key(client):
    for path in V1_GETS:
        for headers in ({"X-API-Key": ""}, {"X-API-Key": "wrong"}, {"X-API-Key": KEY + "x"}):
            r = client.get(path, headers=headers)
            assert r.status_code == 401, (path, r.text)
            assert r.headers["content-type"] == "application/json"
            assert "API key" in r.json()["detail"]


def test_missing_key_is_401_before_parameter_checks(loaded_db, make_client):
    c = make_client(loaded_db.url)
    r = c.get("/v1/revenue", params={"grain": "year"}, headers={"X-API-Key": "nope"})
    assert r.status_code == 401
    del c.headers["X-API-Key"]
    r = c.get("/v1/customers/0")
    assert r.status_code == 401 and r.json() == {
        "detail": "missing API key: send it in the X-API-Key header"
    }


def test_open_endpoints_and_docs(client):
    health = client.get("/health", headers={"X-API-Key": ""})
    assert health.status_code == 200
    assert health.json()["status"] == "ok" and health.json()["database"] in ("duckdb", "postgres")
    spec = client.get("/openapi.json", headers={"X-API-Key": ""}).json()
    assert spec["components"]["securitySchemes"]["APIKeyHeader"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "The key given to `sales-analytics serve --api-key` (or SA_API_KEY)",
    }
    templated = {
        p.replace("/1", "/{customer_id}").replace("/champions/", "/{segment}/") for p in V1_GETS
    }
    assert {p for p in spec["paths"] if p.startswith("/v1")} == templated
    assert all(
        op["security"] == [{"APIKeyHeader": []}]
        for p, item in spec["paths"].items()
        if p.startswith("/v1")
        for op in item.values()
    )
    assert client.get("/docs").status_code == 200


def test_no_key_configured_refuses_unless_auth_disabled(loaded_db, make_client, monkeypatch):
    monkeypatch.delenv("SA_API_KEY", raising=False)
    with pytest.raises(MissingApiKeyError, match="--no-auth"):
        create_app(loaded_db.url)
    monkeypatch.setenv("SA_API_KEY", "from-env")
    c = make_client(loaded_db.url, api_key=None)
    assert c.get("/v1/kpis").status_code == 401
    assert c.get("/v1/kpis", headers={"X-API-Key": "from-env"}).status_code == 200
    monkeypatch.delenv("SA_API_KEY")
    c = make_client(loaded_db.url, api_key=None, require_auth=False)
    assert c.get("/v1/kpis", headers={"X-API-Key": ""}).status_code == 200
    assert "securitySchemes" not in c.get("/openapi.json").json().get("components", {})


# ------------------------------------------------------------------------------------- paging
@pytest.mark.parametrize(
    "path, params, key",
    [
        ("/v1/customers", {}, "customer_id"),
        ("/v1/customers", {"sort": "total_spent", "order": "desc"}, "customer_id"),
        ("/v1/customers", {"sort": "last_order_at", "start": "2025-01-01"}, "customer_id"),
        ("/v1/products", {}, "product_id"),
        ("/v1/products", {"sort": "margin_pct", "order": "asc", "end": "2023-06-30"}, "product_id"),
        ("/v1/products/abc", {}, "product_id"),
        ("/v1/segments/loyal-customers/customers", {}, "customer_id"),
        ("/v1/scores", {"sort": "churn_probability", "order": "desc"}, "customer_id"),
    ],
)
def test_pages_concatenate_to_the_full_list(client, path, params, key):
    items, full = all_pages(client, path, params, size=7)
    assert items == full["items"]
    ids = [row[key] for row in items]
    assert len(ids) == len(set(ids)) == full["total"] > 7


def test_sorting_is_stable_with_nulls_last(client):
    rows = client.get("/v1/products", params={"sort": "margin_pct", "end": "2023-03-31"}).json()
    margins = [r["margin_pct"] for r in rows["items"]]
    known = [m for m in margins if m is not None]
    assert margins[: len(known)] == sorted(known, reverse=True)
    assert None in margins and all(m is None for m in margins[len(known) :])
    nulls = [r["product_id"] for r in rows["items"] if r["margin_pct"] is None]
    assert nulls == sorted(nulls)


def test_offset_past_the_end_is_an_empty_page(client):
    body = client.get("/v1/customers", params={"offset": 10_000}).json()
    assert body["items"] == [] and body["total"] == 200


# ------------------------------------------------------------------------------------- filters
def test_customer_filter_matches_pandas(client, frames):
    body = client.get(
        "/v1/customers", params={"country": GERMANY, "start": START, "end": END, "limit": 1000}
    ).json()
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
    k = client.get("/v1/kpis", params=params).json()
    assert k["orders"] == len(o)
    assert k["revenue"] == pytest.approx(o["amount"].sum(), abs=0.005)
    assert k["customers"] == o["customer_id"].nunique()
    series = client.get("/v1/revenue", params=params | {"grain": "month"}).json()
    assert series["grain"] == "month"
    by_month = o.groupby(o["order_date"].dt.to_period("M"))["amount"].sum()
    got = {p["period"]: p["revenue"] for p in series["items"]}
    for period, value in by_month.items():
        assert got[period.start_time.date().isoformat()] == pytest.approx(value, abs=0.005)
    assert sum(got.values()) == pytest.approx(o["amount"].sum(), abs=0.01)


def test_several_countries_and_segments(client, frames):
    both = client.get("/v1/kpis", params=[("country", GERMANY), ("country", "France")]).json()
    one = [client.get("/v1/kpis", params={"country": c}).json() for c in (GERMANY, "France")]
    assert both["orders"] == sum(k["orders"] for k in one)
    seg = client.get("/v1/customers", params={"segment": "champions", "limit": 1000}).json()
    members = client.get("/v1/segments/champions/customers", params={"limit": 1000}).json()
    assert [r["customer_id"] for r in seg["items"]] == [r["customer_id"] for r in members["items"]]
    assert {r["segment"] for r in members["items"]} == {"Champions"}


def test_segments_summary_and_slugs(client):
    body = client.get("/v1/segments").json()
    names = [r["segment"] for r in body["items"]]
    assert names == [s for s in SEGMENT_NAMES if s in names]
    assert sum(r["customers"] for r in body["items"]) == client.get("/v1/kpis").json()["customers"]
    for row in body["items"]:
        members = client.get(f"/v1/segments/{row['segment_slug']}/customers").json()
        assert members["total"] == row["customers"]
    assert client.get("/v1/segments/cant-lose-them/customers").status_code == 200


def test_growth_geography_cohorts_abc(client):
    yoy = client.get("/v1/growth", params={"kind": "yoy", "grain": "month"}).json()
    assert yoy["comparison"] == "the same month one year back"
    assert yoy["items"][0]["revenue_comparison"] is None  # nothing a year before the first month
    later = [r for r in yoy["items"] if r["revenue_comparison"]]
    assert later and all(
        r["revenue_growth"] == pytest.approx(r["revenue"] / r["revenue_comparison"] - 1)
        for r in later
    )
    pop = client.get("/v1/growth", params={"kind": "pop", "grain": "week"}).json()
    assert pop["kind"] == "pop" and pop["grain"] == "week"
    geo = client.get("/v1/geography", params={"level": "region", "country": GERMANY}).json()
    assert geo["items"] and {r["country"] for r in geo["items"]} == {GERMANY}
    assert all(r["region"] for r in geo["items"])
    cohorts = client.get("/v1/cohorts").json()["items"]
    assert all(r["months_since"] > 0 or r["retention"] == 1.0 for r in cohorts)
    abc = client.get("/v1/products/abc", params={"abc_class": "A"}).json()
    assert abc["total"] >= 1 and {r["abc_class"] for r in abc["items"]} == {"A"}


def test_customer_detail(client, frames):
    body = client.get("/v1/customers/1").json()
    row = frames["customers"].set_index("customer_id").loc[1]
    assert (body["email"], body["country"]) == (row["email"], row["country"])
    assert datetime.fromisoformat(body["created_at"]) == row["created_at"].to_pydatetime()
    assert body["rfm"]["segment_slug"] in {
        s.lower().replace(" ", "-").replace("'", "") for s in SEGMENT_NAMES
    }
    windowed = client.get("/v1/customers/1", params={"start": "1990-01-01", "end": "1990-12-31"})
    assert windowed.json()["order_count"] == 0 and windowed.json()["avg_order_value"] is None


# ------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "path, params, message",
    [
        (
            "/v1/kpis",
            {"start": "2025-01-02", "end": "2025-01-01"},
            "start 2025-01-02 is after end 2025-01-01",
        ),
        ("/v1/customers/1", {"start": "2025-01-02", "end": "2025-01-01"}, "is after end"),
        ("/v1/revenue", {"country": "Atlantis"}, "unknown country(s) 'Atlantis'; known: Australia"),
        ("/v1/scores", {"country": "germany"}, "unknown country(s) 'germany'"),
        ("/v1/products", {"category": "Spaceships"}, "unknown category(s) 'Spaceships'"),
        ("/v1/revenue", {"grain": "year"}, "Input should be 'day', 'week' or 'month'"),
        ("/v1/kpis", {"segment": "Champions"}, "Input should be 'champions'"),
        ("/v1/customers", {"limit": 0}, "greater than or equal to 1"),
        ("/v1/customers", {"limit": 1001}, "less than or equal to 1000"),
        ("/v1/customers", {"offset": -1}, "greater than or equal to 0"),
        ("/v1/kpis", {"start": "2025-13-01"}, "valid date"),
        ("/v1/kpis", {"end": "0001-01-01"}, "greater than or equal to 1900-01-01"),
        ("/v1/kpis", {"country": "x" * 101}, "at most 100 characters"),
        ("/v1/customers/0", {}, "greater than or equal to 1"),
        ("/v1/customers/99999999999999999999", {}, "less than or equal to"),
        ("/v1/customers/abc", {}, "valid integer"),
        ("/v1/segments/best/customers", {}, "Input should be 'champions'"),
        ("/v1/geography", {"level": "city"}, "'country' or 'region'"),
    ],
)
def test_bad_parameters_are_422_with_a_message(client, path, params, message):
    r = client.get(path, params=params)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, list) and {"loc", "msg", "type"} <= set(detail[0])
    assert any(message in d["msg"] for d in detail), detail


def test_unknown_customer_is_404(client):
    for path in ("/v1/customers/999999", "/v1/customers/999999/scores"):
        r = client.get(path)
        assert r.status_code == 404
        assert r.json() == {"detail": "no customer with customer_id 999999"}


def test_empty_window_gives_zeros_and_nulls(client):
    params = {"start": "1990-01-01", "end": "1990-12-31"}
    k = client.get("/v1/kpis", params=params).json()
    assert (k["revenue"], k["orders"], k["aov"], k["first_order_at"]) == (0.0, 0, None, None)
    for path in ("/v1/revenue", "/v1/growth", "/v1/cohorts", "/v1/geography", "/v1/segments"):
        r = client.get(path, params=params)
        assert r.status_code == 200 and r.json()["items"] == [], path


# ------------------------------------------------------------------------------------- 503
def test_unreachable_database_is_503(make_client):
    c = make_client("postgresql://postgres@127.0.0.1:1/shop")
    r = c.get("/v1/kpis")
    assert r.status_code == 503 and "cannot connect to PostgreSQL" in r.json()["detail"]
    health = c.get("/health")
    assert health.status_code == 503 and health.json()["status"] == "unavailable"


def test_database_without_schema_is_503_until_built(tmp_path, make_client, small_frames):
    from sales_analytics.storage import connect

    url = f"duckdb:///{tmp_path / 'empty.duckdb'}"
    c = make_client(url)
    r = c.get("/v1/customers")
    assert r.status_code == 503 and "sales-analytics build" in r.json()["detail"]
    with connect(url) as db:
        db.create_schema()
        db.load(small_frames)
    assert c.get("/v1/customers").json()["total"] == 200


def test_concurrent_requests_share_the_connection_safely(client):
    """FastAPI runs endpoints in a thread pool; the one connection is used by one at a time."""
    from concurrent.futures import ThreadPoolExecutor

    paths = ["/v1/kpis", "/v1/customers?limit=5", "/v1/revenue?grain=week", "/v1/segments"] * 6
    expected = {p: client.get(p).json() for p in set(paths)}
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(client.get, paths))
    assert [r.status_code for r in responses] == [200] * len(paths)
    assert all(r.json() == expected[p] for p, r in zip(paths, responses, strict=True))


def test_lost_connection_is_503_then_reconnects(loaded_db, make_client):
    c = make_client(loaded_db.url)
    assert c.get("/v1/kpis").status_code == 200
    c.app.state.service._db.raw.close()  # the server went away under the open connection
    lost = c.get("/v1/kpis")
    assert lost.status_code == 503 and lost.json()["detail"].startswith("database unavailable")
    assert c.get("/v1/kpis").status_code == 200
