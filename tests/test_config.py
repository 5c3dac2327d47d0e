"""One Settings object read from the environment; JSON log lines in production."""

from __future__ import annotations

import json
import logging
import re
from datetime import date
from pathlib import Path

import pytest

from sales_analytics.config import Settings, SettingsError, configure_logging, get_settings

VARIABLES = (
    "DATABASE_URL",
    "ENVIRONMENT",
    "LOG_LEVEL",
    "SA_MODELS_DIR",
    "SA_API_KEY",
    "SA_CURRENCY",
    "SA_TIMEZONE",
    "SA_API_KEY_FILE",
    "SA_MIN_ORDER_DATE",
    "SA_MAX_FUTURE_DAYS",
    "SA_DASHBOARD_URL",
    "SA_SMTP_HOST",
    "SA_SMTP_PORT",
    "SA_SMTP_SECURITY",
    "SA_SMTP_PASSWORD",
    "SA_DIGEST_TO",
    "SA_SLACK_WEBHOOK_URL",
    "SA_FISCAL_YEAR_START",
)


@pytest.fixture
def env(monkeypatch):
    """A clean environment for the settings; ``env(NAME=value)`` sets variables."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)

    def set_(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_


@pytest.fixture
def root_logger():
    """Restores the root logger's level and handlers after a test configures logging."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)


def test_defaults(env):
    s = get_settings()
    assert s.database_url == "duckdb:///data/sales.duckdb"
    assert (s.environment, s.log_level, s.is_production) == ("development", "WARNING", False)
    assert s.models_dir == Path("data/models") and s.api_key is None and s.api_key_value is None
    assert (s.currency, s.timezone, str(s.tz)) == ("USD", "UTC", "UTC")


def test_read_from_the_environment(env):
    env(
        DATABASE_URL="postgresql://u@h/db",
        ENVIRONMENT="Production",
        LOG_LEVEL="info",
        SA_MODELS_DIR="/srv/models",
        SA_API_KEY="s3cret",
        SA_CURRENCY="eur",
        SA_TIMEZONE="Europe/Berlin",
    )
    s = get_settings()
    assert s.database_url == "postgresql://u@h/db" and s.is_production and s.log_level == "INFO"
    assert s.models_dir == Path("/srv/models") and s.api_key_value == "s3cret"
    assert "s3cret" not in repr(s)  # the key is a secret
    assert (s.currency, s.timezone, s.tz.key) == ("EUR", "Europe/Berlin", "Europe/Berlin")


def test_import_date_window(env):
    s = get_settings()
    assert (s.min_order_date, s.max_future_days) == (date(1990, 1, 1), 1)
    env(SA_MIN_ORDER_DATE=" 2001-02-03 ", SA_MAX_FUTURE_DAYS="0")
    s = get_settings()
    assert (s.min_order_date, s.max_future_days) == (date(2001, 2, 3), 0)


def test_empty_variables_count_as_unset(env):
    env(DATABASE_URL="", SA_API_KEY="", SA_CURRENCY="")
    s = get_settings()
    assert s.database_url == "duckdb:///data/sales.duckdb" and s.api_key is None
    assert s.currency == "USD"


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("SA_CURRENCY", "EURO", "SA_CURRENCY: must be a three-letter ISO 4217 code"),
        ("SA_CURRENCY", "U$D", "SA_CURRENCY: must be a three-letter ISO 4217 code"),
        ("SA_TIMEZONE", "Mars/Olympus", "SA_TIMEZONE: unknown time zone 'Mars/Olympus'"),
        ("ENVIRONMENT", "staging", "ENVIRONMENT: Input should be 'development' or 'production'"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL: log level must be one of DEBUG, INFO"),
        ("SA_MIN_ORDER_DATE", "0", "SA_MIN_ORDER_DATE: must be a date written YYYY-MM-DD"),
        ("SA_MIN_ORDER_DATE", "1990-02-30", "SA_MIN_ORDER_DATE: "),
        ("SA_MAX_FUTURE_DAYS", "-1", "SA_MAX_FUTURE_DAYS: Input should be greater than"),
    ],
)
def test_bad_values_are_one_line(env, name, value, message):
    env(**{name: value})
    with pytest.raises(SettingsError) as err:
        get_settings()
    assert isinstance(err.value, ValueError)
    assert str(err.value).startswith("invalid setting ") and message in str(err.value)
    assert "\n" not in str(err.value)


def test_settings_are_frozen_and_built_by_field_name(env):
    s = Settings(database_url="duckdb://", environment="production")
    assert s.database_url == "duckdb://" and s.is_production
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        s.database_url = "other"


def test_development_logs_are_text(env, root_logger, capsys):
    configure_logging("INFO")
    logging.getLogger("sales_analytics.test").info("hello %s", "text")
    err = capsys.readouterr().err
    assert "INFO sales_analytics.test: hello text" in err and not err.lstrip().startswith("{")


def test_production_logs_are_json_lines(env, root_logger, capsys):
    env(ENVIRONMENT="production", LOG_LEVEL="info")
    configure_logging()
    configure_logging()  # again: still one handler, one line per record
    log = logging.getLogger("sales_analytics.test")
    log.info("loaded %d rows", 3)
    try:
        raise RuntimeError("boom\nsecond line")
    except RuntimeError:
        log.exception("failed")
    logging.getLogger("sales_analytics.test").debug("not shown")
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "INFO" and first["logger"] == "sales_analytics.test"
    assert first["message"] == "loaded 3 rows" and first["time"].endswith("+00:00")
    assert second["message"] == "failed" and "RuntimeError: boom" in second["exception"]


def test_bad_log_level_argument(env, root_logger):
    with pytest.raises(ValueError, match="log level must be one of"):
        configure_logging("LOUD")


def test_digest_settings(env):
    """The report's and digest's settings: defaults, parsing, one-line errors, secrets hidden."""
    s = get_settings()
    assert (s.dashboard_url, s.smtp_port, s.smtp_security, s.digest_recipients) == (
        "http://localhost:8501", 587, "starttls", [])
    env(SA_DASHBOARD_URL="https://bi.example.com/shop/", SA_SMTP_SECURITY=" SSL ",
        SA_DIGEST_TO="a@x.example, b@x.example ,", SA_SMTP_PASSWORD="pw-123",
        SA_SLACK_WEBHOOK_URL="https://hooks.example.com/services/SECRET")  # fmt: skip
    s = get_settings()
    assert s.dashboard_url == "https://bi.example.com/shop" and s.smtp_security == "ssl"
    assert s.digest_recipients == ["a@x.example", "b@x.example"]
    assert "pw-123" not in repr(s) and "SECRET" not in repr(s)
    for name, value, message in (
        ("SA_DASHBOARD_URL", "localhost:8501", "SA_DASHBOARD_URL: must be an http(s) URL"),
        ("SA_SMTP_SECURITY", "tls", "SA_SMTP_SECURITY: Input should be 'starttls', 'ssl' or 'none'"),
        ("SA_SMTP_PORT", "0", "SA_SMTP_PORT: Input should be greater than or equal to 1"),
    ):
        env(**{name: value})
        with pytest.raises(SettingsError, match=re.escape(message)):
            get_settings()
        env(**{name: {"SA_DASHBOARD_URL": "http://localhost:8501", "SA_SMTP_SECURITY": "none", "SA_SMTP_PORT": "25"}[name]})
