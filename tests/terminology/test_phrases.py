"""Free text -> needs: normalising, whole-phrase matching and the shipped phrase list."""

from __future__ import annotations

import pytest

from app.terminology.codesystems import need_codes
from app.terminology.phrases import OTHER, PhraseIndex, normalise, shipped_index, shipped_phrases


def test_normalise_folds_case_drops_punctuation_and_collapses_space() -> None:
    assert normalise("  Money   WORRIES!! ") == "money worries"
    assert normalise("Can\u2019t afford\nthe rent; in-debt") == "can t afford the rent in debt"
    assert normalise("...") == ""


@pytest.mark.parametrize(
    ("text", "needs"),
    [
        ("Money worries", ("debt-finance",)),
        ("She is in debt", ("debt-finance",)),
        ("rent arrears", ("debt-finance",)),
        ("Recently bereaved", ("bereavement",)),
        ("Lost her husband last year", ("bereavement",)),
        ("grief", ("bereavement",)),
        ("Very lonely, isolated", ("loneliness-isolation",)),
        ("anxious", ("anxiety-stress",)),
        ("work stress", ("anxiety-stress",)),
        ("Low mood", ("low-mood",)),
        ("depressed", ("low-mood",)),
        ("carer for his mother", ("carer-support",)),
        ("caring for her son", ("carer-support",)),
        ("Housing", ("housing",)),
        ("homeless", ("housing",)),
        ("facing eviction", ("housing",)),
        ("unemployed", ("employment-learning",)),
        ("wants a job", ("employment-learning",)),
        ("inactive", ("physical-inactivity",)),
        ("Sedentary", ("physical-inactivity",)),
        # several needs, in the order the text names them
        (
            "Grieving and lonely; money worries",
            ("bereavement", "loneliness-isolation", "debt-finance"),
        ),
    ],
)
def test_shipped_phrases_find_the_needs(text: str, needs: tuple[str, ...]) -> None:
    assert shipped_index().needs_in(text) == needs


def test_only_whole_words_match() -> None:
    index = PhraseIndex({"debt": "debt-finance", "low mood": "low-mood"})
    assert index.needs_in("indebtedness") == ()
    assert index.needs_in("debt.") == ("debt-finance",)
    assert index.needs_in("mood is low") == ()
    assert index.needs_in("LOW-MOOD") == ("low-mood",)


def test_a_phrase_set_to_other_finds_nothing() -> None:
    index = PhraseIndex({"job": OTHER, "debt": "debt-finance"})
    assert index.needs_in("job and debt") == ("debt-finance",)


def test_the_shipped_list_is_sound() -> None:
    phrases = shipped_phrases()
    assert len({p.phrase for p in phrases}) == len(phrases)
    assert all(p.phrase == normalise(p.phrase) and p.phrase for p in phrases)
    assert all(p.need in need_codes() and p.need != OTHER for p in phrases)
    assert all(p.note for p in phrases)
    # every need but other can be found from text
    assert {p.need for p in phrases} == need_codes() - {OTHER}
