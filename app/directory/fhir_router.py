"""``/fhir/HealthcareService``: the directory's activities as FHIR (read, search), every role."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from app.auth.dependencies import Caller, allowed
from app.auth.policy import Action
from app.db import SessionDep
from app.directory import fhir, service
from app.directory.repository import FhirQuery
from app.fhir.capability import ResourceCapability, SearchParam
from app.fhir.http import search_request, searchset_response
from app.fhir.responses import FhirResponse, search_routes

router = APIRouter(prefix="/fhir", tags=["fhir"])

SEARCH_PARAMS = (
    SearchParam("name", "string", "the activity's name (case-insensitive, starts with)"),
    SearchParam(
        "service-category", "token", "an activity-category code (system optional), any of them"
    ),
    SearchParam("active", "token", "true: the activity's status is active; false: any other"),
)
CAPABILITY = ResourceCapability(
    type="HealthcareService",
    interactions=("read", "search-type"),
    search_params=SEARCH_PARAMS,
    versioning="no-version",
    documentation=(
        "The community directory's activities (every role): locations as contained Locations, "
        "schedules as availableTime (docs/fhir.md)."
    ),
)

ReaderDep = Annotated[Caller, Depends(allowed(Action.DIRECTORY_READ))]


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@search_routes(router, "/HealthcareService", "fhir-search_healthcare_services")
async def search_healthcare_services(
    request: Request, session: SessionDep, _caller: ReaderDep
) -> Any:
    """Search the directory's activities by `name`, `service-category` or `active`
    (searchset Bundle, by name)."""
    search = await search_request(request)
    categories = search.values("service-category")
    query = FhirQuery(
        names=search.values("name"),
        categories=fhir.category_codes(categories) if categories else None,
        active=fhir.active_flag(search.first("active")),
    )
    page = search.page(SEARCH_PARAMS)
    total, activities = await service.search_fhir(
        session, query, offset=page.offset, count=page.count
    )
    today = _today()
    resources = [fhir.healthcare_service(activity, today) for activity in activities]
    return searchset_response(request, "HealthcareService", page, resources, total=total)


@router.get(
    "/HealthcareService/{activity_id}",
    operation_id="fhir-read_healthcare_service",
    response_class=FhirResponse,
)
async def read_healthcare_service(activity_id: str, session: SessionDep, _caller: ReaderDep) -> Any:
    """Read one activity of the directory as a HealthcareService."""
    activity = await service.get(session, activity_id)
    return FhirResponse(fhir.healthcare_service(activity, _today()))
