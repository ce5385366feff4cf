"""``/fhir/AuditEvent`` (search, read): the audit trail, for administrators."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from app.audit import fhir, service
from app.audit.repository import AuditQuery
from app.auth.dependencies import Caller, allowed
from app.auth.policy import Action
from app.db import SessionDep
from app.errors import BadRequest, Issue, known_uuid
from app.fhir.capability import ResourceCapability, SearchParam
from app.fhir.http import search_request, searchset_response
from app.fhir.responses import FhirResponse, search_routes
from app.fhir.search import SearchRequest

router = APIRouter(prefix="/fhir", tags=["fhir"])

SEARCH_PARAMS = (
    SearchParam("date", "date", "when the access was recorded (eq, gt, ge, lt, le)"),
    SearchParam("patient", "reference", "Patient/{id} whose data was accessed"),
    SearchParam("entity", "reference", "the resource accessed, as Type/id"),
    SearchParam("action", "token", "C | R | U | D | E"),
    SearchParam("outcome", "token", "0 success | 4 refused"),
    SearchParam("altid", "token", "the caller's `sub`"),
)
CAPABILITY = ResourceCapability(
    type="AuditEvent",
    interactions=("read", "search-type"),
    search_params=SEARCH_PARAMS,
    versioning="no-version",
    documentation="Every read and write of a person's data (admin only).",
)


def _reference_ids(search: SearchRequest, name: str, resource_type: str) -> list[uuid.UUID]:
    ids = []
    for value in search.values(name):
        raw = value.removeprefix(f"{resource_type}/")
        try:
            ids.append(uuid.UUID(raw))
        except ValueError:
            raise BadRequest(
                f"{name}: {value!r} is not a {resource_type} reference", [Issue("malformed", name)]
            ) from None
    return ids


def _entities(search: SearchRequest) -> list[tuple[str, str]]:
    entities = []
    for value in search.values("entity"):
        resource_type, _, resource_id = value.partition("/")
        if not resource_type or not resource_id:
            raise BadRequest(f"entity: {value!r} is not Type/id", [Issue("malformed", "entity")])
        entities.append((resource_type, resource_id))
    return entities


@search_routes(router, "/AuditEvent", "fhir-search_audit_events")
async def search_audit_events(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, Depends(allowed(Action.AUDIT_READ))],
) -> Any:
    """Search the audit trail (R4 AuditEvent): who accessed whose data, when, with what outcome."""
    search = await search_request(request)
    query = AuditQuery(
        dates=search.dates("date"),
        patient_ids=_reference_ids(search, "patient", "Patient"),
        entities=_entities(search),
        actions=search.values("action"),
        outcomes=search.values("outcome"),
        subs=search.values("altid"),
    )
    page = search.page(SEARCH_PARAMS)
    total, events = await service.search(session, query, offset=page.offset, limit=page.count)
    service.record(
        session, service.Actor.of(request, caller.principal), service.Access("search", "AuditEvent")
    )
    return searchset_response(
        request, "AuditEvent", page, [fhir.to_fhir(e) for e in events], total=total
    )


@router.get(
    "/AuditEvent/{event_id}", operation_id="fhir-read_audit_event", response_class=FhirResponse
)
async def read_audit_event(
    request: Request,
    event_id: str,
    session: SessionDep,
    caller: Annotated[Caller, Depends(allowed(Action.AUDIT_READ))],
) -> Any:
    """Read one audit record (the fullUrl of each AuditEvent search entry)."""
    event = await service.get(session, known_uuid(event_id, "AuditEvent"))
    service.record(
        session,
        service.Actor.of(request, caller.principal),
        service.Access("read", "AuditEvent", event_id),
    )
    return FhirResponse(fhir.to_fhir(event))
