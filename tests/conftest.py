"""Shared fixtures: one test body runs on every backend (ibis' pattern).

``backend_url``  an empty, private database URL per test: DuckDB in a temp dir, or a fresh PostgreSQL
                 database created for the test and dropped after it.
``db``           a connected Database with the schema created, on each backend.
``small_frames`` a small synthetic data set (session scoped; same seed -> same data).
``loaded_db``    a Database holding ``small_frames`` (session scoped per backend; do not modify it).

PostgreSQL tests skip when no server answers, unless SA_REQUIRE_POSTGRES=1 (set by .ci/run), in
which case they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from sales_analytics import metrics
from sales_analytics.storage import Database, connect

PG_ADMIN_URL = os.environ.get("SA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRE_PG = os.environ.get("SA_REQUIRE_POSTGRES") == "1"

BACKENDS = [
    pytest.param("duckdb", id="duckdb"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


def _pg_unavailable(reason: str) -> None:
    if REQUIRE_PG:
        pytest.fail(f"PostgreSQL is required (SA_REQUIRE_POSTGRES=1) but {reason}")
    pytest.skip(f"PostgreSQL not available: {reason}")


def _admin_conn() -> psycopg.Connection:
    try:
        return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        _pg_unavailable(str(exc).strip().splitlines()[0])
        raise  # unreachable


def _with_dbname(url: str, dbname: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{dbname}"


class PgDatabases:
    """Creates throw-away PostgreSQL databases and drops them afterwards."""

    def __init__(self) -> None:
        self.created: list[str] = []

    def new(self) -> str:
        name = f"sa_test_{uuid.uuid4().hex[:12]}"
        with _admin_conn() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return _with_dbname(PG_ADMIN_URL, name)

    def drop_all(self) -> None:
        if not self.created:
            return
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PgDatabases]:
    dbs = PgDatabases()
    yield dbs
    dbs.drop_all()


def make_url(kind: str, tmp_path, pg_databases: PgDatabases) -> str:
    if kind == "duckdb":
        return f"duckdb:///{tmp_path / 'test.duckdb'}"
    return pg_databases.new()


@pytest.fixture(params=BACKENDS)
def backend_url(request, tmp_path, pg_databases) -> str:
    return make_url(request.param, tmp_path, pg_databases)


@pytest.fixture
def db(backend_url) -> Iterator[Database]:
    database = connect(backend_url)
    database.create_schema()
    yield database
    database.close()


@pytest.fixture(scope="session")
def small_frames():
    from sales_analytics.synth import generate

    return generate(scale=0.04, seed=7).tables


@pytest.fixture(scope="session", params=BACKENDS)
def loaded_db(request, tmp_path_factory, pg_databases, small_frames) -> Iterator[Database]:
    url = make_url(request.param, tmp_path_factory.mktemp("loaded"), pg_databases)
    database = connect(url)
    database.create_schema()
    metrics.load(database, small_frames)  # the tables and the catalogue's materialized copies
    yield database
    database.close()
