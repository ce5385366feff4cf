"""SNOMED CT concept ids, and the shipped SNOMED CT -> need mapping (``data/snomed_needs.json``).

An SCTID is 6 to 18 digits without a leading zero; its last digit is a Verhoeff check digit and
the two digits before it are the partition identifier, which for a concept is ``00``
(International release) or ``10`` (an extension, such as the UK edition's ``1000000`` namespace).
(SNOMED CT Technical Implementation Guide, "SCTID" and "Check-digit" sections.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data"

# Verhoeff's dihedral-group tables: multiplication, permutation, inverse.
_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)
CONCEPT_PARTITIONS = ("00", "10")


def verhoeff_valid(digits: str) -> bool:
    """Whether ``digits`` (check digit last) passes the Verhoeff check."""
    if not digits.isascii() or not digits.isdigit():
        return False
    check = 0
    for position, char in enumerate(reversed(digits)):
        check = _D[check][_P[position % 8][int(char)]]
    return check == 0


def concept_id_problem(value: str) -> str | None:
    """Why ``value`` is not a SNOMED CT concept id, or ``None`` when it is well formed."""
    if not value.isascii() or not value.isdigit():
        return "a SNOMED CT concept id has digits only"
    if not 6 <= len(value) <= 18:
        return "a SNOMED CT concept id has 6 to 18 digits"
    if value.startswith("0"):
        return "a SNOMED CT concept id has no leading zero"
    if value[-3:-1] not in CONCEPT_PARTITIONS:
        return "the partition digits say this is not a concept id (a description id?)"
    if not verhoeff_valid(value):
        return "the Verhoeff check digit does not match (a typo?)"
    return None


@dataclass(frozen=True)
class ShippedMapping:
    concept_id: str
    term: str
    need: str
    source: str
    source_location: str


@cache
def shipped_mappings() -> tuple[ShippedMapping, ...]:
    raw = json.loads((DATA / "snomed_needs.json").read_text(encoding="utf-8"))
    return tuple(
        ShippedMapping(m["concept_id"], m["term"], m["need"], m["source"], m["source_location"])
        for m in raw["mappings"]
    )
