"""The app reads its defaults from the one Settings object and refuses to run open off loopback
in production."""

from __future__ import annotations

import pytest

from sales_analytics.api import MissingApiKeyError, create_app
from sales_analytics.api.app import InsecureBindError, check_exposure, is_loopback
from sales_analytics.config import Settings


@pytest.mark.parametrize(
    "host, loopback",
    [
        ("127.0.0.1", True),
        ("127.255.0.9", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.1", False),
        ("example.com", False),
        ("localhost.example.com", False),
    ],
)
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_check_exposure_only_bites_in_production():
    dev, prod = Settings(environment="development"), Settings(environment="production")
    check_exposure("0.0.0.0", require_auth=False, settings=dev)
    check_exposure("0.0.0.0", require_auth=True, settings=prod)
    check_exposure("127.0.0.1", require_auth=False, settings=prod)
    with pytest.raises(InsecureBindError, match="refusing to serve without authentication"):
        check_exposure("0.0.0.0", require_auth=False, settings=prod)


def test_create_app_defaults_come_from_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("SA_API_KEY", "from-settings")
    monkeypatch.setenv("SA_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("DATABASE_URL", "duckdb://")
    app = create_app()
    svc = app.state.service
    assert svc.database_url == "duckdb://" and svc.models.folder == tmp_path / "models"
    monkeypatch.delenv("SA_API_KEY")
    with pytest.raises(MissingApiKeyError):
        create_app()


def test_create_app_refuses_open_off_loopback_in_production(monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(InsecureBindError):
        create_app("duckdb://", require_auth=False, host="0.0.0.0")
    assert create_app("duckdb://", require_auth=False, host="::1").state.auth is False
    assert create_app("duckdb://", require_auth=False).state.auth is False  # host unknown
