"""When an activity runs: its schedules (RFC 5545 style, as Open Referral UK gives them) turned
into dated sessions, and into the weekly pattern FHIR's ``availableTime`` can say.

A weekly schedule runs on its ``byday`` days every ``interval`` weeks, a monthly one on its
``byday`` days of the month (``2MO`` the second Monday, ``-1FR`` the last Friday, ``MO`` every
Monday) every ``interval`` months; an ``interval`` above 1 counts from ``valid_from`` (RFC 5545
counts from DTSTART), so without ``valid_from`` it cannot be placed and gives no sessions, and
neither does a schedule without ``byday``. Only dates within ``valid_from``..``valid_to`` count.
Pure: plain values in and out.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from app.directory.vocabulary import WEEKDAYS, Frequency

HORIZON_DAYS = 366  # how far ahead sessions are looked for


class Recurrence(Protocol):
    """What the sessions are worked out from: a schedule as the API reads it
    (``ScheduleWrite``) or as a match card holds it (``CardSchedule``)."""

    @property
    def freq(self) -> Frequency: ...
    @property
    def interval(self) -> int | None: ...
    @property
    def byday(self) -> str | None: ...
    @property
    def opens_at(self) -> dt.time | None: ...
    @property
    def closes_at(self) -> dt.time | None: ...
    @property
    def valid_from(self) -> dt.date | None: ...
    @property
    def valid_to(self) -> dt.date | None: ...


@dataclass(frozen=True, order=True)
class Session:
    date: dt.date
    start: dt.time | None
    end: dt.time | None


@dataclass(frozen=True)
class Day:
    weekday: int  # Monday 0 .. Sunday 6
    ordinal: int | None  # 2 in 2MO, -1 in -1FR; None: every such weekday


def days(byday: str | None) -> list[Day]:
    """RFC 5545 BYDAY (``TU,TH``, ``2MO``, ``-1FR``) as `Day`s; parts not understood are left
    out."""
    found = []
    for part in (byday or "").upper().split(","):
        part = part.strip()
        if part[-2:] not in WEEKDAYS:
            continue
        number = part[:-2].lstrip("+")
        ordinal = int(number) if number.lstrip("-").isdigit() else None
        found.append(Day(WEEKDAYS.index(part[-2:]), ordinal or None))
    return found


def weekly_days(schedule: Recurrence) -> list[int] | None:
    """The weekdays of a schedule that runs every week on them (no interval, no ordinal), else
    None."""
    parsed = days(schedule.byday)
    if (schedule.interval or 1) != 1 or not parsed:
        return None
    if schedule.freq is Frequency.WEEKLY or all(d.ordinal is None for d in parsed):
        return sorted({d.weekday for d in parsed})
    return None


def _runs_on(schedule: Recurrence, parsed: list[Day], day: dt.date) -> bool:
    interval = schedule.interval or 1
    anchor = schedule.valid_from
    if schedule.freq is Frequency.MONTHLY:
        if interval > 1:
            if anchor is None:
                return False
            months = (day.year - anchor.year) * 12 + day.month - anchor.month
            if months % interval:
                return False
        last = calendar.monthrange(day.year, day.month)[1]
        return any(
            d.weekday == day.weekday()
            and (
                d.ordinal is None
                or d.ordinal == (day.day - 1) // 7 + 1
                or d.ordinal == -((last - day.day) // 7 + 1)
            )
            for d in parsed
        )
    if interval > 1:
        if anchor is None:
            return False
        weeks = (day - dt.timedelta(days=day.weekday())) - (
            anchor - dt.timedelta(days=anchor.weekday())
        )
        if (weeks.days // 7) % interval:
            return False
    return any(d.weekday == day.weekday() for d in parsed)


def _sessions(schedule: Recurrence, today: dt.date, count: int) -> Iterator[Session]:
    parsed = days(schedule.byday)
    if not parsed:
        return
    day = max(today, schedule.valid_from or today)
    end = today + dt.timedelta(days=HORIZON_DAYS)
    if schedule.valid_to is not None:
        end = min(end, schedule.valid_to)
    found = 0
    while day <= end and found < count:
        if _runs_on(schedule, parsed, day):
            found += 1
            yield Session(day, schedule.opens_at, schedule.closes_at)
        day += dt.timedelta(days=1)


def next_sessions(schedules: Sequence[Recurrence], today: dt.date, count: int = 3) -> list[Session]:
    """The first ``count`` sessions from ``today`` (included) over all the schedules, by date
    and start time."""
    found = {s for schedule in schedules for s in _sessions(schedule, today, count)}
    return sorted(found, key=lambda s: (s.date, s.start or dt.time.min, s.end or dt.time.max))[
        :count
    ]
