"""``/fhir/Patient``: read, history and search by NHS number, among the caller's referrals."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.auth.context import Context
from app.db import SessionDep
from app.errors import known_uuid
from app.fhir.capability import ResourceCapability, SearchParam
from app.fhir.http import search_request, searchset_response
from app.fhir.responses import FHIR_RESPONSES, FhirResponse, search_routes
from app.fhir.search import reference_ids
from app.referrals import fhir, repository, service
from app.referrals.routers.common import IdPath, ReadCaller, nhs_number_value, resource_response
from app.referrals.routers.history import register_history

router = APIRouter(tags=["fhir"])

PATIENT_PARAMS = (
    SearchParam("_id", "token"),
    SearchParam("identifier", "token", "https://fhir.nhs.uk/Id/nhs-number|{NHS number}"),
)
CAPABILITY = ResourceCapability(
    type="Patient",
    interactions=("read", "vread", "history-instance", "search-type"),
    search_params=PATIENT_PARAMS,
    documentation="One per NHS number, for the roles that may see the person's referrals.",
)


@router.get(
    "/fhir/Patient/{resource_id}",
    operation_id="fhir-read_patient",
    response_class=FhirResponse,
    responses=FHIR_RESPONSES,
)
async def read_patient(
    request: Request, session: SessionDep, caller: ReadCaller, resource_id: IdPath
) -> Response:
    """Read a person referred by (or to) the caller's organisation."""
    patient = await service.read_patient(
        session, Context.of(request, caller), known_uuid(resource_id, "Patient")
    )
    return resource_response(fhir.patient_resource(patient))


register_history(router, "Patient")


@search_routes(router, "/fhir/Patient", "fhir-search_patients", FHIR_RESPONSES)
async def search_patients(request: Request, session: SessionDep, caller: ReadCaller) -> Response:
    """Search people by NHS number (identifier) among the caller's referrals."""
    search = await search_request(request)
    numbers = [nhs_number_value(value) for value in search.values("identifier")]
    ids = reference_ids(search.values("_id"), "Patient")
    page = search.page(PATIENT_PARAMS)
    ctx = Context.of(request, caller)
    total, patients = await repository.search_patients(
        session,
        ids=ids,
        nhs_numbers=numbers,
        reach=ctx.reach,
        org=ctx.org,
        offset=page.offset,
        limit=page.count,
    )
    service.audit_search(session, ctx, "Patient", patients)
    matches = [fhir.patient_resource(p) for p in patients]
    return searchset_response(request, "Patient", page, matches, total=total)
