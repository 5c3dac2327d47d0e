"""The /v1 endpoints on both backends: auth, the customer endpoint, errors, 503s, concurrency.

The metric endpoints' numbers, paging and filters are in test_metrics.py.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from sales_analytics import metrics
from sales_analytics.api import MissingApiKeyError, create_app
from sales_analytics.metrics import Filters
from tests.api.conftest import KEY, as_json

#: One valid request per /v1 endpoint (the auth test walks them all).
V1_GETS = [
    "/v1/metrics",
    *(f"/v1/metrics/{m.name}" for m in metrics.public()),
    "/v1/customers/1",
    "/v1/customers/1/scores",
    "/v1/forecast",
    "/v1/scores",
    "/v1/models",
    "/v1/models/demand",
    "/v1/actions/win-back",
]


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
    r = c.get("/v1/metrics/revenue", params={"grain": "year"}, headers={"X-API-Key": "nope"})
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
        p.replace("/1", "/{customer_id}").replace("/win-back", "/{name}") for p in V1_GETS
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
    monkeypatch.delenv("SA_API_KEY_FILE", raising=False)
    with pytest.raises(MissingApiKeyError, match="--no-auth"):
        create_app(loaded_db.url)
    monkeypatch.setenv("SA_API_KEY", "from-env-" + "e" * 23)  # 32 characters, the least
    c = make_client(loaded_db.url, api_key=None)
    assert c.get("/v1/metrics/kpis").status_code == 401
    auth = {"X-API-Key": "from-env-" + "e" * 23}
    assert c.get("/v1/metrics/kpis", headers=auth).status_code == 200
    monkeypatch.delenv("SA_API_KEY")
    c = make_client(loaded_db.url, api_key=None, require_auth=False)
    assert c.get("/v1/metrics/kpis", headers={"X-API-Key": ""}).status_code == 200
    assert "securitySchemes" not in c.get("/openapi.json").json().get("components", {})


# ------------------------------------------------------------------------------------- customers
def test_customer_detail_is_two_catalogue_rows(client, loaded_db, small_frames):
    body = client.get("/v1/customers/1").json()
    row = small_frames["customers"].to_pandas().set_index("customer_id").loc[1]
    assert (body["email"], body["country"]) == (row["email"], row["country"])
    assert datetime.fromisoformat(body["created_at"]) == row["created_at"].to_pydatetime()
    summary = metrics.compute(loaded_db, "customer_summary")
    rfm = metrics.compute(loaded_db, "rfm_segments")
    expected = as_json("customer_summary", summary[summary["customer_id"] == 1])[0]
    scored = as_json("rfm_segments", rfm[rfm["customer_id"] == 1])[0]
    del scored["customer_id"]
    assert body == expected | {"rfm": scored}
    assert body["rfm"]["segment"] in metrics.SEGMENT_NAMES

    window = Filters(start="2025-01-01", end="2025-06-30")
    windowed = client.get("/v1/customers/1", params={"start": window.start, "end": window.end})
    summary = metrics.compute(loaded_db, "customer_summary", window)
    expected = as_json("customer_summary", summary[summary["customer_id"] == 1])[0]
    assert windowed.json() == expected | {"rfm": scored}  # RFM: whole history, all customers
    empty = client.get("/v1/customers/1", params={"start": "1990-01-01", "end": "1990-12-31"})
    assert empty.json()["order_count"] == 0 and empty.json()["avg_order_value"] is None


def test_customer_without_a_completed_order_has_no_rfm(client, loaded_db):
    scored = set(metrics.compute(loaded_db, "rfm_segments")["customer_id"])
    ids = set(metrics.compute(loaded_db, "customer_summary")["customer_id"])
    unscored = sorted(ids - scored)
    assert unscored
    body = client.get(f"/v1/customers/{unscored[0]}").json()
    assert body["customer_id"] == unscored[0] and body["rfm"] is None


def test_customers_list_is_the_customer_summary_metric(client):
    assert client.get("/v1/customers").status_code == 404
    assert client.get("/v1/metrics/customer_summary").json()["total"] == 200


# ------------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "path, params, message",
    [
        (
            "/v1/metrics/kpis",
            {"start": "2025-01-02", "end": "2025-01-01"},
            "start 2025-01-02 is after end 2025-01-01",
        ),
        ("/v1/customers/1", {"start": "2025-01-02", "end": "2025-01-01"}, "is after end"),
        (
            "/v1/metrics/revenue",
            {"country": "Atlantis"},
            "unknown country(s) 'Atlantis'; known: Australia",
        ),
        ("/v1/scores", {"country": "germany"}, "unknown country(s) 'germany'"),
        ("/v1/metrics/revenue", {"grain": "decade"}, "Input should be 'day', 'week', 'month', "),
        ("/v1/metrics/kpis", {"segment": "champions"}, "Input should be 'Champions'"),
        ("/v1/metrics/customer_summary", {"limit": 0}, "greater than or equal to 1"),
        ("/v1/metrics/customer_summary", {"limit": 1001}, "less than or equal to 1000"),
        ("/v1/metrics/customer_summary", {"offset": -1}, "greater than or equal to 0"),
        ("/v1/metrics/kpis", {"start": "2025-13-01"}, "valid date"),
        ("/v1/metrics/kpis", {"end": "0001-01-01"}, "greater than or equal to 1900-01-01"),
        ("/v1/metrics/kpis", {"country": "x" * 101}, "at most 100 characters"),
        ("/v1/metrics/kpis", {"countyr": "Germany"}, "unknown query parameter(s) 'countyr'"),
        ("/v1/metrics/kpis", {"grain": "day"}, "unknown query parameter(s) 'grain'"),
        ("/v1/metrics/geography", {"level": "city"}, "'country' or 'region'"),
        ("/v1/metrics/abc_classes", {"a_share": 1.5}, "less than or equal to 1"),
        ("/v1/metrics/abc_classes", {"a_share": "nan"}, "finite number"),
        (
            "/v1/metrics/abc_classes",
            {"a_share": 0.9, "b_share": 0.5},
            "need 0 < a_share <= b_share <= 1",
        ),
        ("/v1/metrics/stock_cover", {"window_days": 0}, "greater than or equal to 1"),
        ("/v1/metrics/product_lines", {}, "Field required"),
        ("/v1/metrics/orders", {"cap": 0}, "greater than or equal to 1"),
        ("/v1/metrics/orders", {"cap": 1_000_001}, "less than or equal to 1000000"),
        (
            "/v1/metrics/decomposition",
            {"grain": "month", "start": "2025-01-01"},
            "decomposition needs at least 25 months of data",
        ),
        ("/v1/customers/0", {}, "greater than or equal to 1"),
        ("/v1/customers/99999999999999999999", {}, "less than or equal to"),
        ("/v1/customers/abc", {}, "valid integer"),
    ],
)
def test_bad_parameters_are_422_with_a_message(client, path, params, message):
    r = client.get(path, params=params)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert isinstance(detail, list) and {"loc", "msg", "type"} <= set(detail[0])
    assert any(message in d["msg"] for d in detail), detail


def test_a_builders_check_is_a_422_on_the_param_it_names(client):
    r = client.get("/v1/metrics/abc_classes", params={"a_share": 0.9, "b_share": 0.5})
    assert r.json()["detail"] == [
        {
            "type": "value_error",
            "loc": ["query", "a_share"],
            "msg": "need 0 < a_share <= b_share <= 1",
            "input": None,
        }
    ]


def test_unknown_customer_is_404(client):
    for path in ("/v1/customers/999999", "/v1/customers/999999/scores"):
        r = client.get(path)
        assert r.status_code == 404
        assert r.json() == {"detail": "no customer with customer_id 999999"}


def test_unknown_metric_is_404(client):
    r = client.get("/v1/metrics/daily_units")  # internal building blocks are not served
    assert r.status_code == 404


# ------------------------------------------------------------------------------------- 503
def test_unreachable_database_is_503(make_client):
    c = make_client("postgresql://postgres@127.0.0.1:1/shop")
    r = c.get("/v1/metrics/kpis")
    assert r.status_code == 503 and "cannot connect to PostgreSQL" in r.json()["detail"]
    health = c.get("/health")
    assert health.status_code == 503 and health.json()["status"] == "unavailable"


def test_database_without_schema_is_503_until_built(tmp_path, make_client, small_frames):
    from sales_analytics.storage import connect

    url = f"duckdb:///{tmp_path / 'empty.duckdb'}"
    c = make_client(url)
    r = c.get("/v1/metrics/customer_summary")
    assert r.status_code == 503 and "sales-analytics build" in r.json()["detail"]
    with connect(url) as db:
        db.create_schema()
        metrics.load(db, small_frames)
    assert c.get("/v1/metrics/customer_summary").json()["total"] == 200


def test_concurrent_requests_share_the_connection_safely(client):
    """FastAPI runs endpoints in a thread pool; the one connection is used by one at a time."""
    from concurrent.futures import ThreadPoolExecutor

    paths = [
        "/v1/metrics/kpis",
        "/v1/metrics/customer_summary?limit=5",
        "/v1/metrics/revenue?grain=week",
        "/v1/metrics/segment_summary",
    ] * 6
    expected = {p: client.get(p).json() for p in set(paths)}
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(client.get, paths))
    assert [r.status_code for r in responses] == [200] * len(paths)
    assert all(r.json() == expected[p] for p, r in zip(paths, responses, strict=True))


def test_lost_connection_is_503_then_reconnects(loaded_db, make_client):
    """DuckDB: the connection closed under the cursors (503, then reopened). PostgreSQL: the
    pooled connections closed (the pool's check replaces them: no error at all)."""
    c = make_client(loaded_db.url)
    assert c.get("/v1/metrics/kpis?start=2020-01-01").status_code == 200
    lender = c.app.state.service._pool._lender
    if loaded_db.kind == "duckdb":
        lender._gen.root.raw.close()  # the file went away under the open connection
        lost = c.get("/v1/metrics/kpis?start=2020-01-02")
        assert lost.status_code == 503 and lost.json()["detail"].startswith("database unavailable")
    else:
        for conn in list(lender._wrappers):
            conn.close()
    assert c.get("/v1/metrics/kpis?start=2020-01-03").status_code == 200
