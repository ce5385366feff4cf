"""``/fhir/CodeSystem`` (read, search) for every role; the admin SNOMED CT -> need mappings and
free-text phrases -> needs.

``fhir_router`` is mounted under ``/fhir``, ``router`` under ``/api/v1/terminology``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from app.auth.dependencies import Caller, allowed
from app.auth.policy import Action
from app.db import SessionDep
from app.errors import NotFound
from app.fhir.capability import ResourceCapability, SearchParam
from app.fhir.http import search_request, searchset_response
from app.fhir.responses import FhirResponse, search_routes
from app.terminology import codesystems, service
from app.terminology.dependencies import NeedMappingsDep
from app.terminology.schemas import (
    NeedPhraseList,
    NeedPhraseRead,
    NeedPhraseWrite,
    SnomedNeedList,
    SnomedNeedRead,
    SnomedNeedWrite,
)

fhir_router = APIRouter(prefix="/fhir", tags=["fhir"])
router = APIRouter(prefix="/api/v1/terminology", tags=["terminology"])

SEARCH_PARAMS = (
    SearchParam("url", "uri", "the canonical URL, exactly"),
    SearchParam("name", "string", "the computable name (case-insensitive, starts with)"),
    SearchParam("_id", "token", "need | activity-category | referral-stage"),
)
CAPABILITY = ResourceCapability(
    type="CodeSystem",
    interactions=("read", "search-type"),
    search_params=SEARCH_PARAMS,
    versioning="no-version",
    documentation="The need, activity-category and referral-stage code systems (every role).",
)

ReaderDep = Annotated[Caller, Depends(allowed(Action.DIRECTORY_READ))]
AdminDep = Annotated[Caller, Depends(allowed(Action.TERMINOLOGY_MANAGE))]


@search_routes(fhir_router, "/CodeSystem", "fhir-search_code_systems")
async def search_code_systems(request: Request, _caller: ReaderDep) -> Any:
    """Search this service's CodeSystems by `url`, `name` or `_id` (searchset Bundle)."""
    search = await search_request(request)
    urls, names, ids = search.values("url"), search.values("name"), search.values("_id")
    page = search.page(SEARCH_PARAMS)
    found = [
        cs
        for cs in codesystems.all_codesystems()
        if (not urls or cs.url in urls)
        and (not ids or cs.id in ids)
        and (not names or any(cs.name.lower().startswith(n.lower()) for n in names))
    ]
    matches = [codesystems.to_fhir(cs) for cs in page.of(found)]
    return searchset_response(request, "CodeSystem", page, matches, total=len(found))


@fhir_router.get(
    "/CodeSystem/{codesystem_id}",
    operation_id="fhir-read_code_system",
    response_class=FhirResponse,
)
async def read_code_system(codesystem_id: str, _caller: ReaderDep) -> Any:
    """Read one CodeSystem: `need`, `activity-category` or `referral-stage`."""
    if codesystem_id not in codesystems.IDS:
        raise NotFound(f"No CodeSystem with id {codesystem_id!r}")
    return FhirResponse(codesystems.to_fhir(codesystems.load(codesystem_id)))


@router.get(
    "/snomed-needs", operation_id="terminology-list_snomed_needs", response_model=SnomedNeedList
)
async def list_snomed_needs(session: SessionDep, _caller: AdminDep) -> SnomedNeedList:
    """Every SNOMED CT -> need mapping in force: shipped (cited) and administrators' rows."""
    return SnomedNeedList(items=await service.merged(session))


@router.put(
    "/snomed-needs/{concept_id}",
    operation_id="terminology-put_snomed_need",
    response_model=SnomedNeedRead,
    responses={201: {"model": SnomedNeedRead, "description": "a new administrator mapping"}},
)
async def put_snomed_need(
    need_mappings: NeedMappingsDep,
    concept_id: str,
    body: SnomedNeedWrite,
    session: SessionDep,
    caller: AdminDep,
    response: Response,
) -> SnomedNeedRead:
    """Map a SNOMED CT concept to a need (creates or replaces the administrator's row)."""
    mapping, created = await service.put(session, concept_id, body, caller.principal)
    need_mappings.invalidate()
    response.status_code = 201 if created else 200
    return mapping


@router.delete(
    "/snomed-needs/{concept_id}",
    operation_id="terminology-delete_snomed_need",
    status_code=204,
    response_class=Response,
)
async def delete_snomed_need(
    need_mappings: NeedMappingsDep, concept_id: str, session: SessionDep, _caller: AdminDep
) -> Response:
    """Delete an administrator's mapping; a shipped mapping for the concept applies again."""
    await service.delete(session, concept_id)
    need_mappings.invalidate()
    return Response(status_code=204)


@router.get(
    "/need-phrases", operation_id="terminology-list_need_phrases", response_model=NeedPhraseList
)
async def list_need_phrases(session: SessionDep, _caller: AdminDep) -> NeedPhraseList:
    """Every free-text phrase -> need in force: shipped (for review) and administrators' rows."""
    return NeedPhraseList(items=await service.merged_phrases(session))


@router.put(
    "/need-phrases/{phrase}",
    operation_id="terminology-put_need_phrase",
    response_model=NeedPhraseRead,
    responses={201: {"model": NeedPhraseRead, "description": "a new administrator phrase"}},
)
async def put_need_phrase(
    need_mappings: NeedMappingsDep,
    phrase: str,
    body: NeedPhraseWrite,
    session: SessionDep,
    caller: AdminDep,
    response: Response,
) -> NeedPhraseRead:
    """Map a phrase (normalised) to a need: creates or replaces the administrator's row."""
    entry, created = await service.put_phrase(session, phrase, body, caller.principal)
    need_mappings.invalidate()
    response.status_code = 201 if created else 200
    return entry


@router.delete(
    "/need-phrases/{phrase}",
    operation_id="terminology-delete_need_phrase",
    status_code=204,
    response_class=Response,
    responses={422: {"description": "the phrase does not normalise to 1 to 100 letters or digits"}},
)
async def delete_need_phrase(
    need_mappings: NeedMappingsDep, phrase: str, session: SessionDep, _caller: AdminDep
) -> Response:
    """Delete an administrator's phrase; a shipped phrase, if any, applies again."""
    await service.delete_phrase(session, phrase)
    need_mappings.invalidate()
    return Response(status_code=204)
