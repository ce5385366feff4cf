"""Free text -> situations and group traits: the shipped tables ``data/situation_phrases.csv``
and ``data/group_phrases.csv``, matched like the need phrases (`phrases.normalise`: whole words,
in order, case-folded).

A situation is narrower than a need: "living with a long-term condition" is one need, but a
sight-loss club and a singing group for lung health are made for different people. Matching
reads the situations an activity is made for from its eligibility text, name and description
(when the directory is loaded, once per activity) and the person's from the GP's words for each
need (`app.matching.engine`); a group trait (small, quiet, busy; home: it visits people at
home; interpreters: someone without English can talk there through one) is read from the
activity's text only. Negation ("not for people who are homeless") is not understood.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from functools import cache, lru_cache

from app.terminology.phrases import DATA, normalise

SITUATIONS_FILE = "situation_phrases.csv"
GROUP_FILE = "group_phrases.csv"
GROUP_TRAITS = frozenset(
    {"small", "quiet", "busy", "home", "strenuous", "gym", "interpreters"}
)  # home: visits
ACCESS_SITUATIONS: Mapping[str, str] = {
    # a referral's accessibility need -> the situation it says the person is in
    "wheelchair": "physical-disability",
    "bsl": "deaf",
}


@cache
def _table(name: str, column: str) -> Mapping[str, str]:
    """Normalised phrase -> code of one of the shipped tables; ``ValueError`` for a bad row."""
    with (DATA / name).open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    table: dict[str, str] = {}
    for line, row in enumerate(rows, start=2):
        code, phrase, note = row[column].strip(), normalise(row["phrase"]), row["note"].strip()
        if not code or not phrase or not note:
            raise ValueError(f"{name} line {line}: needs a {column}, a phrase and a note")
        if column == "trait" and code not in GROUP_TRAITS:
            raise ValueError(f"{name} line {line}: trait {code!r} is not one of {GROUP_TRAITS}")
        if phrase in table:
            raise ValueError(f"{name} line {line}: {phrase!r} is listed twice")
        table[phrase] = code
    return table


def _found(table: Mapping[str, str], texts: Iterable[str | None]) -> frozenset[str]:
    padded = " ".join(f" {normalise(t)} " for t in texts if t)
    return frozenset(code for phrase, code in table.items() if f" {phrase} " in padded)


@lru_cache(maxsize=8192)
def situations_in(*texts: str | None) -> frozenset[str]:
    """The situations the texts name (`situation_phrases.csv`)."""
    return _found(_table(SITUATIONS_FILE, "situation"), texts)


@lru_cache(maxsize=8192)
def group_traits_in(*texts: str | None) -> frozenset[str]:
    """The group traits the texts name (`group_phrases.csv`): small, quiet, busy, and home (the
    service visits the person at home)."""
    return _found(_table(GROUP_FILE, "trait"), texts)


WITHOUT_ENGLISH = "learning-english"  # the situation of someone whose languages omit English
YOUNG_ADULT = "young-adult"  # the situation of a person of `YOUNG_ADULT_AGES`
YOUNG_ADULT_AGES = range(18, 31)  # "for 18-30s": the ages young adults' groups are made for
SIGN_LANGUAGES = frozenset({"bfi", "ase", "sgn"})  # BSL, ASL, any: a Deaf signer reads English


def person_situations(
    texts: Iterable[str],
    accessibility: Iterable[str],
    languages: Iterable[str] = (),
    age: int | None = None,
) -> frozenset[str]:
    """The situations of a referred person: named in the GP's words for their needs, or told
    by an accessibility need (a wheelchair user is in a disabled people's situation), or by
    their recorded languages: someone whose spoken languages (BCP 47) are recorded without
    English is in the situation of people learning English (an English conversation club is
    made for them; nothing is told when no language is recorded, which usually means English,
    nor by a sign language: a Deaf signer is not learning English), or by their age: a person
    of `YOUNG_ADULT_AGES` is a young adult (a meet-up for 18-30s is made for them, as a
    group for their age that says so; an upper age limit alone is not read: boxing for 16-45s
    sets a limit for safety, not a group of peers)."""
    found = situations_in(*texts)
    told = {ACCESS_SITUATIONS[a] for a in accessibility if a in ACCESS_SITUATIONS}
    spoken = {c.partition("-")[0].strip().lower() for c in languages} - SIGN_LANGUAGES
    if spoken and "en" not in spoken:
        told.add(WITHOUT_ENGLISH)
    if age is not None and age in YOUNG_ADULT_AGES:
        told.add(YOUNG_ADULT)
    return found | told if told else found


def situation_codes() -> frozenset[str]:
    return frozenset(_table(SITUATIONS_FILE, "situation").values())
