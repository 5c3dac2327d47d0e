"""Stage 5, write: the new rows of the four tables, the reject file, and the one load.

:func:`new_rows` builds what will be appended (rows already in the database and identical are
skipped); :func:`write` writes the reject file and then loads everything in ONE transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from sales_analytics import metrics
from sales_analytics.ingest.errors import IngestError
from sales_analytics.ingest.frozen import frozen_dict
from sales_analytics.ingest.keys import mix_ids
from sales_analytics.ingest.money import to_decimal
from sales_analytics.ingest.reader import RawFile
from sales_analytics.ingest.rejects import RejectLog
from sales_analytics.ingest.schema import PLACEHOLDERS, TABLE_NAMES
from sales_analytics.ingest.stages.orders import OrderSet, order_table
from sales_analytics.ingest.stages.parse import ParsedLines
from sales_analytics.storage import Database, StorageError


@dataclass(frozen=True)
class NewRows:
    """What the import appends and what it leaves (stage 5 of 5).

    ``tables``          table name -> the new rows (an Arrow table per table, possibly empty)
    ``skipped``         table name -> rows already in the database and identical to the file
    ``rejected_orders`` orders with at least one rejected line and none accepted
    ``rejects``         the final reasons; ``raw`` the file (the reject file repeats its columns)
    """

    tables: Mapping[str, pa.Table]
    skipped: Mapping[str, int]
    rejected_orders: int
    rejects: RejectLog
    raw: RawFile


def new_rows(orders: OrderSet) -> NewRows:
    """Stage 5a: the rows to append, from the accepted lines that are not in the database yet."""
    lines, entities = orders.lines, orders.entities
    accepted = orders.accepted
    rejected_lines = orders.rejects.mask & (lines.order_id >= 0)
    rejected_ids = np.setdiff1d(lines.order_id[rejected_lines], lines.order_id[accepted])

    skipped_lines = accepted & np.isin(lines.order_id, orders.existing_orders)
    new = accepted & ~skipped_lines
    table = order_table(lines, orders.status, new)
    table["payment_method"] = table["payment_method"].fillna(PLACEHOLDERS["payment_method"])

    # items: id = mix(order id, position of the line within its order)
    items = pd.DataFrame(
        {
            "order_id": lines.order_id[new],
            "product_id": lines.product_id[new],
            "quantity": lines.units[new],
            "cents": lines.cents[new],
        }
    )
    ordinal = items.groupby("order_id", sort=False).cumcount().to_numpy()
    items["order_item_id"] = mix_ids(items["order_id"].to_numpy(), ordinal)

    skipped = {
        "customers": len(
            set(np.unique(lines.customer_id[accepted]).tolist()) & entities.existing_customers
        ),
        "products": len(
            set(np.unique(lines.product_id[accepted]).tolist()) & entities.existing_products
        ),
        "orders": int(len(np.unique(lines.order_id[skipped_lines]))),
        "order_items": int(skipped_lines.sum()),
    }
    tables = {
        "customers": _new_customers(orders),
        "products": _new_products(orders),
        "orders": pa.table(
            {
                "order_id": pa.array(table.index.to_numpy(), pa.int64()),
                "customer_id": pa.array(table["customer_id"].to_numpy(), pa.int64()),
                "order_date": pa.array(table["order_date"].to_numpy().astype("datetime64[us]")),
                "status": pa.array(table["status"].astype(str).to_numpy(), pa.string()),
                "payment_method": pa.array(
                    table["payment_method"].astype(str).to_numpy(), pa.string()
                ),
                "total_amount": to_decimal(table["cents"].to_numpy()),
            }
        ),
        "order_items": pa.table(
            {
                "order_item_id": pa.array(items["order_item_id"].to_numpy(), pa.int64()),
                "order_id": pa.array(items["order_id"].to_numpy(), pa.int64()),
                "product_id": pa.array(items["product_id"].to_numpy(), pa.int64()),
                "quantity": pa.array(items["quantity"].to_numpy(), pa.int64()).cast(pa.int32()),
                "unit_price": to_decimal(items["cents"].to_numpy()),
            }
        ),
    }
    return NewRows(
        tables=frozen_dict(tables),
        skipped=frozen_dict(skipped),
        rejected_orders=int(len(rejected_ids)),
        rejects=orders.rejects,
        raw=lines.raw,
    )


def write(rows: NewRows, db: Database, reject_path: Path) -> dict[str, int]:
    """Stage 5b: write the reject file, then load the new rows and rebuild the catalogue's
    materialized copies in one transaction (``metrics.load``).

    Returns the rows loaded per table. Raises :class:`IngestError` when the reject file cannot be
    written or the load fails (then nothing of the file is in the database).
    """
    write_rejects(reject_path, rows.raw, rows.rejects)
    loaded = {name: 0 for name in TABLE_NAMES}
    frames = {name: table for name, table in rows.tables.items() if table.num_rows}
    if frames:
        try:
            loaded.update(metrics.load(db, frames))
        except StorageError as exc:
            raise IngestError(str(exc)) from exc
    return loaded


def write_rejects(target: Path, raw: RawFile, rejects: RejectLog) -> None:
    """The reject file: ``line``, ``reason`` and the original columns of every rejected line."""
    reasons = rejects.reasons()
    idx = reasons.index.to_numpy(dtype=np.int64)
    out = raw.records(idx)
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


def _first_seen(
    lines: ParsedLines, key: np.ndarray, accepted: np.ndarray, known: frozenset[int]
) -> pd.Series:
    """New key id -> earliest order date among accepted lines (becomes created_at)."""
    dates = pd.Series(lines.order_date[accepted]).groupby(key[accepted]).min()
    return dates[~dates.index.isin(list(known))]


def _attribute(
    orders: OrderSet, resolved: pd.DataFrame, attr: str, key: np.ndarray, ids: pd.Index
) -> pd.Series:
    """Per new id, the value of ``attr``: derived by the format's rule, or as resolved."""
    lines = orders.lines
    if attr in lines.spec.derived and lines.layout.has(attr):
        values = lines.value(attr)
        if attr == "product_name":
            values = lines.stored_name.where(values != "", "")
        values = lines.spec.derive(key, values, lines.lines, orders.accepted)
    elif attr in resolved:
        values = resolved[attr]
    else:
        values = pd.Series(dtype=object)
    return values.reindex(ids)


def _new_customers(orders: OrderSet) -> pa.Table:
    lines, entities = orders.lines, orders.entities
    key = lines.customer_id
    created = _first_seen(lines, key, orders.accepted, entities.existing_customers)
    ids = created.index
    columns = {"customer_id": pa.array(ids.to_numpy(), pa.int64())}
    for attr in ("first_name", "last_name", "email", "country", "region", "city"):
        if attr == "email":
            values = entities.customers["email"].reindex(ids)
        else:
            values = _attribute(orders, entities.customers, attr, key, ids)
            values = values.where(values.notna(), PLACEHOLDERS[attr])
        columns[attr] = pa.array(values.astype(str).to_numpy(), pa.string())
    columns["created_at"] = pa.array(created.to_numpy().astype("datetime64[us]"))
    return pa.table(columns)


def _new_products(orders: OrderSet) -> pa.Table:
    lines, entities = orders.lines, orders.entities
    key, accepted, resolved = lines.product_id, orders.accepted, entities.products
    created = _first_seen(lines, key, accepted, entities.existing_products)
    ids = created.index
    # a product the file gives no name for is named after its code
    codes = pd.DataFrame({"id": key, "k": lines.key_names.to_numpy(dtype=object)})
    fallback = codes[key >= 0].drop_duplicates("id").set_index("id")["k"].reindex(ids)
    name = _attribute(orders, resolved, "product_name", key, ids)
    name = name.where(name.notna(), fallback)
    category = _attribute(orders, resolved, "category", key, ids)
    brand = _attribute(orders, resolved, "brand", key, ids)
    cost = pd.Series(0, index=ids, dtype=np.int64)
    if "cost" in resolved:
        given = resolved["cost"].reindex(ids).dropna()
        cost[given.index] = np.rint(given.astype(float).to_numpy() * 100).astype(np.int64)
    # list price: the price on the product's latest line (latest date, then latest line)
    latest = pd.DataFrame(
        {"id": key, "date": lines.order_date, "line": lines.lines, "cents": lines.cents}
    )[accepted].sort_values(["id", "date", "line"])
    price = latest.drop_duplicates("id", keep="last").set_index("id")["cents"].reindex(ids)
    return pa.table(
        {
            "product_id": pa.array(ids.to_numpy(), pa.int64()),
            "product_name": pa.array(name.astype(str).to_numpy(), pa.string()),
            "category": pa.array(
                category.where(category.notna(), PLACEHOLDERS["category"]).astype(str).to_numpy(),
                pa.string(),
            ),
            "brand": pa.array(
                brand.where(brand.notna(), PLACEHOLDERS["brand"]).astype(str).to_numpy(),
                pa.string(),
            ),
            "unit_price": to_decimal(price.to_numpy(dtype=np.int64)),
            "unit_cost": to_decimal(cost.to_numpy()),
            "stock_quantity": pa.array(np.zeros(len(ids), dtype=np.int32), pa.int32()),
            "created_at": pa.array(created.to_numpy().astype("datetime64[us]")),
        }
    )
