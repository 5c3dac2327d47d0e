"""The models' one way in: pandas frames of transactions and of daily revenue.

Models never touch the database. :func:`transactions` and :func:`daily_revenue` read the ``orders``
table through ibis (DuckDB or PostgreSQL, synthetic or imported data alike);
:func:`prepare_transactions` accepts any frame with ``customer_id, order_date, amount`` (an imported
real data set needs nothing more).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import pyarrow as pa

from sales_analytics.models.base import validate_columns

#: Columns of a transactions frame (``order_id`` is optional on input).
TRANSACTION_COLUMNS: tuple[str, ...] = ("customer_id", "order_id", "order_date", "amount")
REQUIRED_TRANSACTION_COLUMNS: tuple[str, ...] = ("customer_id", "order_date", "amount")
SERIES_COLUMNS: tuple[str, ...] = ("ds", "y")
_EMPTY_DTYPES = {
    "customer_id": "int64",
    "order_id": "int64",
    "order_date": "datetime64[ns]",
    "amount": "float64",
}


def prepare_transactions(data: pd.DataFrame, *, what: str = "transactions") -> pd.DataFrame:
    """Validate and normalise a transactions frame.

    Returns ``customer_id, order_id, order_date (datetime64[ns]), amount (float)`` sorted by date;
    a missing ``order_id`` is numbered 1..n.
    """
    validate_columns(data, REQUIRED_TRANSACTION_COLUMNS, what=what)
    out = pd.DataFrame(
        {
            "customer_id": data["customer_id"].to_numpy(),
            "order_id": (
                data["order_id"].to_numpy() if "order_id" in data else range(1, len(data) + 1)
            ),
            # cache=False: the cache's uniqueness check made a Timestamp per row (0.16 s per call
            # at scale 1, on a column that is already datetime64)
            "order_date": pd.to_datetime(data["order_date"], cache=False).astype("datetime64[ns]").to_numpy(),
            "amount": pd.to_numeric(data["amount"].astype(float)).to_numpy(),
        }
    )
    if out["order_date"].isna().any() or out["amount"].isna().any():
        raise ValueError(f"{what}: order_date and amount must not be null")
    return out.sort_values(["order_date", "order_id"], kind="stable").reset_index(drop=True)


def orders_to_transactions(
    orders: pd.DataFrame | pa.Table, *, statuses: Iterable[str] | None = ("completed",)
) -> pd.DataFrame:
    """An ``orders`` table (Arrow or pandas, schema of ``storage.schema.TABLES``) -> transactions.

    ``statuses=None`` keeps every order (the generator's purchase process counts them all).
    """
    frame = orders.to_pandas() if isinstance(orders, pa.Table) else orders
    if statuses is not None:
        frame = frame[frame["status"].isin(list(statuses))]
    return prepare_transactions(frame.rename(columns={"total_amount": "amount"}))


def transactions(
    db,
    filters: Mapping[str, Any] | None = None,
    *,
    statuses: Iterable[str] = ("completed",),
) -> pd.DataFrame:
    """Completed orders from the database as ``customer_id, order_id, order_date, amount``.

    Parameters
    ----------
    db
        A :class:`sales_analytics.storage.Database`.
    filters
        Optional ``start`` / ``end`` (inclusive / exclusive timestamps) and ``customer_ids``.
    statuses
        Order statuses to keep (default: completed only).
    """
    filters = dict(filters or {})
    unknown = sorted(set(filters) - {"start", "end", "customer_ids"})
    if unknown:
        raise ValueError(f"unknown transaction filter(s): {', '.join(unknown)}")
    from sales_analytics.metrics import expression

    t = expression(db, "orders", limit=None)  # the catalogue's orders, any status
    expr = t.filter(t.status.cast("string").isin(list(statuses)))
    if filters.get("start") is not None:
        expr = expr.filter(expr.order_date >= pd.Timestamp(filters["start"]).to_pydatetime())
    if filters.get("end") is not None:
        expr = expr.filter(expr.order_date < pd.Timestamp(filters["end"]).to_pydatetime())
    if filters.get("customer_ids") is not None:
        expr = expr.filter(expr.customer_id.isin([int(c) for c in filters["customer_ids"]]))
    expr = expr.select("customer_id", "order_id", "order_date", amount=expr.total_amount).order_by(
        ["order_date", "order_id"]
    )
    frame = expr.to_pandas()
    if frame.empty:
        if not filters:
            raise ValueError("no completed orders in the database: load or import data first")
        return pd.DataFrame({c: pd.Series(dtype=d) for c, d in _EMPTY_DTYPES.items()})
    return prepare_transactions(frame)


def daily_revenue(source, *, start=None, end=None) -> pd.DataFrame:
    """Daily revenue ``ds, y`` with every day from the first to the last present (zero-filled).

    ``source`` is a Database (the catalogue's daily ``revenue``: the series every surface shows)
    or a transactions frame.
    """
    if isinstance(source, pd.DataFrame):
        tx = prepare_transactions(source)
        daily = tx.groupby(tx["order_date"].dt.normalize())["amount"].sum()
    else:
        from sales_analytics.metrics import compute

        frame = compute(source, "revenue", grain="day")
        frame = frame[frame["orders"] > 0]
        if frame.empty:
            raise ValueError("no completed orders in the database: load or import data first")
        daily = frame.set_index(pd.to_datetime(frame["period"]))["revenue"].astype(float)
    first = pd.Timestamp(start) if start is not None else daily.index.min()
    last = pd.Timestamp(end) if end is not None else daily.index.max()
    days = pd.date_range(first.normalize(), last.normalize(), freq="D", name="ds")
    out = daily.reindex(days, fill_value=0.0).rename("y").reset_index()
    out["y"] = out["y"].astype(float)
    return out


def series_frame(data: pd.DataFrame, *, what: str = "daily revenue") -> pd.DataFrame:
    """Validate ``ds, y`` and return it sorted, zero-filled and daily."""
    validate_columns(data, SERIES_COLUMNS, what=what)
    s = data[["ds", "y"]].copy()
    s["ds"] = pd.to_datetime(s["ds"]).dt.normalize()
    s = s.groupby("ds", as_index=True)["y"].sum().astype(float)
    days = pd.date_range(s.index.min(), s.index.max(), freq="D", name="ds")
    return s.reindex(days, fill_value=0.0).rename("y").reset_index()


def product_demand(db) -> pd.DataFrame:
    """Units of completed orders per product and week as ``unique_id, ds, y`` (``ds`` = the
    week's Monday), every week present from the product's first sale to the data's last week
    (zeros included). Products that never sold are absent (see :func:`products`)."""
    from sales_analytics.metrics.rules import is_completed, items

    it = items(db, dates=False)
    it = it.filter(is_completed(it))
    expr = it.group_by(product_id=it.product_id, day=it.order_date.date()).aggregate(
        y=it.quantity.sum()
    )
    frame = expr.to_pandas()
    if frame.empty:
        raise ValueError("no completed orders in the database: load or import data first")
    return weekly_units(frame)


def weekly_units(daily: pd.DataFrame) -> pd.DataFrame:
    """``product_id, day, y`` (units per product and day) -> the weekly long frame of
    :func:`product_demand`."""
    frame = daily.copy()
    frame["ds"] = pd.to_datetime(frame["day"]).dt.to_period("W-SUN").dt.start_time  # Mondays
    weekly = frame.groupby(["product_id", "ds"], as_index=False)["y"].sum()
    weeks = pd.date_range(weekly["ds"].min(), weekly["ds"].max(), freq=pd.Timedelta(days=7))
    first = weekly.groupby("product_id")["ds"].min()
    grid = pd.MultiIndex.from_product([first.index, weeks], names=["product_id", "ds"]).to_frame(index=False)  # fmt: skip
    grid = grid[grid["ds"] >= grid["product_id"].map(first)]
    out = grid.merge(weekly, on=["product_id", "ds"], how="left").fillna({"y": 0.0})
    out["y"] = out["y"].astype(float)
    return out.rename(columns={"product_id": "unique_id"}).reset_index(drop=True)


def orders_to_weekly_units(orders, order_items) -> pd.DataFrame:
    """The generator's Arrow (or pandas) ``orders`` and ``order_items`` -> :func:`product_demand`'s
    frame (completed orders), without a database."""
    o = orders.to_pandas() if isinstance(orders, pa.Table) else orders
    it = order_items.to_pandas() if isinstance(order_items, pa.Table) else order_items
    done = o.loc[o["status"] == "completed", ["order_id", "order_date"]]
    x = it.merge(done, on="order_id")
    x["day"] = pd.to_datetime(x["order_date"], cache=False).dt.normalize()
    daily = x.groupby(["product_id", "day"], as_index=False)["quantity"].sum()
    return weekly_units(daily.rename(columns={"quantity": "y"}))


def products(db) -> pd.DataFrame:
    """``product_id, product_name, category, stock_quantity`` (current stock) of every product."""
    from sales_analytics.metrics.source import table

    p = table(db, "products")
    return (
        p.select("product_id", "product_name", "category", stock_quantity=p.stock_quantity.cast("int64"))
        .order_by("product_id")
        .to_pandas()
    )  # fmt: skip


__all__ = [
    "REQUIRED_TRANSACTION_COLUMNS",
    "TRANSACTION_COLUMNS",
    "daily_revenue",
    "orders_to_transactions",
    "prepare_transactions",
    "orders_to_weekly_units",
    "product_demand",
    "products",
    "weekly_units",
    "series_frame",
    "transactions",
]


def customer_contacts(db) -> pd.DataFrame:
    """Contact fields and last completed order per customer, for the action lists.

    ``customer_id, email, first_name, last_name, country, last_order_date, last_product`` (the
    product with the largest line amount in the customer's last completed order); customers
    without a completed order have no last order or product.
    """
    import ibis

    c = db.table("customers")
    o = db.table("orders")
    done = o.filter(o.status.cast("string") == "completed")
    last = done.group_by("customer_id").aggregate(last_order_date=done.order_date.max())
    last_orders = done.join(last, "customer_id").filter(lambda t: t.order_date == t.last_order_date)
    items = db.table("order_items")
    p = db.table("products")
    lines = (
        last_orders.select("customer_id", "order_id", "last_order_date")
        .join(items, "order_id")
        .join(p, "product_id")
    )
    amount = lines.quantity.cast("float64") * lines.unit_price.cast("float64")
    lines = lines.mutate(
        line_amount=amount,
        rank=ibis.row_number().over(
            group_by=lines.customer_id,
            order_by=[ibis.desc(amount), lines.order_id.desc(), lines.product_id],
        ),
    )
    top = lines.filter(lines["rank"] == 0).select(
        "customer_id", "last_order_date", last_product=lines.product_name
    )
    frame = (
        c.select("customer_id", "email", "first_name", "last_name", "country")
        .left_join(top, "customer_id")
        .select(
            "customer_id",
            "email",
            "first_name",
            "last_name",
            "country",
            "last_order_date",
            "last_product",
        )  # fmt: skip
        .order_by("customer_id")
        .to_pandas()
    )
    frame["last_order_date"] = pd.to_datetime(frame["last_order_date"])
    return frame
