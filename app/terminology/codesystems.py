"""The service's own CodeSystems (DESIGN.md 5.2 and 5.4), built from ``data/*.json``.

The code lists live in data files so that a reviewer reads them without reading code; this module
turns each into an R4 ``CodeSystem`` and offers the code sets to the rest of the service.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from app import __released__, __version__
from app.fhir import CANONICAL_BASE

DATA = Path(__file__).parent / "data"

NEED = "need"
ACTIVITY_CATEGORY = "activity-category"
REFERRAL_STAGE = "referral-stage"
_FILES = {
    NEED: "need.json",
    ACTIVITY_CATEGORY: "activity_category.json",
    REFERRAL_STAGE: "referral_stage.json",
}
IDS = tuple(_FILES)

SNOMED_SYSTEM = "http://snomed.info/sct"


def system_url(codesystem_id: str) -> str:
    return f"{CANONICAL_BASE}/CodeSystem/{codesystem_id}"


NEED_SYSTEM = system_url(NEED)
ACTIVITY_CATEGORY_SYSTEM = system_url(ACTIVITY_CATEGORY)
REFERRAL_STAGE_SYSTEM = system_url(REFERRAL_STAGE)


@dataclass(frozen=True)
class Concept:
    code: str
    display: str
    definition: str


@dataclass(frozen=True)
class CodeSystemData:
    id: str
    name: str
    title: str
    description: str
    concepts: tuple[Concept, ...]

    @property
    def url(self) -> str:
        return system_url(self.id)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.concepts)


@cache
def load(codesystem_id: str) -> CodeSystemData:
    """One shipped code system; ``KeyError`` for an id this service does not define."""
    raw = json.loads((DATA / _FILES[codesystem_id]).read_text(encoding="utf-8"))
    if raw["id"] != codesystem_id:
        raise ValueError(f"{_FILES[codesystem_id]} declares id {raw['id']!r}")
    concepts = tuple(Concept(c["code"], c["display"], c["definition"]) for c in raw["concept"])
    if len({c.code for c in concepts}) != len(concepts):
        raise ValueError(f"{_FILES[codesystem_id]} repeats a code")
    return CodeSystemData(raw["id"], raw["name"], raw["title"], raw["description"], concepts)


def all_codesystems() -> list[CodeSystemData]:
    return [load(i) for i in IDS]


def need_codes() -> frozenset[str]:
    return frozenset(load(NEED).codes)


def activity_category_codes() -> frozenset[str]:
    return frozenset(load(ACTIVITY_CATEGORY).codes)


def referral_stage_codes() -> frozenset[str]:
    return frozenset(load(REFERRAL_STAGE).codes)


def to_fhir(data: CodeSystemData) -> dict[str, Any]:
    """The R4 CodeSystem resource (``content`` complete: every concept is listed)."""
    return {
        "resourceType": "CodeSystem",
        "id": data.id,
        "url": data.url,
        "version": __version__,
        "name": data.name,
        "title": data.title,
        "status": "active",
        "experimental": False,
        "date": dt.date.fromisoformat(__released__).isoformat(),
        "publisher": "assetlink",
        "description": data.description,
        "caseSensitive": True,
        "content": "complete",
        "count": len(data.concepts),
        "concept": [
            {"code": c.code, "display": c.display, "definition": c.definition}
            for c in data.concepts
        ],
    }
