"""FHIR R4 REST for referrals: ServiceRequest, Patient, Task, Consent, the transaction endpoint,
and the admin routing table (``/api/v1/routing``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.context import Context
from app.auth.dependencies import Caller, allowed
from app.auth.policy import Action
from app.auth.principal import ODS_CODE
from app.db import SessionDep
from app.deps import SessionmakerDep, SettingsDep
from app.errors import BadRequest, Issue, NotFound, Unprocessable, known_uuid
from app.fhir.bundle import searchset
from app.fhir.capability import ResourceCapability, SearchParam
from app.fhir.codec import check_structure, loads
from app.fhir.http import fhir_base, search_request
from app.fhir.responses import (
    FHIR_BODY,
    FHIR_RESPONSES,
    FhirResponse,
    fhir_body,
    search_routes,
    version_headers,
    written,
)
from app.fhir.search import SearchRequest, page_links, reference_ids, token
from app.ops.metrics import REFERRALS_CREATED
from app.referrals import fhir, intake, needs, repository, service
from app.referrals.dependencies import IntakeWriterDep
from app.referrals.models import ResourceVersion
from app.referrals.schemas import RoutingRuleRead, RoutingRuleWrite
from app.terminology import service as terminology_service
from app.terminology.dependencies import NeedMappingsDep

router = APIRouter(tags=["fhir"])
admin_router = APIRouter(prefix="/api/v1/routing", tags=["routing"])

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
PATIENT_PARAMS = (
    SearchParam("_id", "token"),
    SearchParam("identifier", "token", "https://fhir.nhs.uk/Id/nhs-number|{NHS number}"),
)
CAPABILITIES = (
    ResourceCapability(
        type="ServiceRequest",
        interactions=("create", "read", "vread", "update", "history-instance", "search-type"),
        search_params=SR_PARAMS,
        search_include=("ServiceRequest:subject", "ServiceRequest:patient"),
        search_rev_include=("Task:focus",),
        conditional_create=True,
        documentation="Social-prescribing referrals (DESIGN.md 5.1), contained Patient, Consent.",
    ),
    ResourceCapability(
        type="Task",
        interactions=("read", "vread", "update", "history-instance", "search-type"),
        search_params=TASK_PARAMS,
        documentation="One per referral: the closed loop (DESIGN.md 5.2).",
    ),
    ResourceCapability(
        type="Patient",
        interactions=("read", "vread", "history-instance", "search-type"),
        search_params=PATIENT_PARAMS,
        documentation="One per NHS number, for the roles that may see the person's referrals.",
    ),
    ResourceCapability(
        type="Consent",
        interactions=("read",),
        versioning="versioned",
        documentation="Consents sent as their own entry of a referral transaction.",
    ),
)
SYSTEM_INTERACTIONS = ("transaction",)

ReadCaller = Annotated[Caller, Depends(allowed(Action.REFERRAL_READ))]
IdPath = Annotated[str, Path(description="resource id")]


async def _resolver(
    cache: terminology_service.NeedMappingCache, session: AsyncSession
) -> intake.NeedResolver:
    return needs.resolver(await cache.get(session))


async def _cached_resolver(
    cache: terminology_service.NeedMappingCache, sessionmaker: async_sessionmaker[AsyncSession]
) -> intake.NeedResolver:
    """``_resolver`` without a request session: one is opened only to reload the mapping."""
    mapping = cache.cached()
    if mapping is None:
        async with sessionmaker() as session:
            mapping = await cache.get(session)
    return needs.resolver(mapping)


async def _body(request: Request) -> Any:
    return loads(await request.body())


def _resource(resource: dict[str, Any]) -> FhirResponse:
    return FhirResponse(resource, headers=version_headers(resource))


async def _update_body(request: Request, resource_type: str, resource_id: str) -> dict[str, Any]:
    """The body of a PUT: R4 JSON of the type, with the id of the URL (else 400)."""
    body = await _body(request)
    check_structure(body, resource_type)
    if body.get("id") != resource_id:
        raise BadRequest(
            "The resource id must equal the id in the URL",
            [Issue("id mismatch", f"{resource_type}.id")],
        )
    return dict(body)


# --- ServiceRequest --------------------------------------------------------------------------


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
    body = await _body(request)
    draft = intake.check_referral(
        body,
        resolve_needs=await _cached_resolver(need_mappings, sessionmaker),
        clock_skew=settings.clock_skew,
    )
    criterion = request.url.query or if_none_exist  # fhirpy sends the criterion as a query string
    condition = intake.parse_if_none_exist(criterion) if criterion else None
    result = await service.submit(
        writer,  # stored with concurrent referrals
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
    return _resource(fhir.service_request_resource(referral))


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
    body = await _update_body(request, "ServiceRequest", resource_id)
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


# --- history and vread, for every versioned type ---------------------------------------------


def _history_bundle(
    request: Request, resource_type: str, resource_id: str, rows: list[ResourceVersion]
) -> dict[str, Any]:
    base = fhir_base(request)
    entries = []
    for row in rows:
        first = row.version_id == 1
        entries.append(
            {
                "fullUrl": f"{base}/{resource_type}/{resource_id}",
                "resource": row.resource,
                "request": {
                    "method": "POST" if first else "PUT",
                    "url": resource_type if first else f"{resource_type}/{resource_id}",
                },
                "response": {
                    "status": "201 Created" if first else "200 OK",
                    "etag": f'W/"{row.version_id}"',
                    "lastModified": row.recorded_at.isoformat(),
                },
            }
        )
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "history",
        "total": len(entries),
        "link": [{"relation": "self", "url": f"{base}/{resource_type}/{resource_id}/_history"}],
    }
    if entries:
        bundle["entry"] = entries
    return bundle


def _register_history(resource_type: str) -> None:
    name = resource_type.lower()

    @router.get(
        f"/fhir/{resource_type}/{{resource_id}}/_history",
        operation_id=f"fhir-history_{name}",
        response_class=FhirResponse,
        responses=FHIR_RESPONSES,
        summary=f"{resource_type} history",
    )
    async def history(
        request: Request, session: SessionDep, caller: ReadCaller, resource_id: IdPath
    ) -> Response:
        """Every version of the resource, newest first."""
        rows = await service.history(
            session,
            Context.of(request, caller),
            resource_type,
            known_uuid(resource_id, resource_type),
        )
        return FhirResponse(_history_bundle(request, resource_type, resource_id, rows))

    @router.get(
        f"/fhir/{resource_type}/{{resource_id}}/_history/{{version_id}}",
        operation_id=f"fhir-vread_{name}",
        response_class=FhirResponse,
        responses=FHIR_RESPONSES,
        summary=f"{resource_type} version",
    )
    async def vread(
        request: Request,
        session: SessionDep,
        caller: ReadCaller,
        resource_id: IdPath,
        version_id: str,
    ) -> Response:
        """One version of the resource."""
        if not version_id.isdigit():
            raise NotFound(f"{resource_type}/{resource_id} has no version {version_id}")
        row = await service.vread(
            session,
            Context.of(request, caller),
            resource_type,
            known_uuid(resource_id, resource_type),
            int(version_id),
        )
        return _resource(row.resource)


for _type in ("ServiceRequest", "Task", "Patient"):
    _register_history(_type)


# --- search ------------------------------------------------------------------------------------


def _organisations(search: SearchRequest, name: str) -> list[str]:
    values = [v.removeprefix("Organization/").upper() for v in search.values(name)]
    for modifier, raw_values in search.modifiers(name).items():
        if modifier != "identifier":
            raise BadRequest(
                f"Modifier :{modifier} is not supported on {name}",
                [Issue("unsupported modifier", f"{name}:{modifier}", code="not-supported")],
            )
        for raw in raw_values:
            for value in raw.split(","):
                system, code = token(value)
                values.append(code.upper() if system in (None, intake.ODS_SYSTEM) else "\x00")
    for value in values:
        if value != "\x00" and not ODS_CODE.match(value):
            raise BadRequest(f"{name}: {value!r} is not an ODS code", [Issue("malformed", name)])
    return values


def _nhs_numbers(search: SearchRequest, name: str) -> list[str]:
    numbers = []
    for modifier, raw_values in search.modifiers(name).items():
        if modifier != "identifier":
            raise BadRequest(
                f"Modifier :{modifier} is not supported on {name}",
                [Issue("unsupported modifier", f"{name}:{modifier}", code="not-supported")],
            )
        for raw in raw_values:
            for value in raw.split(","):
                system, number = token(value)
                numbers.append(
                    number if system in (None, "https://fhir.nhs.uk/Id/nhs-number") else "-"
                )
    return numbers


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
        if value not in ("ServiceRequest:subject", "ServiceRequest:patient"):
            raise BadRequest(
                f"_include={value} is not supported",
                [Issue("unsupported include", "_include", code="not-supported")],
            )
    for value in revinclude:
        if value != "Task:focus":
            raise BadRequest(
                f"_revinclude={value} is not supported",
                [Issue("unsupported revinclude", "_revinclude", code="not-supported")],
            )
    return bool(include), bool(revinclude)


def referral_query(search: SearchRequest) -> repository.ReferralQuery:
    patients = reference_ids(search.values("patient") + search.values("subject"), "Patient")
    nhs = _nhs_numbers(search, "patient") + _nhs_numbers(search, "subject")
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
        requesters=_organisations(search, "requester"),
        performers=_organisations(search, "performer"),
        last_updated=search.dates("_lastUpdated"),
        sort=_sort(search),
    )


def _self_url(request: Request, path: str) -> str:
    return f"{fhir_base(request)}/{path}"


@search_routes(router, "/fhir/ServiceRequest", "fhir-search_service_requests", FHIR_RESPONSES)
async def search_service_requests(
    request: Request, session: SessionDep, caller: ReadCaller
) -> Response:
    """Search referrals (GET or form-encoded POST _search), with _include and _revinclude."""
    search = await search_request(request)
    query = referral_query(search)
    include_patients, include_tasks = _includes(search)
    count, offset = search.count(), search.offset()
    search.check_unused([p.name for p in SR_PARAMS])
    ctx = Context.of(request, caller)
    total, referrals = await repository.search_referrals(
        session, query, ctx.reach, ctx.org, offset=offset, limit=count
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
    links = page_links(
        _self_url(request, "ServiceRequest"),
        search.params.multi_items(),
        offset=offset,
        count=count,
        total=total,
    )
    matches = [fhir.service_request_resource(r) for r in referrals]
    return FhirResponse(
        searchset(fhir_base(request), matches, total=total, links=links, included=included)
    )


# --- Patient -----------------------------------------------------------------------------------


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
    return _resource(fhir.patient_resource(patient))


@search_routes(router, "/fhir/Patient", "fhir-search_patients", FHIR_RESPONSES)
async def search_patients(request: Request, session: SessionDep, caller: ReadCaller) -> Response:
    """Search people by NHS number (identifier) among the caller's referrals."""
    search = await search_request(request)
    numbers = []
    for value in search.values("identifier"):
        system, number = token(value)
        numbers.append(number if system in (None, "https://fhir.nhs.uk/Id/nhs-number") else "-")
    ids = reference_ids(search.values("_id"), "Patient")
    count, offset = search.count(), search.offset()
    search.check_unused([p.name for p in PATIENT_PARAMS])
    ctx = Context.of(request, caller)
    total, patients = await repository.search_patients(
        session,
        ids=ids,
        nhs_numbers=numbers,
        reach=ctx.reach,
        org=ctx.org,
        offset=offset,
        limit=count,
    )
    service.audit_search(session, ctx, "Patient", patients)
    links = page_links(
        _self_url(request, "Patient"),
        search.params.multi_items(),
        offset=offset,
        count=count,
        total=total,
    )
    return FhirResponse(
        searchset(
            fhir_base(request),
            [fhir.patient_resource(p) for p in patients],
            total=total,
            links=links,
        )
    )


# --- Task --------------------------------------------------------------------------------------


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
    return _resource(fhir.task_resource(task))


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
    body = await _update_body(request, "Task", resource_id)
    task = await service.update_task(
        session,
        Context.of(request, caller),
        known_uuid(resource_id, "Task"),
        body,
        if_match,
    )
    return written(fhir.task_resource(task), status=200, prefer=prefer, message="Task updated")


@search_routes(router, "/fhir/Task", "fhir-search_tasks", FHIR_RESPONSES)
async def search_tasks(request: Request, session: SessionDep, caller: ReadCaller) -> Response:
    """Search Tasks: a referrer follows its referrals, a link worker pulls its caseload."""
    search = await search_request(request)
    query = repository.TaskQuery(
        ids=reference_ids(search.values("_id"), "Task"),
        focus_ids=reference_ids(search.values("focus"), "ServiceRequest"),
        patient_ids=reference_ids(search.values("patient"), "Patient"),
        owners=_organisations(search, "owner"),
        requesters=_organisations(search, "requester"),
        statuses=search.values("status"),
        business_statuses=[token(v)[1] for v in search.values("business-status")],
        last_updated=search.dates("_lastUpdated"),
    )
    count, offset = search.count(), search.offset()
    search.check_unused([p.name for p in TASK_PARAMS])
    ctx = Context.of(request, caller)
    total, tasks = await repository.search_tasks(
        session, query, ctx.reach, ctx.org, offset=offset, limit=count
    )
    service.audit_search(session, ctx, "Task", tasks)
    links = page_links(
        _self_url(request, "Task"),
        search.params.multi_items(),
        offset=offset,
        count=count,
        total=total,
    )
    return FhirResponse(
        searchset(
            fhir_base(request), [fhir.task_resource(t) for t in tasks], total=total, links=links
        )
    )


# --- Consent -----------------------------------------------------------------------------------


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
    return _resource(fhir.consent_resource(consent))


# --- transaction -------------------------------------------------------------------------------


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
    body = await _body(request)
    draft = intake.check_transaction(
        body, resolve_needs=await _resolver(need_mappings, session), clock_skew=settings.clock_skew
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


# --- routing (admin) ---------------------------------------------------------------------------

RoutingCaller = Annotated[Caller, Depends(allowed(Action.ROUTING_MANAGE))]


def _ods(value: str, field: str) -> str:
    if not ODS_CODE.match(value.upper()):
        raise Unprocessable(f"{field} is not an ODS code", [Issue("not an ODS code", field)])
    return value.upper()


@admin_router.get(
    "", operation_id="routing-list_routing_rules", response_model=list[RoutingRuleRead]
)
async def list_routing_rules(session: SessionDep, caller: RoutingCaller) -> list[RoutingRuleRead]:
    """Every routing rule: practice ODS code -> link-worker service ODS code."""
    return [
        RoutingRuleRead.model_validate(rule, from_attributes=True)
        for rule in await service.list_routing(session)
    ]


@admin_router.put(
    "/{practice_ods}", operation_id="routing-put_routing_rule", response_model=RoutingRuleRead
)
async def put_routing_rule(
    practice_ods: str, body: RoutingRuleWrite, session: SessionDep, caller: RoutingCaller
) -> JSONResponse:
    """Route a practice's referrals (with no performer) to a link-worker service."""
    rule, created = await service.put_routing(
        session,
        _ods(practice_ods, "practice_ods"),
        _ods(body.performer_ods, "performer_ods"),
        caller.principal.sub,
    )
    return JSONResponse(
        RoutingRuleRead.model_validate(rule, from_attributes=True).model_dump(mode="json"),
        status_code=201 if created else 200,
    )


@admin_router.delete("/{practice_ods}", operation_id="routing-delete_routing_rule", status_code=204)
async def delete_routing_rule(
    practice_ods: str, session: SessionDep, caller: RoutingCaller
) -> Response:
    """Remove a practice's routing rule (its referrals then go to the default service)."""
    await service.delete_routing(session, practice_ods.upper())
    return Response(status_code=204)
