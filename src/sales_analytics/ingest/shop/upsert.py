"""Compare a batch with the database: new orders are inserted, changed ones replaced, the rest
left alone; every change is written down as an ``order_events`` row.

An order is *changed* when any stored value differs from the export's (customer, date, status,
payment method, amounts, discount code, cancellation, fulfilment status, items) or when the
export's cumulative refund exceeds the refunds stored. A refund is never edited: the difference becomes a new
``refunds`` row, dated by the source where it gives the date (a listed refund's date, or the
cancellation date of a cancelled order), otherwise on the import's own clock (``dated_by =
'import'``). Rows of changed orders are deleted and inserted again in the one transaction of the
write (``Database.write(delete=...)``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from sales_analytics.ingest.keys import mix_ids
from sales_analytics.ingest.lookup import fetch_rows
from sales_analytics.ingest.money import cents_text, to_decimal
from sales_analytics.ingest.shop.orders import Batch
from sales_analytics.storage import Database

#: compared order fields (the batch's column, the stored one)
FIELDS = (
    "customer_id",
    "order_date",
    "status",
    "payment_method",
    "total_cents",
    "discount_cents",
    "shipping_cents",
    "tax_cents",
    "discount_code",
    "cancelled_at",
    "fulfilment_status",
)
#: salt of the ids of refunds the import dates (kept apart from order item ids)
_REFUND_SALT = np.int64(0x5EF)


@dataclass(frozen=True)
class Plan:
    """What the write does: new and replaced rows per table, the keys replaced, the counts."""

    frames: dict[str, pa.Table]
    replaced: np.ndarray  # order ids whose rows are deleted and written again
    inserted: int
    updated: int
    unchanged: int
    refunds: int
    events: int


def plan(batch: Batch, db: Database, now: datetime, fingerprints: pd.Series | None = None) -> Plan:
    """Stage 2 of the order-level import: what to insert, replace and record.

    ``fingerprints``: order_id -> the fingerprint of its source lines, stored with the orders
    written (see :mod:`.fingerprint`); None: none stored."""
    orders = batch.orders
    ids = orders.index.to_numpy()
    stored = _stored_orders(db, ids)
    is_new = ~np.isin(ids, stored.index.to_numpy())
    old = orders[~is_new]
    db_old = stored.reindex(old.index)

    # ------------------------------------------------------------------ what differs
    diffs: dict[str, np.ndarray] = {}
    for f in FIELDS:
        a, b = old[f].to_numpy(), db_old[f].to_numpy()
        if f in ("order_date", "cancelled_at"):
            a = a.astype("datetime64[us]")
            b = b.astype("datetime64[us]")
            differ = ~((a == b) | (np.isnat(a) & np.isnat(b)))
        elif f in ("discount_code", "fulfilment_status"):
            differ = pd.Series(a).fillna("").to_numpy() != pd.Series(b).fillna("").to_numpy()
        else:
            differ = a != b
        diffs[f] = np.asarray(differ, dtype=bool)
    items_differ = _items_differ(batch.items, old.index.to_numpy(), db)
    refunded_now = db_old[["refund_product", "refund_shipping", "refund_tax"]].to_numpy()
    refunded_file = old[["refund_product", "refund_shipping", "refund_tax"]].to_numpy()
    new_listed = _new_listed_refunds(batch, db)
    refund_more = (refunded_file > refunded_now).any(axis=1) | np.isin(
        old.index.to_numpy(), new_listed["order_id"].to_numpy()
    )
    changed = np.column_stack([*diffs.values(), items_differ, refund_more]).any(axis=1)
    changed_ids = old.index.to_numpy()[changed]

    # ------------------------------------------------------------------ refunds to add
    write_ids = np.concatenate([ids[is_new], changed_ids])
    base = stored.reindex(write_ids)[["refund_product", "refund_shipping", "refund_tax"]]
    base = base.fillna(0).astype(np.int64)
    refunds = _refund_rows(batch, orders.loc[write_ids], base, new_listed, stored, now)

    # ------------------------------------------------------------------ events
    recorded = np.datetime64(now, "us")
    events = _events(orders, db_old, diffs, items_differ, refund_more, changed, is_new, refunds, recorded)

    # ------------------------------------------------------------------ rows to write
    kept_refunds = _stored_refunds(db, changed_ids)
    frames = {
        "customers": _new_customers(batch, db),
        "products": _new_products(batch, db),
        "orders": _order_rows(orders.loc[write_ids], base, refunds, fingerprints),
        "order_items": _item_rows(batch.items[np.isin(batch.items["order_id"], write_ids)]),
        "refunds": _concat(kept_refunds, _refund_table(refunds)),
        "order_events": _event_table(events, db, recorded),
    }
    # sorted by key: DuckDB builds a key index (ART) several times faster from sorted keys than
    # from the random ones of hashed ids
    frames = {n: t.sort_by(t.column_names[0]) if t.num_rows > 1 else t for n, t in frames.items()}
    return Plan(
        frames=frames,
        replaced=changed_ids,
        inserted=int(is_new.sum()),
        updated=len(changed_ids),
        unchanged=int((~changed).sum()),
        refunds=len(refunds),
        events=len(events),
    )


def _concat(*tables: pa.Table) -> pa.Table:
    """Non-empty tables as one chunk each column (an empty chunk upsets pyarrow's CSV writer)."""
    parts = [t for t in tables if t.num_rows]
    if not parts:
        return tables[0]
    return pa.concat_tables(parts).combine_chunks()


# ------------------------------------------------------------------------------------ reading
def _stored_orders(db: Database, ids: np.ndarray) -> pd.DataFrame:
    t = ibis._
    frame = fetch_rows(
        db,
        "orders",
        "order_id",
        ids,
        {
            "order_id": t.order_id,
            "customer_id": t.customer_id,
            "order_date": t.order_date,
            "status": t.status.cast("string"),
            "payment_method": t.payment_method,
            "total_cents": (t.total_amount * 100).round().cast("int64"),
            "discount_cents": (t.discount_amount * 100).round().cast("int64"),
            "shipping_cents": (t.shipping_amount * 100).round().cast("int64"),
            "tax_cents": (t.tax_amount * 100).round().cast("int64"),
            "discount_code": t.discount_code,
            "cancelled_at": t.cancelled_at,
            "fulfilment_status": t.fulfilment_status,
        },
    ).set_index("order_id")
    sums = _refund_sums(db, frame.index.to_numpy())
    return frame.join(sums, how="left").fillna(
        {"refund_product": 0, "refund_shipping": 0, "refund_tax": 0}
    ).astype({"refund_product": np.int64, "refund_shipping": np.int64, "refund_tax": np.int64})


def _refund_sums(db: Database, ids: np.ndarray) -> pd.DataFrame:
    t = ibis._
    rows = fetch_rows(
        db,
        "refunds",
        "order_id",
        ids,
        {
            "order_id": t.order_id,
            "p": (t.amount * 100).round().cast("int64"),
            "s": (t.shipping_amount * 100).round().cast("int64"),
            "x": (t.tax_amount * 100).round().cast("int64"),
        },
    )
    sums = rows.groupby("order_id")[["p", "s", "x"]].sum()
    return sums.rename(columns={"p": "refund_product", "s": "refund_shipping", "x": "refund_tax"})


def _stored_refunds(db: Database, ids: np.ndarray) -> pa.Table:
    """The stored refunds of the orders being replaced (written back unchanged)."""
    from sales_analytics.storage import TABLES

    if len(ids) == 0:
        return TABLES["refunds"].empty_table()
    t = db.table("refunds")
    expr = t.filter(t.order_id.isin(ids.tolist())) if len(ids) <= 5000 else t
    table = expr.to_pyarrow()
    if len(ids) > 5000:
        import pyarrow.compute as pc

        table = table.filter(pc.is_in(table["order_id"], pa.array(ids, pa.int64())))
    return table.select(TABLES["refunds"].names).cast(TABLES["refunds"])


def _items_differ(items: pd.DataFrame, ids: np.ndarray, db: Database) -> np.ndarray:
    """bool per id in ``ids``: its items (product, quantity, price, discount) differ, as multisets
    (an order-independent sum of a hash per item, and the item count)."""
    if len(ids) == 0:
        return np.zeros(0, dtype=bool)
    t = ibis._
    theirs = fetch_rows(
        db,
        "order_items",
        "order_id",
        ids,
        {
            "order_id": t.order_id,
            "product_id": t.product_id,
            "quantity": t.quantity.cast("int64"),
            "price_cents": (t.unit_price * 100).round().cast("int64"),
            "discount_cents": (t.discount_amount * 100).round().cast("int64"),
        },
    )
    mine = items[np.isin(items["order_id"].to_numpy(), ids)]
    a = _fingerprint(mine).reindex(ids)
    b = _fingerprint(theirs).reindex(ids)
    return ~((a["h"] == b["h"]) & (a["n"] == b["n"])).to_numpy()


def _fingerprint(items: pd.DataFrame) -> pd.DataFrame:
    with np.errstate(over="ignore"):
        cols = [items[c].to_numpy(dtype=np.int64).astype(np.uint64) for c in
                ("product_id", "quantity", "price_cents", "discount_cents")]
        h = np.zeros(len(items), dtype=np.uint64)
        for i, c in enumerate(cols):
            h = mix_ids(h.astype(np.int64) ^ c.astype(np.int64), np.full(len(items), i + 1)).astype(np.uint64)
    frame = pd.DataFrame({"order_id": items["order_id"].to_numpy(), "h": h.view(np.int64)})
    with np.errstate(over="ignore"):
        return frame.groupby("order_id").agg(h=("h", "sum"), n=("h", "size"))


def _new_listed_refunds(batch: Batch, db: Database) -> pd.DataFrame:
    listed = batch.refunds
    if listed.empty:
        return listed
    known = fetch_rows(db, "refunds", "refund_id", listed["refund_id"].to_numpy(), {"refund_id": ibis._.refund_id})
    return listed[~listed["refund_id"].isin(known["refund_id"])].reset_index(drop=True)


# ------------------------------------------------------------------------------------ refunds
def _refund_rows(batch, orders, base, listed, stored, now) -> pd.DataFrame:
    """New refund rows: listed refunds (in date order) then the undated rest of the export's
    cumulative refund; each part is the cumulative split after it minus the one before."""
    from sales_analytics.ingest.shop.values import split_refund

    cols = ["order_id", "refund_id", "refunded_at", "dated_by", "p", "s", "x"]
    if orders.empty:
        return pd.DataFrame(columns=cols)
    S, H, T = (orders[c].to_numpy() for c in ("total_cents", "shipping_cents", "tax_cents"))
    done = base.to_numpy().copy()  # refunded so far per order (p, s, x)
    pos = pd.Series(np.arange(len(orders)), index=orders.index)
    rows = []
    if not listed.empty:
        mine = listed[listed["order_id"].isin(orders.index)].sort_values(["order_id", "refunded_at", "refund_id"])
        for order_id, refund_id, at, cents in mine.itertuples(index=False):
            i = pos[order_id]
            before = done[i].sum()
            p, s, x = split_refund(np.array([before + cents]), S[i:i + 1], H[i:i + 1], T[i:i + 1])
            part = np.maximum(np.array([p[0], s[0], x[0]]) - done[i], 0)
            done[i] += part
            dated = not pd.isna(at)
            rows.append((order_id, refund_id, at if dated else np.datetime64(now, "us"),
                         "source" if dated else "import", *part))
    target = orders[["refund_product", "refund_shipping", "refund_tax"]].to_numpy()
    rest = np.maximum(target - done, 0)
    todo = np.flatnonzero(rest.sum(axis=1) > 0)
    if len(todo):
        ids = orders.index.to_numpy()[todo]
        count = stored.reindex(ids)["refund_product"].notna().to_numpy().astype(np.int64)
        cancelled = orders["cancelled_at"].to_numpy()[todo]
        dated = ~np.isnat(cancelled)
        at = np.where(dated, cancelled, np.datetime64(now, "us"))
        refund_id = mix_ids(ids ^ _REFUND_SALT, _seq(done[todo], count))
        frame = pd.DataFrame({
            "order_id": ids, "refund_id": refund_id, "refunded_at": at,
            "dated_by": np.where(dated, "source", "import"),
            "p": rest[todo, 0], "s": rest[todo, 1], "x": rest[todo, 2],
        })
        rows_frame = pd.DataFrame(rows, columns=cols)
        return pd.concat([rows_frame, frame], ignore_index=True) if rows else frame
    return pd.DataFrame(rows, columns=cols)


def _seq(done: np.ndarray, count: np.ndarray) -> np.ndarray:
    """A refund's sequence number within its order: distinct for every cumulative state."""
    return done.sum(axis=1) + count


def _refund_table(refunds: pd.DataFrame) -> pa.Table:
    from sales_analytics.storage import TABLES

    if refunds.empty:
        return TABLES["refunds"].empty_table()
    return pa.table(
        {
            "refund_id": pa.array(refunds["refund_id"].to_numpy(dtype=np.int64)),
            "order_id": pa.array(refunds["order_id"].to_numpy(dtype=np.int64)),
            "refunded_at": pa.array(pd.to_datetime(refunds["refunded_at"]).to_numpy().astype("datetime64[us]")),
            "amount": to_decimal(refunds["p"].to_numpy(dtype=np.int64)),
            "shipping_amount": to_decimal(refunds["s"].to_numpy(dtype=np.int64)),
            "tax_amount": to_decimal(refunds["x"].to_numpy(dtype=np.int64)),
            "dated_by": pa.array(refunds["dated_by"].astype(str).to_numpy(), pa.string()),
        },
        schema=TABLES["refunds"],
    )


# ------------------------------------------------------------------------------------ events
def _events(orders, db_old, diffs, items_differ, refund_more, changed, is_new, refunds, recorded):
    new = orders[is_new]
    created = pd.DataFrame({
        "order_id": new.index.to_numpy(),
        "happened_at": new["order_date"].to_numpy().astype("datetime64[us]"),
        "kind": "created",
        "detail": None,
    })
    if not changed.any():
        return created
    old = orders[~is_new][changed]
    before = db_old[changed]
    details: list[str] = []
    kinds: list[str] = []
    happened: list = []
    sourced = refunds[refunds["dated_by"] == "source"] if len(refunds) else refunds
    first_refund = (
        sourced.drop_duplicates("order_id").set_index("order_id")["refunded_at"]
        if len(sourced) else pd.Series(dtype=object)
    )
    cols = {f: diffs[f][changed] for f in diffs}
    items = items_differ[changed]
    more = refund_more[changed]
    for i, oid in enumerate(old.index.to_numpy()):
        detail = {}
        for f, differ in cols.items():
            if differ[i]:
                detail[f.replace("_cents", "_amount")] = [_show(before[f].iat[i], f), _show(old[f].iat[i], f)]
        if items[i]:
            detail["items"] = ["changed", "see order_items"]
        if more[i]:
            for part, f in (("refunded_amount", "refund_product"), ("refunded_shipping", "refund_shipping"), ("refunded_tax", "refund_tax")):
                if before[f].iat[i] != old[f].iat[i]:
                    detail[part] = [cents_text(before[f].iat[i]), cents_text(old[f].iat[i])]
        if cols["cancelled_at"][i] or (cols["status"][i] and old["status"].iat[i] == "cancelled"):
            kind, at = "cancel", old["cancelled_at"].iat[i]
        elif more[i]:
            kind, at = "refund", first_refund.get(oid, pd.NaT)
        elif cols["status"][i]:
            kind, at = "status", pd.NaT
        elif cols["fulfilment_status"][i]:
            kind, at = "fulfilment", pd.NaT
        else:
            kind, at = "changed", pd.NaT
        kinds.append(kind)
        happened.append(at)
        details.append(json.dumps(detail, sort_keys=True))
    changes = pd.DataFrame({
        "order_id": old.index.to_numpy(),
        "happened_at": pd.to_datetime(pd.Series(happened, dtype=object)).to_numpy().astype("datetime64[us]"),
        "kind": kinds,
        "detail": details,
    })
    return pd.concat([created, changes], ignore_index=True)


def _show(value, field: str):
    if field.endswith("_cents"):
        return cents_text(value)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, (np.datetime64, pd.Timestamp, datetime)):
        return pd.Timestamp(value).isoformat(sep=" ")
    return value.item() if hasattr(value, "item") else value


def _event_table(events: pd.DataFrame, db: Database, recorded: np.datetime64) -> pa.Table:
    from sales_analytics.storage import TABLES

    start = int(db.query("SELECT coalesce(max(event_id), 0) FROM order_events")[0][0]) + 1
    n = len(events)
    return pa.table(
        {
            "event_id": pa.array(np.arange(start, start + n, dtype=np.int64)),
            "order_id": pa.array(events["order_id"].to_numpy(dtype=np.int64)),
            "happened_at": pa.array(events["happened_at"].to_numpy().astype("datetime64[us]")),
            "recorded_at": pa.array(np.full(n, recorded, dtype="datetime64[us]")),
            "kind": pa.array(events["kind"].astype(str).to_numpy(), pa.string()),
            "detail": pa.array(events["detail"].to_numpy(dtype=object), pa.string()),
        },
        schema=TABLES["order_events"],
    )


# ------------------------------------------------------------------------------------ rows
def _order_rows(orders: pd.DataFrame, base: pd.DataFrame, refunds: pd.DataFrame, fingerprints) -> pa.Table:
    refunded = base["refund_product"].to_numpy(dtype=np.int64).copy()
    if fingerprints is None:
        fp = pa.nulls(len(orders), pa.int64())
    else:
        pos = fingerprints.index.get_indexer(orders.index)
        fp = pa.array(fingerprints.to_numpy(dtype=np.int64)[pos], pa.int64(), mask=pos < 0)
    if len(refunds):
        extra = refunds.groupby("order_id")["p"].sum().reindex(orders.index, fill_value=0)
        refunded += extra.to_numpy(dtype=np.int64)
    return pa.table(
        {
            "order_id": pa.array(orders.index.to_numpy(), pa.int64()),
            "customer_id": pa.array(orders["customer_id"].to_numpy(), pa.int64()),
            "order_date": pa.array(orders["order_date"].to_numpy().astype("datetime64[us]")),
            "status": pa.array(orders["status"].astype(str).to_numpy(), pa.string()),
            "payment_method": pa.array(orders["payment_method"].astype(str).to_numpy(), pa.string()),
            "total_amount": to_decimal(orders["total_cents"].to_numpy()),
            "discount_amount": to_decimal(orders["discount_cents"].to_numpy()),
            "shipping_amount": to_decimal(orders["shipping_cents"].to_numpy()),
            "tax_amount": to_decimal(orders["tax_cents"].to_numpy()),
            "refunded_amount": to_decimal(refunded),
            "discount_code": pa.array(orders["discount_code"].to_numpy(dtype=object), pa.string()),
            "cancelled_at": pa.array(orders["cancelled_at"].to_numpy().astype("datetime64[us]")),
            "fulfilment_status": pa.array(orders["fulfilment_status"].to_numpy(dtype=object), pa.string()),
            "source_fingerprint": fp,
        }
    )


def _item_rows(items: pd.DataFrame) -> pa.Table:
    return pa.table(
        {
            "order_item_id": pa.array(mix_ids(items["order_id"].to_numpy(), items["position"].to_numpy()), pa.int64()),
            "order_id": pa.array(items["order_id"].to_numpy(), pa.int64()),
            "product_id": pa.array(items["product_id"].to_numpy(), pa.int64()),
            "quantity": pa.array(items["quantity"].to_numpy(), pa.int64()).cast(pa.int32()),
            "unit_price": to_decimal(items["price_cents"].to_numpy()),
            "discount_amount": to_decimal(items["discount_cents"].to_numpy()),
        }
    )


def _new_customers(batch: Batch, db: Database) -> pa.Table:
    c = batch.customers
    known = fetch_rows(db, "customers", "customer_id", c.index.to_numpy(), {"customer_id": ibis._.customer_id})
    c = c[~c.index.isin(known["customer_id"])]
    return pa.table(
        {
            "customer_id": pa.array(c.index.to_numpy(), pa.int64()),
            **{col: pa.array(c[col].astype(str).to_numpy(), pa.string())
               for col in ("first_name", "last_name", "email", "country", "region", "city")},
            "created_at": pa.array(c["created_at"].to_numpy().astype("datetime64[us]")),
        }
    )


def _new_products(batch: Batch, db: Database) -> pa.Table:
    p = batch.products
    known = fetch_rows(db, "products", "product_id", p.index.to_numpy(), {"product_id": ibis._.product_id})
    p = p[~p.index.isin(known["product_id"])]
    return pa.table(
        {
            "product_id": pa.array(p.index.to_numpy(), pa.int64()),
            "product_name": pa.array(p["product_name"].astype(str).to_numpy(), pa.string()),
            "category": pa.array(p["category"].where(p["category"] != "", "Uncategorised").astype(str).to_numpy(), pa.string()),
            "brand": pa.array(p["brand"].where(p["brand"] != "", "Unknown").astype(str).to_numpy(), pa.string()),
            "unit_price": to_decimal(p["price_cents"].to_numpy(dtype=np.int64)),
            "unit_cost": to_decimal(np.zeros(len(p), dtype=np.int64)),
            "stock_quantity": pa.array(np.zeros(len(p), dtype=np.int32), pa.int32()),
            "created_at": pa.array(p["created_at"].to_numpy().astype("datetime64[us]")),
        }
    )
