"""The reminder the day before a session: its day in London, when it is due, its words."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from app.directory.schedules import Session
from app.messages import reminders


@pytest.mark.parametrize(
    ("at", "words"),
    [
        (dt.time(10), "10am"),
        (dt.time(10, 30), "10:30am"),
        (dt.time(12), "midday"),
        (dt.time(0), "midnight"),
        (dt.time(12, 15), "12:15pm"),
        (dt.time(19), "7pm"),
    ],
)
def test_times_in_govuk_style(at: dt.time, words: str) -> None:
    assert reminders.clock(at) == words


def test_tomorrow_is_londons() -> None:
    # 23:30 UTC on 1 July is 00:30 on 2 July in London (BST): tomorrow is 3 July.
    assert reminders.tomorrow(dt.datetime(2026, 7, 1, 23, 30, tzinfo=dt.UTC)) == dt.date(2026, 7, 3)
    # In winter London is UTC.
    assert reminders.tomorrow(dt.datetime(2026, 12, 7, 23, 30, tzinfo=dt.UTC)) == dt.date(
        2026, 12, 8
    )


def test_due_from_10am_london_the_day_before_or_now_if_later() -> None:
    early = dt.datetime(2026, 7, 1, 6, 0, tzinfo=dt.UTC)
    assert reminders.due_at(dt.date(2026, 7, 2), early) == dt.datetime(
        2026, 7, 1, 9, 0, tzinfo=dt.UTC
    )  # 10am BST
    late = dt.datetime(2026, 12, 7, 15, 0, tzinfo=dt.UTC)
    assert reminders.due_at(dt.date(2026, 12, 8), late) == late


def test_the_key_is_one_per_booking_and_day() -> None:
    booking = uuid.UUID("5f0c6a43-1c39-4c55-9a53-0d7e5e6b9b11")
    assert reminders.key(booking, dt.date(2026, 12, 8)) == (
        "booking-reminder:5f0c6a43-1c39-4c55-9a53-0d7e5e6b9b11:2026-12-08"
    )


def test_what_the_reminder_says() -> None:
    session = Session(dt.date(2026, 12, 8), dt.time(10, 30), dt.time(12))
    where = reminders.venue(["Dalston Library", "Dalston Square", None, "E8 3BQ"], "in-person")
    assert reminders.personalisation("Tuesday Singers", session, where) == {
        "activity": "Tuesday Singers",
        "date": "Tuesday 8 December",
        "time": "10:30am to midday",
        "venue": "Dalston Library, Dalston Square, E8 3BQ",
    }
    assert reminders.venue([], "online") == "online"
    assert reminders.when(Session(dt.date(2026, 12, 8), None, None)) == (
        "see the activity's details for the time"
    )
