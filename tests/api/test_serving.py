"""Serving under concurrency: the reader pools, the statement timeout, /health, the response cache
by data version (ETag, If-None-Match, X-Data-Version), CORS and their settings. On each backend
where it applies; every database here is private to the module (the tests write new versions)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from sales_analytics import metrics
from sales_analytics.api.cache import Entry, ResponseCache, cache_key, etag_of, matches
from sales_analytics.api.service import NO_VERSION, Service
from sales_analytics.config import SettingsError, get_settings
from sales_analytics.storage import PoolBusy, StatementTimeout, connect
from tests.conftest import BACKENDS, make_url

#: A statement that runs for many seconds on either backend (cancelled long before).
SLOW = {
    "duckdb": "SELECT sum(i * i) FROM range(20000000000) t(i)",
    "postgres": "SELECT pg_sleep(30)",
}


@pytest.fixture(scope="module", params=BACKENDS)
def served_url(request, tmp_path_factory, pg_databases, small_frames) -> Iterator[str]:
    """A loaded database of this module's own (its data version moves)."""
    url = make_url(request.param, tmp_path_factory.mktemp("served"), pg_databases)
    db = connect(url)
    db.create_schema()
    metrics.load(db, small_frames)
    db.close()
    yield url


@pytest.fixture
def service(served_url, tmp_path) -> Iterator[Service]:
    svc = Service(served_url, tmp_path, pool_size=3, statement_timeout=5, health_timeout=2)
    svc.open()
    yield svc
    svc.close()


@pytest.fixture
def api(served_url, make_client):
    c = make_client(served_url)
    c.app.state.service.version_ttl = 0  # every request sees a new version at once
    return c


# ------------------------------------------------------------------------------------ pools
def test_pool_lends_up_to_its_size_at_once_then_waits(service):
    held, release = threading.Barrier(4), threading.Event()
    errors: list[BaseException] = []

    def hold() -> None:
        try:
            with service.database() as db:
                db.query("SELECT 1")
                held.wait(60)  # generous: connections open slowly on a loaded machine
                release.wait(60)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=hold) for _ in range(3)]
    for t in threads:
        t.start()
    held.wait(60)  # three connections lent at the same time
    started = time.monotonic()
    with pytest.raises(PoolBusy, match="all 3 database"):
        with service.database(wait=0.3):
            pass
    assert 0.25 < time.monotonic() - started < 10
    release.set()
    for t in threads:
        t.join(60)
    assert not errors
    with service.database(wait=1) as db:  # all returned
        assert db.query("SELECT 1") == [(1,)]


def test_statements_are_cancelled_after_the_timeout(service):
    started = time.monotonic()
    with pytest.raises(StatementTimeout, match=r"longer than the 0\.5 s statement timeout"):
        with service.database(timeout=0.5) as db:
            db.query(SLOW[service.kind])
    assert time.monotonic() - started < 3
    with service.database() as db:  # the connection is still good, with the usual timeout
        assert db.query("SELECT 1") == [(1,)]


def test_data_version_and_health(service, served_url):
    version = service.data_version(fresh=True)
    assert version.version is not None and version.version >= 1 and version.as_of is not None
    report = service.health()
    assert report.ok and report.status == "ok" and report.database == service.kind
    assert (report.data_version, report.data_as_of) == (version.version, version.as_of)
    db = connect(served_url)
    metrics.refresh(db)  # a new committed version
    db.close()
    time.sleep(0.3)  # DuckDB readers look for a swapped file at most every 0.25 s
    assert service.data_version(fresh=True).version == version.version + 1
    assert service.health().data_version == version.version + 1


def test_unreachable_database_health_is_unavailable_quickly(tmp_path):
    svc = Service("postgresql://postgres@127.0.0.1:1/shop", tmp_path, health_timeout=1)
    started = time.monotonic()
    report = svc.health()
    assert report.status == "unavailable" and "cannot connect to PostgreSQL" in report.detail
    assert time.monotonic() - started < 2
    svc.close()


def test_service_refuses_bad_sizes(tmp_path):
    with pytest.raises(ValueError, match="pool_size"):
        Service("duckdb://", tmp_path, pool_size=0)
    with pytest.raises(ValueError, match="timeouts"):
        Service("duckdb://", tmp_path, statement_timeout=0)


# ------------------------------------------------------------------------------------ cache
def test_metric_answers_carry_the_data_version_and_an_etag(api):
    first = api.get("/v1/metrics/revenue?grain=month&start=2024-01-01")
    assert first.status_code == 200
    etag, version = first.headers["etag"], first.headers["x-data-version"]
    assert etag.startswith(f'"v{version}-') and first.headers["x-data-as-of"]
    cache = api.app.state.cache
    hits = cache.hits
    again = api.get("/v1/metrics/revenue?start=2024-01-01&grain=month")  # same query, reordered
    assert again.status_code == 200 and again.json() == first.json()
    assert again.headers["etag"] == etag and cache.hits == hits + 1
    unchanged = api.get(
        "/v1/metrics/revenue?grain=month&start=2024-01-01", headers={"If-None-Match": etag}
    )
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["etag"] == etag
    other = api.get(
        "/v1/metrics/revenue?grain=week&start=2024-01-01", headers={"If-None-Match": etag}
    )
    assert other.status_code == 200 and other.headers["etag"] != etag


def test_first_answer_is_304_when_the_client_has_it(api):
    path = "/v1/metrics/segment_summary?start=2023-06-01"
    etag = api.get(path).headers["etag"]
    api.app.state.cache.clear()
    again = api.get(path, headers={"If-None-Match": f'W/{etag}, "other"'})
    assert again.status_code == 304 and again.headers["etag"] == etag


def test_a_new_data_version_is_a_new_answer(api, served_url):
    path = "/v1/metrics/kpis?start=2023-03-01"
    before = api.get(path)
    db = connect(served_url)
    metrics.refresh(db)
    db.close()
    time.sleep(0.3)
    after = api.get(path, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200  # not 304: the version moved
    assert int(after.headers["x-data-version"]) == int(before.headers["x-data-version"]) + 1
    assert after.json() == before.json()  # a refresh changes no number


def test_cache_keeps_authentication_and_parameter_checks(api):
    path = "/v1/metrics/kpis?start=2023-04-01"
    assert api.get(path).status_code == 200
    assert api.get(path, headers={"X-API-Key": ""}).status_code == 401
    assert api.get(path, headers={"X-API-Key": "x" * 40}).status_code == 401
    assert api.get(path + "&countyr=Germany").status_code == 422
    assert api.get("/v1/metrics/kpis?start=2023-04-02&end=2023-04-01").status_code == 422


def test_errors_are_not_cached(api):
    api.app.state.cache.clear()
    assert api.get("/v1/metrics/kpis?start=2023-05-02&end=2023-05-01").status_code == 422
    assert len(api.app.state.cache) == 0


def test_response_cache_is_a_bounded_lru():
    cache = ResponseCache(max_entries=2)
    entry = Entry(b"{}", "application/json", etag_of(b"{}", 1), NO_VERSION)
    a, b, c = (cache_key(p, [("x", "1")], 1) for p in ("/a", "/b", "/c"))
    cache.put(a, entry)
    cache.put(b, entry)
    assert cache.get(a) is entry  # a is now the most recent
    cache.put(c, entry)
    assert cache.get(b) is None and cache.get(a) is entry and cache.get(c) is entry
    assert len(cache) == 2
    assert cache_key("/a", [("b", "2"), ("a", "1")], 3) == cache_key(
        "/a", [("a", "1"), ("b", "2")], 3
    )
    assert cache_key("/a", [], 3) != cache_key("/a", [], 4)
    with pytest.raises(ValueError):
        ResponseCache(0)


def test_if_none_match_forms():
    tag = etag_of(b"body", 7)
    assert matches(tag, tag) and matches(f'"x", {tag}', tag) and matches(f"W/{tag}", tag)
    assert matches("*", tag) and not matches(None, tag) and not matches('"v7-0"', tag)


def test_catalogue_listing_is_not_cached(api):
    r = api.get("/v1/metrics")
    assert r.status_code == 200 and "etag" not in r.headers


# ------------------------------------------------------------------------------------ health
def test_health_reports_status_version_and_as_of(api):
    r = api.get("/health", headers={"X-API-Key": ""})
    body = r.json()
    assert r.status_code == 200 and body["status"] == "ok"
    assert isinstance(body["data_version"], int) and body["data_as_of"]
    assert set(body) == {"status", "database", "version", "data_version", "data_as_of", "detail"}


# ------------------------------------------------------------------------------------ CORS, settings
def test_cors_allow_list(served_url, make_client, monkeypatch):
    origin = {"Origin": "https://shop.example"}
    plain = make_client(served_url)
    assert "access-control-allow-origin" not in plain.get("/health", headers=origin).headers
    monkeypatch.setenv("SA_CORS_ORIGINS", "https://shop.example, https://bi.example")
    c = make_client(served_url)
    r = c.get("/v1/metrics/kpis", headers=origin)
    assert r.headers["access-control-allow-origin"] == "https://shop.example"
    assert "etag" in r.headers["access-control-expose-headers"].lower()
    other = c.get("/v1/metrics/kpis", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    preflight = c.options(
        "/v1/metrics/kpis",
        headers=origin
        | {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "X-API-Key"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://shop.example"


def test_statement_timeout_setting(served_url, make_client, monkeypatch):
    assert get_settings().statement_timeout == 30
    monkeypatch.setenv("SA_STATEMENT_TIMEOUT", "2.5")
    assert get_settings().statement_timeout == 2.5
    assert make_client(served_url).app.state.service.statement_timeout == 2.5
    for bad in ("0", "-1", "soon"):
        monkeypatch.setenv("SA_STATEMENT_TIMEOUT", bad)
        with pytest.raises(SettingsError, match="SA_STATEMENT_TIMEOUT"):
            get_settings()


def test_one_computation_per_key_at_a_time():
    cache = ResponseCache()
    key = cache_key("/v1/metrics/kpis", [], 1)
    assert cache.claim(key) is None  # the first request computes
    waiting = cache.claim(key)
    assert waiting is not None and not waiting.is_set()
    cache.release(key)
    assert waiting.is_set() and cache.claim(key) is None  # released: the next one computes
    cache.release(key)


def test_concurrent_misses_compute_once(api, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    service = api.app.state.service
    runs: list[int] = []
    real_run = service.run

    def counting_run(fn):
        runs.append(1)
        time.sleep(0.3)  # the others arrive while it computes
        return real_run(fn)

    monkeypatch.setattr(service, "run", counting_run)
    path = "/v1/metrics/product_performance?start=2023-07-01"
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: api.get(path), range(6)))
    assert [r.status_code for r in answers] == [200] * 6
    assert len({r.content for r in answers}) == 1 and len({r.headers["etag"] for r in answers}) == 1
    assert len(runs) == 1
    assert not api.app.state.cache._inflight  # every claim released
