"""What a list shows of a person (pure): given name, family initial and age; never the NHS
number or the full name. And what tells two self-referrals of one person apart (``name_key``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PersonBrief:
    display_name: str  # "Amelia S."
    age: int


def brief(resource: dict[str, Any], birth_date: dt.date, today: dt.date) -> PersonBrief:
    """The brief of a Patient resource (its first name) on ``today``."""
    name = (resource.get("name") or [{}])[0]
    given = (name.get("given") or [""])[0]
    family = name.get("family") or ""
    display = " ".join(p for p in (given, f"{family[:1]}." if family else "") if p) or "(no name)"
    return PersonBrief(display, age(birth_date, today))


def age(birth_date: dt.date, today: dt.date) -> int:
    """Whole years from ``birth_date`` to ``today``."""
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - before_birthday


def name_key(resource: dict[str, Any]) -> str:
    """A Patient's first name, as compared: given and family names, case and spacing aside."""
    name = (resource.get("name") or [{}])[0]
    words = [*(name.get("given") or []), name.get("family") or "", name.get("text") or ""]
    return " ".join(" ".join(words).casefold().split())
