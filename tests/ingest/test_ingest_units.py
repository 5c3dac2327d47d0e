"""Unit tests of the import's building blocks: key mapping, number parsing, line numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sales_analytics.ingest import stable_id
from sales_analytics.ingest.keys import HASH_BASE, map_keys, mix_ids
from sales_analytics.ingest.parse import (
    MISSING,
    NOT_NUMERIC,
    NOT_WHOLE,
    OK,
    OUT_OF_RANGE,
    TOO_PRECISE,
    parse_dates,
    parse_integer,
    parse_money,
)
from sales_analytics.ingest.reader import read_csv_file


def strings(values: list[str]) -> pd.Series:
    return pd.Series(values, dtype="string[pyarrow]")


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("489434", 489434),
        ("12345.0", 12345),
        (" 42 ", 42),
        ("0", 0),
        ("999999999999999999", 10**18 - 1),
    ],
)
def test_plain_integers_keep_their_number(key, expected):
    assert stable_id(key) == expected


@pytest.mark.parametrize("key", ["C489449", "85123A", "007", "-5", "1e3", "1234567890123456789"])
def test_other_keys_are_hashed_above_2_62(key):
    assert HASH_BASE <= stable_id(key) < 2**63


def test_hashed_ids_never_change():
    # pinned: a different value would give every re-imported row a new id (duplicates)
    assert stable_id("C489449") == 9000585410798596791
    assert stable_id("85123A") == 9005407852147677483


def test_map_keys_is_stable_id_vectorised():
    keys = ["489434", "12345.0", "C489449", "85123A", "007", "C489449", "7"]
    expected = [stable_id(k) for k in keys]
    assert map_keys(pd.Series(keys)).tolist() == expected


def test_mix_ids_are_deterministic_distinct_and_in_the_hash_range():
    base = np.repeat(np.arange(1, 2001, dtype=np.int64), 5)
    ordinal = np.tile(np.arange(5), 2000)
    ids = mix_ids(base, ordinal)
    assert len(np.unique(ids)) == len(ids)
    assert (ids >= HASH_BASE).all()
    assert (mix_ids(base, ordinal) == ids).all()


def test_parse_integer_codes():
    values, codes = parse_integer(strings(["3", "-2", "4.0", "1.5", "two", "", "3000000000", "+7"]))
    assert values.tolist() == [3, -2, 4, 0, 0, 0, 0, 7]
    assert codes.tolist() == [OK, OK, OK, NOT_WHOLE, NOT_NUMERIC, MISSING, OUT_OF_RANGE, OK]


def test_parse_money_is_cent_exact_and_never_rounds():
    cents, codes = parse_money(
        strings(["9.99", "0.1", "1.250", "-0.85", "0.001", "1,000", "£3", "", "12345678901", ".5"])
    )
    assert cents.tolist() == [999, 10, 125, -85, 0, 0, 0, 0, 0, 50]
    assert codes.tolist() == [
        OK, OK, OK, OK, TOO_PRECISE, NOT_NUMERIC, NOT_NUMERIC, MISSING, OUT_OF_RANGE, OK,
    ]  # fmt: skip


def test_parse_dates_iso_and_fallback_formats():
    got = parse_dates(
        strings(["2024-03-01", "2024-03-01T10:00:00Z", "12/1/2010 8:26", "2024-02-30", ""]),
        ("ISO8601", "%m/%d/%Y %H:%M"),
    )
    assert pd.Series(got).tolist()[:3] == [
        pd.Timestamp("2024-03-01"),
        pd.Timestamp("2024-03-01 10:00"),
        pd.Timestamp("2010-12-01 08:26"),
    ]
    assert np.isnat(got[3:]).all()


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_reader_line_numbers_fast_path(tmp_path, newline):
    path = tmp_path / "a.csv"
    path.write_bytes(newline.join(["a,b", "1,2", "3,4", "5,6"]).encode())
    raw = read_csv_file(path)
    assert raw.lines.tolist() == [2, 3, 4]
    assert raw.frame["b"].tolist() == ["2", "4", "6"]


def test_reader_line_numbers_exact_path(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b'a,b\n1,"x\ny"\n\n3\n4,5,6\n7,8')
    raw = read_csv_file(path)
    assert raw.lines.tolist() == [2, 5, 6, 7]
    assert raw.field_counts.tolist() == [2, 1, 3, 2]
    assert raw.frame["b"].tolist() == ["x\ny", "", "5", "8"]
