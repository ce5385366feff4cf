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
from app.fhir.bundle import searchset
from app.fhir.capability import ResourceCapability, SearchParam
from app.fhir.http import fhir_base, search_request
from app.fhir.responses import FhirResponse, search_routes
from app.fhir.search import page_links

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
_PARAM_NAMES = tuple(p.name for p in SEARCH_PARAMS)

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
    count, offset = search.count(), search.offset()
    search.check_unused(_PARAM_NAMES)
    total, page = await service.search_fhir(session, query, offset=offset, count=count)
    base = fhir_base(request)
    links = page_links(
        f"{base}/HealthcareService",
        search.params.multi_items(),
        offset=offset,
        count=count,
        total=total,
    )
    today = _today()
    resources = [fhir.healthcare_service(activity, today) for activity in page]
    return FhirResponse(searchset(base, resources, total=total, links=links))


@router.get(
    "/HealthcareService/{activity_id}",
    operation_id="fhir-read_healthcare_service",
    response_class=FhirResponse,
)
async def read_healthcare_service(activity_id: str, session: SessionDep, _caller: ReaderDep) -> Any:
    """Read one activity of the directory as a HealthcareService."""
    activity = await service.get(session, activity_id)
    return FhirResponse(fhir.healthcare_service(activity, _today()))
