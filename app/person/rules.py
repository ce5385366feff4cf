"""The rules of a self-referral (pure): what ``schemas.py``'s types cannot say. One place for
both the API and the ``/refer`` form; each problem names its field and a message id of
``text.py``."""

from __future__ import annotations

import datetime as dt
import re

from app.person.schemas import SelfReferralCreate
from app.referrals import nhs_number
from app.referrals.intake import UK_POSTCODE
from app.referrals.people import age
from app.terminology.codesystems import activity_category_codes

MIN_AGE = 16
UK_MOBILE = re.compile(r"^(?:\+44|0044|0)(7\d{9})$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
SEPARATORS = re.compile(r"[\s\-().]")

Problem = tuple[str, str]  # (field, message id)


def postcode(raw: str) -> str:
    """A postcode as stored: upper case, single spaces, the inward code apart (``LS14AP`` ->
    ``LS1 4AP``)."""
    squeezed = "".join(raw.upper().split())
    return f"{squeezed[:-3]} {squeezed[-3:]}" if len(squeezed) > 3 else squeezed


def mobile(raw: str) -> str | None:
    """A UK mobile number in its national form (``07700900982``), or None when it is not one."""
    found = UK_MOBILE.match(SEPARATORS.sub("", raw))
    return f"0{found.group(1)}" if found else None


def problems(data: SelfReferralCreate, today: dt.date) -> list[Problem]:
    """Every rule the self-referral breaks, in the order of the form."""
    found: list[Problem] = []
    if not data.given_name.strip():
        found.append(("given_name", "error.given_name"))
    if not data.family_name.strip():
        found.append(("family_name", "error.family_name"))
    if data.birth_date > today:
        found.append(("birth_date", "error.birth_date.future"))
    elif age(data.birth_date, today) < MIN_AGE:
        found.append(("birth_date", "error.birth_date.under_16"))
    if not UK_POSTCODE.match(postcode(data.postcode)):
        found.append(("postcode", "error.postcode"))
    given_mobile, given_email = (data.mobile or "").strip(), (data.email or "").strip()
    if not given_mobile and not given_email:
        found.append(("contact", "error.contact"))
    if given_mobile and mobile(given_mobile) is None:
        found.append(("mobile", "error.mobile"))
    if given_email and not EMAIL.match(given_email):
        found.append(("email", "error.email"))
    if not data.about.strip():
        found.append(("about", "error.about"))
    unknown = set(data.preferences.interests) - activity_category_codes()
    if unknown:
        found.append(("preferences.interests", "error.choice"))
    if {"women-only", "men-only"} <= set(data.preferences.group_preferences):
        found.append(("preferences.group_preferences", "error.choice"))
    if data.nhs_number and data.nhs_number.strip() and not nhs_number.is_valid(data.nhs_number):
        found.append(("nhs_number", "error.nhs_number"))
    if data.consent is not True:
        found.append(("consent", "error.consent"))
    return found
