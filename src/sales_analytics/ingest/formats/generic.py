"""The ``generic`` format: one line per order item, the shop's own column names.

Its rules: quantities are positive (a return is an order with status ``returned``); the status is
an explicit column (``completed`` when the file has none); every attribute the file gives must
agree between lines; an exact duplicate line rejects its order; (order, product) is unique.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sales_analytics.ingest.formats.spec import FormatSpec
from sales_analytics.ingest.parse import OK
from sales_analytics.ingest.rejects import each_quoted

if TYPE_CHECKING:
    from sales_analytics.ingest.rejects import Rejects
    from sales_analytics.ingest.stages.parse import ParsedLines


@dataclass(frozen=True)
class GenericFormat(FormatSpec):
    """A format whose quantities are positive and whose status is a column of its own."""

    def check_quantity_sign(self, lines: ParsedLines, rejects: Rejects) -> None:
        rejects.add(
            (lines.quantity_code == OK) & (lines.quantity < 0),
            f"negative {lines.layout.name('quantity')}",
            each_quoted(
                lines.text["quantity"], " (a return is a positive quantity with status 'returned')"
            ),
        )

    def order_status(self, lines: ParsedLines, rejects: Rejects) -> np.ndarray:
        if lines.status is not None:
            return lines.status
        return np.full(lines.n, "completed", dtype=object)


GENERIC = GenericFormat(
    name="generic",
    columns={
        "order_key": ("order_id",),
        "customer_key": ("customer_id",),
        "order_date": ("order_date",),
        "product_key": ("product_id",),
        "quantity": ("quantity",),
        "unit_price": ("unit_price",),
        "email": ("email",),
        "first_name": ("first_name",),
        "last_name": ("last_name",),
        "country": ("country",),
        "region": ("region",),
        "city": ("city",),
        "product_name": ("product_name",),
        "category": ("category",),
        "brand": ("brand",),
        "cost": ("cost", "unit_cost"),
        "status": ("status",),
        "payment_method": ("payment_method",),
    },
    required=("order_key", "customer_key", "order_date", "product_key", "quantity", "unit_price"),
    date_formats=("ISO8601",),
    derived=frozenset(),
    drop_exact_duplicates=False,
    earliest_order_date=False,
    unique_order_product=True,
)
