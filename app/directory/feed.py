"""The public Open Referral UK feed's use cases (``/oruk``, ``app.directory.oruk_router``):
pages, fully nested services, the whole directory as a stream, service_at_locations and the
taxonomies, shaped by ``app.directory.publish``.

The stream reads the directory a chunk at a time by id (keyset), each chunk in a short session
of its own, so that its memory does not grow with the directory and no transaction is held
open while a slow reader downloads it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import uuid
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.directory import publish, repository, service
from app.directory.models import Activity
from app.directory.repository import DirectoryQuery
from app.directory.service import SearchParams
from app.errors import NotFound
from app.terminology.codesystems import ACTIVITY_CATEGORY, NEED, need_codes

MAX_PER_PAGE = 100
STREAM_CHUNK = 500
_ID = service.ID


@dataclasses.dataclass(frozen=True)
class FeedParams(SearchParams):
    taxonomy_id: str | None = None
    modified_after: dt.datetime | None = None


def dumps(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


async def query_of(session: AsyncSession, params: FeedParams) -> DirectoryQuery:
    """The directory query of the ORUK parameters; the feed's own term and taxonomy ids are
    read as the codes they stand for, and a need's code as that need."""
    term = params.taxonomy_term_id
    found = publish.codes_by_term_id().get(term or "")
    need = None
    if found is not None:
        codesystem, code = found
        term, need = (code, None) if codesystem == ACTIVITY_CATEGORY else (None, code)
    elif term in need_codes():  # a need's code: its term is published by that name
        term, need = None, term
    query = await service.directory_query(
        session, dataclasses.replace(params, taxonomy_term_id=term)
    )
    taxonomy = params.taxonomy_id
    for codesystem in (ACTIVITY_CATEGORY, NEED):
        if taxonomy == publish.taxonomy_id(codesystem):
            taxonomy = codesystem
    modified_after = params.modified_after
    if modified_after is not None and modified_after.tzinfo is None:
        modified_after = modified_after.replace(tzinfo=dt.UTC)  # a time without a zone: UTC
    return dataclasses.replace(query, need=need, taxonomy=taxonomy, modified_after=modified_after)


def page(contents: list[Any], *, total: int, page_number: int, per_page: int) -> dict[str, Any]:
    """The ORUK page envelope (``size``: the entities on this page, as the ORUK API says)."""
    total_pages = math.ceil(total / per_page) if total else 0
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": page_number,
        "size": len(contents),
        "first_page": page_number == 1,
        "last_page": page_number >= total_pages,
        "empty": not contents,
        "contents": contents,
    }


def newest(activities: list[Activity]) -> dt.datetime | None:
    return max((a.last_modified for a in activities), default=None)


async def services_page(
    session: AsyncSession, query: DirectoryQuery, *, page_number: int, per_page: int, full: bool
) -> tuple[dict[str, Any], dt.datetime | None]:
    """One page of services (one-to-one fields, or fully nested with ``full``) and the
    newest modification on it."""
    total, rows = await repository.search(  # by distance when near a point, else by name
        session, query, offset=(page_number - 1) * per_page, limit=per_page
    )
    activities = [a for a, _distance in rows]
    if full and activities:
        whole = {
            a.id: a for a in await repository.get_activities(session, [a.id for a in activities])
        }
        activities = [whole[a.id] for a in activities]
    shape = publish.service if full else publish.service_summary
    contents = [shape(a) for a in activities]
    return page(contents, total=total, page_number=page_number, per_page=per_page), newest(
        activities
    )


def _last_modified(activity: Activity) -> dt.datetime:
    org = activity.organisation
    return max(activity.last_modified, org.last_modified) if org else activity.last_modified


async def service_document(
    session: AsyncSession, service_id: str
) -> tuple[dict[str, Any], dt.datetime]:
    activity = await repository.get_activity(session, service_id) if _ID.match(service_id) else None
    if activity is None:
        raise NotFound(f"No service {service_id!r} in this directory")
    return publish.service(activity), _last_modified(activity)


async def stream(
    sessionmaker: async_sessionmaker[AsyncSession],
    query: DirectoryQuery,
    *,
    chunk: int | None = None,
) -> AsyncIterator[bytes]:
    """Every matching service, fully nested, one JSON document a line, in id order; each
    chunk's session is closed before the chunk is sent (nothing held while the reader reads)."""
    chunk = chunk or STREAM_CHUNK
    after: str | None = None
    while True:
        async with sessionmaker() as session:
            rows = await repository.services_after(session, query, after, chunk)
            lines = "".join(dumps(publish.service(a)) + "\n" for a in rows)
        if not rows:
            return
        after = rows[-1].id
        yield lines.encode()
        if len(rows) < chunk:
            return


async def locations_page(
    session: AsyncSession, query: DirectoryQuery, *, page_number: int, per_page: int
) -> dict[str, Any]:
    total, rows = await repository.search_locations(
        session, query, offset=(page_number - 1) * per_page, limit=per_page
    )
    contents = [publish.service_at_location(place.activity_id, place) for place in rows]
    return page(contents, total=total, page_number=page_number, per_page=per_page)


async def location_document(
    session: AsyncSession, location_id: str
) -> tuple[dict[str, Any], dt.datetime]:
    """A service_at_location with its location and its fully nested service."""
    try:
        key = uuid.UUID(location_id)
    except ValueError:
        key = None
    place = await repository.get_location(session, key) if key is not None else None
    activity = (
        await repository.get_activity(session, place.activity_id) if place is not None else None
    )
    if place is None or activity is None:
        raise NotFound(f"No service_at_location {location_id!r} in this directory")
    return {
        **publish.service_at_location(activity.id, place),
        "service": publish.service(activity),
    }, _last_modified(activity)


def taxonomy_document(taxonomy_id: str) -> dict[str, Any]:
    found = next((t for t in publish.taxonomies() if t["id"] == taxonomy_id), None)
    if found is None:
        raise NotFound(f"No taxonomy {taxonomy_id!r} in this directory")
    return found


def taxonomy_term_document(term_id: str) -> dict[str, Any]:
    found = next((t for t in publish.taxonomy_terms() if t["id"] == term_id), None)
    if found is None:
        raise NotFound(f"No taxonomy term {term_id!r} in this directory")
    return found


def static_page(items: list[dict[str, Any]], *, page_number: int, per_page: int) -> dict[str, Any]:
    start = (page_number - 1) * per_page
    return page(
        items[start : start + per_page],
        total=len(items),
        page_number=page_number,
        per_page=per_page,
    )
