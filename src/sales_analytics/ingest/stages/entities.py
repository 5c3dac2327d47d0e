"""Stage 3, entities: one set of attributes per customer and per product.

A customer's or product's attributes must agree between the lines that are fine on their own, and
with the row already in the database; an email may belong to one customer only.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd

from sales_analytics.ingest.lookup import fetch_rows
from sales_analytics.ingest.money import cents_strings
from sales_analytics.ingest.rejects import RejectLog, Rejects, quoted
from sales_analytics.ingest.schema import CUSTOMER_ATTRS, PLACEHOLDER_EMAIL, PRODUCT_ATTRS
from sales_analytics.ingest.stages.parse import ParsedLines
from sales_analytics.ingest.stages.validate import ValidatedLines
from sales_analytics.storage import Database


@dataclass(frozen=True)
class Entities:
    """Customers and products as the file gives them (stage 3 of 5).

    ``customers`` and ``products`` are indexed by id (every id on a line in ``line_valid``), one
    column per attribute the file gives and must agree on (None where it has no value); customers
    also have the ``email`` to store (a placeholder when the file has none). ``existing_*`` are the
    ids already in the database (identical, or their lines are rejected in ``rejects``).
    """

    lines: ParsedLines
    line_valid: np.ndarray  # the lines the attributes were resolved from
    customers: pd.DataFrame
    products: pd.DataFrame
    existing_customers: frozenset[int]
    existing_products: frozenset[int]
    rejects: RejectLog


def resolve_entities(validated: ValidatedLines, db: Database) -> Entities:
    """Stage 3: resolve customers and products, reject the lines of those that conflict."""
    lines = validated.lines
    rejects = Rejects.resume(validated.rejects)
    customers, existing_customers = _customers(lines, validated.valid, rejects, db)
    products, existing_products = _products(lines, validated.valid, rejects, db)
    return Entities(
        lines=lines,
        line_valid=validated.valid,
        customers=customers,
        products=products,
        existing_customers=existing_customers,
        existing_products=existing_products,
        rejects=rejects.freeze(),
    )


def _customers(
    lines: ParsedLines, valid: np.ndarray, rejects: Rejects, db: Database
) -> tuple[pd.DataFrame, frozenset[int]]:
    key_col = "customer_key"
    key = lines.customer_id
    attrs = {a: lines.value(a) for a in CUSTOMER_ATTRS if lines.layout.authoritative(a)}
    original = lines.originals(key_col)
    resolved = _resolve(lines, key_col, attrs, valid, original, rejects)
    label = lines.layout.name(key_col)

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
        rejects.add_by_key(
            key, pd.Series(detail, index=shared.index), "same email for several customers"
        )

    existing = fetch_rows(
        db,
        "customers",
        "customer_id",
        resolved.index.to_numpy(),
        {"customer_id": ibis._.customer_id, **{a: ibis._[a] for a in CUSTOMER_ATTRS}},
    ).set_index("customer_id")
    _compare_with_database(lines, key, resolved, existing, label, original, rejects)

    # an email stored for a different customer already
    mine = stored_email.drop(existing.index, errors="ignore")
    owners = fetch_rows(
        db,
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
        rejects.add_by_key(key, detail, "email belongs to another customer")

    return resolved.assign(email=stored_email), frozenset(existing.index.tolist())


def _products(
    lines: ParsedLines, valid: np.ndarray, rejects: Rejects, db: Database
) -> tuple[pd.DataFrame, frozenset[int]]:
    key_col = "product_key"
    attrs: dict[str, pd.Series] = {}
    for attr in PRODUCT_ATTRS:
        if not lines.layout.authoritative(attr):
            continue
        if attr == "product_name":
            attrs[attr] = lines.stored_name.where(lines.text["product_name"] != "", "")
        elif attr == "cost":
            attrs[attr] = cents_strings(lines.cost).where(lines.cost >= 0, "")
        else:
            attrs[attr] = lines.value(attr)
    original = lines.originals(key_col)
    resolved = _resolve(lines, key_col, attrs, valid, original, rejects)
    existing = fetch_rows(
        db,
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
    existing["cost"] = cents_strings(existing["cost"].to_numpy(dtype=np.int64)).to_numpy()
    label = lines.layout.name(key_col)
    _compare_with_database(lines, lines.product_id, resolved, existing, label, original, rejects)
    return resolved, frozenset(existing.index.tolist())


def _resolve(
    lines: ParsedLines,
    key_col: str,
    attrs: dict[str, pd.Series],
    valid: np.ndarray,
    original: pd.Series,
    rejects: Rejects,
) -> pd.DataFrame:
    """Per key, the one value each authoritative attribute has in the file.

    Lines of a key whose attribute has two different non-empty values are rejected. Returns a
    frame indexed by key id with one column per attribute (None where the file has none).
    """
    key = lines.ids(key_col)
    resolved = pd.DataFrame(index=pd.Index(np.unique(key[valid]), name="id"))
    for attr, values in attrs.items():
        frame = pd.DataFrame({"id": key, "v": values.to_numpy(dtype=object)})[valid]
        frame = frame[frame["v"] != ""].drop_duplicates(["id", "v"])
        conflict_ids = frame["id"][frame["id"].duplicated()].unique()
        if len(conflict_ids):
            values = frame[frame["id"].isin(conflict_ids)].groupby("id")["v"]
            shown = quoted(original.reindex(conflict_ids)) + ": " + values.agg(_alternatives)
            mask = valid & np.isin(key, conflict_ids)
            rejects.add(
                mask,
                f"conflicting {lines.layout.name(attr)} for one {lines.layout.name(key_col)}",
                lambda i, shown=shown: pd.Series(key[i]).map(shown).to_numpy(),
            )
        single = frame[~frame["id"].isin(conflict_ids)].set_index("id")["v"]
        resolved[attr] = single.reindex(resolved.index).astype(object)
        resolved[attr] = resolved[attr].where(resolved[attr].notna(), None)
    return resolved


def _compare_with_database(
    lines: ParsedLines,
    key: np.ndarray,
    resolved: pd.DataFrame,
    existing: pd.DataFrame,
    label: str,
    original: pd.Series,
    rejects: Rejects,
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
            f"{lines.layout.name(attr)} "
            + quoted(file_value[differs]).to_numpy()
            + " in the file, "
            + quoted(stored[differs]).to_numpy()
            + " in the database"
        )
        problems[differs] = np.where(problems[differs] == "", text, problems[differs] + ", " + text)
    problems = problems[problems != ""]
    if len(problems):
        detail = original.reindex(problems.index).astype(str) + ": " + problems
        rejects.add_by_key(key, detail, f"{label} differs from the database")


def _alternatives(values: pd.Series, limit: int = 3) -> str:
    shown = " vs ".join(quoted(values.iloc[:limit]))
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")
