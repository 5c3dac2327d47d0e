"""The ``Filters`` value object: normalisation and one-line errors."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from sales_analytics.metrics import SEGMENT_NAMES, Filters


def test_defaults_are_empty():
    f = Filters()
    assert f.is_empty
    assert f.countries == () and f.segments == ()


def test_normalises_strings_lists_and_datetimes():
    f = Filters(start="2024-01-01", end=datetime(2024, 2, 1, 12), countries=["Germany"], segments="Lost")
    assert f.start == date(2024, 1, 1) and f.end == date(2024, 2, 1)
    assert f.countries == ("Germany",) and f.segments == ("Lost",)
    assert hash(f) == hash(Filters(date(2024, 1, 1), date(2024, 2, 1), ("Germany",), ("Lost",)))


def test_rejects_reversed_window():
    with pytest.raises(ValueError, match="filter start 2024-02-01 is after end 2024-01-01"):
        Filters(start=date(2024, 2, 1), end=date(2024, 1, 1))


def test_rejects_unknown_segment():
    with pytest.raises(ValueError, match="unknown segment\\(s\\) 'Heroes'"):
        Filters(segments=("Champions", "Heroes"))


def test_segment_names_follow_the_r_package():
    assert SEGMENT_NAMES == (
        "Champions", "Loyal Customers", "Potential Loyalist", "New Customers", "Promising",
        "Need Attention", "About To Sleep", "At Risk", "Can't Lose Them", "Lost", "Others",
    )  # fmt: skip
