"""Seeded, vectorised synthetic shop data, generated in blocks of customers."""

from __future__ import annotations

from sales_analytics.synth.generator import (
    BLOCK_CUSTOMERS,
    DEFAULT_PARAMS,
    Block,
    GeneratedData,
    Stream,
    daily_intensity,
    generate,
    stream,
)

__all__ = [
    "BLOCK_CUSTOMERS", "DEFAULT_PARAMS", "Block", "GeneratedData", "Stream", "daily_intensity",
    "generate", "stream",
]  # fmt: skip
