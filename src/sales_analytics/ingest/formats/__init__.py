"""The supported export layouts: one module per format, the generic stages ask the spec.

:mod:`.spec` defines what a format is (:class:`FormatSpec`) and a format resolved against one
file's header (:class:`Layout`); :mod:`.generic` and :mod:`.online_retail` are the formats.
"""

from __future__ import annotations

from sales_analytics.ingest.errors import IngestError
from sales_analytics.ingest.formats.generic import GENERIC, GenericFormat
from sales_analytics.ingest.formats.online_retail import ONLINE_RETAIL, OnlineRetailFormat
from sales_analytics.ingest.formats.spec import CANONICAL, FormatSpec, Layout, normalise_name

FORMATS: dict[str, FormatSpec] = {spec.name: spec for spec in (GENERIC, ONLINE_RETAIL)}


def get_format(name: str) -> FormatSpec:
    try:
        return FORMATS[name]
    except KeyError:
        raise IngestError(f"unknown format {name!r}: use one of {', '.join(FORMATS)}") from None


__all__ = [
    "CANONICAL",
    "FORMATS",
    "GENERIC",
    "ONLINE_RETAIL",
    "FormatSpec",
    "GenericFormat",
    "Layout",
    "OnlineRetailFormat",
    "get_format",
    "normalise_name",
]
