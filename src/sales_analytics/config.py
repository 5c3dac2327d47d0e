"""One :class:`Settings` object, read from the environment; the only reader of ``os.environ``.

=================  ==================  ===========================================================
variable           default             meaning
=================  ==================  ===========================================================
``DATABASE_URL``   ``duckdb:///data/   ``duckdb:///path/to/file.duckdb`` or
                   sales.duckdb``      ``postgresql://user@host:port/dbname``
``ENVIRONMENT``    ``development``     ``production``: JSON log lines, no tracebacks
``LOG_LEVEL``      ``WARNING``         DEBUG, INFO, WARNING, ERROR or CRITICAL
``SA_MODELS_DIR``  ``data/models``     folder of the models saved by ``sales-analytics train``
``SA_API_KEY``     none                key API clients send in the ``X-API-Key`` header (at
                                       least 32 characters)
``SA_CURRENCY``    ``USD``             ISO 4217 code of the shop's currency (three letters)
``SA_TIMEZONE``    ``UTC``             IANA time zone of the shop (``Europe/Berlin``)
=================  ==================  ===========================================================

Tests only: ``SA_TEST_PAUSE_AT`` names a storage write step (``after_drop``, ``after_load``,
``after_copies``, ``before_commit``, ``before_swap``) where every write pauses forever, so a
reliability test can kill it there (``tests/reliability``). Never set it otherwise.

======================  ==============  ==========================================================
variable                default         meaning
======================  ==============  ==========================================================
``SA_API_KEY_FILE``     none            a file holding the API key instead (content stripped)
``SA_MIN_ORDER_DATE``   ``1990-01-01``  import: earlier order dates are rejected (YYYY-MM-DD)
``SA_MAX_FUTURE_DAYS``  ``1``           import: order dates after now + this many days are
                                        rejected
``SA_FISCAL_YEAR_START``  ``1``         month (1-12) the shop's fiscal year starts in
======================  ==============  ==========================================================

Models: ``SA_PROMOTIONS_FILE`` (default none) is a CSV of the shop's promotions (``name`` and
``date``, or ``start`` and ``end``): events for the forecaster and the anomaly detector
(:mod:`sales_analytics.models.events`). Reorder advice (:mod:`sales_analytics.models.reorder`):
``SA_LEAD_TIME_DAYS`` (default 14), ``SA_SERVICE_LEVEL`` (0.95), ``SA_ORDER_CYCLE_DAYS`` (28) and
``SA_REORDER_FILE`` (a CSV of ``product_id, lead_time_days, service_level`` overrides).

API serving: ``SA_STATEMENT_TIMEOUT`` (seconds, default 30) cancels a query that runs, or waits on a
lock, longer than that (HTTP 503); ``SA_CORS_ORIGINS`` (comma-separated origins, default none) is the
CORS allow-list of browser origins (none: no CORS headers).

``SA_CURRENCY``, ``SA_TIMEZONE`` and ``SA_FISCAL_YEAR_START`` are the defaults for a database
without shop settings; a database's own ``shop_settings`` row wins (``storage.shop``).

Report and digest (``sales-analytics report`` / ``digest``; see docs/digest.md):

========================  ============================  ==========================================
variable                  default                       meaning
========================  ============================  ==========================================
``SA_DASHBOARD_URL``      ``http://localhost:8501``     the dashboard the report and digest link to
``SA_SMTP_HOST``          none                          SMTP server of the digest e-mail
``SA_SMTP_PORT``          ``587``                       its port
``SA_SMTP_SECURITY``      ``starttls``                  ``starttls``, ``ssl`` (implicit TLS) or
                                                        ``none`` (a local relay only)
``SA_SMTP_USER``          none                          login (with ``SA_SMTP_PASSWORD``)
``SA_SMTP_PASSWORD``      none                          never printed
``SA_DIGEST_FROM``        ``sales-analytics@localhost``  sender address
``SA_DIGEST_TO``          none                          recipients, comma-separated
``SA_SLACK_WEBHOOK_URL``  none                          Slack-compatible incoming webhook (secret:
                                                        never printed)
``SA_DIGEST_STATE``       ``data/digest_state.json``    what was sent already (``--since``)
========================  ============================  ==========================================

An empty variable counts as unset. A bad value raises :class:`SettingsError` (a ``ValueError``
with a one-line message naming the variable).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DUCKDB_PATH = Path("data") / "sales.duckdb"
DEFAULT_MODELS_DIR = Path("data") / "models"
LOG_LEVELS: tuple[str, ...] = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

Environment = Literal["development", "production"]


class SettingsError(ValueError):
    """An environment variable with a value the settings reject (one-line message)."""


def default_database_url() -> str:
    return f"duckdb:///{DEFAULT_DUCKDB_PATH.as_posix()}"


def check_log_level(value: str) -> str:
    """``value`` as an upper-case logging level name (``ValueError`` for anything else)."""
    level = str(value).strip().upper()
    if level == "WARN":
        level = "WARNING"
    if level not in LOG_LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LOG_LEVELS)}, not {value!r}")
    return level


class Settings(BaseSettings):
    """Everything the package reads from the environment (see the module docstring)."""

    model_config = SettingsConfigDict(
        frozen=True,
        extra="ignore",
        env_ignore_empty=True,
        case_sensitive=False,
        populate_by_name=True,
    )

    database_url: str = Field(default_factory=default_database_url, alias="DATABASE_URL")
    environment: Environment = Field("development", alias="ENVIRONMENT")
    log_level: str = Field("WARNING", alias="LOG_LEVEL")
    models_dir: Path = Field(DEFAULT_MODELS_DIR, alias="SA_MODELS_DIR")
    api_key: SecretStr | None = Field(None, alias="SA_API_KEY")
    currency: str = Field("USD", alias="SA_CURRENCY")
    timezone: str = Field("UTC", alias="SA_TIMEZONE")
    fiscal_year_start: int = Field(1, ge=1, le=12, alias="SA_FISCAL_YEAR_START")
    statement_timeout: float = Field(30.0, gt=0, le=86400, alias="SA_STATEMENT_TIMEOUT")
    cors_origins: str = Field("", alias="SA_CORS_ORIGINS")
    #: tests only (tests/reliability): the write step where storage pauses to be killed
    test_pause_at: str | None = Field(None, alias="SA_TEST_PAUSE_AT")
    api_key_file: Path | None = Field(None, alias="SA_API_KEY_FILE")
    rfm_rules: Path | None = Field(None, alias="SA_RFM_RULES")
    min_order_date: date = Field(date(1990, 1, 1), alias="SA_MIN_ORDER_DATE")
    max_future_days: int = Field(1, ge=0, le=36500, alias="SA_MAX_FUTURE_DAYS")
    promotions_file: Path | None = Field(None, alias="SA_PROMOTIONS_FILE")
    lead_time_days: float = Field(14.0, ge=0, le=365, alias="SA_LEAD_TIME_DAYS")
    service_level: float = Field(0.95, ge=0.5, lt=1, alias="SA_SERVICE_LEVEL")
    order_cycle_days: float = Field(28.0, ge=0, le=365, alias="SA_ORDER_CYCLE_DAYS")
    reorder_file: Path | None = Field(None, alias="SA_REORDER_FILE")
    # report and digest (docs/digest.md)
    dashboard_url: str = Field("http://localhost:8501", alias="SA_DASHBOARD_URL")
    smtp_host: str | None = Field(None, alias="SA_SMTP_HOST")
    smtp_port: int = Field(587, ge=1, le=65535, alias="SA_SMTP_PORT")
    smtp_security: Literal["starttls", "ssl", "none"] = Field("starttls", alias="SA_SMTP_SECURITY")
    smtp_user: str | None = Field(None, alias="SA_SMTP_USER")
    smtp_password: SecretStr | None = Field(None, alias="SA_SMTP_PASSWORD")
    digest_from: str = Field("sales-analytics@localhost", alias="SA_DIGEST_FROM")
    digest_to: str = Field("", alias="SA_DIGEST_TO")
    slack_webhook_url: SecretStr | None = Field(None, alias="SA_SLACK_WEBHOOK_URL")
    digest_state: Path = Field(Path("data") / "digest_state.json", alias="SA_DIGEST_STATE")

    @field_validator("environment", mode="before")
    @classmethod
    def _environment(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level(cls, value: object) -> str:
        return check_log_level(str(value))

    @field_validator("currency", mode="before")
    @classmethod
    def _currency(cls, value: object) -> str:
        code = str(value).strip()
        if not re.fullmatch(r"[A-Za-z]{3}", code):
            raise ValueError(f"must be a three-letter ISO 4217 code such as USD, not {value!r}")
        return code.upper()

    @field_validator("timezone", mode="before")
    @classmethod
    def _timezone(cls, value: object) -> str:
        name = str(value).strip()
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as Europe/Berlin)"
            ) from None
        return name

    @field_validator("smtp_security", mode="before")
    @classmethod
    def _smtp_security(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("dashboard_url", mode="before")
    @classmethod
    def _dashboard_url(cls, value: object) -> str:
        url = str(value).strip()
        if not re.match(r"https?://[^/\s]+", url):
            raise ValueError(f"must be an http(s) URL such as http://localhost:8501, not {value!r}")
        return url.rstrip("/")

    @field_validator("min_order_date", mode="before")
    @classmethod
    def _min_order_date(cls, value: object) -> object:
        if isinstance(value, date):
            return value
        text = str(value).strip()
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(f"must be a date written YYYY-MM-DD, not {value!r}")
        return text

    # ------------------------------------------------------------------ derived
    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def digest_recipients(self) -> list[str]:
        return [a.strip() for a in self.digest_to.split(",") if a.strip()]

    @property
    def api_key_value(self) -> str | None:
        return self.api_key.get_secret_value() if self.api_key is not None else None


def get_settings() -> Settings:
    """The settings of the current environment (read on every call: tests and the dashboard
    subprocess change the environment).

    Raises
    ------
    SettingsError
        When a variable holds a value the settings reject; the message names it.
    """
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(_one_line(exc)) from None


def _one_line(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ())) or "settings"
        msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        parts.append(f"{where}: {msg}")
    return "invalid setting " + "; ".join(parts)


# ------------------------------------------------------------------------------------ logging
_HANDLER_NAME = "sales_analytics"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``time, level, logger, message`` (+ ``exception``)."""

    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            doc["stack"] = self.formatStack(record.stack_info)
        return json.dumps(doc, default=str)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of the record (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure_logging(level: str | None = None, *, settings: Settings | None = None) -> None:
    """Log to stderr at ``level`` (default ``LOG_LEVEL``): text lines in development, one JSON
    object per line when ``ENVIRONMENT=production``. Calling it again replaces the handler."""
    settings = settings or get_settings()
    level = check_log_level(level) if level else settings.log_level
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(handler)
    handler = _StderrHandler()
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(
        JsonFormatter() if settings.is_production else logging.Formatter(TEXT_FORMAT)
    )
    root.addHandler(handler)
    root.setLevel(level)


__all__ = [
    "DEFAULT_DUCKDB_PATH",
    "DEFAULT_MODELS_DIR",
    "LOG_LEVELS",
    "JsonFormatter",
    "Settings",
    "SettingsError",
    "configure_logging",
    "default_database_url",
    "get_settings",
]
