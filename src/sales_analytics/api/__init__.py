"""REST API (FastAPI) over the metrics and the saved models: ``create_app()``; see docs/api.md."""

from __future__ import annotations

from sales_analytics.api.app import (
    API_KEY_ENV,
    API_KEY_HEADER,
    MODELS_DIR_ENV,
    MissingApiKeyError,
    create_app,
)

__all__ = ["API_KEY_ENV", "API_KEY_HEADER", "MODELS_DIR_ENV", "MissingApiKeyError", "create_app"]
