"""The situation and group-trait tables (app/terminology/situations.py): whole words, both
tables load, the person's situations from the GP's words and accessibility needs."""

from __future__ import annotations

from app.matching.labels import SITUATION_LABELS
from app.terminology.situations import (
    group_traits_in,
    person_situations,
    situation_codes,
    situations_in,
)


def test_phrases_match_whole_words_in_any_of_the_texts() -> None:
    assert situations_in("People with sight loss", None, "Talks and games") == {"sight-loss"}
    assert situations_in("Dance for Parkinson's") == {"parkinsons"}
    assert situations_in("COPD", "Type 2 diabetes") == {"lung-condition", "diabetes"}
    assert situations_in("A blindfold game", "Unemployment advice") == frozenset()
    assert situations_in(None) == frozenset()
    assert situations_in("Monthly workshop on tenants' rights") == {"tenant"}
    # a service for people behind on rent, or dealing with a landlord, is a renter's
    assert situations_in("For anyone behind on rent or bills") == {"tenant"}
    assert situations_in("Damp flat, landlord will not repair") == {"tenant"}
    # a debt clinic that also helps with rent arrears is not only for renters
    assert situations_in("Debts, rent arrears and benefit claims") == frozenset()


def test_group_traits() -> None:
    assert group_traits_in("A calm, quiet studio for up to 6") == {"quiet"}
    assert group_traits_in("Small group of 8") == {"small"}
    # busy, and too much for breathlessness or fatigue (scoring.TOO_MUCH_FOR)
    assert group_traits_in("High-energy boxing circuits") == {"busy", "strenuous"}
    assert group_traits_in("Brisk walking with poles") == {"strenuous"}
    assert group_traits_in("12-week GP exercise referral in the main gym") == {"gym"}
    assert group_traits_in("Gymnastics for children") == frozenset()  # whole words
    assert group_traits_in("Big, friendly choir") == {"busy"}
    assert group_traits_in("Smallholding tours") == frozenset()
    assert group_traits_in("A volunteer visits you at home for a chat") == {"home"}
    assert group_traits_in("Home visits for older people") == {"home"}


def test_a_person_is_in_the_situations_their_words_and_access_needs_tell() -> None:
    assert person_situations(["Brother took his own life"], []) == {"bereaved-by-suicide"}
    assert person_situations(["Inactive since injury"], ["wheelchair", "step-free"]) == {
        "physical-disability"
    }
    assert person_situations([], []) == frozenset()


def test_every_situation_has_a_label_for_the_reasons() -> None:
    assert situation_codes() <= SITUATION_LABELS.keys()
