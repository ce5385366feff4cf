"""Reading back the words a need was found in, every reason's words, and the needs in the order
the GP gave them, from the stored ServiceRequest."""

from __future__ import annotations

from app.referrals.needs import in_reason_order, reason_texts, words_at
from app.terminology.codesystems import NEED_SYSTEM

SR = {
    "reasonCode": [
        {"coding": [{"system": "urn:x", "code": "1"}], "text": "Money worries"},
        {"coding": [{"system": "urn:x", "code": "2", "display": "Recently bereaved"}]},
    ]
}


def test_words_are_read_from_the_element_named() -> None:
    assert words_at(SR, "reasonCode[0].text") == "Money worries"
    assert words_at(SR, "reasonCode[1].coding[0].display") == "Recently bereaved"


def test_an_element_that_is_not_there_gives_nothing() -> None:
    for where in (
        "reasonCode[1].text",
        "reasonCode[2].text",
        "reasonCode[0].coding[0].display",
        "reasonCode[0].coding[5].display",
        "reasonCode[0].code",
        "note[0].text",
    ):
        assert words_at(SR, where) is None
    assert words_at({}, "reasonCode[0].text") is None


def test_every_reasons_words() -> None:
    assert reason_texts(SR) == ["Money worries", "Recently bereaved"]
    assert reason_texts({"reasonCode": [{"text": " "}, "x"]}) == []


def test_needs_come_in_the_order_of_their_reasons() -> None:
    sr = {
        "reasonCode": [
            {"coding": [{"system": NEED_SYSTEM, "code": "low-mood"}]},
            {"coding": [{"system": "urn:x", "code": "2"}], "text": "In debt"},
            {"coding": [{"system": NEED_SYSTEM, "code": "bereavement"}]},
        ]
    }
    # as the database gives them: by code; a need from a mapping (no position) comes last
    stored = [
        ("anxiety-stress", None),
        ("bereavement", None),
        ("debt-finance", "reasonCode[1].text"),
        ("low-mood", None),
    ]
    assert in_reason_order(sr, stored) == [
        ("low-mood", None),
        ("debt-finance", "reasonCode[1].text"),
        ("bereavement", None),
        ("anxiety-stress", None),
    ]
