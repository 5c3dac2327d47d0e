"""CSV export -> validated, idempotent load of customers, products, orders and order_items.

The pipeline (all steps vectorised over the whole file):

1. read      every record as strings, with the physical line it starts on (:mod:`.reader`)
2. lines     parse and check each line on its own (keys, date, quantity, price, status, ...)
3. dupes     exact duplicate lines; (order, product) keys used twice (generic format)
4. entities  a customer's / product's attributes must agree within the file and with the database
5. orders    an order's lines must agree (customer, date, status, payment); an order with any
             rejected line is rejected whole; an order already in the database must be identical
6. load      the surviving rows that are new, in ONE transaction (``Database.load``)

Rejected lines go to a CSV with their line number and reason; the database is never updated, only
appended to. See ``docs/import.md`` for the rules and the reasons behind them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from sales_analytics.ingest.errors import IngestError
from sales_analytics.ingest.formats import FormatSpec, get_format
from sales_analytics.ingest.keys import HASH_BASE, map_keys, mix_ids
from sales_analytics.ingest.parse import (
    INT32_MAX,
    MISSING,
    MONEY_MAX_CENTS,
    NOT_NUMERIC,
    NOT_WHOLE,
    OK,
    OUT_OF_RANGE,
    TOO_PRECISE,
    Rejects,
    parse_dates,
    parse_integer,
    parse_money,
    quoted,
)
from sales_analytics.ingest.reader import RawFile, read_csv_file
from sales_analytics.storage import TABLES, Database, StorageError

log = logging.getLogger(__name__)

#: Values stored when the export does not have them (documented in docs/import.md).
PLACEHOLDERS: dict[str, str] = {
    "first_name": "Unknown",
    "last_name": "Unknown",
    "country": "Unknown",
    "region": "Unknown",
    "city": "Unknown",
    "category": "Uncategorised",
    "brand": "Unknown",
    "payment_method": "unknown",
}
#: Email of a customer the export gives none for (``.invalid`` is reserved by RFC 2606: it never
#: delivers). ``{}`` is the customer_id.
PLACEHOLDER_EMAIL = "customer-{}@import.invalid"

#: Accepted spellings of the order status (after lower-casing); anything else is rejected.
STATUS_SPELLINGS: dict[str, str] = {
    "completed": "completed",
    "complete": "completed",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "returned": "returned",
}

#: Column widths of the schema (DuckDB does not enforce VARCHAR(n); PostgreSQL does).
MAX_LENGTH: dict[str, int] = {
    "first_name": 100,
    "last_name": 100,
    "email": 255,
    "country": 100,
    "region": 100,
    "city": 100,
    "product_name": 255,
    "category": 100,
    "brand": 100,
    "payment_method": 30,
}

CUSTOMER_ATTRS = ("email", "first_name", "last_name", "country", "region", "city")
PRODUCT_ATTRS = ("product_name", "category", "brand", "cost")

_EMAIL = r"[^@\s]+@[^@\s]+\.[^@\s]+"
_ISIN_LIMIT = 5_000
_TABLE_NAMES = tuple(TABLES)


@dataclass(frozen=True)
class ImportResult:
    """What an import did.

    ``loaded``   new rows written per table (all in one transaction)
    ``skipped``  rows already in the database and identical to the file, left untouched
    ``rejected`` lines written to the reject file (``reasons`` counts them per reason; a line
                 with several reasons counts under each)
    """

    path: Path
    fmt: str
    rows: int
    loaded: dict[str, int]
    skipped: dict[str, int]
    rejected: int
    rejected_orders: int
    reasons: dict[str, int]
    reject_path: Path
    ignored_columns: tuple[str, ...] = field(default=())

    @property
    def accepted(self) -> int:
        """Lines that are in the database after the import (new or already there)."""
        return self.rows - self.rejected


def import_csv(
    db: Database,
    path: str | Path,
    fmt: str,
    reject_path: str | Path | None = None,
    *,
    encoding: str = "utf-8",
) -> ImportResult:
    """Import a CSV export into ``db``: validate, reject bad lines with reasons, load the rest.

    Parameters
    ----------
    db
        An open :class:`~sales_analytics.storage.Database`; the schema is created if missing.
    path
        The CSV file (comma-separated, header on line 1).
    fmt
        ``"generic"`` or ``"online-retail"`` (see :data:`~sales_analytics.ingest.FORMATS`).
    reject_path
        Where to write rejected lines (``line``, ``reason`` and the original columns). Default:
        ``<file stem>.rejects.csv`` next to the input. Always written, header only when nothing
        was rejected, so it never describes an older run.
    encoding
        Text encoding of the file (default UTF-8, a byte-order mark is fine).

    Returns
    -------
    ImportResult
        Loaded/skipped rows per table and the reject count. Importing the same file again loads
        nothing and rejects the same lines.

    Raises
    ------
    IngestError
        The file cannot be imported at all (missing, empty, not a CSV, required columns missing,
        unknown format) or the load failed; nothing was written to the database.
    """
    spec = get_format(fmt)
    raw = read_csv_file(path, encoding)
    columns = spec.resolve(raw.header)
    target = _reject_target(raw.path, reject_path)
    if not db.has_schema():
        db.create_schema()

    job = _Import(db, spec, raw, columns)
    job.run()

    _write_rejects(target, raw, job.rejects)
    loaded = {name: 0 for name in _TABLE_NAMES}
    frames = {name: table for name, table in job.frames.items() if table.num_rows}
    if frames:
        try:
            loaded.update(db.load(frames))
        except StorageError as exc:
            raise IngestError(str(exc)) from exc
    mapped = set(columns.values())
    result = ImportResult(
        path=raw.path,
        fmt=spec.name,
        rows=job.n,
        loaded=loaded,
        skipped=job.skipped,
        rejected=int(job.rejects.mask.sum()),
        rejected_orders=job.rejected_orders,
        reasons=dict(job.rejects.counts.most_common()),
        reject_path=target,
        ignored_columns=tuple(h for h in raw.header if h not in mapped),
    )
    log.info("imported %s: %s", raw.path, result)
    return result


# ---------------------------------------------------------------------------------------------
class _Import:
    """One import run: holds the parsed lines and applies the checks in order."""

    def __init__(self, db: Database, spec: FormatSpec, raw: RawFile, columns: dict[str, str]):
        self.db = db
        self.spec = spec
        self.raw = raw
        self.columns = columns
        self.n = len(raw.frame)
        self.lines = raw.lines
        self.rejects = Rejects(self.n)
        self.frames: dict[str, pa.Table] = {}
        self.skipped = {name: 0 for name in _TABLE_NAMES}
        self.rejected_orders = 0
        self.stripped = pd.DataFrame({h: raw.frame[h].str.strip() for h in raw.header})
        self.text = {canonical: self.stripped[header] for canonical, header in columns.items()}

    # ------------------------------------------------------------------ helpers
    def has(self, canonical: str) -> bool:
        return canonical in self.columns

    def name(self, canonical: str) -> str:
        """The column's name as written in this file (for messages)."""
        return self.columns.get(canonical, canonical)

    def valid(self) -> np.ndarray:
        return ~self.rejects.mask

    def authoritative(self, attr: str) -> bool:
        return self.has(attr) and attr not in self.spec.derived

    def run(self) -> None:
        self.parse_lines()
        self.check_duplicates()
        # customers and products are resolved from the same lines: those valid on their own
        self.line_valid = self.valid()
        self.check_customers()
        self.check_products()
        self.check_orders()
        self.compare_orders_with_database()
        self.build_frames()

    # ------------------------------------------------------------------ 2. lines
    def parse_lines(self) -> None:
        spec, rej, n = self.spec, self.rejects, self.n
        width = len(self.raw.header)
        counts = self.raw.field_counts
        rej.add(
            counts != width,
            "wrong number of fields",
            lambda i: f"expected {width}, got " + pd.Series(counts[i]).astype(str),
        )

        for canonical, attr in (
            ("order_key", "order_id"),
            ("customer_key", "customer_id"),
            ("product_key", "product_id"),
        ):
            s = self.text[canonical]
            missing = (s == "").to_numpy(dtype=bool)
            rej.add(missing, f"missing {self.name(canonical)}")
            ids = np.full(n, -1, dtype=np.int64)
            try:
                ids[~missing] = map_keys(s[~missing])
            except ValueError as exc:
                raise IngestError(
                    f"{self.name(canonical)}: {exc}; please report this file"
                ) from None
            setattr(self, attr, ids)

        # order date
        s = self.text["order_date"]
        self.order_date = parse_dates(s, spec.date_formats)
        missing = (s == "").to_numpy(dtype=bool)
        rej.add(missing, f"missing {self.name('order_date')}")
        expected = " or ".join(
            "ISO 8601 like 2024-03-01 14:05:00" if f == "ISO8601" else f for f in spec.date_formats
        )
        rej.add(
            ~missing & np.isnat(self.order_date),
            f"unparseable {self.name('order_date')}",
            _q(s, f" (expected {expected})"),
        )

        # quantity
        s = self.text["quantity"]
        qty, code = parse_integer(s)
        self._number_rejects("quantity", s, code)
        rej.add((code == OK) & (qty == 0), f"zero {self.name('quantity')}")
        if not spec.signed_quantity:
            rej.add(
                (code == OK) & (qty < 0),
                f"negative {self.name('quantity')}",
                _q(s, " (a return is a positive quantity with status 'returned')"),
            )
        self.signed_qty = qty
        self.qty = np.abs(qty)

        # unit price
        s = self.text["unit_price"]
        cents, code = parse_money(s)
        self._number_rejects("unit_price", s, code)
        rej.add((code == OK) & (cents < 0), f"negative {self.name('unit_price')}", _q(s))
        self.cents = cents
        amount = self.qty.astype(np.float64) * cents.astype(np.float64)
        rej.add(
            amount > MONEY_MAX_CENTS,
            "line amount out of range",
            "quantity * unit_price exceeds 9,999,999,999.99",
        )

        # optional product cost
        self.cost = np.full(n, -1, dtype=np.int64)
        if self.has("cost"):
            s = self.text["cost"]
            cost, code = parse_money(s)
            code[code == MISSING] = OK  # empty cost = not given
            self._number_rejects("cost", s, code)
            given = (code == OK) & (s != "").to_numpy(dtype=bool)
            rej.add(given & (cost < 0), f"negative {self.name('cost')}", _q(s))
            self.cost = np.where(given, cost, -1)

        # status: explicit (generic) or derived from the invoice and the sign (online-retail)
        if self.has("status"):
            s = self.text["status"]
            status = s.str.lower().map(STATUS_SPELLINGS, na_action="ignore").astype(object)
            missing = (s == "").to_numpy(dtype=bool)
            rej.add(missing, f"missing {self.name('status')}")
            rej.add(
                ~missing & pd.isna(status).to_numpy(),
                f"unknown {self.name('status')}",
                _q(s, " (expected completed, cancelled or returned)"),
            )
            self.status = status.fillna("").to_numpy(dtype=object)
        else:
            self.status = None

        if self.has("payment_method"):
            s = self.text["payment_method"].str.lower().str.replace(r"[\s\-]+", "_", regex=True)
            self.payment = s.to_numpy(dtype=object)
        else:
            self.payment = None

        if self.has("email"):
            s = self.text["email"].str.lower()
            given = (s != "").to_numpy(dtype=bool)
            bad = given & ~s.str.fullmatch(_EMAIL).fillna(False).to_numpy(dtype=bool)
            rej.add(bad, f"invalid {self.name('email')}", _q(self.text["email"]))
            self.text["email"] = s

        # product name as stored: the code is appended when the product id is a hash of it
        if self.has("product_name"):
            names = self.text["product_name"]
            hashed = self.product_id >= HASH_BASE
            suffixed = names + " [" + self.text["product_key"] + "]"
            stored = names.where(~hashed, suffixed).where(names != "", self._key_names())
            self.stored_name = stored
        else:
            self.stored_name = self._key_names()

        lengths = {a: self.text[a] for a in MAX_LENGTH if self.has(a) and a != "product_name"}
        lengths["product_name"] = self.stored_name
        if self.payment is not None:
            lengths["payment_method"] = pd.Series(self.payment, dtype=object).astype(str)
        for attr, s in lengths.items():
            limit = MAX_LENGTH[attr]
            rej.add(
                (s.str.len() > limit).to_numpy(dtype=bool),
                f"{self.name(attr)} longer than {limit} characters",
                _q(s),
            )

    def _key_names(self) -> pd.Series:
        """Product name when none is given: the product's own code (the integer for numbers)."""
        keys = self.text["product_key"]
        numbers = pd.Series(self.product_id, index=keys.index).astype(str)
        return keys.where(self.product_id >= HASH_BASE, numbers)

    def _number_rejects(self, canonical: str, s: pd.Series, code: np.ndarray) -> None:
        col = self.name(canonical)
        rej = self.rejects
        rej.add(code == MISSING, f"missing {col}")
        rej.add(code == NOT_NUMERIC, f"non-numeric {col}", _q(s))
        rej.add(code == NOT_WHOLE, f"{col} is not a whole number", _q(s))
        rej.add(code == TOO_PRECISE, f"{col} has more than 2 decimal places", _q(s))
        limit = f"{INT32_MAX:,}" if canonical == "quantity" else "9,999,999,999.99"
        rej.add(code == OUT_OF_RANGE, f"{col} out of range", _q(s, f" (limit {limit})"))

    # ------------------------------------------------------------------ 3. duplicates
    def check_duplicates(self) -> None:
        rej, spec = self.rejects, self.spec
        stripped = self.stripped
        group = stripped.groupby(list(stripped.columns), sort=False, dropna=False).ngroup()
        group = group.to_numpy()
        first = pd.Series(self.lines).groupby(group).transform("min").to_numpy()
        dup = (first != self.lines) & self.valid()
        rej.add(
            dup,
            "duplicate line",
            lambda i: "same as line " + pd.Series(first[i]).astype(str),
            poisons_order=not spec.drop_exact_duplicates,
        )
        if spec.unique_order_product:
            valid = self.valid()
            keys = pd.DataFrame({"o": self.order_id, "p": self.product_id, "line": self.lines})
            first = keys.groupby(["o", "p"], sort=False)["line"].transform("min").to_numpy()
            again = valid & (first != self.lines)
            order, product = self.text["order_key"], self.text["product_key"]
            rej.add(
                again,
                "duplicate order line",
                lambda i: (
                    f"{self.name('order_key')} "
                    + quoted(order.iloc[i]).to_numpy()
                    + f" with {self.name('product_key')} "
                    + quoted(product.iloc[i]).to_numpy()
                    + " is already on line "
                    + first[i].astype(str).astype(object)
                ),
            )

    # ------------------------------------------------------------------ 4. entities
    def _resolve(self, key: np.ndarray, key_col: str, attrs: dict[str, pd.Series]) -> pd.DataFrame:
        """Per key, the one value each authoritative attribute has in the file.

        Lines of a key whose attribute has two different non-empty values are rejected. Returns a
        frame indexed by key id with one column per attribute (None where the file has none).
        """
        rej = self.rejects
        valid = self.line_valid
        original = self._originals(key, key_col)
        resolved = pd.DataFrame(index=pd.Index(np.unique(key[valid]), name="id"))
        for attr, values in attrs.items():
            frame = pd.DataFrame({"id": key, "v": values.to_numpy(dtype=object)})[valid]
            frame = frame[frame["v"] != ""].drop_duplicates(["id", "v"])
            conflict_ids = frame["id"][frame["id"].duplicated()].unique()
            if len(conflict_ids):
                values = frame[frame["id"].isin(conflict_ids)].groupby("id")["v"]
                shown = quoted(original.reindex(conflict_ids)) + ": " + values.agg(_alternatives)
                mask = valid & np.isin(key, conflict_ids)
                rej.add(
                    mask,
                    f"conflicting {self.name(attr)} for one {self.name(key_col)}",
                    lambda i, shown=shown: pd.Series(key[i]).map(shown).to_numpy(),
                )
            single = frame[~frame["id"].isin(conflict_ids)].set_index("id")["v"]
            resolved[attr] = single.reindex(resolved.index).astype(object)
            resolved[attr] = resolved[attr].where(resolved[attr].notna(), None)
        return resolved

    def _reject_keys(self, key: np.ndarray, bad: pd.Series, category: str) -> None:
        """Reject the still-valid lines whose key is in ``bad`` (id -> detail text)."""
        if bad.empty:
            return
        mask = self.valid() & np.isin(key, bad.index.to_numpy())
        self.rejects.add(mask, category, lambda i: pd.Series(key[i]).map(bad).to_numpy())

    def check_customers(self) -> None:
        key_col = "customer_key"
        attrs = {a: self.text[a] for a in CUSTOMER_ATTRS if self.authoritative(a)}
        resolved = self._resolve(self.customer_id, key_col, attrs)
        original = self._originals(self.customer_id, key_col)
        label = self.name(key_col)

        # the stored email: given, or a placeholder derived from the id
        email = (
            resolved["email"]
            if "email" in resolved
            else pd.Series(None, index=resolved.index, dtype=object)
        )
        before, after = PLACEHOLDER_EMAIL.split("{}")
        placeholder = pd.Series(
            before + resolved.index.astype(str) + after, index=resolved.index, dtype=object
        )
        stored_email = email.where(email.notna(), placeholder)
        shared = stored_email[stored_email.duplicated(keep=False)]
        if len(shared):
            owners = shared.groupby(shared).transform(
                lambda g: ", ".join(original.reindex(g.index).astype(str).iloc[:3])
            )
            detail = quoted(shared).to_numpy() + " for " + label + " " + owners.to_numpy()
            self._reject_keys(
                self.customer_id,
                pd.Series(detail, index=shared.index),
                "same email for several customers",
            )

        existing = _fetch(
            self.db,
            "customers",
            "customer_id",
            resolved.index.to_numpy(),
            {"customer_id": ibis._.customer_id, **{a: ibis._[a] for a in CUSTOMER_ATTRS}},
        ).set_index("customer_id")
        self._compare_with_database(self.customer_id, resolved, existing, label, original)

        # an email stored for a different customer already
        mine = stored_email.drop(existing.index, errors="ignore")
        owners = _fetch(
            self.db,
            "customers",
            "email",
            mine.to_numpy(dtype=object),
            {"customer_id": ibis._.customer_id, "email": ibis._.email},
        )
        if len(owners):
            taken = (
                pd.Series(mine.index, index=mine.to_numpy())
                .to_frame("id")
                .join(owners.set_index("email")["customer_id"], how="inner")
            )
            taken = taken[taken["id"] != taken["customer_id"]]
            detail = pd.Series(
                quoted(taken.index.to_numpy()).to_numpy()
                + f" belongs to {label} "
                + taken["customer_id"].astype(str).to_numpy()
                + " in the database",
                index=taken["id"].to_numpy(),
            )
            self._reject_keys(self.customer_id, detail, "email belongs to another customer")

        self.customers = resolved.assign(email=stored_email)
        self.existing_customers = set(existing.index.tolist())

    def check_products(self) -> None:
        key_col = "product_key"
        attrs: dict[str, pd.Series] = {}
        for attr in PRODUCT_ATTRS:
            if not self.authoritative(attr):
                continue
            if attr == "product_name":
                attrs[attr] = self.stored_name.where(self.text["product_name"] != "", "")
            elif attr == "cost":
                attrs[attr] = _cents_series(self.cost).where(self.cost >= 0, "")
            else:
                attrs[attr] = self.text[attr]
        resolved = self._resolve(self.product_id, key_col, attrs)
        original = self._originals(self.product_id, key_col)
        existing = _fetch(
            self.db,
            "products",
            "product_id",
            resolved.index.to_numpy(),
            {
                "product_id": ibis._.product_id,
                "product_name": ibis._.product_name,
                "category": ibis._.category,
                "brand": ibis._.brand,
                "cost": (ibis._.unit_cost * 100).round().cast("int64"),
            },
        ).set_index("product_id")
        existing["cost"] = _cents_series(existing["cost"].to_numpy(dtype=np.int64)).to_numpy()
        self._compare_with_database(
            self.product_id, resolved, existing, self.name(key_col), original
        )
        self.products = resolved
        self.existing_products = set(existing.index.tolist())

    def _originals(self, key: np.ndarray, key_col: str) -> pd.Series:
        """id -> the key as written in the file (first spelling)."""
        frame = pd.DataFrame({"id": key, "k": self.text[key_col].to_numpy(dtype=object)})
        return frame[key >= 0].drop_duplicates("id").set_index("id")["k"]

    def _compare_with_database(
        self,
        key: np.ndarray,
        resolved: pd.DataFrame,
        existing: pd.DataFrame,
        label: str,
        original: pd.Series,
    ) -> None:
        """Reject keys whose given attributes differ from the row already in the database."""
        if existing.empty:
            return
        both = resolved.join(existing, how="inner", rsuffix="_db")
        problems = pd.Series("", index=both.index, dtype=object)
        for attr in resolved.columns:
            given = both[attr].notna()
            file_value, stored = both[attr].astype(object), both[f"{attr}_db"].astype(object)
            differs = given & (file_value != stored)
            text = (
                f"{self.name(attr)} "
                + quoted(file_value[differs]).to_numpy()
                + " in the file, "
                + quoted(stored[differs]).to_numpy()
                + " in the database"
            )
            problems[differs] = np.where(
                problems[differs] == "", text, problems[differs] + ", " + text
            )
        problems = problems[problems != ""]
        if len(problems):
            detail = original.reindex(problems.index).astype(str) + ": " + problems
            self._reject_keys(key, detail, f"{label} differs from the database")

    # ------------------------------------------------------------------ 5. orders
    def check_orders(self) -> None:
        spec, rej = self.spec, self.rejects
        label = self.name("order_key")
        valid = self.valid()
        lines = pd.DataFrame(
            {
                "order": self.order_id,
                "customer": self.customer_id,
                "date": self.order_date.view("int64"),
                "sign": np.sign(self.signed_qty),
            }
        )
        if self.status is not None:
            lines["status"] = self.status
        if self.payment is not None:
            payment = pd.Series(self.payment, dtype=object)
            lines["payment"] = payment.where(payment != "", None)
        lv = lines[valid]
        grouped = lv.groupby("order", sort=False)
        checks = [("customer", self.name("customer_key"))]
        if not spec.earliest_order_date:
            checks.append(("date", self.name("order_date")))
        if self.status is not None:
            checks.append(("status", self.name("status")))
        if self.payment is not None:
            checks.append(("payment", self.name("payment_method")))
        for column, shown in checks:
            counts = grouped[column].nunique()
            bad = counts.index[counts > 1].to_numpy()
            mask = self.valid() & np.isin(self.order_id, bad)
            rej.add(mask, f"lines of one {label} disagree on {shown}", _q(self.text["order_key"]))

        # status of each order
        if spec.signed_quantity:
            keys = self.text["order_key"]
            cancel = keys.str.upper().str.startswith(spec.cancel_prefix).to_numpy(dtype=bool)
            lines["cancel"] = cancel
            lv = lines[self.valid()]
            signs = lv.groupby("order")["sign"].agg(["min", "max"])
            is_cancel = lv.groupby("order")["cancel"].first()
            positive_cancel = signs.index[is_cancel & (signs["max"] > 0)].to_numpy()
            mixed = signs.index[~is_cancel & (signs["min"] < 0) & (signs["max"] > 0)].to_numpy()
            qty = self.name("quantity")
            mask = self.valid() & np.isin(self.order_id, positive_cancel)
            rej.add(mask, f"cancellation {label} with a positive {qty}", _q(keys))
            mask = self.valid() & np.isin(self.order_id, mixed)
            rej.add(
                mask,
                f"{label} mixes sales and returns",
                _q(keys, f" (positive and negative {qty})"),
            )
            status = np.where(
                cancel, "cancelled", np.where(self.signed_qty < 0, "returned", "completed")
            )
            self.status = status.astype(object)
        elif self.status is None:
            self.status = np.full(self.n, "completed", dtype=object)

        # whole orders: one rejected line takes the others with it
        poisoned = rej.poison & (self.order_id >= 0)
        bad_orders = np.unique(self.order_id[poisoned])
        mask = self.valid() & np.isin(self.order_id, bad_orders)
        if mask.any():
            bad_lines = (
                pd.Series(self.lines[poisoned]).groupby(self.order_id[poisoned]).agg(_line_list)
            )
            keys = self.text["order_key"]
            rej.add(
                mask,
                "another line of the order is rejected",
                lambda i: (
                    f"{label} "
                    + quoted(keys.iloc[i]).to_numpy()
                    + ", see line(s) "
                    + pd.Series(self.order_id[i]).map(bad_lines).to_numpy()
                ),
            )

        # order totals must fit NUMERIC(12, 2)
        valid = self.valid()
        amount = pd.Series(self.qty * self.cents)
        totals = amount[valid].groupby(self.order_id[valid]).sum()
        too_big = totals.index[totals > MONEY_MAX_CENTS].to_numpy()
        mask = valid & np.isin(self.order_id, too_big)
        rej.add(
            mask,
            "order total out of range",
            _q(self.text["order_key"], " (limit 9,999,999,999.99)"),
        )

    def _order_table(self, mask: np.ndarray) -> pd.DataFrame:
        """One row per order from the lines in ``mask``: the values the orders table gets."""
        frame = pd.DataFrame(
            {
                "order_id": self.order_id[mask],
                "customer_id": self.customer_id[mask],
                "order_date": self.order_date[mask],
                "status": self.status[mask],
                "payment_method": (self.payment[mask] if self.payment is not None else ""),
                "cents": self.qty[mask] * self.cents[mask],
            }
        )
        payment = frame["payment_method"].astype(object)
        frame["payment_method"] = payment.where(payment != "", None)
        grouped = frame.groupby("order_id", sort=False)
        orders = grouped.agg(
            customer_id=("customer_id", "first"),
            order_date=("order_date", "min"),
            status=("status", "first"),
            payment_method=("payment_method", "first"),
            cents=("cents", "sum"),
        )
        return orders

    def compare_orders_with_database(self) -> None:
        valid = self.valid()
        orders = self._order_table(valid)
        existing = _fetch(
            self.db,
            "orders",
            "order_id",
            orders.index.to_numpy(),
            {
                "order_id": ibis._.order_id,
                "customer_id": ibis._.customer_id,
                "order_date": ibis._.order_date,
                "status": ibis._.status.cast("string"),
                "payment_method": ibis._.payment_method,
                "cents": (ibis._.total_amount * 100).round().cast("int64"),
            },
        ).set_index("order_id")
        self.existing_orders = np.array([], dtype=np.int64)
        if existing.empty:
            return
        both = orders.join(existing, how="inner", rsuffix="_db")
        problems = pd.Series("", index=both.index, dtype=object)

        def note(mask: pd.Series, text: pd.Series | str) -> None:
            nonlocal problems
            add = pd.Series(text, index=both.index)[mask]
            current = problems[mask]
            problems[mask] = np.where(current == "", add, current + ", " + add)

        note(both["customer_id"] != both["customer_id_db"], "different customer")
        file_dates = both["order_date"].astype("datetime64[us]")
        db_dates = pd.to_datetime(both["order_date_db"]).astype("datetime64[us]")
        note(file_dates != db_dates, "different order date")
        note(
            both["status"] != both["status_db"],
            "status " + quoted(both["status_db"]).to_numpy() + " in the database",
        )
        given = both["payment_method"].notna()
        note(
            given & (both["payment_method"] != both["payment_method_db"]),
            "different payment method",
        )
        note(
            both["cents"] != both["cents_db"],
            "total "
            + both["cents"].map(_cents_text)
            + " in the file, "
            + both["cents_db"].map(_cents_text)
            + " in the database",
        )
        items_differ = self._items_differ(both.index.to_numpy())
        note(pd.Series(both.index.isin(items_differ), index=both.index), "different items")

        differ = problems[problems != ""]
        same = both.index[problems == ""].to_numpy()
        if len(differ):
            original = self._originals(self.order_id, "order_key")
            detail = original.reindex(differ.index).astype(str) + ": " + differ
            self._reject_keys(
                self.order_id,
                detail,
                f"{self.name('order_key')} already in the database with different content",
            )
        self.existing_orders = same

    def _items_differ(self, order_ids: np.ndarray) -> np.ndarray:
        """Orders (among ``order_ids``) whose items differ from the database's, as multisets."""
        mask = self.valid() & np.isin(self.order_id, order_ids)
        cols = ["order_id", "product_id", "quantity", "cents"]
        mine = pd.DataFrame(
            {
                "order_id": self.order_id[mask],
                "product_id": self.product_id[mask],
                "quantity": self.qty[mask],
                "cents": self.cents[mask],
            }
        )
        theirs = _fetch(
            self.db,
            "order_items",
            "order_id",
            order_ids,
            {
                "order_id": ibis._.order_id,
                "product_id": ibis._.product_id,
                "quantity": ibis._.quantity.cast("int64"),
                "cents": (ibis._.unit_price * 100).round().cast("int64"),
            },
        )
        mine = mine.sort_values(cols, ignore_index=True)
        theirs = theirs[cols].astype("int64").sort_values(cols, ignore_index=True)
        n_mine = mine.groupby("order_id").size().reindex(order_ids, fill_value=0)
        n_theirs = theirs.groupby("order_id").size().reindex(order_ids, fill_value=0)
        differ = set(order_ids[(n_mine != n_theirs).to_numpy()].tolist())
        same_count = order_ids[(n_mine == n_theirs).to_numpy()]
        a = mine[mine["order_id"].isin(same_count)].to_numpy()
        b = theirs[theirs["order_id"].isin(same_count)].to_numpy()
        row_differs = (a != b).any(axis=1)
        differ |= set(np.unique(a[row_differs, 0]).tolist())
        return np.array(sorted(differ), dtype=np.int64)

    # ------------------------------------------------------------------ 6. frames
    def build_frames(self) -> None:
        accepted = self.valid()
        rejected_lines = self.rejects.mask & (self.order_id >= 0)
        rejected_ids = np.setdiff1d(self.order_id[rejected_lines], self.order_id[accepted])
        self.rejected_orders = int(len(rejected_ids))

        skipped_lines = accepted & np.isin(self.order_id, self.existing_orders)
        new = accepted & ~skipped_lines
        orders = self._order_table(new)
        orders["payment_method"] = orders["payment_method"].fillna(PLACEHOLDERS["payment_method"])

        # items: id = mix(order id, position of the line within its order)
        items = pd.DataFrame(
            {
                "order_id": self.order_id[new],
                "product_id": self.product_id[new],
                "quantity": self.qty[new],
                "cents": self.cents[new],
                "date": self.order_date[new],
                "line": self.lines[new],
            }
        )
        ordinal = items.groupby("order_id", sort=False).cumcount().to_numpy()
        items["order_item_id"] = mix_ids(items["order_id"].to_numpy(), ordinal)

        customers = self._new_customers(accepted)
        products = self._new_products(accepted)

        self.skipped = {
            "customers": len(
                set(np.unique(self.customer_id[accepted]).tolist()) & self.existing_customers
            ),
            "products": len(
                set(np.unique(self.product_id[accepted]).tolist()) & self.existing_products
            ),
            "orders": int(len(np.unique(self.order_id[skipped_lines]))),
            "order_items": int(skipped_lines.sum()),
        }
        self.frames = {
            "customers": customers,
            "products": products,
            "orders": pa.table(
                {
                    "order_id": pa.array(orders.index.to_numpy(), pa.int64()),
                    "customer_id": pa.array(orders["customer_id"].to_numpy(), pa.int64()),
                    "order_date": pa.array(
                        orders["order_date"].to_numpy().astype("datetime64[us]")
                    ),
                    "status": pa.array(orders["status"].astype(str).to_numpy(), pa.string()),
                    "payment_method": pa.array(
                        orders["payment_method"].astype(str).to_numpy(), pa.string()
                    ),
                    "total_amount": _money(orders["cents"].to_numpy()),
                }
            ),
            "order_items": pa.table(
                {
                    "order_item_id": pa.array(items["order_item_id"].to_numpy(), pa.int64()),
                    "order_id": pa.array(items["order_id"].to_numpy(), pa.int64()),
                    "product_id": pa.array(items["product_id"].to_numpy(), pa.int64()),
                    "quantity": pa.array(items["quantity"].to_numpy(), pa.int64()).cast(pa.int32()),
                    "unit_price": _money(items["cents"].to_numpy()),
                }
            ),
        }

    def _first_seen(self, key: np.ndarray, accepted: np.ndarray, known: set[int]) -> pd.Series:
        """New key id -> earliest order date among accepted lines (becomes created_at)."""
        dates = pd.Series(self.order_date[accepted]).groupby(key[accepted]).min()
        return dates[~dates.index.isin(list(known))]

    def _mode(self, key: np.ndarray, values: pd.Series, accepted: np.ndarray) -> pd.Series:
        """Per key, its most frequent non-empty value (ties: the one seen first)."""
        frame = pd.DataFrame({"id": key, "v": values.to_numpy(dtype=object), "line": self.lines})
        frame = frame[accepted & (values != "").to_numpy(dtype=bool)]
        stats = frame.groupby(["id", "v"], sort=False).agg(
            n=("line", "size"), first=("line", "min")
        )
        stats = stats.reset_index().sort_values(["id", "n", "first"], ascending=[True, False, True])
        return stats.drop_duplicates("id").set_index("id")["v"]

    def _attribute(
        self, resolved: pd.DataFrame, attr: str, key: np.ndarray, ids: pd.Index, accepted
    ) -> pd.Series:
        if attr in self.spec.derived and self.has(attr):
            values = self.text[attr]
            if attr == "product_name":
                values = self.stored_name.where(values != "", "")
            values = self._mode(key, values, accepted)
        elif attr in resolved:
            values = resolved[attr]
        else:
            values = pd.Series(dtype=object)
        return values.reindex(ids)

    def _new_customers(self, accepted: np.ndarray) -> pa.Table:
        created = self._first_seen(self.customer_id, accepted, self.existing_customers)
        ids = created.index
        columns = {"customer_id": pa.array(ids.to_numpy(), pa.int64())}
        for attr in ("first_name", "last_name", "email", "country", "region", "city"):
            if attr == "email":
                values = self.customers["email"].reindex(ids)
            else:
                values = self._attribute(self.customers, attr, self.customer_id, ids, accepted)
                values = values.where(values.notna(), PLACEHOLDERS[attr])
            columns[attr] = pa.array(values.astype(str).to_numpy(), pa.string())
        columns["created_at"] = pa.array(created.to_numpy().astype("datetime64[us]"))
        return pa.table(columns)

    def _new_products(self, accepted: np.ndarray) -> pa.Table:
        created = self._first_seen(self.product_id, accepted, self.existing_products)
        ids = created.index
        fallback = self._originals_stored_name().reindex(ids)
        name = self._attribute(self.products, "product_name", self.product_id, ids, accepted)
        name = name.where(name.notna(), fallback)
        category = self._attribute(self.products, "category", self.product_id, ids, accepted)
        brand = self._attribute(self.products, "brand", self.product_id, ids, accepted)
        cost = pd.Series(0, index=ids, dtype=np.int64)
        if "cost" in self.products:
            given = self.products["cost"].reindex(ids).dropna()
            cost[given.index] = np.rint(given.astype(float).to_numpy() * 100).astype(np.int64)
        # list price: the price on the product's latest line (latest date, then latest line)
        latest = pd.DataFrame(
            {
                "id": self.product_id,
                "date": self.order_date,
                "line": self.lines,
                "cents": self.cents,
            }
        )[accepted].sort_values(["id", "date", "line"])
        price = latest.drop_duplicates("id", keep="last").set_index("id")["cents"].reindex(ids)
        return pa.table(
            {
                "product_id": pa.array(ids.to_numpy(), pa.int64()),
                "product_name": pa.array(name.astype(str).to_numpy(), pa.string()),
                "category": pa.array(
                    category.where(category.notna(), PLACEHOLDERS["category"])
                    .astype(str)
                    .to_numpy(),
                    pa.string(),
                ),
                "brand": pa.array(
                    brand.where(brand.notna(), PLACEHOLDERS["brand"]).astype(str).to_numpy(),
                    pa.string(),
                ),
                "unit_price": _money(price.to_numpy(dtype=np.int64)),
                "unit_cost": _money(cost.to_numpy()),
                "stock_quantity": pa.array(np.zeros(len(ids), dtype=np.int32), pa.int32()),
                "created_at": pa.array(created.to_numpy().astype("datetime64[us]")),
            }
        )

    def _originals_stored_name(self) -> pd.Series:
        """id -> the name a product gets when the file gives none (its code)."""
        frame = pd.DataFrame({"id": self.product_id, "k": self._key_names().to_numpy(dtype=object)})
        return frame[self.product_id >= 0].drop_duplicates("id").set_index("id")["k"]


# ---------------------------------------------------------------------------------------------
def _fetch(db: Database, table: str, key: str, values: np.ndarray, columns: dict) -> pd.DataFrame:
    """Rows of ``table`` whose ``key`` is in ``values``, with the given (named) ibis columns.

    Few values: an ``IN`` list. Many: integer keys are narrowed to their range in the database,
    then filtered here, which beats a huge ``IN`` list or a temporary table on both backends.
    """
    values = pd.unique(pd.Series(values).dropna())
    if len(values) == 0:
        return pd.DataFrame(columns=list(columns))
    t = db.table(table)
    few = len(values) <= _ISIN_LIMIT
    if few:
        t = t.filter(t[key].isin(values.tolist()))
    elif np.issubdtype(values.dtype, np.integer):
        t = t.filter(t[key].between(int(values.min()), int(values.max())))
    frame = t.select(**columns).to_pandas()
    if not few:
        frame = frame[frame[key].isin(values)]
    return frame.reset_index(drop=True)


def _q(values: pd.Series, suffix: str = ""):
    """Detail for :meth:`Rejects.add`: the quoted value of each rejected line, plus ``suffix``."""
    return lambda idx: (quoted(values.iloc[idx]) + suffix).to_numpy()


def _money(cents: np.ndarray) -> pa.Array:
    """int64 cents -> decimal128(12, 2), exactly."""
    whole = pa.array(np.asarray(cents, dtype=np.int64), pa.int64()).cast(pa.decimal128(19, 0))
    return pc.multiply(whole, pa.scalar(Decimal("0.01"), pa.decimal128(3, 2))).cast(
        pa.decimal128(12, 2)
    )


def _cents_series(cents: np.ndarray) -> pd.Series:
    """Non-negative int64 cents -> "12.34" strings (vectorised)."""
    cents = np.asarray(cents, dtype=np.int64)
    whole = pd.Series(np.abs(cents) // 100).astype(str)
    frac = pd.Series(np.abs(cents) % 100).astype(str).str.zfill(2)
    return (whole + "." + frac).astype(object)


def _cents_text(cents) -> str:
    cents = int(cents)
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _alternatives(values: pd.Series, limit: int = 3) -> str:
    shown = " vs ".join(quoted(values.iloc[:limit]))
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


def _line_list(lines: pd.Series, limit: int = 5) -> str:
    values = sorted(lines.tolist())
    text = ", ".join(str(v) for v in values[:limit])
    return text + (f" and {len(values) - limit} more" if len(values) > limit else "")


def _reject_target(source: Path, reject_path: str | Path | None) -> Path:
    target = (
        Path(reject_path)
        if reject_path is not None
        else source.with_name(f"{source.stem}.rejects.csv")
    )
    if target.resolve() == source.resolve():
        raise IngestError(f"the reject file {target} would overwrite the input")
    if target.exists() and target.is_dir():
        raise IngestError(f"the reject file {target} is a directory")
    return target


def _write_rejects(target: Path, raw: RawFile, rejects: Rejects) -> None:
    reasons = rejects.reasons()
    idx = reasons.index.to_numpy(dtype=np.int64)
    out = raw.frame.iloc[idx].reset_index(drop=True)
    out.insert(0, "reason", reasons.to_numpy())
    out.insert(0, "line", raw.lines[idx])
    # the input's own columns may be called "line" or "reason": keep them, after ours
    out.columns = ["line", "reason", *raw.header]
    out = out.sort_values("line", kind="stable")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        out.to_csv(target, index=False)
    except OSError as exc:
        raise IngestError(f"cannot write the reject file {target}: {exc.strerror or exc}") from None
