"""The optional ``spark`` extra: Spark test modules call :func:`require_pyspark` first, so they skip
where PySpark is not installed, and fail instead when SA_REQUIRE_SPARK=1 (set by .ci/run)."""

from __future__ import annotations

import os

import pytest


def require_pyspark() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the environment
        if os.environ.get("SA_REQUIRE_SPARK") == "1":
            raise
        pytest.skip("the optional `spark` extra is not installed", allow_module_level=True)
