"""Outcomes over HTTP: ``/api/v1/referrals/{id}/outcomes`` (JSON) and the FHIR resources
``Questionnaire``, ``QuestionnaireResponse`` and ``Observation`` under ``/fhir``."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.context import Context
from app.auth.dependencies import Caller, allowed
from app.auth.policy import Action
from app.db import SessionDep
from app.errors import NotFound, known_uuid
from app.fhir.capability import ResourceCapability, SearchParam
from app.fhir.codec import check_structure, loads
from app.fhir.http import fhir_base, search_request, searchset_response
from app.fhir.responses import (
    FHIR_RESPONSES,
    FhirResponse,
    fhir_body,
    search_routes,
    version_headers,
    written,
)
from app.fhir.search import reference_ids
from app.outcomes import fhir, instruments, repository, service
from app.outcomes.schemas import (
    ChangeRead,
    MeasureChangeRead,
    OutcomeCreate,
    OutcomeList,
    OutcomeRead,
    ScoreRead,
)

router = APIRouter(prefix="/api/v1/referrals", tags=["outcomes"])
fhir_router = APIRouter(prefix="/fhir", tags=["fhir"])

QUESTIONNAIRE_PARAMS = (
    SearchParam("url", "uri", "the canonical URL, exactly"),
    SearchParam("name", "string", "the computable name (case-insensitive, starts with)"),
    SearchParam("_id", "token", "ons4 | swemwbs | wemwbs | ucla3 | ons-loneliness"),
)
OBSERVATION_PARAMS = (
    SearchParam("_id", "token"),
    SearchParam("based-on", "reference", "ServiceRequest/{id}"),
    SearchParam("patient", "reference", "Patient/{id}"),
    SearchParam("subject", "reference", "Patient/{id}"),
    SearchParam("derived-from", "reference", "QuestionnaireResponse/{id}"),
    SearchParam("date", "date", "when the answers were collected: eq, gt, ge, lt, le"),
)
CAPABILITIES = (
    ResourceCapability(
        type="Questionnaire",
        interactions=("read", "search-type"),
        search_params=QUESTIONNAIRE_PARAMS,
        versioning="no-version",
        documentation="One per wellbeing instrument: item ids and short labels (DESIGN.md 9).",
    ),
    ResourceCapability(
        type="QuestionnaireResponse",
        interactions=("create", "read", "vread"),
        documentation=(
            "A completed instrument for a referral (basedOn the ServiceRequest), scored as "
            "DESIGN.md 9; timepoint and mode in extensions (docs/outcomes.md)."
        ),
    ),
    ResourceCapability(
        type="Observation",
        interactions=("read", "search-type"),
        search_params=OBSERVATION_PARAMS,
        documentation="One per derived wellbeing score, basedOn the referral (DESIGN.md 9).",
    ),
)

WriteCaller = Annotated[Caller, Depends(allowed(Action.OUTCOME_WRITE))]
ReadCaller = Annotated[Caller, Depends(allowed(Action.OUTCOME_READ))]
ListCaller = Annotated[Caller, Depends(allowed(Action.OUTCOME_LIST))]
ReaderDep = Annotated[Caller, Depends(allowed(Action.DIRECTORY_READ))]
IdPath = Annotated[str, Path(description="resource id")]

JSON_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing or invalid bearer token"},
    403: {"description": "role not allowed (link workers of the referral's service and admins)"},
    404: {"description": "unknown referral, or not one of the caller's organisation"},
}


def _read(stored: service.Stored) -> OutcomeRead:
    record = stored.record
    scores = sorted(stored.scores, key=lambda s: _measure_order(record.instrument, s.measure))
    return OutcomeRead.model_validate(
        {
            "id": record.id,
            "referral_id": record.referral_id,
            "patient_id": record.patient_id,
            "instrument": record.instrument,
            "timepoint": record.timepoint,
            "collected_at": record.collected_at,
            "mode": record.mode,
            "answers": record.answers,
            "scores": [
                ScoreRead(
                    measure=s.measure,
                    value=s.value,
                    band=s.band,
                    category=s.category,
                    lonely=s.lonely,
                    observation_id=s.id,
                )
                for s in scores
            ],
            "source": record.source,
            "questionnaire_response_id": record.questionnaire_response_id,
            "recorded_at": record.recorded_at,
            "recorded_by": record.recorded_by,
        }
    )


def _measure_order(code: str, measure: str) -> int:
    keys = [*instruments.INSTRUMENTS[code].item_ids, "total", "metric"]
    return keys.index(measure) if measure in keys else len(keys)


def _change(change: service.Change) -> ChangeRead:
    transition = change.change.lonely_transition
    return ChangeRead.model_validate(
        {
            "instrument": change.instrument,
            "baseline_id": change.baseline.id,
            "follow_up_id": change.follow_up.id,
            "measures": [
                MeasureChangeRead.model_validate(
                    {
                        "measure": m.key,
                        "baseline": m.baseline,
                        "follow_up": m.follow_up,
                        "change": m.change,
                        "direction": m.direction.value,
                        "improved": m.improved,
                        "deteriorated": m.deteriorated,
                        "reliable_change_threshold": m.reliable_change_threshold,
                        "reliable_improvement": m.reliable_improvement,
                        "reliable_deterioration": m.reliable_deterioration,
                        "baseline_band": m.baseline_band,
                        "follow_up_band": m.follow_up_band,
                    }
                )
                for m in change.change.measures
            ],
            "lonely_transition": transition.value if transition else None,
        }
    )


# --- JSON API ----------------------------------------------------------------------------------


@router.post(
    "/{referral_id}/outcomes",
    operation_id="outcomes-record_outcome",
    status_code=201,
    response_model=OutcomeRead,
    responses={
        **JSON_ERRORS,
        409: {"description": "the referral has not been accepted by the link-worker service"},
        422: {"description": "an item missing or out of range (names answers.<item>), a bad time"},
    },
)
async def record_outcome(
    referral_id: uuid.UUID,
    body: OutcomeCreate,
    request: Request,
    session: SessionDep,
    caller: WriteCaller,
) -> OutcomeRead:
    """Record a completed wellbeing instrument for a referral; 201 with its scores."""
    draft = service.OutcomeDraft(
        instrument=body.instrument,
        timepoint=body.timepoint,
        collected_at=body.collected_at,
        mode=body.mode,
        answers=body.answers,
    )
    stored = await service.record_outcome(session, Context.of(request, caller), referral_id, draft)
    return _read(stored)


@router.get(
    "/{referral_id}/outcomes",
    operation_id="outcomes-list_outcomes",
    response_model=OutcomeList,
    responses=JSON_ERRORS,
)
async def list_outcomes(
    referral_id: uuid.UUID, request: Request, session: SessionDep, caller: ListCaller
) -> OutcomeList:
    """A referral's outcomes, and per instrument the change from baseline to latest follow-up."""
    stored, changes = await service.list_outcomes(session, Context.of(request, caller), referral_id)
    return OutcomeList(
        referral_id=referral_id,
        outcomes=[_read(s) for s in stored],
        changes=[_change(c) for c in changes],
    )


# --- Questionnaire -------------------------------------------------------------------------------


@search_routes(fhir_router, "/Questionnaire", "fhir-search_questionnaires", FHIR_RESPONSES)
async def search_questionnaires(request: Request, _caller: ReaderDep) -> Response:
    """Search the instruments' Questionnaires by `url`, `name` or `_id` (searchset Bundle)."""
    search = await search_request(request)
    urls, names, ids = search.values("url"), search.values("name"), search.values("_id")
    page = search.page(QUESTIONNAIRE_PARAMS)
    found = [
        q
        for q in fhir.all_questionnaires()
        if (not urls or q["url"] in [u.split("|", 1)[0] for u in urls])
        and (not ids or q["id"] in ids)
        and (not names or any(q["name"].lower().startswith(n.lower()) for n in names))
    ]
    return searchset_response(request, "Questionnaire", page, page.of(found), total=len(found))


@fhir_router.get(
    "/Questionnaire/{resource_id}",
    operation_id="fhir-read_questionnaire",
    response_class=FhirResponse,
    responses=FHIR_RESPONSES,
)
async def read_questionnaire(resource_id: IdPath, _caller: ReaderDep) -> Response:
    """Read one instrument's Questionnaire (`ons4`, `swemwbs`, `wemwbs`, `ucla3`...)."""
    code = fhir.QUESTIONNAIRE_IDS.get(resource_id)
    if code is None:
        raise NotFound(f"Questionnaire/{resource_id} is not known")
    resource = fhir.questionnaire_resource(instruments.INSTRUMENTS[code])
    return FhirResponse(resource, headers=version_headers(resource))


# --- QuestionnaireResponse -------------------------------------------------------------------


@fhir_router.post(
    "/QuestionnaireResponse",
    operation_id="fhir-create_questionnaire_response",
    response_class=FhirResponse,
    status_code=201,
    openapi_extra=fhir_body("questionnaire-response"),
    responses=FHIR_RESPONSES,
)
async def create_questionnaire_response(
    request: Request,
    session: SessionDep,
    caller: WriteCaller,
    prefer: Annotated[str | None, Header()] = None,
) -> Response:
    """Record a completed instrument as FHIR (basedOn the referral), scored as the JSON API."""
    body = loads(await request.body())
    check_structure(body, "QuestionnaireResponse")
    draft = fhir.read_response(body)
    stored = await service.record_response(session, Context.of(request, caller), draft)
    resource = fhir.questionnaire_response_resource(stored.record)
    location = f"{fhir_base(request)}/QuestionnaireResponse/{resource['id']}/_history/1"
    return written(
        resource, status=201, prefer=prefer, location=location, message="Answers recorded"
    )


async def _response(request: Request, session: AsyncSession, caller: Caller, raw: str) -> Response:
    record = await service.read_questionnaire_response(
        session, Context.of(request, caller), known_uuid(raw, "QuestionnaireResponse")
    )
    resource = fhir.questionnaire_response_resource(record)
    return FhirResponse(resource, headers=version_headers(resource))


@fhir_router.get(
    "/QuestionnaireResponse/{resource_id}",
    operation_id="fhir-read_questionnaire_response",
    response_class=FhirResponse,
    responses=FHIR_RESPONSES,
)
async def read_questionnaire_response(
    request: Request, session: SessionDep, caller: ReadCaller, resource_id: IdPath
) -> Response:
    """Read a QuestionnaireResponse recorded through FHIR."""
    return await _response(request, session, caller, resource_id)


@fhir_router.get(
    "/QuestionnaireResponse/{resource_id}/_history/{version_id}",
    operation_id="fhir-vread_questionnaire_response",
    response_class=FhirResponse,
    responses=FHIR_RESPONSES,
)
async def vread_questionnaire_response(
    request: Request,
    session: SessionDep,
    caller: ReadCaller,
    resource_id: IdPath,
    version_id: str,
) -> Response:
    """A QuestionnaireResponse's one version (answers are never changed once recorded)."""
    if version_id != "1":
        raise NotFound(f"QuestionnaireResponse/{resource_id} has no version {version_id}")
    return await _response(request, session, caller, resource_id)


# --- Observation -------------------------------------------------------------------------------


@search_routes(fhir_router, "/Observation", "fhir-search_observations", FHIR_RESPONSES)
async def search_observations(
    request: Request, session: SessionDep, caller: ReadCaller
) -> Response:
    """Search wellbeing scores, e.g. `based-on=ServiceRequest/{id}` (searchset Bundle)."""
    search = await search_request(request)
    query = repository.ObservationQuery(
        ids=reference_ids(search.values("_id"), "Observation"),
        referral_ids=reference_ids(search.values("based-on"), "ServiceRequest"),
        patient_ids=reference_ids(search.values("patient") + search.values("subject"), "Patient"),
        response_ids=reference_ids(search.values("derived-from"), "QuestionnaireResponse"),
        dates=search.dates("date"),
    )
    page = search.page(OBSERVATION_PARAMS)
    total, rows = await service.search_observations(
        session, Context.of(request, caller), query, offset=page.offset, limit=page.count
    )
    matches = [fhir.observation_resource(score, record) for score, record in rows]
    return searchset_response(request, "Observation", page, matches, total=total)


@fhir_router.get(
    "/Observation/{resource_id}",
    operation_id="fhir-read_observation",
    response_class=FhirResponse,
    responses=FHIR_RESPONSES,
)
async def read_observation(
    request: Request, session: SessionDep, caller: ReadCaller, resource_id: IdPath
) -> Response:
    """Read one wellbeing score."""
    score, record = await service.read_observation(
        session, Context.of(request, caller), known_uuid(resource_id, "Observation")
    )
    resource = fhir.observation_resource(score, record)
    return FhirResponse(resource, headers=version_headers(resource))
