"""``/api/v1/directory``: community activities as Open Referral UK services."""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, Header, Query, Request, Response

from app.audit import service as audit
from app.auth.dependencies import Caller, allowed
from app.auth.policy import Action
from app.db import SessionDep
from app.deps import SessionmakerDep, SettingsDep, WriteLockDep
from app.directory import importer, service, sync
from app.directory.schemas import (
    ActivityRead,
    ActivitySummary,
    ActivityWrite,
    ImportReport,
    Page,
    SyncReport,
    SyncRequest,
)
from app.directory.service import MAX_PER_PAGE, SearchParams

router = APIRouter(prefix="/api/v1/directory", tags=["directory"])


@router.get("/services", response_model=Page[ActivitySummary], operation_id="directory-search")
async def search_services(
    session: SessionDep,
    _caller: Annotated[Caller, Depends(allowed(Action.DIRECTORY_READ))],
    search: Annotated[
        str | None, Query(max_length=200, description="text in name or description")
    ] = None,
    taxonomy_term_id: Annotated[
        str | None, Query(max_length=64, description="activity-category code or taxonomy term id")
    ] = None,
    minimum_age: Annotated[
        int | None, Query(ge=0, le=150, description="minimum age of at least this")
    ] = None,
    maximum_age: Annotated[
        int | None, Query(ge=0, le=150, description="maximum age at or below this")
    ] = None,
    day: Annotated[
        str | None, Query(max_length=16, description="MO..SU (also mon..sun, Monday..)")
    ] = None,
    postcode: Annotated[
        str | None,
        Query(
            max_length=16,
            description="UK postcode or district: service areas, and with "
            "proximity the centre to measure from",
        ),
    ] = None,
    proximity: Annotated[
        int | None, Query(ge=1, le=200_000, description="metres from the postcode's centre")
    ] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = service.DEFAULT_PER_PAGE,
) -> Page[ActivitySummary]:
    """Search activities with the Open Referral UK parameters; one page in the ORUK envelope."""
    params = SearchParams(
        search=search,
        taxonomy_term_id=taxonomy_term_id,
        minimum_age=minimum_age,
        maximum_age=maximum_age,
        day=day,
        postcode=postcode,
        proximity=proximity,
        page=page,
        per_page=per_page,
    )
    return await service.search(session, params)


@router.get("/services/{activity_id}", response_model=ActivityRead, operation_id="directory-read")
async def read_service(
    activity_id: str,
    response: Response,
    session: SessionDep,
    _caller: Annotated[Caller, Depends(allowed(Action.DIRECTORY_READ))],
) -> ActivityRead:
    """One activity with its organisation, locations, schedules, costs and eligibility; its
    `ETag` guards a later PUT or DELETE (`If-Match`)."""
    return _tagged(response, await service.get(session, activity_id))


IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=1024,
        description="the ETag of the activity as read: 412 when it has changed since (optional)",
    ),
]


def _tagged(response: Response, document: ActivityRead) -> ActivityRead:
    response.headers["ETag"] = service.etag(document)
    return document


@router.post(
    "/services",
    response_model=ActivityRead,
    status_code=201,
    operation_id="directory-create",
)
async def create_service(
    body: ActivityWrite,
    response: Response,
    session: SessionDep,
    caller: Annotated[Caller, Depends(allowed(Action.DIRECTORY_WRITE))],
) -> ActivityRead:
    """Add an activity (providers: for their own organisation only)."""
    created = await service.create(session, caller.principal, caller.reach, body)
    response.headers["Location"] = f"/api/v1/directory/services/{created.id}"
    return _tagged(response, created)


@router.put(
    "/services/{activity_id}", response_model=ActivityRead, operation_id="directory-replace"
)
async def replace_service(
    activity_id: str,
    body: ActivityWrite,
    response: Response,
    session: SessionDep,
    caller: Annotated[Caller, Depends(allowed(Action.DIRECTORY_WRITE))],
    if_match: IfMatch = None,
) -> ActivityRead:
    """Replace an activity (providers: their own organisation's only). The document a GET
    returns is accepted as is (server-managed fields are ignored); with `If-Match`, a change
    made since that GET is 412 and nothing is written."""
    replaced = await service.replace(
        session, caller.principal, caller.reach, activity_id, body, if_match
    )
    return _tagged(response, replaced)


@router.delete("/services/{activity_id}", status_code=204, operation_id="directory-delete")
async def delete_service(
    activity_id: str,
    session: SessionDep,
    caller: Annotated[Caller, Depends(allowed(Action.DIRECTORY_WRITE))],
    if_match: IfMatch = None,
) -> Response:
    """Remove an activity (providers: their own organisation's only; `If-Match` as for PUT)."""
    await service.delete(session, caller.principal, caller.reach, activity_id, if_match)
    return Response(status_code=204)


@router.post("/import", response_model=ImportReport, operation_id="directory-import")
async def import_services(
    body: importer.ImportBody,
    session: SessionDep,
    _caller: Annotated[Caller, Depends(allowed(Action.DIRECTORY_IMPORT))],
) -> ImportReport:
    """Import an Open Referral UK / HSDS 3 export (a list of services or a page envelope):
    upsert by id, all or nothing; the report lists rows created, updated and rejected."""
    return await importer.import_services(session, body)


@router.post(
    "/syncs",
    response_model=SyncReport,
    operation_id="directory-sync",
    responses={
        422: {"description": "a service cannot be stored: nothing was changed"},
        502: {"description": "the feed cannot be read as a whole: nothing was changed"},
    },
)
async def sync_feed(
    body: SyncRequest,
    request: Request,
    settings: SettingsDep,
    sessionmaker: SessionmakerDep,
    lock: WriteLockDep,
    caller: Annotated[Caller, Depends(allowed(Action.DIRECTORY_IMPORT))],
) -> SyncReport:
    """Sync a live Open Referral UK feed into the directory, inline: read every page (and each
    service's `GET /services/{id}`), then store all of it in one transaction, as an import
    does (created, updated, unchanged, rejected, warnings); a full sync marks the feed's
    services it no longer lists inactive (`deactivated`). Bounded by the request timeout: a
    large feed is for `assetlink sync-directory` or the worker's schedule (docs/oruk.md).
    Audited."""
    async with httpx.AsyncClient(follow_redirects=True, max_redirects=5) as http:
        return await sync.sync_feed(
            sessionmaker,
            http,
            body.url,
            sync.fetch_options(settings),
            since=body.since,
            full=body.full,
            lock=lock,
            actor=audit.Actor.of(request, caller.principal),
        )
