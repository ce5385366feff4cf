"""Matches as FHIR: each the activity's ``HealthcareService`` (as ``/fhir/HealthcareService``
serves it) with the match in an extension: reasons, components, attendance, distance, waiting
list, the venue (a reference to the contained Location) and the next sessions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.directory import fhir as directory_fhir
from app.directory.schedules import Session
from app.directory.schemas import ActivityRead
from app.fhir import CANONICAL_BASE
from app.matching.service import MatchItem

MATCH_URL = f"{CANONICAL_BASE}/StructureDefinition/match"


def _session(session: Session) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [{"url": "date", "valueDate": session.date.isoformat()}]
    if session.start is not None:
        parts.append({"url": "start", "valueTime": session.start.isoformat("seconds")})
    if session.end is not None:
        parts.append({"url": "end", "valueTime": session.end.isoformat("seconds")})
    return {"url": "session", "extension": parts}


def _match_extension(item: MatchItem[ActivityRead]) -> dict[str, Any]:
    match = item.match
    parts: list[dict[str, Any]] = [{"url": "reason", "valueString": r} for r in match.reasons]
    parts += [{"url": name, "valueDecimal": value} for name, value in item.components.items()]
    parts.append({"url": "attendance", "valueCode": match.attendance})
    if item.distance_km is not None:
        parts.append({"url": "distanceKm", "valueDecimal": item.distance_km})
    parts.append({"url": "waitlist", "valueBoolean": match.waitlist})
    if item.venue is not None:
        location = item.activity.locations[item.venue]
        reference = {"reference": f"#{directory_fhir.location_id(item.venue)}"}
        if location.name:
            reference["display"] = location.name
        parts.append({"url": "venue", "valueReference": reference})
    parts += [_session(s) for s in item.next_sessions]
    return {"url": MATCH_URL, "extension": parts}


def healthcare_service(item: MatchItem[ActivityRead], today: dt.date) -> dict[str, Any]:
    resource = directory_fhir.healthcare_service(item.activity, today)
    resource["extension"] = [_match_extension(item), *resource.get("extension", [])]
    return resource
