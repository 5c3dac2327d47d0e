"""Date query parameters are YYYY-MM-DD only: a number is not read as a Unix timestamp."""

from __future__ import annotations

from datetime import date

import pytest

from sales_analytics.api.params import iso_date

DATE_PATHS = ["/v1/metrics/kpis", "/v1/metrics/revenue", "/v1/customers/1"]


@pytest.fixture
def api(loaded_db, make_client):
    return make_client(loaded_db.url)


@pytest.mark.parametrize("path", DATE_PATHS)
@pytest.mark.parametrize(
    "params",
    [
        {"start": "0"},
        {"end": "20250101"},
        {"end": "0"},
        {"start": "1700000000"},
        {"start": "1.5"},
        {"start": "2025-1-1"},
        {"start": "01/02/2025"},
    ],
)
def test_numbers_and_other_spellings_are_not_dates(api, path, params):
    r = api.get(path, params=params)
    assert r.status_code == 422, r.text
    ((name, value),) = params.items()
    (error,) = r.json()["detail"]
    assert error["loc"] == ["query", name]
    assert error["msg"] == f"Value error, dates are YYYY-MM-DD, not {value!r}"


@pytest.mark.parametrize("path", DATE_PATHS)
def test_iso_dates_still_work(api, path):
    r = api.get(path, params={"start": "2025-01-01", "end": "2025-06-30"})
    assert r.status_code == 200, r.text
    assert api.get(path, params={"start": "1899-12-31"}).status_code == 422  # the bounds hold


def test_iso_date_validator():
    assert iso_date("2025-01-01") == date(2025, 1, 1) and iso_date(None) is None
    assert (
        iso_date("2025-13-01") == "2025-13-01"
    )  # left to pydantic: "Input should be a valid date"
    for bad in (0, 20250101, "20250101", " 2025-01-01", "2025-01-01T00:00:00"):
        with pytest.raises(ValueError, match="dates are YYYY-MM-DD"):
            iso_date(bad)
    with pytest.raises(ValueError, match="greater than or equal to 1900-01-01"):
        iso_date("1899-12-31")
    with pytest.raises(ValueError, match="less than or equal to 2999-12-31"):
        iso_date("3000-01-01")


def test_the_schema_still_says_date(api):
    spec = api.get("/openapi.json").json()
    params = {p["name"]: p for p in spec["paths"]["/v1/metrics/kpis"]["get"]["parameters"]}
    assert params["start"]["schema"]["anyOf"] == [
        {"type": "string", "format": "date"},
        {"type": "null"},
    ]
