"""Unit tests of the import's stages and of the format rules they ask for (no full import)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from sales_analytics.ingest import stable_id
from sales_analytics.ingest.formats import GENERIC, ONLINE_RETAIL, FormatSpec, Layout
from sales_analytics.ingest.parse import NOT_NUMERIC, OK
from sales_analytics.ingest.reader import read_csv_file
from sales_analytics.ingest.rejects import Rejects
from sales_analytics.ingest.stages import (
    ParsedLines,
    check_orders,
    new_rows,
    parse,
    resolve_entities,
    validate,
)
from sales_analytics.storage import Database, connect
from tests.ingest.conftest import GENERIC_HEADER, RETAIL_HEADER


@pytest.fixture
def memory_db() -> Iterator[Database]:
    database = connect("duckdb://")
    database.create_schema()
    yield database
    database.close()


@pytest.fixture
def parsed(write_csv):
    def parse_text(text: str, spec: FormatSpec = GENERIC) -> ParsedLines:
        raw = read_csv_file(write_csv(text))
        return parse(raw, Layout(spec, spec.resolve(raw.header)))

    return parse_text


def reasons(log) -> dict[int, str]:
    """row position -> joined reason."""
    return log.reasons().to_dict()


def test_parse_converts_without_rejecting(parsed):
    lines = parsed(
        f"""
        {GENERIC_HEADER},status,payment_method
        1,10,2024-01-05,SKU-1,2,9.99,Complete,Credit Card
        2,,2024-13-01,100,two,-1.00,shipped,
        """
    )
    assert lines.n == 2
    assert lines.order_id.tolist() == [1, 2]
    assert lines.customer_id.tolist() == [10, -1]
    assert lines.product_id.tolist() == [stable_id("SKU-1"), 100]
    assert lines.quantity.tolist() == [2, 0]
    assert lines.quantity_code.tolist() == [OK, NOT_NUMERIC]
    assert lines.cents.tolist() == [999, -100]
    assert np.isnat(lines.order_date[1])
    assert lines.status.tolist() == ["completed", ""]
    assert lines.payment.tolist() == ["credit_card", ""]
    assert lines.stored_name.tolist() == ["SKU-1", "100"]


def test_stage_outputs_are_frozen(parsed):
    lines = parsed(f"{GENERIC_HEADER}\n1,10,2024-01-05,100,2,9.99\n")
    with pytest.raises(dataclasses.FrozenInstanceError):
        lines.order_id = np.array([2])  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        lines.order_id[0] = 2
    with pytest.raises(TypeError):
        lines.text["quantity"] = lines.text["unit_price"]  # type: ignore[index]
    validated = validate(lines)
    with pytest.raises(ValueError, match="read-only"):
        validated.rejects.mask[0] = True


def test_validate_checks_lines_in_a_fixed_order(parsed):
    lines = parsed(
        f"""
        {GENERIC_HEADER}
        1,10,2024-01-05,100,-1,-5.00
        2,10,2024-01-05,100,1,1.00
        2,10,2024-01-05,100,1,1.00
        """
    )
    validated = validate(lines)
    assert reasons(validated.rejects) == {
        0: "negative quantity: '-1' (a return is a positive quantity with status 'returned'); "
        "negative unit_price: '-5.00'",
        2: "duplicate line: same as line 3",
    }
    assert validated.valid.tolist() == [False, True, False]


def test_resume_leaves_the_frozen_log_unchanged():
    first = Rejects(3)
    first.add(np.array([True, False, False]), "a")
    log = first.freeze()
    more = Rejects.resume(log)
    more.add(np.array([False, True, False]), "b", poisons_order=False)
    assert log.mask.tolist() == [True, False, False]
    assert log.counts == (("a", 1),)
    after = more.freeze()
    assert after.mask.tolist() == [True, True, False]
    assert after.poison.tolist() == [True, False, False]
    assert after.most_common() == [("a", 1), ("b", 1)]


def test_the_sign_of_a_quantity_is_the_formats_business(parsed):
    generic = parsed(f"{GENERIC_HEADER}\n1,10,2024-01-05,100,-2,1.00\n")
    rejects = Rejects(1)
    GENERIC.check_quantity_sign(generic, rejects)
    assert rejects.counts == {"negative quantity": 1}

    retail = parsed(
        f"{RETAIL_HEADER}\n1,100,Mug,-2,2024-01-05 10:00:00,1.00,10,France\n", ONLINE_RETAIL
    )
    rejects = Rejects(1)
    ONLINE_RETAIL.check_quantity_sign(retail, rejects)
    assert not rejects.mask.any()


def test_online_retail_status_comes_from_the_invoice_and_the_sign(parsed):
    lines = parsed(
        f"""
        {RETAIL_HEADER}
        1,100,Mug,2,2024-01-05 10:00:00,1.00,10,France
        2,100,Mug,-2,2024-01-05 10:00:00,1.00,10,France
        C3,100,Mug,-2,2024-01-05 10:00:00,1.00,10,France
        c4,100,Mug,2,2024-01-05 10:00:00,1.00,10,France
        5,100,Mug,2,2024-01-05 10:00:00,1.00,10,France
        5,101,Cup,-1,2024-01-05 10:00:00,1.00,10,France
        """,
        ONLINE_RETAIL,
    )
    rejects = Rejects(lines.n)
    status = ONLINE_RETAIL.order_status(lines, rejects)
    assert status.tolist()[:4] == ["completed", "returned", "cancelled", "cancelled"]
    assert reasons(rejects.freeze()) == {
        3: "cancellation Invoice with a positive Quantity: 'c4'",
        4: "Invoice mixes sales and returns: '5' (positive and negative Quantity)",
        5: "Invoice mixes sales and returns: '5' (positive and negative Quantity)",
    }


def test_generic_status_is_the_column_or_completed(parsed):
    with_column = parsed(f"{GENERIC_HEADER},status\n1,10,2024-01-05,100,2,1.00,Returned\n")
    assert GENERIC.order_status(with_column, Rejects(1)).tolist() == ["returned"]
    without = parsed(f"{GENERIC_HEADER}\n1,10,2024-01-05,100,2,1.00\n")
    assert GENERIC.order_status(without, Rejects(1)).tolist() == ["completed"]


def test_derived_attributes_are_the_most_frequent_value_first_seen_on_ties():
    key = np.array([1, 1, 1, 2, 2, 2])
    values = pd.Series(["a", "b", "b", "x", "y", ""])
    lines = np.arange(2, 8)
    accepted = np.array([True, True, True, True, True, True])
    got = ONLINE_RETAIL.derive(key, values, lines, accepted)
    assert got.to_dict() == {1: "b", 2: "x"}
    with pytest.raises(NotImplementedError):
        GENERIC.derive(key, values, lines, accepted)


def test_the_stages_chain_into_new_rows(parsed, memory_db):
    lines = parsed(
        f"""
        {GENERIC_HEADER}
        1,10,2024-01-05,100,2,1.50
        1,10,2024-01-05,101,1,2.00
        2,11,2024-01-06,100,1,abc
        2,11,2024-01-06,101,1,2.00
        """
    )
    validated = validate(lines)
    entities = resolve_entities(validated, memory_db)
    assert entities.customers.index.tolist() == [10, 11]  # from the lines valid on their own
    assert entities.existing_customers == frozenset()
    orders = check_orders(entities, memory_db)
    assert orders.accepted.tolist() == [True, True, False, False]
    rows = new_rows(orders)
    assert {name: t.num_rows for name, t in rows.tables.items()} == {
        "customers": 1,
        "products": 2,
        "orders": 1,
        "order_items": 2,
    }
    assert rows.rejected_orders == 1
    assert dict(rows.skipped) == {"customers": 0, "products": 0, "orders": 0, "order_items": 0}
    assert rows.tables["orders"]["total_amount"].to_pylist() == [Decimal("5.00")]
