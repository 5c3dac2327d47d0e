"""Implausible order dates are rejected with a reason, the window comes from the settings, and a
date beyond pandas' Timestamp range (after 2262) gets that same reason, not "unparseable"."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from sales_analytics.config import Settings, SettingsError, get_settings
from sales_analytics.ingest import DateWindow, import_csv
from sales_analytics.ingest.dates import beyond_pandas
from tests.ingest.conftest import RETAIL_HEADER, rejects, table

BEFORE = "is before 1990-01-01 (SA_MIN_ORDER_DATE)"
AFTER = "(now + 1 day, SA_MAX_FUTURE_DAYS)"


@pytest.fixture(autouse=True)
def default_window(monkeypatch):
    for name in ("SA_MIN_ORDER_DATE", "SA_MAX_FUTURE_DAYS", "SA_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)


def in_days(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


def test_implausible_dates_are_rejected_with_the_window_and_the_setting(db, write_csv):
    later = in_days(2)
    path = write_csv(
        f"""
        order_id,customer_id,order_date,product_id,quantity,unit_price
        1,10,2024-01-05 10:00:00,100,2,9.99
        2,11,1850-06-01,100,1,9.99
        3,12,2205-01-01,100,1,9.99
        4,13,2300-01-01,100,1,9.99
        5,14,{later},100,1,9.99
        6,15,2300-02-30,100,1,9.99
        7,16,1989-12-31 23:59:59,100,1,9.99
        8,17,1990-01-01,100,1,9.99
        9,18,{date.today().isoformat()},100,1,9.99
        """
    )
    result = import_csv(db, path, "generic")

    reasons = rejects(result)
    assert reasons[3] == f"implausible order_date: '1850-06-01' {BEFORE}"
    assert reasons[8] == f"implausible order_date: '1989-12-31 23:59:59' {BEFORE}"
    for line, written in ((4, "2205-01-01"), (5, "2300-01-01"), (6, later)):
        assert reasons[line].startswith(f"implausible order_date: '{written}' is after ")
        assert reasons[line].endswith(AFTER)
    # a malformed day stays "unparseable", even in a year pandas cannot hold
    assert reasons[7].startswith("unparseable order_date: '2300-02-30'")
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8]
    assert result.reasons == {"implausible order_date": 5, "unparseable order_date": 1}
    assert table(db, "orders")["order_id"].tolist() == [1, 8, 9]


def test_one_implausible_line_rejects_its_whole_order_and_sets_no_created_at(db, write_csv):
    path = write_csv(
        """
        order_id,customer_id,order_date,product_id,quantity,unit_price
        1,10,2024-01-05,100,1,2.00
        1,10,2024-01-05,101,1,3.00
        2,10,2300-01-01,100,1,2.00
        2,10,2300-01-01,102,1,2.00
        3,11,1850-06-01,103,1,2.00
        """
    )
    result = import_csv(db, path, "generic")

    assert set(rejects(result)) == {4, 5, 6}
    assert result.loaded == {"customers": 1, "products": 2, "orders": 1, "order_items": 2}
    customers = table(db, "customers")
    assert customers["customer_id"].tolist() == [10]
    assert customers["created_at"].tolist() == [pd.Timestamp("2024-01-05")]
    assert table(db, "products")["created_at"].max() == pd.Timestamp("2024-01-05")
    # nothing of the rejected orders half-loaded: no item, product or customer of theirs
    assert sorted(table(db, "order_items")["order_id"].unique()) == [1]


def test_online_retail_dates_in_both_layouts(db, write_csv):
    path = write_csv(
        f"""
        {RETAIL_HEADER}
        1,A,Mug,1,2010-12-01 08:26:00,2.00,12345.0,France
        2,A,Mug,1,12/1/1850 8:26,2.00,12346.0,France
        3,A,Mug,1,12/1/2300 8:26,2.00,12347.0,France
        4,A,Mug,1,2205-01-01 08:26:00,2.00,12348.0,France
        """
    )
    result = import_csv(db, path, "online-retail")

    reasons = rejects(result)
    assert reasons[3] == f"implausible InvoiceDate: '12/1/1850 8:26' {BEFORE}"
    assert reasons[4].startswith("implausible InvoiceDate: '12/1/2300 8:26' is after")
    assert reasons[5].startswith("implausible InvoiceDate: '2205-01-01 08:26:00' is after")
    assert result.loaded["orders"] == 1


def test_the_window_comes_from_the_settings(db, write_csv, monkeypatch):
    monkeypatch.setenv("SA_MIN_ORDER_DATE", "2020-01-01")
    monkeypatch.setenv("SA_MAX_FUTURE_DAYS", "5")
    path = write_csv(
        f"""
        order_id,customer_id,order_date,product_id,quantity,unit_price
        1,10,2019-12-31,100,1,2.00
        2,10,{in_days(2)},100,1,2.00
        3,10,{in_days(7)},100,1,2.00
        """
    )
    result = import_csv(db, path, "generic")

    reasons = rejects(result)
    assert reasons == {
        2: "implausible order_date: '2019-12-31' is before 2020-01-01 (SA_MIN_ORDER_DATE)",
        4: reasons[4],
    }
    assert reasons[4].endswith("(now + 5 days, SA_MAX_FUTURE_DAYS)")
    assert table(db, "orders")["order_id"].tolist() == [2]


def test_an_explicit_window_wins_and_is_inclusive(db, write_csv):
    window = DateWindow(datetime(2024, 1, 1), datetime(2024, 1, 31, 12), 0)
    path = write_csv(
        """
        order_id,customer_id,order_date,product_id,quantity,unit_price
        1,10,2024-01-01,100,1,2.00
        2,10,2024-01-31 12:00:00,100,1,2.00
        3,10,2024-01-31 12:00:01,100,1,2.00
        """
    )
    result = import_csv(db, path, "generic", window=window)
    assert rejects(result) == {
        4: "implausible order_date: '2024-01-31 12:00:01' is after 2024-01-31 12:00 "
        "(now + 0 days, SA_MAX_FUTURE_DAYS)"
    }


def test_window_from_settings_uses_the_shop_clock():
    now = datetime(2025, 6, 1, 10, 30)
    settings = Settings(min_order_date=date(2000, 1, 1), max_future_days=3)
    window = DateWindow.from_settings(settings, now=now)
    assert window.earliest == datetime(2000, 1, 1)
    assert window.latest == datetime(2025, 6, 4, 10, 30)


def test_beyond_pandas_reads_the_year_before_converting():
    s = pd.Series(
        ["2300-01-01", "1500-06-01", "1850-06-01", "2300-02-30", "garbage", "", "12/1/2300 8:26",
         "2262-12-31", "9999-12-31T23:59:59Z"],
        dtype="string[pyarrow]",
    )  # fmt: skip
    formats = ("ISO8601", "%m/%d/%Y %H:%M")
    from sales_analytics.ingest.parse import parse_dates

    parsed = parse_dates(s, formats)
    beyond = beyond_pandas(s, formats, parsed)
    assert beyond.tolist() == [1, -1, 0, 0, 0, 0, 1, 1, 1]
    assert beyond.dtype == np.int8


@pytest.mark.parametrize(
    "name, value",
    [
        ("SA_MIN_ORDER_DATE", "0"),
        ("SA_MIN_ORDER_DATE", "19900101"),
        ("SA_MIN_ORDER_DATE", "1990-13-01"),
        ("SA_MAX_FUTURE_DAYS", "-1"),
        ("SA_MAX_FUTURE_DAYS", "soon"),
    ],
)
def test_bad_window_settings_name_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        get_settings()
