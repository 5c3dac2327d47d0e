"""The API under faults, served by uvicorn on 127.0.0.1 (a free port) or a TestClient.

* load while the data is replaced and refreshed by a writer: 0 errors, and every KPI answer is
  the one of the data before or the one after (never a mix), on both backends;
* PostgreSQL backends terminated under the API (``pg_terminate_backend``): the next requests work;
* a held table lock (``LOCK TABLE orders IN ACCESS EXCLUSIVE MODE``): requests answer 503 after
  the statement timeout and ``/health`` says ``degraded`` within its own 2 s;
* a corrupt DuckDB file: ``/health`` is not ``ok`` (503) and the metrics answer 503.

Bounded: a few hundred requests, each test well under a minute.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import psycopg
import pytest
import uvicorn
from fastapi.testclient import TestClient

from sales_analytics import metrics
from sales_analytics.api import create_app
from sales_analytics.storage import connect, parse_url
from tests.api.conftest import AUTH, KEY
from tests.conftest import BACKENDS, make_url

KPIS = ("/v1/metrics/kpis", "/v1/metrics/kpis?start=2024-01-01")
OTHERS = (
    "/v1/metrics/revenue?grain=month",
    "/v1/metrics/segment_summary",
    "/v1/metrics/geography",
    "/v1/metrics/product_performance?limit=20",
)
THREADS = 8
MAX_REQUESTS = 400


@contextmanager
def running(app) -> Iterator[str]:
    """``app`` served by uvicorn in a thread on 127.0.0.1 and a free port; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()


def loaded(url: str, frames) -> str:
    db = connect(url)
    metrics.load(db, frames, replace=True)
    db.close()
    return url


@pytest.fixture(scope="module")
def other_frames():
    """A second shop: different numbers from ``small_frames``."""
    from sales_analytics.synth import generate

    return generate(scale=0.04, seed=8).tables


@pytest.fixture(params=BACKENDS)
def fresh_url(request, tmp_path, pg_databases, small_frames) -> str:
    return loaded(make_url(request.param, tmp_path, pg_databases), small_frames)


@pytest.fixture
def pg_url(tmp_path, pg_databases, small_frames) -> str:
    return loaded(make_url("postgres", tmp_path, pg_databases), small_frames)


# ------------------------------------------------------------------------------------ load + writes
def test_answers_stay_consistent_while_data_is_replaced_and_refreshed(
    fresh_url, other_frames, tmp_path
):
    app = create_app(fresh_url, KEY, models_dir=tmp_path / "models")
    with running(app) as base, httpx.Client(base_url=base, headers=AUTH, timeout=60) as http:
        before = {p: http.get(p).json() for p in KPIS}
        done, failures, answers = threading.Event(), [], []
        count = [0]
        lock = threading.Lock()

        def writer() -> None:
            time.sleep(0.3)  # the readers are running
            try:
                db = connect(fresh_url)
                metrics.load(db, other_frames, replace=True)
                metrics.refresh(db)
                db.close()
            except BaseException as exc:  # noqa: BLE001
                failures.append(f"writer: {exc!r}")
            finally:
                done.set()

        def reader(n: int) -> None:
            paths = (*KPIS, *OTHERS)
            with httpx.Client(base_url=base, headers=AUTH, timeout=60) as client:
                i = n
                while True:
                    with lock:
                        if count[0] >= MAX_REQUESTS or (done.is_set() and count[0] >= 200):
                            return
                        count[0] += 1
                    path = paths[i % len(paths)]
                    i += 1
                    try:
                        r = client.get(path)
                    except httpx.HTTPError as exc:
                        failures.append(f"{path}: {exc!r}")
                        continue
                    if r.status_code != 200:
                        failures.append(f"{path}: {r.status_code} {r.text[:200]}")
                    elif path in KPIS:
                        answers.append((path, r.json()))

        started = time.monotonic()
        threads = [threading.Thread(target=writer)] + [
            threading.Thread(target=reader, args=(n,)) for n in range(THREADS)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert time.monotonic() - started < 120
        time.sleep(0.6)  # past the version TTL and the swap check
        after = {p: http.get(p).json() for p in KPIS}

    assert failures == []
    assert count[0] >= 200 and len(answers) >= 50
    assert all(before[p] != after[p] for p in KPIS)  # the data did change
    mixed = [(p, a) for p, a in answers if a not in (before[p], after[p])]
    assert mixed == []


# ------------------------------------------------------------------------------------ PostgreSQL
def _terminate(url: str) -> int:
    dbname = parse_url(url).database
    admin_url = url.rpartition("/")[0] + "/postgres"  # not the database itself: it may refuse
    with psycopg.connect(admin_url, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND application_name = 'sales-analytics-api'",
            (dbname,),
        ).fetchall()
    return sum(1 for (ok,) in rows if ok)


@pytest.mark.postgres
def test_terminated_backends_are_replaced(pg_url, tmp_path):
    app = create_app(pg_url, KEY, models_dir=tmp_path / "models")
    with TestClient(app, headers=AUTH) as c:
        for day in range(1, 4):
            assert c.get(f"/v1/metrics/kpis?start=2024-01-0{day}").status_code == 200
        assert _terminate(pg_url) >= 1
        answers = [c.get(f"/v1/metrics/kpis?start=2024-02-{day:02d}") for day in range(1, 11)]
        assert [r.status_code for r in answers] == [200] * 10
        assert c.get("/health").json()["status"] == "ok"
        # killed again, this time while requests run: those in flight may answer 503 (one line)
        statuses: list[int] = []

        def hammer() -> None:
            for day in range(1, 21):
                path = f"/v1/metrics/revenue?grain=week&start=2024-03-{day:02d}"
                statuses.append(c.get(path).status_code)

        t = threading.Thread(target=hammer)
        t.start()
        time.sleep(0.2)
        _terminate(pg_url)
        t.join(60)
        assert set(statuses) <= {200, 503} and statuses[-1] == 200
        again = [c.get(f"/v1/metrics/kpis?start=2024-04-{d:02d}") for d in (1, 2, 3)]
        assert [r.status_code for r in again] == [200] * 3


@pytest.mark.postgres
def test_table_lock_is_503_after_the_timeout_and_health_reports_it(pg_url, tmp_path, monkeypatch):
    monkeypatch.setenv("SA_STATEMENT_TIMEOUT", "1")
    app = create_app(pg_url, KEY, models_dir=tmp_path / "models")
    with TestClient(app, headers=AUTH) as c:
        assert c.get("/v1/metrics/kpis?start=2021-01-01").status_code == 200  # warm
        cached = c.get("/v1/metrics/kpis")
        assert cached.status_code == 200
        locker = psycopg.connect(pg_url)
        try:
            locker.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")  # held: no commit
            started = time.monotonic()
            r = c.get("/v1/metrics/kpis?start=2022-02-02")
            took = time.monotonic() - started
            assert r.status_code == 503, r.text
            assert "statement timeout" in r.json()["detail"] and "\n" not in r.json()["detail"]
            assert took < 3
            started = time.monotonic()
            health = c.get("/health")
            took = time.monotonic() - started
            assert health.status_code == 503 and health.json()["status"] == "degraded"
            assert "did not answer within 2 s" in health.json()["detail"]
            assert took < 3.5
            # answers already cached for the current data version are still served
            assert c.get("/v1/metrics/kpis").json() == cached.json()
        finally:
            locker.rollback()
            locker.close()
        assert c.get("/health").json()["status"] == "ok"
        assert c.get("/v1/metrics/kpis?start=2022-02-02").status_code == 200


# ------------------------------------------------------------------------------------ DuckDB
@pytest.mark.parametrize("damage", ["header", "body"])
def test_corrupt_duckdb_file_is_not_ok(tmp_path, small_frames, damage):
    good = loaded(f"duckdb:///{tmp_path / 'good.duckdb'}", small_frames)
    bad_path = tmp_path / "bad.duckdb"
    shutil.copyfile(parse_url(good).path, bad_path)
    size = bad_path.stat().st_size
    with open(bad_path, "r+b") as f:
        if damage == "header":
            f.write(os.urandom(8192))
        else:
            f.seek(12288)
            f.write(os.urandom(size - 12288))
    app = create_app(f"duckdb:///{bad_path}", KEY, models_dir=tmp_path / "models")
    with TestClient(app, headers=AUTH) as c:
        started = time.monotonic()
        health = c.get("/health")
        assert time.monotonic() - started < 3
        assert health.status_code == 503 and health.json()["status"] != "ok"
        assert health.json()["detail"]
        r = c.get("/v1/metrics/kpis?start=2024-01-01")
        assert r.status_code == 503 and "\n" not in r.json()["detail"]


@pytest.mark.postgres
def test_server_refusing_connections_is_503_quickly_then_recovers(pg_url, tmp_path):
    dbname = parse_url(pg_url).database
    admin_url = pg_url.rpartition("/")[0] + "/postgres"
    app = create_app(pg_url, KEY, models_dir=tmp_path / "models")
    with TestClient(app, headers=AUTH) as c, psycopg.connect(admin_url, autocommit=True) as admin:
        assert c.get("/v1/metrics/kpis?start=2024-05-01").status_code == 200
        admin.execute(f'ALTER DATABASE "{dbname}" WITH ALLOW_CONNECTIONS false')
        try:
            _terminate(pg_url)
            started = time.monotonic()
            r = c.get("/v1/metrics/kpis?start=2024-05-02")
            assert r.status_code == 503 and "cannot connect to PostgreSQL" in r.json()["detail"]
            assert time.monotonic() - started < 5  # not the 30 s statement timeout
            health = c.get("/health")
            assert health.status_code == 503 and health.json()["status"] == "unavailable"
        finally:
            admin.execute(f'ALTER DATABASE "{dbname}" WITH ALLOW_CONNECTIONS true')
        deadline = time.monotonic() + 30
        while c.get("/health").json()["status"] != "ok":
            assert time.monotonic() < deadline, "the pool did not reconnect"
            time.sleep(0.5)
        assert c.get("/v1/metrics/kpis?start=2024-05-03").status_code == 200
