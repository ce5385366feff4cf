from __future__ import annotations

from app.terminology.codesystems import NEED_SYSTEM, SNOMED_SYSTEM
from app.terminology.phrases import PhraseIndex
from app.terminology.resolver import Coding, Reason, resolve_reasons

LONELY = "loneliness-isolation"
MAPPING = {"422650009": "loneliness-isolation", "73438004": "employment-learning"}


def need(code: str) -> Coding:
    return Coding(NEED_SYSTEM, code)


def sct(code: str, display: str | None = None) -> Coding:
    return Coding(SNOMED_SYSTEM, code, display)


def test_need_codes_directly_in_order_without_duplicates() -> None:
    result = resolve_reasons(
        [
            Reason([need("low-mood")]),
            Reason([need("housing"), need("low-mood")]),
            Reason([need("low-mood")], text="feels down"),
        ],
        MAPPING,
    )
    assert result.needs == ("low-mood", "housing")
    assert result.texts == ()
    assert result.warnings == result.errors == ()


def test_snomed_concepts_through_the_mapping() -> None:
    result = resolve_reasons(
        [Reason([sct("422650009", "Social isolation")]), Reason([sct("73438004")])], MAPPING
    )
    assert result.needs == ("loneliness-isolation", "employment-learning")
    assert result.warnings == ()


def test_text_only_becomes_other_with_the_text_kept() -> None:
    result = resolve_reasons([Reason(text="  wants to learn to swim ")], MAPPING)
    assert result.needs == ("other",)
    assert result.texts == ("wants to learn to swim",)


def test_unknown_snomed_becomes_other_with_display_and_a_warning() -> None:
    result = resolve_reasons([Reason([sct("871731000000106", "Referral to SP service")])], {})
    assert result.needs == ("other",)
    assert result.texts == ("Referral to SP service",)
    (warning,) = result.warnings
    assert warning.expression == "reasonCode[0].coding[0].code"
    assert "871731000000106" in warning.message
    assert "not mapped" in warning.message
    assert result.errors == ()


def test_reason_text_wins_over_an_unmapped_display() -> None:
    result = resolve_reasons([Reason([sct("871731000000106", "x")], text="in the GP's words")], {})
    assert result.texts == ("in the GP's words",)


def test_malformed_snomed_id_is_named_in_the_warning() -> None:
    result = resolve_reasons([Reason([sct("422650008", "typo")])], MAPPING)
    assert result.needs == ("other",)
    assert "Verhoeff" in result.warnings[0].message


def test_a_mapped_coding_beats_an_unmapped_translation() -> None:
    result = resolve_reasons(
        [
            Reason(
                [
                    Coding("http://hl7.org/fhir/sid/icd-10", "Z60.2", "Living alone"),
                    sct("422650009"),
                ]
            )
        ],
        MAPPING,
    )
    assert result.needs == ("loneliness-isolation",)
    assert result.texts == ()
    assert result.warnings[0].expression == "reasonCode[0].coding[0].system"


def test_other_system_display_is_kept() -> None:
    result = resolve_reasons(
        [Reason([Coding("http://hl7.org/fhir/sid/icd-10", "Z56.0", "Unemployment")])], MAPPING
    )
    assert result.needs == ("other",)
    assert result.texts == ("Unemployment",)


def test_explicit_other_keeps_its_text() -> None:
    result = resolve_reasons([Reason([need("other")], text="hoarding")], MAPPING)
    assert result.needs == ("other",)
    assert result.texts == ("hoarding",)


def test_errors_name_the_element() -> None:
    result = resolve_reasons(
        [
            Reason([need("lonely")]),
            Reason(),
            Reason([Coding(NEED_SYSTEM, "  ")]),
            Reason([Coding("urn:x", "1")]),
            Reason([need("bereavement")]),
        ],
        MAPPING,
    )
    assert result.needs == ("bereavement",)
    assert [e.expression for e in result.errors] == [
        "reasonCode[0].coding[0].code",
        "reasonCode[1]",
        "reasonCode[2].coding[0].code",
        "reasonCode[3]",
    ]
    assert "lonely" in result.errors[0].message


def test_mapping_to_an_unknown_need_is_not_trusted() -> None:
    result = resolve_reasons([Reason([sct("422650009", "Social isolation")])], {"422650009": "x"})
    assert result.needs == ("other",)


PHRASES = PhraseIndex(
    {"money worries": "debt-finance", "bereaved": "bereavement", "lonely": LONELY}
)


def test_text_only_is_mapped_by_phrases_and_remembers_where() -> None:
    result = resolve_reasons(
        [Reason(text="Money worries"), Reason(text="Recently bereaved, lonely")], {}, PHRASES
    )
    assert result.needs == ("debt-finance", "bereavement", LONELY)
    assert result.texts == ()
    assert result.found_in == {
        "debt-finance": "reasonCode[0].text",
        "bereavement": "reasonCode[1].text",
        LONELY: "reasonCode[1].text",
    }


def test_unmapped_snomed_display_is_mapped_by_phrases() -> None:
    result = resolve_reasons([Reason([sct("871731000000106", "Money worries")])], {}, PHRASES)
    assert result.needs == ("debt-finance",)
    assert result.found_in == {"debt-finance": "reasonCode[0].coding[0].display"}
    (warning,) = result.warnings
    assert "not mapped" in warning.message
    assert "found in the text" in warning.message


def test_unmatched_text_is_other_and_remembered() -> None:
    result = resolve_reasons([Reason(text="hoarding")], {}, PHRASES)
    assert result.needs == ("other",)
    assert result.texts == ("hoarding",)
    assert result.found_in == {"other": "reasonCode[0].text"}


def test_a_coded_need_is_not_second_guessed_by_its_text() -> None:
    result = resolve_reasons([Reason([need("low-mood")], text="lonely")], {}, PHRASES)
    assert result.needs == ("low-mood",)
    assert result.found_in == {}


def test_explicit_other_is_refined_by_its_text() -> None:
    result = resolve_reasons([Reason([need("other")], text="money worries")], {}, PHRASES)
    assert result.needs == ("debt-finance",)
    assert result.found_in == {"debt-finance": "reasonCode[0].text"}
