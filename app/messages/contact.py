"""Where a message can reach the person (pure): their mobile number or email address, from the
Patient's ``telecom``, unless the referral says they want no texts or emails.

The referral records contact as FHIR ``ContactPoint``s: a number with ``system`` ``sms``, or
``phone`` with ``use`` ``mobile`` or a UK mobile number (07..., +447...), can take a text; an
``email`` an email. Lower ``rank`` first; ``use`` ``old`` and ended ``period``s are skipped.
The person opts out with the referral preference ``contactByMessage`` = false (docs/fhir.md);
absent, the referral's active Consent covers the service's reminders (docs/messages.md).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SMS, EMAIL = "sms", "email"
CHANNELS = (SMS, EMAIL)  # in order of preference
_UK_MOBILE = re.compile(r"^(?:\+44|0044|0)7\d{9}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Contact:
    channel: str
    address: str  # health data: never logged

    def __repr__(self) -> str:  # an error report or a debugger must not show the address
        return f"Contact(channel={self.channel!r})"


def is_uk_mobile(number: str) -> bool:
    return _UK_MOBILE.match(re.sub(r"[\s().-]", "", number)) is not None


def reachable(
    patient: Mapping[str, Any], preferences: Mapping[str, Any], today: dt.date
) -> dict[str, str]:
    """The person's address on each channel they can be reached on (none when opted out)."""
    if preferences.get("contact_by_message") is False:
        return {}
    points = [p for p in patient.get("telecom") or [] if isinstance(p, dict)]
    ranked = sorted(enumerate(points), key=lambda item: (_rank(item[1]), item[0]))
    found: dict[str, str] = {}
    for _, point in ranked:
        value = point.get("value")
        if not isinstance(value, str) or point.get("use") == "old" or _ended(point, today):
            continue
        system = point.get("system")
        if system == EMAIL and _EMAIL.match(value.strip()):
            found.setdefault(EMAIL, value.strip())
        elif system in ("sms", "phone") and (
            system == "sms" or point.get("use") == "mobile" or is_uk_mobile(value)
        ):
            found.setdefault(SMS, value.strip())
    return found


def choose(found: Mapping[str, str], usable: Mapping[str, bool]) -> Contact | None:
    """The channel to use: a text when there is a number and a template, else an email."""
    for channel in CHANNELS:
        if channel in found and usable.get(channel):
            return Contact(channel, found[channel])
    return None


def _rank(point: Mapping[str, Any]) -> int:
    rank = point.get("rank")
    return rank if isinstance(rank, int) and not isinstance(rank, bool) else 1_000_000


def _ended(point: Mapping[str, Any], today: dt.date) -> bool:
    end = (point.get("period") or {}).get("end")
    if not isinstance(end, str):
        return False
    try:
        return dt.date.fromisoformat(end[:10]) < today
    except ValueError:
        return False
