"""Settings read from the environment.

``DATABASE_URL``
    ``duckdb:///path/to/file.duckdb`` (default: ``duckdb:///data/sales.duckdb`` relative to the
    working directory) or ``postgresql://user@host:port/dbname``.
``LOG_LEVEL``
    Python logging level name, default ``WARNING``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DUCKDB_PATH = Path("data") / "sales.duckdb"


@dataclass(frozen=True)
class Settings:
    database_url: str
    log_level: str


def default_database_url() -> str:
    return f"duckdb:///{DEFAULT_DUCKDB_PATH.as_posix()}"


def get_settings() -> Settings:
    return Settings(
        database_url=os.environ.get("DATABASE_URL") or default_database_url(),
        log_level=os.environ.get("LOG_LEVEL", "WARNING").upper(),
    )


def configure_logging(level: str | None = None) -> None:
    logging.basicConfig(
        level=getattr(logging, (level or get_settings().log_level), logging.WARNING),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
