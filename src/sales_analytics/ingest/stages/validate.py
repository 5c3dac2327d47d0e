"""Stage 2, validate: every line checked on its own, then exact duplicates and repeated keys.

The checks run in a fixed order, which is the order of the reasons of a line in the reject file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sales_analytics.ingest.dates import DateWindow
from sales_analytics.ingest.parse import (
    INT32_MAX,
    MISSING,
    MONEY_MAX_CENTS,
    NOT_NUMERIC,
    NOT_WHOLE,
    OK,
    OUT_OF_RANGE,
    TOO_PRECISE,
)
from sales_analytics.ingest.rejects import RejectLog, Rejects, each_quoted, quoted
from sales_analytics.ingest.schema import MAX_LENGTH
from sales_analytics.ingest.stages.parse import ParsedLines

_EMAIL = r"[^@\s]+@[^@\s]+\.[^@\s]+"


@dataclass(frozen=True)
class ValidatedLines:
    """The parsed lines and the reasons found so far (stage 2 of 5).

    ``rejects.valid`` are the lines that are fine on their own and not repeated: customers and
    products are resolved from exactly these lines.
    """

    lines: ParsedLines
    rejects: RejectLog

    @property
    def valid(self) -> np.ndarray:
        return self.rejects.valid


def validate(lines: ParsedLines, window: DateWindow | None = None) -> ValidatedLines:
    """Stage 2: reject the lines that are wrong on their own, exact duplicates, repeated keys.

    Order dates outside ``window`` (default :meth:`DateWindow.from_settings`) are implausible.
    """
    rejects = Rejects(lines.n)
    _check_fields(lines, rejects, window or DateWindow.from_settings())
    _check_duplicates(lines, rejects)
    return ValidatedLines(lines=lines, rejects=rejects.freeze())


def _check_fields(lines: ParsedLines, rej: Rejects, window: DateWindow) -> None:
    layout, text = lines.layout, lines.text
    name = layout.name
    width = len(lines.raw.header)
    counts = lines.raw.field_counts
    rej.add(
        counts != width,
        "wrong number of fields",
        lambda i: f"expected {width}, got " + pd.Series(counts[i]).astype(str),
    )
    for canonical in ("order_key", "customer_key", "product_key"):
        rej.add((text[canonical] == "").to_numpy(dtype=bool), f"missing {name(canonical)}")

    # order date
    s = text["order_date"]
    missing = (s == "").to_numpy(dtype=bool)
    rej.add(missing, f"missing {name('order_date')}")
    expected = " or ".join(
        "ISO 8601 like 2024-03-01 14:05:00" if f == "ISO8601" else f
        for f in layout.spec.date_formats
    )
    beyond = lines.order_date_beyond
    rej.add(
        ~missing & np.isnat(lines.order_date) & (beyond == 0),
        f"unparseable {name('order_date')}",
        each_quoted(s, f" (expected {expected})"),
    )
    implausible = f"implausible {name('order_date')}"
    rej.add(
        window.too_early(lines.order_date) | (beyond < 0),
        implausible,
        each_quoted(s, f" {window.before_text}"),
    )
    rej.add(
        window.too_late(lines.order_date) | (beyond > 0),
        implausible,
        each_quoted(s, f" {window.after_text}"),
    )

    # quantity: its sign is the format's business
    code = lines.quantity_code
    _number_rejects(lines, rej, "quantity", code)
    rej.add((code == OK) & (lines.quantity == 0), f"zero {name('quantity')}")
    layout.spec.check_quantity_sign(lines, rej)

    # unit price
    s, code = text["unit_price"], lines.price_code
    _number_rejects(lines, rej, "unit_price", code)
    rej.add((code == OK) & (lines.cents < 0), f"negative {name('unit_price')}", each_quoted(s))
    amount = lines.units.astype(np.float64) * lines.cents.astype(np.float64)
    rej.add(
        amount > MONEY_MAX_CENTS,
        "line amount out of range",
        "quantity * unit_price exceeds 9,999,999,999.99",
    )

    # optional product cost
    if lines.cost_code is not None:
        s, code = text["cost"], lines.cost_code
        _number_rejects(lines, rej, "cost", code)
        given = (code == OK) & (s != "").to_numpy(dtype=bool)
        rej.add(given & (lines.cost < 0), f"negative {name('cost')}", each_quoted(s))

    # status column (a format without one sets the status in the orders stage)
    if lines.status is not None:
        missing = (text["status"] == "").to_numpy(dtype=bool)
        rej.add(missing, f"missing {name('status')}")
        rej.add(
            ~missing & (lines.status == ""),
            f"unknown {name('status')}",
            each_quoted(text["status"], " (expected completed, cancelled or returned)"),
        )

    if lines.email is not None:
        given = (lines.email != "").to_numpy(dtype=bool)
        bad = given & ~lines.email.str.fullmatch(_EMAIL).fillna(False).to_numpy(dtype=bool)
        rej.add(bad, f"invalid {name('email')}", each_quoted(text["email"]))

    # the schema's column widths
    lengths = {a: lines.value(a) for a in MAX_LENGTH if layout.has(a) and a != "product_name"}
    lengths["product_name"] = lines.stored_name
    if lines.payment is not None:
        lengths["payment_method"] = pd.Series(lines.payment, dtype=object).astype(str)
    for attr, s in lengths.items():
        limit = MAX_LENGTH[attr]
        rej.add(
            (s.str.len() > limit).to_numpy(dtype=bool),
            f"{name(attr)} longer than {limit} characters",
            each_quoted(s),
        )


def _number_rejects(lines: ParsedLines, rej: Rejects, canonical: str, code: np.ndarray) -> None:
    col = lines.layout.name(canonical)
    s = lines.text[canonical]
    rej.add(code == MISSING, f"missing {col}")
    rej.add(code == NOT_NUMERIC, f"non-numeric {col}", each_quoted(s))
    rej.add(code == NOT_WHOLE, f"{col} is not a whole number", each_quoted(s))
    rej.add(code == TOO_PRECISE, f"{col} has more than 2 decimal places", each_quoted(s))
    limit = f"{INT32_MAX:,}" if canonical == "quantity" else "9,999,999,999.99"
    rej.add(code == OUT_OF_RANGE, f"{col} out of range", each_quoted(s, f" (limit {limit})"))


def _check_duplicates(lines: ParsedLines, rej: Rejects) -> None:
    spec, name = lines.spec, lines.layout.name
    stripped = lines.stripped
    group = stripped.groupby(list(stripped.columns), sort=False, dropna=False).ngroup()
    group = group.to_numpy()
    first = pd.Series(lines.lines).groupby(group).transform("min").to_numpy()
    dup = (first != lines.lines) & rej.valid
    rej.add(
        dup,
        "duplicate line",
        lambda i: "same as line " + pd.Series(first[i]).astype(str),
        poisons_order=not spec.drop_exact_duplicates,
    )
    if spec.unique_order_product:
        keys = pd.DataFrame({"o": lines.order_id, "p": lines.product_id, "line": lines.lines})
        first = keys.groupby(["o", "p"], sort=False)["line"].transform("min").to_numpy()
        again = rej.valid & (first != lines.lines)
        order, product = lines.text["order_key"], lines.text["product_key"]
        rej.add(
            again,
            "duplicate order line",
            lambda i: (
                f"{name('order_key')} "
                + quoted(order.iloc[i]).to_numpy()
                + f" with {name('product_key')} "
                + quoted(product.iloc[i]).to_numpy()
                + " is already on line "
                + first[i].astype(str).astype(object)
            ),
        )
