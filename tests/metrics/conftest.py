"""Fixtures for the metric tests: the pandas reference data and the filter sets every test runs."""

from __future__ import annotations

from datetime import date

import pytest

from sales_analytics.metrics import Filters

from . import reference

#: Every metric test runs once per filter set (ids are the keys).
FILTER_SETS: dict[str, Filters] = {
    "all": Filters(),
    "window": Filters(start=date(2024, 3, 1), end=date(2025, 6, 30)),
    "countries": Filters(countries=("United States", "Germany")),
    "segments": Filters(start=date(2024, 1, 1), segments=("Champions", "Loyal Customers", "At Risk")),
    "nothing": Filters(countries=("Atlantis",)),
}


@pytest.fixture(scope="session")
def ref(small_frames) -> reference.Data:
    return reference.load(small_frames)


@pytest.fixture(params=list(FILTER_SETS), ids=list(FILTER_SETS))
def filt(request) -> Filters:
    return FILTER_SETS[request.param]
