"""Matches as FHIR: a searchset Bundle of ``HealthcareService`` with ``search.score``."""

from __future__ import annotations

from typing import Any

from app.fhir import CANONICAL_BASE
from app.matching.engine import Match
from app.matching.repository import ActivityCard
from app.terminology.codesystems import ACTIVITY_CATEGORY_SYSTEM

MATCH_URL = f"{CANONICAL_BASE}/StructureDefinition/match"


def _match_extension(match: Match) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [{"url": "reason", "valueString": r} for r in match.reasons]
    parts += [
        {"url": name, "valueDecimal": round(getattr(match.components, name), 4)}
        for name in (
            "need_fit",
            "interest_fit",
            "proximity",
            "language_fit",
            "day_fit",
            "spare_capacity",
            "equity",
        )
    ]
    parts.append({"url": "attendance", "valueCode": match.attendance})
    if match.distance_km is not None:
        parts.append({"url": "distanceKm", "valueDecimal": round(match.distance_km, 2)})
    parts.append({"url": "waitlist", "valueBoolean": match.waitlist})
    return {"url": MATCH_URL, "extension": parts}


def healthcare_service(match: Match, card: ActivityCard) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "HealthcareService",
        "id": card.id,
        "extension": [_match_extension(match)],
        "active": True,
        "name": card.name,
    }
    if card.organisation:
        resource["providedBy"] = {"display": card.organisation}
    if card.categories:
        resource["category"] = [
            {"coding": [{"system": ACTIVITY_CATEGORY_SYSTEM, "code": code}]}
            for code in card.categories
        ]
    return resource
