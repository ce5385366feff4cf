from __future__ import annotations

from app.terminology.codesystems import NEED_SYSTEM, SNOMED_SYSTEM
from app.terminology.resolver import Coding, Reason, resolve_reasons

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
