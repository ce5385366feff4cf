"""Reading back the words a need was found in, from the stored ServiceRequest."""

from __future__ import annotations

from app.referrals.needs import words_at

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
