"""`sales-analytics serve`: refuses to run open by accident, builds the app it hands to uvicorn."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from sales_analytics.cli import app

runner = CliRunner()


@pytest.fixture
def served(monkeypatch):
    """Replaces uvicorn.run; returns the captured call."""
    import uvicorn

    calls: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda api, **kw: calls.append({"app": api} | kw))
    for name in ("SA_API_KEY", "ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    return calls


def run(*args: str, **env: str):
    return runner.invoke(app, ["serve", *args], env={"COLUMNS": "200", **env})


@pytest.fixture(scope="module")
def duck_url(tmp_path_factory, small_frames) -> str:
    """A DuckDB file holding the small shop (the CLI does not depend on the backend)."""
    from sales_analytics.storage import connect

    url = f"duckdb:///{tmp_path_factory.mktemp('serve') / 'shop.duckdb'}"
    with connect(url) as db:
        db.create_schema()
        db.load(small_frames)
    return url


def test_serve_refuses_without_a_key(served, duck_url):
    result = run("-d", duck_url)
    assert result.exit_code == 1 and not served
    assert "no API key" in result.output and "--no-auth" in result.output
    both = run("-d", duck_url, "--api-key", "k", "--no-auth")
    assert both.exit_code == 1 and "not both" in both.output


def test_serve_with_key_runs_uvicorn_with_the_app(served, duck_url, tmp_path):
    result = run(
        "-d", duck_url, "--api-key", "s3cret", "--port", "8123", "--models-dir", str(tmp_path)
    )
    assert result.exit_code == 0, result.output
    assert "API key required" in result.output and "http://127.0.0.1:8123/docs" in result.output
    (call,) = served
    assert (call["host"], call["port"]) == ("127.0.0.1", 8123)
    with TestClient(call["app"]) as c:
        assert c.get("/v1/models").status_code == 401
        assert c.get("/v1/models", headers={"X-API-Key": "s3cret"}).status_code == 200
        assert str(tmp_path) in c.get("/v1/forecast", headers={"X-API-Key": "s3cret"}).text


def test_serve_key_from_env_and_no_auth(served, duck_url):
    assert run("-d", duck_url, SA_API_KEY="from-env").exit_code == 0
    with TestClient(served[-1]["app"]) as c:
        assert c.get("/v1/models", headers={"X-API-Key": "from-env"}).status_code == 200
    result = run("-d", duck_url, "--no-auth", "--host", "0.0.0.0")
    assert result.exit_code == 0 and "WITHOUT authentication" in result.output
    with TestClient(served[-1]["app"]) as c:
        assert c.get("/v1/models").status_code == 200


@pytest.mark.parametrize(
    "url, message",
    [
        ("mysql://localhost/shop", "unsupported database URL"),
        ("duckdb://", "no sales-analytics schema"),
    ],
)
def test_serve_fails_fast_on_a_bad_database(served, url, message):
    result = run("-d", url, "--api-key", "k")
    assert result.exit_code == 1 and message in result.output and not served


# ------------------------------------------------------------------------------ production
@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "::", "shop.example.com"])
def test_production_refuses_no_auth_off_loopback(served, duck_url, host):
    result = run("-d", duck_url, "--no-auth", "--host", host, ENVIRONMENT="production")
    assert result.exit_code == 1 and not served
    assert "ENVIRONMENT=production: refusing to serve without authentication" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.0.1", "::1", "[::1]", "localhost"])
def test_production_allows_no_auth_on_loopback(served, duck_url, host):
    result = run("-d", duck_url, "--no-auth", "--host", host, ENVIRONMENT="production")
    assert result.exit_code == 0, result.output
    (call,) = served
    assert call["host"] == host and call["log_config"] is None  # uvicorn logs as JSON lines too


def test_production_with_a_key_serves_anywhere(served, duck_url):
    result = run("-d", duck_url, "--host", "0.0.0.0", ENVIRONMENT="production", SA_API_KEY="k")
    assert result.exit_code == 0, result.output
    with TestClient(served[-1]["app"]) as c:
        assert c.get("/v1/models").status_code == 401
