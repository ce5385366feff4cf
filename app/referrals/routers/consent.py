"""``/fhir/Consent``: read a Consent sent as its own entry of a referral transaction."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.auth.context import Context
from app.db import SessionDep
from app.errors import known_uuid
from app.fhir.capability import ResourceCapability
from app.fhir.responses import FHIR_RESPONSES, FhirResponse
from app.referrals import fhir, service
from app.referrals.routers.common import IdPath, ReadCaller, resource_response

router = APIRouter(tags=["fhir"])

CAPABILITY = ResourceCapability(
    type="Consent",
    interactions=("read",),
    versioning="versioned",
    documentation="Consents sent as their own entry of a referral transaction.",
)


@router.get(
    "/fhir/Consent/{resource_id}",
    operation_id="fhir-read_consent",
    response_class=FhirResponse,
    responses=FHIR_RESPONSES,
)
async def read_consent(
    request: Request, session: SessionDep, caller: ReadCaller, resource_id: IdPath
) -> Response:
    """Read a referral's Consent (when it was sent as its own resource)."""
    consent = await service.read_consent(
        session, Context.of(request, caller), known_uuid(resource_id, "Consent")
    )
    return resource_response(fhir.consent_resource(consent))
