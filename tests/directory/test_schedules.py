"""Schedules as dated sessions (app/directory/schedules.py): pure, no database."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.directory.schedules import Day, days, next_sessions, weekly_days
from app.directory.schemas import ScheduleWrite

TODAY = dt.date(2026, 12, 7)  # a Monday


def schedule(**values: Any) -> ScheduleWrite:
    return ScheduleWrite.model_validate(values)


def dates(schedules: list[ScheduleWrite], count: int = 3) -> list[str]:
    return [s.date.isoformat() for s in next_sessions(schedules, TODAY, count)]


def test_byday_parts() -> None:
    assert days("TU,TH") == [Day(1, None), Day(3, None)]
    assert days("2MO,-1FR,+3SU") == [Day(0, 2), Day(4, -1), Day(6, 3)]
    assert days(None) == days("") == []


def test_weekly_from_today_with_times() -> None:
    [first, *_] = next_sessions(
        [schedule(byday="MO,TH", opens_at="10:00", closes_at="12:00")], TODAY
    )
    assert (first.date, first.start, first.end) == (TODAY, dt.time(10), dt.time(12))
    assert dates([schedule(byday="MO,TH")]) == ["2026-12-07", "2026-12-10", "2026-12-14"]


def test_validity_bounds_the_sessions() -> None:
    assert dates([schedule(byday="TU", valid_from="2026-12-20")]) == [
        "2026-12-22",
        "2026-12-29",
        "2027-01-05",
    ]
    assert dates([schedule(byday="TU", valid_to="2026-12-15")]) == ["2026-12-08", "2026-12-15"]
    assert dates([schedule(byday="TU", valid_to="2026-12-01")]) == []


def test_every_other_week_counts_from_valid_from() -> None:
    fortnightly = schedule(byday="WE", interval=2, valid_from="2026-11-25")
    assert dates([fortnightly]) == ["2026-12-09", "2026-12-23", "2027-01-06"]
    assert dates([schedule(byday="WE", interval=2)]) == []  # cannot be placed


def test_monthly_ordinals() -> None:
    assert dates([schedule(freq="MONTHLY", byday="2MO")]) == [
        "2026-12-14",
        "2027-01-11",
        "2027-02-08",
    ]
    assert dates([schedule(freq="MONTHLY", byday="-1FR")]) == [
        "2026-12-25",
        "2027-01-29",
        "2027-02-26",
    ]
    assert dates([schedule(freq="MONTHLY", byday="1TU", interval=2, valid_from="2026-11-01")]) == [
        "2027-01-05",
        "2027-03-02",
        "2027-05-04",
    ]


def test_merged_in_order_without_repeats_and_unknown_days_give_nothing() -> None:
    both = [schedule(byday="FR", opens_at="18:00"), schedule(byday="FR,MO", opens_at="18:00")]
    assert dates(both, 4) == ["2026-12-07", "2026-12-11", "2026-12-14", "2026-12-18"]
    assert dates([schedule()]) == []


def test_weekly_days() -> None:
    assert weekly_days(schedule(byday="TU,TH")) == [1, 3]
    assert weekly_days(schedule(freq="MONTHLY", byday="TU")) == [1]
    assert weekly_days(schedule(freq="MONTHLY", byday="2TU")) is None
    assert weekly_days(schedule(byday="TU", interval=2)) is None
    assert weekly_days(schedule()) is None
