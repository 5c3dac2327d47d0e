"""sales-analytics: e-commerce business intelligence on DuckDB (default) or PostgreSQL."""

from __future__ import annotations

__version__ = "0.1.0"
