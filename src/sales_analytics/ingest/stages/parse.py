"""Stage 1, parse: every line of the file as typed values, before any check.

Nothing is rejected here: each value comes with what the parser made of it (a problem code, or
``-1``/``NaT``/``""`` for a missing one), and :mod:`.validate` turns those into reasons.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sales_analytics.ingest.dates import beyond_pandas
from sales_analytics.ingest.errors import IngestError
from sales_analytics.ingest.formats import FormatSpec, Layout
from sales_analytics.ingest.frozen import frozen_dict, readonly
from sales_analytics.ingest.keys import HASH_BASE, map_keys
from sales_analytics.ingest.parse import MISSING, OK, parse_dates, parse_integer, parse_money
from sales_analytics.ingest.reader import RawFile

#: Accepted spellings of the order status (after lower-casing); anything else is rejected.
STATUS_SPELLINGS: dict[str, str] = {
    "completed": "completed",
    "complete": "completed",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "returned": "returned",
}

#: canonical key column -> the id it becomes
KEY_IDS: dict[str, str] = {
    "order_key": "order_id",
    "customer_key": "customer_id",
    "product_key": "product_id",
}


@dataclass(frozen=True)
class ParsedLines:
    """The file's lines as typed values, one array element per line (stage 1 of 5).

    Ids are ``-1`` where the key is missing; numbers are ``0`` where their code is not ``OK``.
    ``text`` is the stripped text of each canonical column, as written; ``stripped`` all columns of
    the file stripped (what "exact duplicate" compares).
    """

    raw: RawFile
    layout: Layout
    stripped: pd.DataFrame
    text: Mapping[str, pd.Series]
    order_id: np.ndarray  # int64
    customer_id: np.ndarray  # int64
    product_id: np.ndarray  # int64
    order_date: np.ndarray  # datetime64[us], NaT where missing or unparseable
    order_date_beyond: np.ndarray  # int8: -1/+1 a date before/after pandas' range (NaT above)
    quantity: np.ndarray  # int64, signed as written
    quantity_code: np.ndarray  # int8 parse code
    units: np.ndarray  # int64, |quantity|: what order_items stores
    cents: np.ndarray  # int64 unit price in cents
    price_code: np.ndarray
    cost: np.ndarray  # int64 cents, -1 where not given
    cost_code: np.ndarray | None  # None without a cost column; an empty cost is OK (not given)
    status: np.ndarray | None  # canonical status, "" where missing/unknown; None without column
    payment: np.ndarray | None  # lower-case with "_"; None without a payment_method column
    email: pd.Series | None  # lower-cased; None without an email column
    key_names: pd.Series  # a product's name when the file gives none: its code
    stored_name: pd.Series  # the product name as stored (code appended when the id is hashed)

    @property
    def n(self) -> int:
        return len(self.order_id)

    @property
    def lines(self) -> np.ndarray:
        """int64: the physical line each record starts on (header = 1)."""
        return self.raw.lines

    @property
    def spec(self) -> FormatSpec:
        return self.layout.spec

    def value(self, attr: str) -> pd.Series:
        """The attribute's text as compared and stored (emails lower-cased)."""
        if attr == "email" and self.email is not None:
            return self.email
        return self.text[attr]

    def ids(self, key_col: str) -> np.ndarray:
        """The id array of a key column (``order_key`` -> :attr:`order_id`, ...)."""
        return getattr(self, KEY_IDS[key_col])

    def originals(self, key_col: str) -> pd.Series:
        """id -> the key as written in the file (first spelling)."""
        key = self.ids(key_col)
        frame = pd.DataFrame({"id": key, "k": self.text[key_col].to_numpy(dtype=object)})
        return frame[key >= 0].drop_duplicates("id").set_index("id")["k"]


def parse(raw: RawFile, layout: Layout) -> ParsedLines:
    """Stage 1: convert every line of ``raw`` to typed values (see :class:`ParsedLines`).

    Raises
    ------
    IngestError
        Two different text keys of one column hash to the same id (see :mod:`..keys`).
    """
    spec = layout.spec
    n = len(raw.frame)
    stripped = pd.DataFrame({h: raw.frame[h].str.strip() for h in raw.header})
    text = {canonical: stripped[header] for canonical, header in layout.columns.items()}

    ids: dict[str, np.ndarray] = {}
    for canonical, attr in KEY_IDS.items():
        s = text[canonical]
        missing = (s == "").to_numpy(dtype=bool)
        values = np.full(n, -1, dtype=np.int64)
        try:
            values[~missing] = map_keys(s[~missing])
        except ValueError as exc:
            raise IngestError(f"{layout.name(canonical)}: {exc}; please report this file") from None
        ids[attr] = values

    order_date = parse_dates(text["order_date"], spec.date_formats)
    quantity, quantity_code = parse_integer(text["quantity"])
    cents, price_code = parse_money(text["unit_price"])

    cost, cost_code = np.full(n, -1, dtype=np.int64), None
    if layout.has("cost"):
        s = text["cost"]
        parsed, cost_code = parse_money(s)
        cost_code[cost_code == MISSING] = OK  # empty cost = not given
        given = (cost_code == OK) & (s != "").to_numpy(dtype=bool)
        cost = np.where(given, parsed, -1)

    status = None
    if layout.has("status"):
        spelled = text["status"].str.lower().map(STATUS_SPELLINGS, na_action="ignore")
        status = spelled.astype(object).fillna("").to_numpy(dtype=object)

    payment = None
    if layout.has("payment_method"):
        s = text["payment_method"].str.lower().str.replace(r"[\s\-]+", "_", regex=True)
        payment = s.to_numpy(dtype=object)

    email = text["email"].str.lower() if layout.has("email") else None

    # product name when none is given: the product's own code (the integer for numbers)
    product_id = ids["product_id"]
    keys = text["product_key"]
    numbers = pd.Series(product_id, index=keys.index).astype(str)
    key_names = keys.where(product_id >= HASH_BASE, numbers)
    # product name as stored: the code is appended when the product id is a hash of it
    if layout.has("product_name"):
        names = text["product_name"]
        hashed = product_id >= HASH_BASE
        suffixed = names + " [" + keys + "]"
        stored_name = names.where(~hashed, suffixed).where(names != "", key_names)
    else:
        stored_name = key_names

    return ParsedLines(
        raw=raw,
        layout=layout,
        stripped=stripped,
        text=frozen_dict(text),
        order_id=readonly(ids["order_id"]),
        customer_id=readonly(ids["customer_id"]),
        product_id=readonly(product_id),
        order_date=readonly(order_date),
        order_date_beyond=readonly(
            beyond_pandas(text["order_date"], spec.date_formats, order_date)
        ),
        quantity=readonly(quantity),
        quantity_code=readonly(quantity_code),
        units=readonly(np.abs(quantity)),
        cents=readonly(cents),
        price_code=readonly(price_code),
        cost=readonly(cost),
        cost_code=None if cost_code is None else readonly(cost_code),
        status=None if status is None else readonly(status),
        payment=None if payment is None else readonly(payment),
        email=email,
        key_names=key_names,
        stored_name=stored_name,
    )
