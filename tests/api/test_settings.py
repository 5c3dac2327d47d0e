"""The app reads its defaults from the one Settings object, refuses to run open off loopback in
every environment, and refuses a key shorter than 32 characters."""

from __future__ import annotations

import pytest

from sales_analytics.api import MissingApiKeyError, create_app
from sales_analytics.api.app import (
    ApiKeyFileError,
    InsecureBindError,
    WeakApiKeyError,
    check_api_key,
    check_exposure,
    configured_api_key,
    is_loopback,
)
from sales_analytics.config import Settings

KEY = "from-settings-" + "z" * 18  # 32 characters


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


@pytest.mark.parametrize("environment", ["development", "production"])
def test_check_exposure_bites_in_every_environment(environment):
    settings = Settings(environment=environment)
    check_exposure("0.0.0.0", require_auth=True, settings=settings)
    check_exposure("127.0.0.1", require_auth=False, settings=settings)
    check_exposure("::1", require_auth=False)
    with pytest.raises(
        InsecureBindError,
        match="refusing to serve without authentication on 0.0.0.0: anyone who can reach",
    ):
        check_exposure("0.0.0.0", require_auth=False, settings=settings)


def test_create_app_defaults_come_from_settings(monkeypatch, tmp_path):
    monkeypatch.delenv("SA_API_KEY_FILE", raising=False)
    monkeypatch.setenv("SA_API_KEY", KEY)
    monkeypatch.setenv("SA_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("DATABASE_URL", "duckdb://")
    app = create_app()
    svc = app.state.service
    assert svc.database_url == "duckdb://" and svc.models.folder == tmp_path / "models"
    monkeypatch.delenv("SA_API_KEY")
    with pytest.raises(MissingApiKeyError):
        create_app()


@pytest.mark.parametrize("environment", ["development", "production"])
def test_create_app_refuses_open_off_loopback(monkeypatch, environment):
    monkeypatch.setenv("ENVIRONMENT", environment)
    with pytest.raises(InsecureBindError):
        create_app("duckdb://", require_auth=False, host="0.0.0.0")
    assert create_app("duckdb://", require_auth=False, host="::1").state.auth is False
    assert create_app("duckdb://", require_auth=False).state.auth is False  # host unknown


def test_short_keys_are_refused_with_how_to_make_one(monkeypatch):
    monkeypatch.delenv("SA_API_KEY_FILE", raising=False)
    assert check_api_key("k" * 32) == "k" * 32
    with pytest.raises(WeakApiKeyError) as err:
        create_app("duckdb://", "k" * 31)
    message = str(err.value)
    assert message.startswith("the API key has 31 characters, at least 32 are needed")
    assert 'python -c "import secrets; print(secrets.token_urlsafe(32))"' in message
    monkeypatch.setenv("SA_API_KEY", "short")
    with pytest.raises(WeakApiKeyError, match="has 5 characters"):
        create_app("duckdb://")
    assert create_app("duckdb://", require_auth=False).state.auth is False  # no key, no check


def test_key_from_a_file(monkeypatch, tmp_path):
    monkeypatch.delenv("SA_API_KEY", raising=False)
    key_file = tmp_path / "api.key"
    key_file.write_text(f"\n {KEY} \n")
    monkeypatch.setenv("SA_API_KEY_FILE", str(key_file))
    assert configured_api_key() == KEY
    assert create_app("duckdb://").state.auth is True
    monkeypatch.setenv("SA_API_KEY", KEY)
    with pytest.raises(ApiKeyFileError, match="set either SA_API_KEY or SA_API_KEY_FILE, not both"):
        configured_api_key()
    monkeypatch.delenv("SA_API_KEY")
    monkeypatch.setenv("SA_API_KEY_FILE", str(tmp_path / "missing.key"))
    with pytest.raises(ApiKeyFileError, match="cannot read the API key file .*missing.key"):
        create_app("duckdb://")
