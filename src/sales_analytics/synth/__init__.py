"""Seeded, vectorised synthetic shop data."""

from __future__ import annotations

from sales_analytics.synth.generator import DEFAULT_PARAMS, GeneratedData, daily_intensity, generate

__all__ = ["DEFAULT_PARAMS", "GeneratedData", "daily_intensity", "generate"]
