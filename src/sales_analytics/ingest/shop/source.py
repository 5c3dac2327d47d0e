"""A shop export as canonical text columns: what every order-level format is turned into first.

Shopify's CSV, a mapping file's CSV and WooCommerce's JSON all become one frame of strings, one
row per line item, with the canonical column names below and the line (or record) number each
row came from. :mod:`.orders` does everything after that once, for all of them.

Order-level columns may be given on the first line of an order only (Shopify leaves them empty on
the following lines); when several lines give one, they must agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sales_analytics.ingest.reader import RawFile

#: columns that belong to the order (first non-empty value per order; lines must agree)
ORDER_COLUMNS: tuple[str, ...] = (
    "created_at",
    "status",
    "cancelled_at",
    "currency",
    "email",
    "customer_key",
    "billing_name",
    "first_name",
    "last_name",
    "country",
    "region",
    "city",
    "payment_method",
    "discount_code",
    "discount",
    "shipping",
    "taxes",
    "refunded",
    "fulfillment",
)
#: columns of each line item
LINE_COLUMNS: tuple[str, ...] = (
    "sku",
    "product_name",
    "vendor",
    "category",
    "quantity",
    "price",
    "line_discount",
)
CANONICAL: tuple[str, ...] = ("order_key", *ORDER_COLUMNS, *LINE_COLUMNS)
REQUIRED: tuple[str, ...] = ("order_key", "created_at", "quantity", "price")

#: our order statuses a source status may map to
TARGETS = ("completed", "cancelled", "returned")


@dataclass(frozen=True)
class SourceRules:
    """How to read one source's values.

    ``date_format``   strptime format of dates, or None for ISO 8601 and Shopify's
                      ``2024-03-01 14:05:00 -0500``
    ``source_tz``     IANA zone of dates written without an offset (None: the shop's timezone)
    ``decimal``       decimal separator of amounts (``.`` or ``,``)
    ``statuses``      source status (lower case) -> completed / cancelled / returned
    ``labels``        canonical column -> the name shown in messages (the file's own header)
    ``status_default`` the status when the source has no status column
    """

    statuses: Mapping[str, str]
    labels: Mapping[str, str]
    date_format: str | None = None
    source_tz: str | None = None
    decimal: str = "."
    status_default: str = "completed"
    date_formats_text: str = "ISO 8601 or 2024-03-01 14:05:00 -0500"
    format_name: str = ""

    def label(self, canonical: str) -> str:
        return self.labels.get(canonical, canonical)


@dataclass(frozen=True)
class DatedRefunds:
    """Refunds the source lists one by one (WooCommerce): order key, refund id, date (may be
    empty: unknown), amount (text, positive)."""

    frame: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            {"order_key": [], "refund_id": [], "refunded_at": [], "amount": []}, dtype=object
        )
    )


@dataclass(frozen=True)
class SourceLines:
    """The canonical text frame of one export, plus what the reject file repeats.

    ``text``: one column per canonical column the source has (stripped strings, "" = empty);
    ``raw``: the source's own records (the reject file writes them with line and reason).
    """

    raw: RawFile
    text: pd.DataFrame
    rules: SourceRules
    refunds: DatedRefunds = field(default_factory=DatedRefunds)

    @property
    def n(self) -> int:
        return len(self.text)

    @property
    def lines(self) -> np.ndarray:
        return self.raw.lines

    def release(self, columns: tuple[str, ...]) -> None:
        """Drop ``columns`` (canonical) from ``text``, and the file's columns nothing reads any
        more from ``raw`` when it holds only the columns read (the reject file then reads its
        records from the file again): the memory of an export's order-level columns is freed
        once their per-order values are taken."""
        self.text.drop(columns=[c for c in columns if c in self.text.columns], inplace=True)
        frame = self.raw.frame
        if list(frame.columns) == self.raw.header:
            return
        still = {self.rules.label(c) for c in self.text.columns}
        frame.drop(columns=[c for c in frame.columns if c not in still], inplace=True)

    def has(self, canonical: str) -> bool:
        return canonical in self.text.columns

    def col(self, canonical: str) -> pd.Series:
        if canonical in self.text.columns:
            return self.text[canonical]
        return pd.Series("", index=self.text.index, dtype=object)


def _padded(s: pd.Series) -> bool:
    """Any value starts or ends with white space (its first and last characters only: Arrow
    kernels, no regex over whole values)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    values = s.array
    arr = getattr(values, "_pa_array", None)
    if arr is None:
        arr = pa.array(s.to_numpy(dtype=object), pa.string(), from_pandas=True)
    for ends in (pc.utf8_slice_codeunits(arr, 0, 1), pc.utf8_slice_codeunits(arr, -1)):
        if pc.any(pc.utf8_is_space(ends)).as_py():
            return True
    return False


def canonical_frame(raw: RawFile, columns: Mapping[str, str]) -> pd.DataFrame:
    """The canonical columns (canonical -> header name) of ``raw``, stripped (a column without
    surrounding spaces is shared with ``raw``, not copied)."""
    out = {}
    for canonical, header in columns.items():
        s = raw.frame[header]
        out[canonical] = s.str.strip() if _padded(s) else s
    return pd.DataFrame(out, copy=False)
