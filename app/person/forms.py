"""The ``/refer`` form (pure): its posted fields as a ``SelfReferralCreate`` with the problems
found; and the parsing and CSRF check of every form of the person's (the questionnaire page's
too, ``questionnaire_router.py``, with its own cookie).

Every problem is found on the first submit, as GOV.UK forms do: a field whose type is wrong (a
date that does not exist, a value too long) is noted and replaced by a harmless stand-in so the
rules of ``rules.py`` still run on the rest.

CSRF: the form is anonymous, so there is no session to tie a token to. A double-submit token: the
page sets a random token in a cookie (``SameSite=Strict``, ``HttpOnly``, ``Path=/refer``) and in a
hidden field, and a post is accepted only when both are there and equal; a post whose ``Origin``
header names another site is refused as well (browsers send ``Origin: null`` from a page whose
``Referrer-Policy`` is ``no-referrer``, as the service's are: that proves nothing either way).
Another site can make a browser post the form, but it can neither read nor set the cookie.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pydantic import ValidationError

from app.person import rules
from app.person.schemas import SelfReferralCreate

CSRF_COOKIE = "refer_csrf"
CSRF_FIELD = "csrf_token"
HONEYPOT = "website"
MAX_FIELDS = 120
LISTS = ("available_days", "accessibility_needs", "group_preferences", "interests")
PREFERENCES = ("attendance_mode", "digital_access", "max_travel_km", "free_only", "language")
STAND_INS: Mapping[str, Any] = {
    # what a field with a wrong type is replaced by, so the other rules can run
    "given_name": "-",
    "family_name": "-",
    "birth_date": "2000-01-01",
    "postcode": "LS1 4AP",
    "about": "-",
    "mobile": None,
    "email": None,
    "gp_practice": None,
    "nhs_number": None,
    "preferences": {},
}

Fields = dict[str, list[str]]


def parse(body: bytes, max_fields: int = MAX_FIELDS) -> Fields:
    """The posted fields, each with its values in order (a form is ``key=value&...``)."""
    fields: Fields = {}
    pairs = parse_qsl(
        body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=max_fields
    )
    for key, value in pairs:
        fields.setdefault(key, []).append(value)
    return fields


def one(fields: Fields, name: str) -> str:
    return (fields.get(name) or [""])[0].strip()


def _birth_date(fields: Fields) -> str | None:
    parts = [one(fields, f"birth_{p}") for p in ("year", "month", "day")]
    if not all(p.isdigit() for p in parts) or len(parts[0]) != 4:
        return None
    try:
        return dt.date(*(int(p) for p in parts)).isoformat()
    except ValueError:
        return None


def submitted(fields: Fields, today: dt.date) -> tuple[SelfReferralCreate, dict[str, str]]:
    """The self-referral the form describes, and its problems: field -> message id."""
    values: dict[str, Any] = {
        name: one(fields, name) or None
        for name in ("given_name", "family_name", "postcode", "mobile", "email", "about")
    }
    values |= {
        "gp_practice": one(fields, "gp_practice") or None,
        "nhs_number": one(fields, "nhs_number") or None,
        "consent": one(fields, "consent") == "yes",
        "website": one(fields, HONEYPOT) or None,
        "preferences": _preferences(fields),
    }
    errors: dict[str, str] = {}
    birth_date = _birth_date(fields)
    if birth_date is None:
        errors["birth_date"] = "error.birth_date"
    values["birth_date"] = birth_date or STAND_INS["birth_date"]
    for name in ("given_name", "family_name", "postcode", "about"):
        if values[name] is None:
            errors[name] = f"error.{name}"
            values[name] = STAND_INS[name]
    data = _validated(values, errors)
    for field, message in rules.problems(data, today):
        if field == "contact" and ({"mobile", "email"} & set(errors)):
            continue
        errors.setdefault(field, message)
    return data, errors


def _preferences(fields: Fields) -> dict[str, Any]:
    found: dict[str, Any] = {name: fields.get(name, []) for name in LISTS}
    for name in PREFERENCES:
        if one(fields, name):
            found[name] = one(fields, name)
    if "free_only" in found:
        found["free_only"] = found["free_only"] == "yes"
    return found


def _validated(values: dict[str, Any], errors: dict[str, str]) -> SelfReferralCreate:
    """``values`` as the model, each field with a wrong type noted in ``errors`` (too long,
    not a choice) and replaced by its stand-in."""
    for _ in range(len(STAND_INS) + 1):
        try:
            return SelfReferralCreate.model_validate(values)
        except ValidationError as invalid:
            for error in invalid.errors():
                field = _field(error["loc"])
                too_long = error["type"] in ("string_too_long", "too_long")
                errors.setdefault(field, "error.too_long" if too_long else "error.choice")
                values[str(error["loc"][0])] = STAND_INS.get(str(error["loc"][0]))
    raise AssertionError("the stand-ins are valid")


def _field(loc: Sequence[Any]) -> str:
    return f"preferences.{loc[1]}" if loc[0] == "preferences" and len(loc) > 1 else str(loc[0])


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def allowed_hosts(host: str | None, public_base_url: str | None) -> list[str]:
    """This service's hosts: the request's ``Host`` and that of its public base URL if set."""
    hosts = [host or ""]
    if public_base_url:
        hosts.append(urlsplit(public_base_url).netloc)
    return hosts


def same_site(origin: str | None, allowed_hosts: Sequence[str]) -> bool:
    """The post came from this site, when it says where it came from."""
    if origin is None or origin == "null":  # "null": the pages' Referrer-Policy no-referrer
        return True
    return urlsplit(origin).netloc in allowed_hosts


def csrf_ok(
    fields: Fields, cookie: str | None, origin: str | None, allowed_hosts: Sequence[str]
) -> bool:
    """The double-submit token matches and the post came from this site (when it says)."""
    token = one(fields, CSRF_FIELD)
    if not token or not cookie or not hmac.compare_digest(token, cookie):
        return False
    return same_site(origin, allowed_hosts)
