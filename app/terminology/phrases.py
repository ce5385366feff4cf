"""Free text -> needs: the shipped phrase list (``data/need_phrases.csv``) and how text is matched.

A phrase matches when its words appear in the text as whole words, in order and next to each
other, after both are normalised the same way (``normalise``): case-folded, every run of
characters that are not letters or digits turned into one space. So "debt" matches "In debt!"
but not "indebted" or "debts", and "can't afford" matches "CAN'T afford" (with either
apostrophe) but not "cant afford": every word form meant is a row of the file. A text may name
several needs; they come back in the order the text names them. Negation ("no money worries")
is not understood. A phrase whose need is ``other`` finds nothing: an administrator uses it to
switch off a shipped phrase (docs/terminology.md).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from app.terminology.codesystems import need_codes

DATA = Path(__file__).parent / "data"
OTHER = "other"
PHRASE_MAX = 100  # characters of a normalised phrase (the admin table's key)

_SEPARATORS = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """``text`` case-folded, with each run of non-letters and non-digits one space, trimmed."""
    return _SEPARATORS.sub(" ", text.casefold()).strip()


@dataclass(frozen=True)
class ShippedPhrase:
    phrase: str  # normalised
    need: str
    note: str  # why the phrase means the need, for the reviewing clinician


@cache
def shipped_phrases() -> tuple[ShippedPhrase, ...]:
    """The rows of ``data/need_phrases.csv``; ``ValueError`` for a row that cannot be used."""
    with (DATA / "need_phrases.csv").open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    phrases: dict[str, ShippedPhrase] = {}
    for line, row in enumerate(rows, start=2):
        phrase, need, note = normalise(row["phrase"]), row["need"], row["note"].strip()
        if not phrase or len(phrase) > PHRASE_MAX or need not in need_codes() or not note:
            raise ValueError(f"need_phrases.csv line {line}: needs a phrase, a need code, a note")
        if phrase in phrases:
            raise ValueError(f"need_phrases.csv line {line}: {phrase!r} is listed twice")
        phrases[phrase] = ShippedPhrase(phrase, need, note)
    return tuple(phrases.values())


@dataclass(frozen=True)
class PhraseIndex:
    """Normalised phrase -> need code: the phrases in force."""

    phrases: Mapping[str, str]

    def needs_in(self, text: str) -> tuple[str, ...]:
        """The needs whose phrases ``text`` contains, in the order it names them."""
        padded = f" {normalise(text)} "
        found = sorted(
            (at, need)
            for phrase, need in self.phrases.items()
            if need != OTHER and (at := padded.find(f" {phrase} ")) >= 0
        )
        return tuple(dict.fromkeys(need for _, need in found))


def shipped_index() -> PhraseIndex:
    return PhraseIndex({p.phrase: p.need for p in shipped_phrases()})
