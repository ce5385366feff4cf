"""``/fhir/Task``: the closed loop (DESIGN.md 5.2): read, update, history and search."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response

from app.auth.context import Context
from app.auth.dependencies import Caller, allowed
from app.auth.policy import Action
from app.db import SessionDep
from app.errors import known_uuid
from app.fhir.capability import ResourceCapability, SearchParam
from app.fhir.http import search_request, searchset_response
from app.fhir.responses import FHIR_BODY, FHIR_RESPONSES, FhirResponse, search_routes, written
from app.fhir.search import reference_ids, token
from app.outcomes import service as outcomes_service
from app.referrals import fhir, repository, service
from app.referrals.routers.common import (
    IdPath,
    ReadCaller,
    organisations,
    resource_response,
    update_body,
)
from app.referrals.routers.history import register_history

router = APIRouter(tags=["fhir"])

TASK_PARAMS = (
    SearchParam("_id", "token"),
    SearchParam("focus", "reference", "ServiceRequest/{id}"),
    SearchParam("patient", "reference", "Patient/{id}"),
    SearchParam("owner", "reference", "ODS code, Organization/{ODS} or :identifier=system|ODS"),
    SearchParam("requester", "reference", "ODS code, Organization/{ODS} or :identifier=system|ODS"),
    SearchParam("status", "token"),
    SearchParam("business-status", "token", "referral-stage code"),
    SearchParam("_lastUpdated", "date", "eq, gt, ge, lt, le"),
)
CAPABILITY = ResourceCapability(
    type="Task",
    interactions=("read", "vread", "update", "history-instance", "search-type"),
    search_params=TASK_PARAMS,
    documentation="One per referral: the closed loop (DESIGN.md 5.2).",
)


@router.get(
    "/fhir/Task/{resource_id}",
    operation_id="fhir-read_task",
    response_class=FhirResponse,
    responses=FHIR_RESPONSES,
)
async def read_task(
    request: Request, session: SessionDep, caller: ReadCaller, resource_id: IdPath
) -> Response:
    """Read a referral's Task (its closed-loop status)."""
    task = await service.read_task(
        session, Context.of(request, caller), known_uuid(resource_id, "Task")
    )
    return resource_response(fhir.task_resource(task))


@router.put(
    "/fhir/Task/{resource_id}",
    operation_id="fhir-update_task",
    response_class=FhirResponse,
    openapi_extra=FHIR_BODY,
    responses=FHIR_RESPONSES,
)
async def update_task(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, Depends(allowed(Action.TASK_UPDATE))],
    resource_id: IdPath,
    if_match: Annotated[str | None, Header()] = None,
    prefer: Annotated[str | None, Header()] = None,
) -> Response:
    """Move a Task (status, statusReason, businessStatus); illegal transitions are 409."""
    body = await update_body(request, "Task", resource_id)
    task = await service.update_task(
        session,
        Context.of(request, caller),
        known_uuid(resource_id, "Task"),
        body,
        if_match,
        outcome_outputs=outcomes_service.task_outputs,
    )
    return written(fhir.task_resource(task), status=200, prefer=prefer, message="Task updated")


register_history(router, "Task")


@search_routes(router, "/fhir/Task", "fhir-search_tasks", FHIR_RESPONSES)
async def search_tasks(request: Request, session: SessionDep, caller: ReadCaller) -> Response:
    """Search Tasks: a referrer follows its referrals, a link worker pulls its caseload."""
    search = await search_request(request)
    query = repository.TaskQuery(
        ids=reference_ids(search.values("_id"), "Task"),
        focus_ids=reference_ids(search.values("focus"), "ServiceRequest"),
        patient_ids=reference_ids(search.values("patient"), "Patient"),
        owners=organisations(search, "owner"),
        requesters=organisations(search, "requester"),
        statuses=search.values("status"),
        business_statuses=[token(v)[1] for v in search.values("business-status")],
        last_updated=search.dates("_lastUpdated"),
    )
    page = search.page(TASK_PARAMS)
    ctx = Context.of(request, caller)
    total, tasks = await repository.search_tasks(
        session, query, ctx.reach, ctx.org, offset=page.offset, limit=page.count
    )
    service.audit_search(session, ctx, "Task", tasks)
    matches = [fhir.task_resource(t) for t in tasks]
    return searchset_response(request, "Task", page, matches, total=total)
