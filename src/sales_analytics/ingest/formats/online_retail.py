"""The ``online-retail`` format: the UCI Online Retail II export (and the older Online Retail).

Everything that exists only because of that data set lives here:

* the header spellings (``Invoice``/``InvoiceNo``, ``Price``/``UnitPrice``,
  ``Customer ID``/``CustomerID``) and the older export's ``12/1/2010 8:26`` dates;
* the sign of ``Quantity`` carries the status: an invoice starting with ``C`` is a cancellation
  (its quantities must be negative), an ordinary invoice with negative quantities is a return, and
  one invoice may not mix sales and returns;
* ``Description`` and ``Country`` are not required to agree between lines: the most frequent
  non-empty value wins (ties: the one seen first);
* exact duplicate lines (the export repeats some) are dropped, the invoice keeps its first copy;
* the lines of one invoice may carry different timestamps (the order gets the earliest), and one
  invoice may list a stock code on several lines.

A line without ``Customer ID`` (about a fifth of Online Retail II) is rejected by the generic
missing-key check, as in every format: it cannot be attributed to a customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sales_analytics.ingest.formats.spec import FormatSpec
from sales_analytics.ingest.rejects import each_quoted

if TYPE_CHECKING:
    from sales_analytics.ingest.rejects import Rejects
    from sales_analytics.ingest.stages.parse import ParsedLines


@dataclass(frozen=True)
class OnlineRetailFormat(FormatSpec):
    """A format whose quantity sign and invoice prefix carry the order status."""

    #: an invoice starting with this (any case) is a cancellation
    cancel_prefix: str = "C"

    def check_quantity_sign(self, lines: ParsedLines, rejects: Rejects) -> None:
        """Both signs are fine: a negative quantity is a return or a cancellation."""

    def order_status(self, lines: ParsedLines, rejects: Rejects) -> np.ndarray:
        """``cancelled`` for a C-invoice, ``returned`` for negative quantities, else ``completed``.

        Rejects a cancellation invoice with a positive quantity and an invoice that mixes positive
        and negative quantities (every line of it).
        """
        keys = lines.text["order_key"]
        cancel = keys.str.upper().str.startswith(self.cancel_prefix).to_numpy(dtype=bool)
        frame = pd.DataFrame(
            {"order": lines.order_id, "sign": np.sign(lines.quantity), "cancel": cancel}
        )[rejects.valid]
        signs = frame.groupby("order")["sign"].agg(["min", "max"])
        is_cancel = frame.groupby("order")["cancel"].first()
        positive_cancel = signs.index[is_cancel & (signs["max"] > 0)].to_numpy()
        mixed = signs.index[~is_cancel & (signs["min"] < 0) & (signs["max"] > 0)].to_numpy()
        label, qty = lines.layout.name("order_key"), lines.layout.name("quantity")
        mask = rejects.valid & np.isin(lines.order_id, positive_cancel)
        rejects.add(mask, f"cancellation {label} with a positive {qty}", each_quoted(keys))
        mask = rejects.valid & np.isin(lines.order_id, mixed)
        rejects.add(
            mask,
            f"{label} mixes sales and returns",
            each_quoted(keys, f" (positive and negative {qty})"),
        )
        status = np.where(
            cancel, "cancelled", np.where(lines.quantity < 0, "returned", "completed")
        )
        return status.astype(object)

    def derive(
        self, key: np.ndarray, values: pd.Series, line_numbers: np.ndarray, accepted: np.ndarray
    ) -> pd.Series:
        """Per key, its most frequent non-empty value (ties: the one seen first)."""
        frame = pd.DataFrame({"id": key, "v": values.to_numpy(dtype=object), "line": line_numbers})
        frame = frame[accepted & (values != "").to_numpy(dtype=bool)]
        stats = frame.groupby(["id", "v"], sort=False).agg(
            n=("line", "size"), first=("line", "min")
        )
        stats = stats.reset_index().sort_values(["id", "n", "first"], ascending=[True, False, True])
        return stats.drop_duplicates("id").set_index("id")["v"]


ONLINE_RETAIL = OnlineRetailFormat(
    name="online-retail",
    columns={
        "order_key": ("Invoice", "InvoiceNo"),
        "product_key": ("StockCode",),
        "product_name": ("Description",),
        "quantity": ("Quantity",),
        "order_date": ("InvoiceDate",),
        "unit_price": ("Price", "UnitPrice"),
        "customer_key": ("Customer ID", "CustomerID"),
        "country": ("Country",),
    },
    required=(
        "order_key",
        "product_key",
        "product_name",
        "quantity",
        "order_date",
        "unit_price",
        "customer_key",
        "country",
    ),
    # Online Retail II as CSV: "2009-12-01 07:45:00"; the older Online Retail CSV: "12/1/2010 8:26"
    date_formats=("ISO8601", "%m/%d/%Y %H:%M"),
    derived=frozenset({"product_name", "country"}),
    drop_exact_duplicates=True,
    earliest_order_date=True,
    unique_order_product=False,
)
