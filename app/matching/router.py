"""Matches for a referral: ``/api/v1/referrals/{id}/matches`` and FHIR ``$match``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from app.auth.context import Context
from app.auth.dependencies import Caller, allowed
from app.auth.policy import Action
from app.config import Settings
from app.db import SessionDep
from app.deps import SettingsDep
from app.directory.schemas import ActivityCard as Card
from app.directory.schemas import CardLocation
from app.errors import BadRequest, Issue, known_uuid
from app.fhir.capability import Operation
from app.fhir.http import fhir_base
from app.fhir.responses import FhirResponse
from app.fhir.search import parse_count
from app.matching import fhir, service, unsuitable
from app.matching.dependencies import OutcomePriorsDep, SnapshotsDep
from app.matching.learning import OutcomePriors
from app.matching.schemas import (
    ActivityCard,
    ComponentsRead,
    ExclusionRead,
    MatchesRead,
    MatchRead,
    SessionRead,
    UnsuitableRead,
    UnsuitableWrite,
    VenueRead,
)
from app.matching.snapshot import Snapshots

router = APIRouter(tags=["matching"])
fhir_router = APIRouter(tags=["fhir"])

MATCH_OPERATION = Operation(
    "match", "https://w3id.org/assetlink/fhir/OperationDefinition/ServiceRequest-match"
)
MatchCaller = Annotated[Caller, Depends(allowed(Action.MATCH_READ))]
MarkCaller = Annotated[Caller, Depends(allowed(Action.MATCH_MARK))]
ActivityId = Annotated[str, Path(max_length=64, description="the activity's directory id")]
DEFAULT_LIMIT, MAX_LIMIT = 10, 50
Limit = Annotated[
    int,
    Query(
        ge=1,
        le=MAX_LIMIT,
        description=f"how many matches (default {DEFAULT_LIMIT}, max {MAX_LIMIT})",
    ),
]
IncludeFull = Annotated[bool, Query(description="also offer full activities, marked waitlist")]


async def _matches(
    request: Request,
    session: Any,
    settings: Settings,
    snapshots: Snapshots,
    priors: OutcomePriors,
    caller: Caller,
    referral_id: str,
    details: service.Details[service.Shown],
    limit: int,
    include_full: bool,
) -> service.Matches[service.Shown]:
    ctx = Context.of(request, caller)
    return await service.match_referral(
        session,
        ctx,
        known_uuid(referral_id, "ServiceRequest"),
        settings,
        snapshots,
        details,
        limit=limit,
        include_full=include_full,
        priors=priors,
    )


def _match_read(item: service.MatchItem[Card]) -> MatchRead:
    m, activity = item.match, item.activity
    return MatchRead(
        activity=ActivityCard(
            id=activity.id,
            name=activity.name,
            organisation=activity.organisation,
            attending_type=activity.attending_type,
            categories=list(activity.categories),
        ),
        score=item.score,
        components=ComponentsRead(**item.components),
        reasons=list(m.reasons),
        attendance=m.attendance,
        distance_km=item.distance_km,
        waitlist=m.waitlist,
        venue=None if item.venue is None else _venue(activity.locations[item.venue]),
        next_sessions=[
            SessionRead(date=s.date, start_time=s.start, end_time=s.end) for s in item.next_sessions
        ],
    )


def _mark_read(marked: unsuitable.Marked) -> UnsuitableRead:
    m = marked.mark
    return UnsuitableRead(
        activity_id=m.activity_id,
        activity_name=marked.activity_name,
        reason=m.reason,
        note=m.note,
        marked_at=m.created_at,
        updated_at=m.updated_at,
    )


def _venue(location: CardLocation) -> VenueRead:
    return VenueRead(
        name=location.name,
        address_1=location.address_1,
        city=location.city,
        postcode=location.postcode,
    )


@router.get(
    "/api/v1/referrals/{referral_id}/matches",
    operation_id="matching-list_matches",
    response_model=MatchesRead,
)
async def list_matches(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    snapshots: SnapshotsDep,
    priors: OutcomePriorsDep,
    caller: MatchCaller,
    referral_id: str,
    limit: Limit = DEFAULT_LIMIT,
    include_full: IncludeFull = False,
) -> MatchesRead:
    """Activities the person can actually reach, best first, with scores, components, reasons,
    venue and next sessions, and the number of activities each hard rule excluded."""
    found = await _matches(
        request,
        session,
        settings,
        snapshots,
        priors,
        caller,
        referral_id,
        service.CARDS,
        limit,
        include_full,
    )
    result = found.result
    return MatchesRead(
        referral_id=found.referral.id,
        matches=[_match_read(item) for item in found.items],
        eligible=result.eligible,
        considered=result.considered,
        excluded=[
            ExclusionRead(rule=int(rule), description=rule.description, count=count)
            for rule, count in sorted(result.excluded.items())
        ],
        unsuitable=[_mark_read(m) for m in found.unsuitable],
        warnings=list(found.warnings),
    )


@fhir_router.get(
    "/fhir/ServiceRequest/{resource_id}/$match",
    operation_id="fhir-match_service_request",
    response_class=FhirResponse,
)
async def match_operation(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    snapshots: SnapshotsDep,
    priors: OutcomePriorsDep,
    caller: MatchCaller,
    resource_id: str,
    count: Annotated[
        str | None,
        Query(
            alias="_count",
            description=f"how many matches (default {DEFAULT_LIMIT}, at most {MAX_LIMIT}; "
            "more is served as the most)",
        ),
    ] = None,
    limit: Annotated[
        int | None,
        Query(ge=1, le=MAX_LIMIT, deprecated=True, description="the same as _count"),
    ] = None,
    include_full: IncludeFull = False,
) -> Response:
    """$match: a searchset Bundle of HealthcareService, scored, with reasons, venue and next
    sessions in an extension; `total` is the number of activities that pass every hard rule."""
    if count is not None and limit is not None:
        raise BadRequest("Give _count or limit, not both", [Issue("give _count only", "limit")])
    wanted = limit if limit is not None else parse_count(count, DEFAULT_LIMIT, MAX_LIMIT)
    found = await _matches(
        request,
        session,
        settings,
        snapshots,
        priors,
        caller,
        resource_id,
        service.WHOLE,
        wanted,
        include_full,
    )
    base = fhir_base(request)
    entries = [
        {
            "fullUrl": f"{base}/HealthcareService/{item.activity.id}",
            "resource": fhir.healthcare_service(item, found.today),
            "search": {"mode": "match", "score": item.score},
        }
        for item in found.items
    ]
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": found.result.eligible,
        "link": [{"relation": "self", "url": str(request.url)}],
    }
    if entries:
        bundle["entry"] = entries
    if found.warnings:
        issue = [
            {"severity": "warning", "code": "informational", "diagnostics": w}
            for w in found.warnings
        ]
        outcome = {"resourceType": "OperationOutcome", "issue": issue}
        bundle.setdefault("entry", []).append(
            {
                "fullUrl": "urn:uuid:" + str(uuid.uuid4()),
                "resource": outcome,
                "search": {"mode": "outcome"},
            }
        )
    return FhirResponse(bundle)


@router.put(
    "/api/v1/referrals/{referral_id}/matches/{activity_id}/unsuitable",
    operation_id="matching-mark_unsuitable",
    response_model=UnsuitableRead,
    responses={
        201: {"description": "marked", "model": UnsuitableRead},
        422: {"description": "unknown activity or reason"},
    },
)
async def mark_unsuitable(
    request: Request,
    response: Response,
    session: SessionDep,
    caller: MarkCaller,
    referral_id: str,
    activity_id: ActivityId,
    body: UnsuitableWrite,
) -> UnsuitableRead:
    """Mark an activity not suitable for the referral, with a reason (201), or change the
    reason (200): it is left out of the referral's matches and counted for its provider."""
    marked, created = await unsuitable.mark(
        session,
        Context.of(request, caller),
        known_uuid(referral_id, "ServiceRequest"),
        activity_id,
        body.reason,
        body.note,
    )
    if created:
        response.status_code = 201
    return _mark_read(marked)


@router.delete(
    "/api/v1/referrals/{referral_id}/matches/{activity_id}/unsuitable",
    operation_id="matching-unmark_unsuitable",
    status_code=204,
)
async def unmark_unsuitable(
    request: Request,
    session: SessionDep,
    caller: MarkCaller,
    referral_id: str,
    activity_id: ActivityId,
) -> Response:
    """Withdraw the mark: the activity comes back in the referral's matches."""
    await unsuitable.unmark(
        session, Context.of(request, caller), known_uuid(referral_id, "ServiceRequest"), activity_id
    )
    return Response(status_code=204)
