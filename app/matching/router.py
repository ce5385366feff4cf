"""Matches for a referral: ``/api/v1/referrals/{id}/matches`` and FHIR ``$match``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from app.auth.dependencies import Caller, allowed
from app.auth.policy import Action
from app.db import SessionDep
from app.errors import known_uuid
from app.fhir.capability import Operation
from app.fhir.http import fhir_base
from app.fhir.responses import FhirResponse
from app.matching import fhir, service
from app.matching.schemas import ActivityCard, ComponentsRead, ExclusionRead, MatchesRead, MatchRead
from app.referrals import service as referrals_service

router = APIRouter(tags=["matching"])
fhir_router = APIRouter(tags=["fhir"])

MATCH_OPERATION = Operation(
    "match", "https://w3id.org/assetlink/fhir/OperationDefinition/ServiceRequest-match"
)
MatchCaller = Annotated[Caller, Depends(allowed(Action.MATCH_READ))]
Limit = Annotated[int, Query(ge=1, le=50, description="how many matches (default 10, max 50)")]
IncludeFull = Annotated[bool, Query(description="also offer full activities, marked waitlist")]


async def _matches(
    request: Request, session: Any, caller: Caller, referral_id: str, limit: int, include_full: bool
) -> service.Matches:
    ctx = referrals_service.Context.of(request, caller)
    return await service.match_referral(
        session,
        ctx,
        known_uuid(referral_id, "ServiceRequest"),
        request.app.state.settings,
        limit=limit,
        include_full=include_full,
    )


@router.get(
    "/api/v1/referrals/{referral_id}/matches",
    operation_id="matching-list_matches",
    response_model=MatchesRead,
)
async def list_matches(
    request: Request,
    session: SessionDep,
    caller: MatchCaller,
    referral_id: str,
    limit: Limit = 10,
    include_full: IncludeFull = False,
) -> MatchesRead:
    """Activities the person can actually reach, best first, with scores, components, reasons
    and the number of activities each hard rule excluded."""
    found = await _matches(request, session, caller, referral_id, limit, include_full)
    result = found.result
    return MatchesRead(
        referral_id=found.referral.id,
        matches=[
            MatchRead(
                activity=ActivityCard(**vars(found.cards[m.activity_id])),
                score=m.score,
                components=ComponentsRead(
                    **{name: getattr(m.components, name) for name in ComponentsRead.model_fields}
                ),
                reasons=list(m.reasons),
                attendance=m.attendance,
                distance_km=m.distance_km,
                waitlist=m.waitlist,
            )
            for m in result.matches
        ],
        eligible=result.eligible,
        considered=result.considered,
        excluded=[
            ExclusionRead(rule=int(rule), description=rule.description, count=count)
            for rule, count in sorted(result.excluded.items())
        ],
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
    caller: MatchCaller,
    resource_id: str,
    limit: Limit = 10,
    include_full: IncludeFull = False,
) -> Response:
    """$match: a searchset Bundle of HealthcareService, scored, with reasons in an extension."""
    found = await _matches(request, session, caller, resource_id, limit, include_full)
    base = fhir_base(request)
    entries = [
        {
            "fullUrl": f"{base}/HealthcareService/{m.activity_id}",
            "resource": fhir.healthcare_service(m, found.cards[m.activity_id]),
            "search": {"mode": "match", "score": round(m.score, 4)},
        }
        for m in found.result.matches
    ]
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(entries),
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
