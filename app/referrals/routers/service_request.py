"""``/fhir/ServiceRequest``: create (conditional), read, revoke, history, search with
``_include`` and ``_revinclude``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response

from app.auth.context import Context
from app.auth.dependencies import Caller, allowed
from app.auth.policy import Action
from app.db import SessionDep
from app.deps import SessionmakerDep, SettingsDep
from app.errors import BadRequest, Issue, known_uuid
from app.fhir.capability import ResourceCapability, SearchParam
from app.fhir.http import fhir_base, search_request, searchset_response
from app.fhir.responses import (
    FHIR_BODY,
    FHIR_RESPONSES,
    FhirResponse,
    fhir_body,
    search_routes,
    written,
)
from app.fhir.search import SearchRequest, reference_ids, token
from app.ops.metrics import REFERRALS_CREATED
from app.referrals import fhir, intake, repository, service
from app.referrals.dependencies import IntakeWriterDep
from app.referrals.routers.common import (
    IdPath,
    ReadCaller,
    body_of,
    cached_resolver,
    nhs_numbers,
    organisations,
    parse_if_none_exist,
    resource_response,
    update_body,
)
from app.referrals.routers.history import register_history
from app.terminology.dependencies import NeedMappingsDep

router = APIRouter(tags=["fhir"])

SR_PARAMS = (
    SearchParam("_id", "token"),
    SearchParam("identifier", "token", "the referrer's referral identifier, system|value"),
    SearchParam("patient", "reference", "Patient/{id}; :identifier takes an NHS number"),
    SearchParam("subject", "reference", "Patient/{id}; :identifier takes an NHS number"),
    SearchParam("status", "token"),
    SearchParam("intent", "token"),
    SearchParam("code", "token"),
    SearchParam("category", "token"),
    SearchParam("authored", "date", "eq, gt, ge, lt, le"),
    SearchParam("requester", "reference", "ODS code, Organization/{ODS} or :identifier=system|ODS"),
    SearchParam("performer", "reference", "ODS code, Organization/{ODS} or :identifier=system|ODS"),
    SearchParam("_lastUpdated", "date", "eq, gt, ge, lt, le"),
)
CAPABILITY = ResourceCapability(
    type="ServiceRequest",
    interactions=("create", "read", "vread", "update", "history-instance", "search-type"),
    search_params=SR_PARAMS,
    search_include=("ServiceRequest:subject", "ServiceRequest:patient"),
    search_rev_include=("Task:focus",),
    conditional_create=True,
    documentation="Social-prescribing referrals (DESIGN.md 5.1), contained Patient, Consent.",
)


@router.post(
    "/fhir/ServiceRequest",
    operation_id="fhir-create_service_request",
    response_class=FhirResponse,
    status_code=201,
    openapi_extra=fhir_body("service-request"),
    responses={
        200: {"description": "already stored (conditional create or retry)"},
        **FHIR_RESPONSES,
    },
)
async def create_service_request(
    request: Request,
    caller: Annotated[Caller, Depends(allowed(Action.REFERRAL_CREATE))],
    settings: SettingsDep,
    sessionmaker: SessionmakerDep,
    need_mappings: NeedMappingsDep,
    writer: IntakeWriterDep,  # stored with concurrent referrals
    if_none_exist: Annotated[str | None, Header()] = None,
    prefer: Annotated[str | None, Header()] = None,
) -> Response:
    """Create a referral (contained Patient and Consent); conditional with If-None-Exist."""
    body = await body_of(request)
    draft = intake.check_referral(
        body,
        resolve_needs=await cached_resolver(need_mappings, sessionmaker),
        clock_skew=settings.clock_skew,
    )
    criterion = request.url.query or if_none_exist  # fhirpy sends the criterion as a query string
    condition = parse_if_none_exist(criterion) if criterion else None
    result = await service.submit(
        writer,
        Context.of(request, caller),
        draft,
        default_performer=settings.default_performer_ods,
        if_none_exist=condition,
    )
    resource = fhir.service_request_resource(result.referral)
    base = fhir_base(request)
    if result.created:
        REFERRALS_CREATED.inc()
        location = (
            f"{base}/ServiceRequest/{result.referral.id}/_history/{result.referral.version_id}"
        )
        return written(
            resource, status=201, prefer=prefer, location=location, message="Referral created"
        )
    return written(resource, status=200, prefer=prefer, message="The referral was already stored")


@router.get(
    "/fhir/ServiceRequest/{resource_id}",
    operation_id="fhir-read_service_request",
    response_class=FhirResponse,
    responses=FHIR_RESPONSES,
)
async def read_service_request(
    request: Request, session: SessionDep, caller: ReadCaller, resource_id: IdPath
) -> Response:
    """Read a referral."""
    referral = await service.read_referral(
        session, Context.of(request, caller), known_uuid(resource_id, "ServiceRequest")
    )
    return resource_response(fhir.service_request_resource(referral))


@router.put(
    "/fhir/ServiceRequest/{resource_id}",
    operation_id="fhir-update_service_request",
    response_class=FhirResponse,
    openapi_extra=FHIR_BODY,
    responses=FHIR_RESPONSES,
)
async def update_service_request(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, Depends(allowed(Action.REFERRAL_REVOKE))],
    resource_id: IdPath,
    if_match: Annotated[str | None, Header()] = None,
    prefer: Annotated[str | None, Header()] = None,
) -> Response:
    """Revoke a referral (status -> revoked; cancels its Task). If-Match is honoured."""
    body = await update_body(request, "ServiceRequest", resource_id)
    referral = await service.update_referral(
        session,
        Context.of(request, caller),
        known_uuid(resource_id, "ServiceRequest"),
        body,
        if_match,
    )
    return written(
        fhir.service_request_resource(referral),
        status=200,
        prefer=prefer,
        message="Referral updated",
    )


register_history(router, "ServiceRequest")


# --- search ------------------------------------------------------------------------------------


def _sort(search: SearchRequest) -> list[tuple[str, bool]]:
    raw = search.first("_sort")
    if raw is None:
        return [("_lastUpdated", True)]
    keys = []
    for part in raw.split(","):
        key = part.removeprefix("-")
        if key not in ("authored", "_lastUpdated"):
            raise BadRequest(
                f"_sort by {key!r} is not supported (authored, _lastUpdated)",
                [Issue("unsupported sort", "_sort", code="not-supported")],
            )
        keys.append((key, part.startswith("-")))
    return keys


def _includes(search: SearchRequest) -> tuple[bool, bool]:
    include = search.values("_include")
    revinclude = search.values("_revinclude")
    for value in include:
        if value not in CAPABILITY.search_include:
            raise BadRequest(
                f"_include={value} is not supported",
                [Issue("unsupported include", "_include", code="not-supported")],
            )
    for value in revinclude:
        if value not in CAPABILITY.search_rev_include:
            raise BadRequest(
                f"_revinclude={value} is not supported",
                [Issue("unsupported revinclude", "_revinclude", code="not-supported")],
            )
    return bool(include), bool(revinclude)


def referral_query(search: SearchRequest) -> repository.ReferralQuery:
    patients = reference_ids(search.values("patient") + search.values("subject"), "Patient")
    nhs = nhs_numbers(search, "patient") + nhs_numbers(search, "subject")
    return repository.ReferralQuery(
        ids=reference_ids(search.values("_id"), "ServiceRequest"),
        identifiers=[token(v) for v in search.values("identifier")],
        patient_ids=patients,
        nhs_numbers=nhs,
        statuses=search.values("status"),
        intents=search.values("intent"),
        codes=[token(v) for v in search.values("code")],
        categories=[token(v) for v in search.values("category")],
        authored=search.dates("authored"),
        requesters=organisations(search, "requester"),
        performers=organisations(search, "performer"),
        last_updated=search.dates("_lastUpdated"),
        sort=_sort(search),
    )


@search_routes(router, "/fhir/ServiceRequest", "fhir-search_service_requests", FHIR_RESPONSES)
async def search_service_requests(
    request: Request, session: SessionDep, caller: ReadCaller
) -> Response:
    """Search referrals (GET or form-encoded POST _search), with _include and _revinclude."""
    search = await search_request(request)
    query = referral_query(search)
    include_patients, include_tasks = _includes(search)
    page = search.page(SR_PARAMS)
    ctx = Context.of(request, caller)
    total, referrals = await repository.search_referrals(
        session, query, ctx.reach, ctx.org, offset=page.offset, limit=page.count
    )
    included: list[dict[str, Any]] = []
    service.audit_search(session, ctx, "ServiceRequest", referrals)
    if include_patients:
        patients = await repository.patients_by_ids(session, [r.patient_id for r in referrals])
        service.audit_search(session, ctx, "Patient", patients)
        included += [fhir.patient_resource(p) for p in sorted(patients, key=lambda p: str(p.id))]
    if include_tasks:
        tasks = await repository.tasks_for_referrals(session, [r.id for r in referrals])
        service.audit_search(session, ctx, "Task", tasks)
        included += [fhir.task_resource(t) for t in sorted(tasks, key=lambda t: str(t.id))]
    matches = [fhir.service_request_resource(r) for r in referrals]
    return searchset_response(
        request, "ServiceRequest", page, matches, total=total, included=included
    )
