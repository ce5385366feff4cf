"""``POST /fhir``: a referral as a transaction Bundle (Patient + ServiceRequest, + Consent)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from app.auth.context import Context
from app.auth.dependencies import Caller, allowed
from app.auth.policy import Action
from app.db import SessionDep
from app.deps import SettingsDep
from app.errors import Issue, Unprocessable
from app.fhir.http import fhir_base
from app.fhir.responses import FHIR_RESPONSES, FhirResponse, fhir_body
from app.ops.metrics import REFERRALS_CREATED
from app.referrals import fhir, intake, service
from app.referrals.routers.common import body_of, resolver
from app.terminology.dependencies import NeedMappingsDep

router = APIRouter(tags=["fhir"])

SYSTEM_INTERACTIONS = ("transaction",)


@router.post(
    "/fhir",
    operation_id="fhir-transaction",
    response_class=FhirResponse,
    openapi_extra=fhir_body("transaction"),
    responses=FHIR_RESPONSES,
)
async def transaction(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, Depends(allowed(Action.REFERRAL_CREATE))],
    settings: SettingsDep,
    need_mappings: NeedMappingsDep,
) -> Response:
    """A transaction Bundle: Patient + ServiceRequest (+ Consent) linked by urn:uuid fullUrls."""
    body = await body_of(request)
    draft = intake.check_transaction(
        body, resolve_needs=await resolver(need_mappings, session), clock_skew=settings.clock_skew
    )
    result = await service.create_referral(
        session,
        Context.of(request, caller),
        draft,
        default_performer=settings.default_performer_ods,
    )
    if result.created:
        REFERRALS_CREATED.inc()
    resources = {
        "ServiceRequest": fhir.service_request_resource(result.referral),
        "Patient": fhir.patient_resource(result.patient),
    }
    if result.consent is not None:
        resources["Consent"] = fhir.consent_resource(result.consent)
    base = fhir_base(request)
    entries = []
    for index, entry in enumerate(body["entry"]):
        kind = entry["resource"]["resourceType"]
        if kind not in resources:
            raise Unprocessable(
                "The Consent entry was not referenced by the ServiceRequest",
                [Issue("unreferenced", f"Bundle.entry[{index}]")],
            )
        resource = resources[kind]
        meta = resource["meta"]
        # 201 for what this request created; 200 for the rest, a known Patient it updated too
        created = (
            result.patient_changed and meta["versionId"] == "1"
            if kind == "Patient"
            else result.created
        )
        entries.append(
            {
                "fullUrl": f"{base}/{kind}/{resource['id']}",
                "resource": resource,
                "response": {
                    "status": "201 Created" if created else "200 OK",
                    "location": f"{base}/{kind}/{resource['id']}/_history/{meta['versionId']}",
                    "etag": f'W/"{meta["versionId"]}"',
                    "lastModified": meta["lastUpdated"],
                },
            }
        )
    return FhirResponse(
        {"resourceType": "Bundle", "type": "transaction-response", "entry": entries}
    )
