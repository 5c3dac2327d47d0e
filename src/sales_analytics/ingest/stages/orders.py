"""Stage 4, orders: an order's lines must agree, an order loads whole or not at all, and an order
already in the database must be identical to the file's.

The order status is the format's business (:meth:`FormatSpec.order_status`).
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd

from sales_analytics.ingest.frozen import readonly
from sales_analytics.ingest.lookup import fetch_rows
from sales_analytics.ingest.money import cents_text
from sales_analytics.ingest.parse import MONEY_MAX_CENTS
from sales_analytics.ingest.rejects import RejectLog, Rejects, each_quoted, quoted
from sales_analytics.ingest.stages.entities import Entities
from sales_analytics.ingest.stages.parse import ParsedLines
from sales_analytics.storage import Database


@dataclass(frozen=True)
class OrderSet:
    """The orders of the file, checked (stage 4 of 5).

    ``status`` is every line's order status; ``rejects`` the final reasons (``rejects.valid`` are
    the accepted lines); ``existing_orders`` the ids of accepted orders already in the database
    with identical content (skipped by the load).
    """

    entities: Entities
    status: np.ndarray  # object: completed / cancelled / returned, per line
    existing_orders: np.ndarray  # int64 order ids
    rejects: RejectLog

    @property
    def lines(self) -> ParsedLines:
        return self.entities.lines

    @property
    def accepted(self) -> np.ndarray:
        return self.rejects.valid


def check_orders(entities: Entities, db: Database) -> OrderSet:
    """Stage 4: reject orders whose lines disagree or that differ from the database."""
    lines = entities.lines
    rejects = Rejects.resume(entities.rejects)
    _check_agreement(lines, rejects)
    status = lines.spec.order_status(lines, rejects)
    _reject_whole_orders(lines, rejects)
    _check_totals(lines, rejects)
    existing = _compare_with_database(lines, status, rejects, db)
    return OrderSet(
        entities=entities,
        status=readonly(status),
        existing_orders=readonly(existing),
        rejects=rejects.freeze(),
    )


def order_table(lines: ParsedLines, status: np.ndarray, mask: np.ndarray) -> pd.DataFrame:
    """One row per order from the lines in ``mask``: the values the orders table gets."""
    frame = pd.DataFrame(
        {
            "order_id": lines.order_id[mask],
            "customer_id": lines.customer_id[mask],
            "order_date": lines.order_date[mask],
            "status": status[mask],
            "payment_method": (lines.payment[mask] if lines.payment is not None else ""),
            "cents": lines.units[mask] * lines.cents[mask],
        }
    )
    payment = frame["payment_method"].astype(object)
    frame["payment_method"] = payment.where(payment != "", None)
    grouped = frame.groupby("order_id", sort=False)
    return grouped.agg(
        customer_id=("customer_id", "first"),
        order_date=("order_date", "min"),
        status=("status", "first"),
        payment_method=("payment_method", "first"),
        cents=("cents", "sum"),
    )


def _check_agreement(lines: ParsedLines, rej: Rejects) -> None:
    """The lines of one order must agree on customer, date (unless the format takes the
    earliest), status and payment method (when the file has those columns)."""
    name = lines.layout.name
    label = name("order_key")
    frame = pd.DataFrame(
        {
            "order": lines.order_id,
            "customer": lines.customer_id,
            "date": lines.order_date.view("int64"),
        }
    )
    if lines.status is not None:
        frame["status"] = lines.status
    if lines.payment is not None:
        payment = pd.Series(lines.payment, dtype=object)
        frame["payment"] = payment.where(payment != "", None)
    grouped = frame[rej.valid].groupby("order", sort=False)
    checks = [("customer", name("customer_key"))]
    if not lines.spec.earliest_order_date:
        checks.append(("date", name("order_date")))
    if lines.status is not None:
        checks.append(("status", name("status")))
    if lines.payment is not None:
        checks.append(("payment", name("payment_method")))
    for column, shown in checks:
        counts = grouped[column].nunique()
        bad = counts.index[counts > 1].to_numpy()
        mask = rej.valid & np.isin(lines.order_id, bad)
        rej.add(
            mask, f"lines of one {label} disagree on {shown}", each_quoted(lines.text["order_key"])
        )


def _reject_whole_orders(lines: ParsedLines, rej: Rejects) -> None:
    """One rejected line takes the other lines of its order with it."""
    order_id = lines.order_id
    poisoned = rej.poison & (order_id >= 0)
    bad_orders = np.unique(order_id[poisoned])
    mask = rej.valid & np.isin(order_id, bad_orders)
    if not mask.any():
        return
    bad_lines = pd.Series(lines.lines[poisoned]).groupby(order_id[poisoned]).agg(_line_list)
    keys = lines.text["order_key"]
    label = lines.layout.name("order_key")
    rej.add(
        mask,
        "another line of the order is rejected",
        lambda i: (
            f"{label} "
            + quoted(keys.iloc[i]).to_numpy()
            + ", see line(s) "
            + pd.Series(order_id[i]).map(bad_lines).to_numpy()
        ),
    )


def _check_totals(lines: ParsedLines, rej: Rejects) -> None:
    """Order totals must fit NUMERIC(12, 2)."""
    valid = rej.valid
    amount = pd.Series(lines.units * lines.cents)
    totals = amount[valid].groupby(lines.order_id[valid]).sum()
    too_big = totals.index[totals > MONEY_MAX_CENTS].to_numpy()
    rej.add(
        valid & np.isin(lines.order_id, too_big),
        "order total out of range",
        each_quoted(lines.text["order_key"], " (limit 9,999,999,999.99)"),
    )


def _compare_with_database(
    lines: ParsedLines, status: np.ndarray, rej: Rejects, db: Database
) -> np.ndarray:
    """Reject orders already in the database with different content; return the identical ones."""
    valid = rej.valid
    orders = order_table(lines, status, valid)
    existing = fetch_rows(
        db,
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
    if existing.empty:
        return np.array([], dtype=np.int64)
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
        + both["cents"].map(cents_text)
        + " in the file, "
        + both["cents_db"].map(cents_text)
        + " in the database",
    )
    items_differ = _items_differ(lines, valid, both.index.to_numpy(), db)
    note(pd.Series(both.index.isin(items_differ), index=both.index), "different items")

    differ = problems[problems != ""]
    same = both.index[problems == ""].to_numpy()
    if len(differ):
        detail = lines.originals("order_key").reindex(differ.index).astype(str) + ": " + differ
        rej.add_by_key(
            lines.order_id,
            detail,
            f"{lines.layout.name('order_key')} already in the database with different content",
        )
    return same


def _items_differ(
    lines: ParsedLines, valid: np.ndarray, order_ids: np.ndarray, db: Database
) -> np.ndarray:
    """Orders (among ``order_ids``) whose items differ from the database's, as multisets."""
    mask = valid & np.isin(lines.order_id, order_ids)
    cols = ["order_id", "product_id", "quantity", "cents"]
    mine = pd.DataFrame(
        {
            "order_id": lines.order_id[mask],
            "product_id": lines.product_id[mask],
            "quantity": lines.units[mask],
            "cents": lines.cents[mask],
        }
    )
    theirs = fetch_rows(
        db,
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


def _line_list(lines: pd.Series, limit: int = 5) -> str:
    values = sorted(lines.tolist())
    text = ", ".join(str(v) for v in values[:limit])
    return text + (f" and {len(values) - limit} more" if len(values) > limit else "")
