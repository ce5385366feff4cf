"""The reminder the day before a booked session (pure): its key, when it is due, and what it
says (the activity, the day, the time and the venue, in GOV.UK style: "Tuesday 8 December",
"10:30am to midday").

Sessions are in local time (the directory's schedules, app/directory/schedules.py), so "the
day before" is a day in Europe/London. A reminder is due from ``SEND_FROM`` that day (or at
once, for a booking made later that day); a session booked on its own day gets none.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from app.directory.schedules import Session

LONDON = ZoneInfo("Europe/London")
SEND_FROM = dt.time(10, 0)  # not before 10am: nobody wants a reminder at dawn
BOOKING_REMINDER = "booking-reminder"


def key(booking_id: uuid.UUID, day: dt.date) -> str:
    """The idempotency key: one reminder per booking and session day, whoever makes it."""
    return f"{BOOKING_REMINDER}:{booking_id}:{day.isoformat()}"


def tomorrow(now: dt.datetime) -> dt.date:
    return now.astimezone(LONDON).date() + dt.timedelta(days=1)


def due_at(day: dt.date, now: dt.datetime) -> dt.datetime:
    """When the reminder of a session on ``day`` goes: 10am the day before, or now if later."""
    start = dt.datetime.combine(day - dt.timedelta(days=1), SEND_FROM, tzinfo=LONDON)
    return max(now, start.astimezone(dt.UTC))


def clock(at: dt.time) -> str:
    """A time as GOV.UK writes it: 10am, 2:30pm, midday, midnight."""
    if at.hour == 12 and at.minute == 0:
        return "midday"
    if at.hour == 0 and at.minute == 0:
        return "midnight"
    hour = at.hour % 12 or 12
    suffix = "am" if at.hour < 12 else "pm"
    return f"{hour}{suffix}" if at.minute == 0 else f"{hour}:{at.minute:02d}{suffix}"


def when(session: Session) -> str:
    if session.start is None:
        return "see the activity's details for the time"
    if session.end is None:
        return clock(session.start)
    return f"{clock(session.start)} to {clock(session.end)}"


def venue(parts: Sequence[str | None], attending_type: str) -> str:
    """Where: the first location's name and address, else how the activity is attended."""
    words = ", ".join(p.strip() for p in parts if p and p.strip())
    if words:
        return words
    return {"online": "online", "phone": "by phone"}.get(
        attending_type, "see the activity's details"
    )


def personalisation(activity: str, session: Session, where: str) -> dict[str, str]:
    """The template's fields: ((activity)), ((date)), ((time)), ((venue))."""
    return {
        "activity": activity,
        "date": f"{session.date:%A} {session.date.day} {session.date:%B}",
        "time": when(session),
        "venue": where,
    }
