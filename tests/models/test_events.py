"""The events calendar: built-in dates, the promotions CSV, features."""

from __future__ import annotations

import pickle
from datetime import date

import pandas as pd
import pytest

from sales_analytics.models.events import (
    EventCalendar,
    PromotionsError,
    black_friday,
    default_calendar,
    easter,
    event_features,
    read_promotions,
)
from sales_analytics.synth.seasonality import black_friday as synth_black_friday


def test_builtin_dates():
    assert [black_friday(y) for y in (2023, 2024, 2025)] == [
        date(2023, 11, 24), date(2024, 11, 29), date(2025, 11, 28)
    ]  # fmt: skip
    assert [easter(y) for y in (2023, 2024, 2025, 2026)] == [
        date(2023, 4, 9), date(2024, 3, 31), date(2025, 4, 20), date(2026, 4, 5)
    ]  # fmt: skip
    # the generator plants its Black Friday on the calendar's day
    assert all(synth_black_friday(y) == black_friday(y) for y in range(2000, 2040))
    days = EventCalendar().days("2024-01-01", "2024-12-31")
    by_family = days.groupby("family")["day"].agg(lambda d: [x.date().isoformat() for x in d])
    assert by_family["black_friday"] == ["2024-11-28", "2024-11-29", "2024-11-30", "2024-12-01"]
    assert by_family["cyber_monday"] == ["2024-12-02", "2024-12-03"]
    assert by_family["christmas"] == ["2024-12-24", "2024-12-25", "2024-12-26"]
    assert by_family["easter"] == ["2024-03-29", "2024-03-30", "2024-03-31", "2024-04-01"]


def test_promotions_csv_and_features(tmp_path, monkeypatch):
    path = tmp_path / "promotions.csv"
    path.write_text("name,start,end\nSpring sale,2024-03-10,2024-03-12\nFlash,2024-11-29,\n")
    promos = read_promotions(path)
    assert promos.to_dict("records") == [
        {"start": date(2024, 3, 10), "end": date(2024, 3, 12), "name": "Spring sale"},
        {"start": date(2024, 11, 29), "end": date(2024, 11, 29), "name": "Flash"},
    ]
    cal = EventCalendar.from_frame(promos, source=str(path))
    dates = pd.to_datetime(["2024-03-09", "2024-03-11", "2024-11-29", "2024-07-01"])
    assert cal.names(dates).tolist() == ["", "Spring sale", "Black Friday + Flash", ""]
    flags = cal.flags(dates)
    assert flags["event_promotion"].tolist() == [0, 1, 1, 0]
    assert flags["event_black_friday"].tolist() == [0, 0, 1, 0]
    features = event_features(cal)
    assert [f.__name__ for f in features][-1] == "event_promotion"
    assert [f.__name__ for f in event_features(EventCalendar())][-1] == "event_easter"
    again = pickle.loads(pickle.dumps(features[-1]))  # saved with the model
    assert again(dates).tolist() == [0, 1, 1, 0]
    monkeypatch.setenv("SA_PROMOTIONS_FILE", str(path))
    assert default_calendar() == cal
    monkeypatch.delenv("SA_PROMOTIONS_FILE")
    assert default_calendar() == EventCalendar()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("title,when\nx,2024-01-01\n", "needs columns name and date (or start and end); found: title, when"),
        ("name,date\nx,01/02/2024\n", "row 2: date '01/02/2024' is not a date written YYYY-MM-DD"),
        ("name,start,end\nx,2024-02-01,2024-01-01\n", "row 2: end 2024-01-01 is before start 2024-02-01"),
    ],
)  # fmt: skip
def test_promotions_errors_are_one_line(tmp_path, text, message):
    path = tmp_path / "p.csv"
    path.write_text(text)
    with pytest.raises(PromotionsError) as err:
        read_promotions(path)
    assert str(err.value) == f"{path}: {message}"
    with pytest.raises(PromotionsError, match="promotions file not found"):
        read_promotions(tmp_path / "missing.csv")
