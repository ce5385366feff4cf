"""SNOMED CT concept ids: the Verhoeff check, and the shipped, cited mapping file."""

from __future__ import annotations

import json
from urllib.parse import urlparse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.terminology.codesystems import DATA, need_codes
from app.terminology.snomed import concept_id_problem, shipped_mappings, verhoeff_valid

# Published national codes (DESIGN.md 5.1, 5.2), a check on the algorithm itself.
NATIONAL = ["871731000000106", "871711000000103"]


@pytest.mark.parametrize("concept_id", NATIONAL)
def test_national_codes_pass(concept_id: str) -> None:
    assert verhoeff_valid(concept_id)
    assert concept_id_problem(concept_id) is None


@given(st.integers(min_value=10**5, max_value=10**17), st.integers(0, 17), st.integers(1, 9))
def test_every_single_digit_typo_is_caught(number: int, position: int, shift: int) -> None:
    body = str(number)
    check = next(d for d in "0123456789" if verhoeff_valid(body + d))
    good = body + check
    i = position % len(good)
    typo = good[:i] + str((int(good[i]) + shift) % 10) + good[i + 1 :]
    assert verhoeff_valid(good)
    assert not verhoeff_valid(typo)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("42265000x", "digits only"),
        ("12345", "6 to 18"),
        ("1234567890123456789", "6 to 18"),
        ("0422650009", "leading zero"),
        ("422650008", "Verhoeff"),
        ("871731000000116", "partition"),  # "11": a description id in an extension
        ("\uff14\uff12\uff12\uff16\uff15\uff10\uff10\uff10\uff19", "digits only"),  # full-width
    ],
)
def test_malformed_concept_ids(value: str, fragment: str) -> None:
    problem = concept_id_problem(value)
    assert problem is not None
    assert fragment in problem


def test_shipped_mappings_are_checked_and_cited() -> None:
    raw = json.loads((DATA / "snomed_needs.json").read_text(encoding="utf-8"))
    assert raw["system"] == "http://snomed.info/sct"
    mappings = shipped_mappings()
    assert mappings, "at least one verified mapping ships"
    assert len({m.concept_id for m in mappings}) == len(mappings)
    for m in mappings:
        assert concept_id_problem(m.concept_id) is None, m.concept_id
        assert m.need in need_codes(), m.need
        assert m.need != "other", "mapping a concept to 'other' adds nothing"
        assert m.term.strip()
        url = urlparse(m.source)
        assert url.scheme == "https"
        assert url.netloc
        assert m.source_location.strip()
        assert m.concept_id in m.source_location, "the citation quotes the id where it appears"
