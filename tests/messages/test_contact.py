"""Where a message can reach the person: mobile or email from ``telecom``, the opt-out."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from app.messages import contact

TODAY = dt.date(2026, 12, 7)


def _patient(*points: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Patient", "telecom": list(points)}


@pytest.mark.parametrize(
    ("number", "mobile"),
    [
        ("07700 900461", True),
        ("+44 7700 900461", True),
        ("(07700) 900-461", True),
        ("0044 7700900461", True),
        ("020 7946 0000", False),
        ("07700 90046", False),
        ("7700900461", False),
    ],
)
def test_uk_mobile_numbers(number: str, mobile: bool) -> None:
    assert contact.is_uk_mobile(number) is mobile


def test_mobile_and_email_by_rank_skipping_old_and_ended() -> None:
    patient = _patient(
        {"system": "phone", "value": "07700 900001", "use": "old"},
        {"system": "phone", "value": "07700 900002", "period": {"end": "2026-01-01"}},
        {"system": "phone", "value": "07700 900003", "rank": 2},
        {"system": "sms", "value": "07700 900004", "rank": 1},
        {"system": "phone", "value": "020 7946 0000"},
        {"system": "email", "value": "not an address"},
        {"system": "email", "value": " rose@example.org "},
    )
    assert contact.reachable(patient, {}, TODAY) == {
        "sms": "07700 900004",
        "email": "rose@example.org",
    }


def test_a_phone_marked_mobile_counts_whatever_its_shape() -> None:
    patient = _patient({"system": "phone", "value": "+33 6 12 34 56 78", "use": "mobile"})
    assert contact.reachable(patient, {}, TODAY) == {"sms": "+33 6 12 34 56 78"}


def test_opting_out_leaves_nothing() -> None:
    patient = _patient({"system": "sms", "value": "07700 900004"})
    assert contact.reachable(patient, {"contact_by_message": False}, TODAY) == {}
    assert contact.reachable(patient, {"contact_by_message": True}, TODAY) != {}
    assert contact.reachable({"resourceType": "Patient"}, {}, TODAY) == {}


def test_a_text_first_when_it_has_a_template_else_an_email() -> None:
    found = {"sms": "07700 900004", "email": "rose@example.org"}
    both = {"sms": True, "email": True}
    assert contact.choose(found, both) == contact.Contact("sms", "07700 900004")
    assert contact.choose(found, {"sms": False, "email": True}) == contact.Contact(
        "email", "rose@example.org"
    )
    assert contact.choose({"email": "rose@example.org"}, {"sms": True}) is None
    assert "rose" not in repr(contact.choose(found, {"email": True}))
