"""What a format is: header spellings of the canonical columns, policy flags and rule hooks.

Every format is mapped onto the same canonical line columns (``order_key``, ``customer_key``,
``product_key``, ``order_date``, ``quantity``, ``unit_price`` and optional attributes). The stages
(:mod:`sales_analytics.ingest.stages`) do not know which layout a file had: they read the flags
below and call the hooks, which each format module implements (:mod:`.generic`,
:mod:`.online_retail`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sales_analytics.ingest.errors import IngestError

if TYPE_CHECKING:
    from sales_analytics.ingest.rejects import Rejects
    from sales_analytics.ingest.stages.parse import ParsedLines

CANONICAL: tuple[str, ...] = (
    "order_key",
    "customer_key",
    "product_key",
    "order_date",
    "quantity",
    "unit_price",
    "email",
    "first_name",
    "last_name",
    "country",
    "region",
    "city",
    "product_name",
    "category",
    "brand",
    "cost",
    "status",
    "payment_method",
)


@dataclass(frozen=True)
class FormatSpec:
    """One export layout.

    ``columns`` maps a canonical column to the header spellings that mean it, compared after
    :func:`normalise_name` (case, spaces, ``_`` and ``-`` ignored); the first spelling is the one
    shown in messages. The methods at the end are the format's own rules, called by the generic
    stages at fixed points.
    """

    name: str
    columns: dict[str, tuple[str, ...]]
    required: tuple[str, ...]
    #: date formats tried in order ("ISO8601" = any ISO 8601 date or timestamp)
    date_formats: tuple[str, ...]
    #: attributes chosen by a rule (:meth:`derive`) rather than required to agree; they are never
    #: compared with the database
    derived: frozenset[str]
    #: exact duplicate lines: drop the copies (True) or reject their whole order (False)
    drop_exact_duplicates: bool
    #: lines of one order may carry different timestamps; the order gets the earliest
    earliest_order_date: bool
    #: (order, product) must be unique within the file
    unique_order_product: bool

    def display(self, canonical: str) -> str:
        return self.columns[canonical][0]

    def resolve(self, header: list[str]) -> dict[str, str]:
        """Map canonical columns to this file's header names; raise on missing/ambiguous ones."""
        from sales_analytics.ingest.formats import FORMATS

        by_norm: dict[str, str] = {}
        for name in header:
            by_norm.setdefault(normalise_name(name), name)
        found: dict[str, str] = {}
        for canonical, spellings in self.columns.items():
            norms = dict.fromkeys(normalise_name(s) for s in spellings)
            hits = [by_norm[norm] for norm in norms if norm in by_norm]
            if len(hits) > 1:
                raise IngestError(
                    f"columns {' and '.join(repr(h) for h in hits)} both mean "
                    f"{self.display(canonical)!r}: keep one"
                )
            if hits:
                found[canonical] = hits[0]
        missing = [self.display(c) for c in self.required if c not in found]
        if missing:
            hint = ""
            for other in FORMATS.values():
                if other is not self and other.matches(header):
                    hint = f"; the header looks like --format {other.name}"
            raise IngestError(
                f"missing required column(s) for --format {self.name}: {', '.join(missing)}{hint}"
            )
        return found

    def matches(self, header: list[str]) -> bool:
        norms = {normalise_name(h) for h in header}
        return all(any(normalise_name(s) in norms for s in self.columns[c]) for c in self.required)

    # ------------------------------------------------------------------ the format's own rules
    def check_quantity_sign(self, lines: ParsedLines, rejects: Rejects) -> None:
        """Reject the lines whose (parsed, non-zero) quantity has a sign this format forbids.

        Called by the validate stage right after the zero-quantity check.
        """
        raise NotImplementedError(
            f"format {self.name!r} does not say which quantity signs it takes"
        )

    def order_status(self, lines: ParsedLines, rejects: Rejects) -> np.ndarray:
        """The status of every line's order (``completed``, ``cancelled`` or ``returned``).

        Called by the orders stage after the lines of each order were checked for agreement; may
        reject the still-valid lines of orders whose status cannot be told.
        """
        raise NotImplementedError(f"format {self.name!r} does not say how an order's status is set")

    def derive(
        self, key: np.ndarray, values: pd.Series, line_numbers: np.ndarray, accepted: np.ndarray
    ) -> pd.Series:
        """Per key id, the value of a :attr:`derived` attribute, chosen from the accepted lines."""
        raise NotImplementedError(f"format {self.name!r} has no rule for derived attributes")


@dataclass(frozen=True)
class Layout:
    """A format resolved against one file's header: which canonical column is which header."""

    spec: FormatSpec
    columns: Mapping[str, str]  # canonical -> the header name as written in the file

    def has(self, canonical: str) -> bool:
        return canonical in self.columns

    def name(self, canonical: str) -> str:
        """The column's name as written in this file (for messages)."""
        return self.columns.get(canonical, canonical)

    def authoritative(self, attr: str) -> bool:
        """The file gives ``attr`` and its values must agree (it is not derived by a rule)."""
        return self.has(attr) and attr not in self.spec.derived


def normalise_name(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name).lower()
