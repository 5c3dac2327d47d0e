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
    monkeypatch.delenv("SA_API_KEY", raising=False)
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
        assert c.get("/v1/kpis").status_code == 401
        assert c.get("/v1/kpis", headers={"X-API-Key": "s3cret"}).status_code == 200
        assert str(tmp_path) in c.get("/v1/forecast", headers={"X-API-Key": "s3cret"}).text


def test_serve_key_from_env_and_no_auth(served, duck_url):
    assert run("-d", duck_url, SA_API_KEY="from-env").exit_code == 0
    with TestClient(served[-1]["app"]) as c:
        assert c.get("/v1/kpis", headers={"X-API-Key": "from-env"}).status_code == 200
    result = run("-d", duck_url, "--no-auth", "--host", "0.0.0.0")
    assert result.exit_code == 0 and "WITHOUT authentication" in result.output
    with TestClient(served[-1]["app"]) as c:
        assert c.get("/v1/kpis").status_code == 200


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
