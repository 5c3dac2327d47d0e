"""Import the shop's own CSV export: validated frames, rejects with reasons, idempotent loads.

``import_csv(db, path, fmt)`` is the entry point (the CLI's ``sales-analytics import``); see
``docs/import.md`` for the formats and the rules.
"""

from __future__ import annotations

from sales_analytics.ingest.dates import DateWindow
from sales_analytics.ingest.errors import IngestError
from sales_analytics.ingest.formats import FORMATS, FormatSpec
from sales_analytics.ingest.importer import ImportResult, import_csv
from sales_analytics.ingest.keys import stable_id
from sales_analytics.ingest.schema import PLACEHOLDER_EMAIL, PLACEHOLDERS

__all__ = [
    "FORMATS",
    "DateWindow",
    "PLACEHOLDERS",
    "PLACEHOLDER_EMAIL",
    "FormatSpec",
    "ImportResult",
    "IngestError",
    "import_csv",
    "stable_id",
]
