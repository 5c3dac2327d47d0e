"""``--mapping FILE.yaml``: any other CSV export described without code.

A mapping file names the export's columns for our fields and says how its values are written::

    columns:                 # our field: the export's header (required: order_id, order_date,
      order_id: Order No     #   quantity, unit_price)
      order_date: Date
      quantity: Qty
      unit_price: Price
      email: E-Mail
      status: State
    date_format: "%d.%m.%Y %H:%M"   # strptime; default ISO 8601 (with or without an offset)
    timezone: Europe/Berlin         # zone of dates written without an offset; default the shop's
    decimal: ","                    # "." (default) or ","
    statuses:                       # the export's status -> completed, cancelled or returned
      bezahlt: completed
      storniert: cancelled
      erstattet: returned

Every problem with the file itself is one line naming the file and the key (docs/import.md).
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from sales_analytics.ingest.errors import IngestError
from sales_analytics.ingest.reader import RawFile
from sales_analytics.ingest.shop.source import TARGETS, SourceLines, SourceRules, canonical_frame

#: a mapping file's field names -> canonical columns
FIELDS: dict[str, str] = {
    "order_id": "order_key",
    "order_date": "created_at",
    "status": "status",
    "cancelled_at": "cancelled_at",
    "currency": "currency",
    "email": "email",
    "customer_id": "customer_key",
    "customer_name": "billing_name",
    "first_name": "first_name",
    "last_name": "last_name",
    "country": "country",
    "region": "region",
    "city": "city",
    "payment_method": "payment_method",
    "discount_code": "discount_code",
    "discount": "discount",
    "shipping": "shipping",
    "tax": "taxes",
    "refunded": "refunded",
    "fulfillment": "fulfillment",
    "sku": "sku",
    "product_name": "product_name",
    "brand": "vendor",
    "category": "category",
    "quantity": "quantity",
    "unit_price": "price",
    "line_discount": "line_discount",
}
REQUIRED_FIELDS = ("order_id", "order_date", "quantity", "unit_price")
KEYS = ("columns", "date_format", "timezone", "decimal", "statuses", "default_status")


def load_mapping(path: str | Path) -> dict:
    """The mapping file, checked; :class:`IngestError` with one line for anything wrong in it."""
    path = Path(path)
    where = f"mapping file {path}"
    if not path.is_file():
        raise IngestError(f"{where}: no such file")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise IngestError(f"{where}: not valid YAML{at}: {getattr(exc, 'problem', None) or exc}") from None
    except UnicodeDecodeError:
        raise IngestError(f"{where}: not UTF-8 text") from None
    if not isinstance(doc, dict):
        raise IngestError(f"{where}: expected keys {', '.join(KEYS)}, got {type(doc).__name__}")
    unknown = [k for k in doc if k not in KEYS]
    if unknown:
        raise IngestError(f"{where}: unknown key {unknown[0]!r} (expected {', '.join(KEYS)})")
    columns = doc.get("columns")
    if not isinstance(columns, dict) or not columns:
        raise IngestError(f"{where}: 'columns' must map our fields to the export's headers")
    for field, header in columns.items():
        if field not in FIELDS:
            raise IngestError(f"{where}: unknown field {field!r} under 'columns' (known: {', '.join(FIELDS)})")
        if not isinstance(header, str) or not header.strip():
            raise IngestError(f"{where}: columns.{field} must be a header name (text)")
    missing = [f for f in REQUIRED_FIELDS if f not in columns]
    if missing:
        raise IngestError(f"{where}: 'columns' lacks required field(s) {', '.join(missing)}")
    fmt = doc.get("date_format")
    if fmt is not None and (not isinstance(fmt, str) or "%" not in fmt):
        raise IngestError(f"{where}: date_format must be a strptime format such as '%d.%m.%Y %H:%M'")
    tz = doc.get("timezone")
    if tz is not None:
        try:
            ZoneInfo(str(tz))
        except (ZoneInfoNotFoundError, ValueError):
            raise IngestError(f"{where}: unknown timezone {tz!r} (use an IANA name like Europe/Berlin)") from None
    decimal = doc.get("decimal", ".")
    if decimal not in (".", ","):
        raise IngestError(f"{where}: decimal must be '.' or ','")
    statuses = doc.get("statuses") or {}
    if not isinstance(statuses, dict):
        raise IngestError(f"{where}: 'statuses' must map the export's statuses to {', '.join(TARGETS)}")
    for source, target in statuses.items():
        if target not in TARGETS:
            raise IngestError(f"{where}: statuses.{source} is {target!r}: use {', '.join(TARGETS)}")
    if "status" in columns and not statuses:
        statuses = {t: t for t in TARGETS}
    default = doc.get("default_status", "completed")
    if default not in TARGETS:
        raise IngestError(f"{where}: default_status must be one of {', '.join(TARGETS)}")
    return {
        "columns": {str(k): str(v).strip() for k, v in columns.items()},
        "date_format": fmt,
        "timezone": str(tz) if tz is not None else None,
        "decimal": decimal,
        "statuses": {str(k).strip().lower(): v for k, v in statuses.items()},
        "default_status": default,
        "path": path,
    }


def read_mapped(raw: RawFile, mapping: dict) -> SourceLines:
    """The canonical lines of ``raw`` as the mapping describes them."""
    header = set(raw.header)
    found: dict[str, str] = {}
    for field, column in mapping["columns"].items():
        if column not in header:
            raise IngestError(
                f"{raw.path}: column {column!r} (mapping field {field}) is not in the header"
            )
        found[FIELDS[field]] = column
    return SourceLines(
        raw=raw,
        text=canonical_frame(raw, found),
        rules=SourceRules(
            statuses=mapping["statuses"],
            labels=dict(found),
            date_format=mapping["date_format"],
            source_tz=mapping["timezone"],
            decimal=mapping["decimal"],
            status_default=mapping["default_status"],
            date_formats_text=mapping["date_format"] or "ISO 8601",
            format_name=f"mapping {Path(mapping['path']).name}",
        ),
    )
