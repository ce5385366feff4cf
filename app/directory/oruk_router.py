"""``/oruk``: the directory as a public Open Referral UK (HSDS 3.0 UK profile) API
(docs/oruk.md): ``GET /``, ``/services`` (page envelope, ORUK filters, ``modified_after``,
``format=ndjson``), ``/services/{id}`` fully nested, ``/taxonomies``, ``/taxonomy_terms`` and
``/service_at_locations``, each with ``/{id}``.

Public: GET, HEAD and OPTIONS only, no token; ``Access-Control-Allow-Origin: *`` on these
paths only (``PublicCors``); every answer but the stream carries an ``ETag`` (and, for what has
one modification time, ``Last-Modified``) and answers a matching ``If-None-Match`` (or
``If-Modified-Since``) with 304. The rate limit of every request applies (``app.ops.abuse``:
a client without a token is its address). Only the directory's tables are read: nothing of a
person, and no access to audit.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import __released__
from app.db import SessionDep
from app.deps import SessionmakerDep
from app.directory import feed, publish
from app.directory.feed import MAX_PER_PAGE, FeedParams
from app.ops.abuse import PUBLIC_FEED
from app.ops.middleware import STREAMING

PREFIX = PUBLIC_FEED
router = APIRouter(prefix=PREFIX, tags=["oruk"])
F = TypeVar("F", bound=Callable[..., Any])

JSON = "application/json"
NDJSON = "application/x-ndjson"
METHODS = "GET, HEAD, OPTIONS"
RELEASED = dt.datetime.fromisoformat(__released__).replace(tzinfo=dt.UTC)


class PublicCors:
    """CORS open to every origin on ``/oruk`` (ORUK: any web page may read the feed), and only
    there: the request's ``Origin`` is hidden from the API's own CORS middleware (its list of
    origins), and every answer, errors and 429 included, says ``*``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path != PREFIX and not path.startswith(PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k != b"origin"]}

        async def send_public(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if not k.lower().startswith(b"access-control-allow-origin")
                ]
                headers += [
                    (b"access-control-allow-origin", b"*"),
                    (b"access-control-expose-headers", b"ETag, Last-Modified, X-Request-Id"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_public)


SCHEMAS = "https://raw.githubusercontent.com/openreferral/uk-profile/main/schema/"


def _route(path: str, operation_id: str, summary: str, schema: str) -> Callable[[F], F]:
    """GET (documented: the ORUK ``schema`` of its answer), HEAD and OPTIONS (the CORS
    preflight) on ``path``."""
    content: dict[str, Any] = {JSON: {"schema": {"type": "object"}}}
    if path == "/services":
        content[NDJSON] = {"schema": {"type": "string"}}
    responses: dict[int | str, dict[str, Any]] = {
        200: {"description": f"ORUK: {SCHEMAS}{schema}", "content": content},
        304: {"description": "the client's copy is current (If-None-Match, If-Modified-Since)"},
    }

    def register(endpoint: F) -> F:
        router.get(
            path,
            operation_id=operation_id,
            summary=summary,
            response_class=Response,
            responses=responses,
        )(endpoint)
        router.head(path, operation_id=f"{operation_id}-head", include_in_schema=False)(endpoint)
        router.options(path, operation_id=f"{operation_id}-options", include_in_schema=False)(
            _preflight
        )
        return endpoint

    return register


async def _preflight() -> Response:
    return Response(
        status_code=204,
        headers={
            "Allow": METHODS,
            "Access-Control-Allow-Methods": METHODS,
            "Access-Control-Allow-Headers": "Accept, If-None-Match, If-Modified-Since",
            "Access-Control-Max-Age": "86400",
        },
    )


def _http_date(value: dt.datetime) -> str:
    return email.utils.format_datetime(value.astimezone(dt.UTC).replace(microsecond=0), True)


def _not_modified_since(request: Request, last_modified: dt.datetime) -> bool:
    given = request.headers.get("if-modified-since")
    if given is None:
        return False
    try:
        since = email.utils.parsedate_to_datetime(given)
    except (TypeError, ValueError):
        return False  # RFC 9110 13.1.3: an invalid date is ignored
    if since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    return last_modified.replace(microsecond=0) <= since


def conditional(
    request: Request, document: Any, last_modified: dt.datetime | None, *, dated: bool
) -> Response:
    """The JSON answer, or 304 when the client's copy is current: ``If-None-Match`` (strong
    tag of the body) first; else, when ``dated`` (the document has one modification time:
    not a list, whose deletions have none), ``If-Modified-Since``."""
    body = feed.dumps(document).encode()
    tag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = {"ETag": tag}  # Cache-Control: app.ops.abuse (public, no-cache)
    if last_modified is not None:
        headers["Last-Modified"] = _http_date(last_modified)
    given = request.headers.get("if-none-match")
    if given is not None:
        tags = {t.strip().removeprefix("W/") for t in given.split(",")}
        if tag in tags or "*" in tags:
            return Response(status_code=304, headers=headers)
    elif dated and last_modified is not None and _not_modified_since(request, last_modified):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=JSON, headers=headers)


Page = Annotated[int, Query(ge=1, le=1_000_000, description="page number, from 1")]
PerPage = Annotated[
    int, Query(ge=1, description=f"services a page; above {MAX_PER_PAGE}: {MAX_PER_PAGE}")
]


async def feed_params(
    search: Annotated[str | None, Query(max_length=200, description="in name or description")] = (
        None
    ),
    taxonomy_term_id: Annotated[
        str | None, Query(max_length=64, description="a term id (/oruk/taxonomy_terms) or code")
    ] = None,
    taxonomy_id: Annotated[
        str | None, Query(max_length=255, description="any term of this taxonomy")
    ] = None,
    minimum_age: Annotated[int | None, Query(ge=0, le=150)] = None,
    maximum_age: Annotated[int | None, Query(ge=0, le=150)] = None,
    day: Annotated[str | None, Query(max_length=16, description="MO..SU or a day name")] = None,
    postcode: Annotated[
        str | None, Query(max_length=16, description="in its service areas; with proximity")
    ] = None,
    proximity: Annotated[
        int | None, Query(ge=1, le=200_000, description="metres from the postcode's centre")
    ] = None,
    modified_after: Annotated[
        dt.datetime | None,
        Query(description="modified on or after (ISO 8601; without a zone: UTC)"),
    ] = None,
) -> FeedParams:
    """The ORUK filters that `/services` and `/service_at_locations` share."""
    return FeedParams(
        search=search,
        taxonomy_term_id=taxonomy_term_id,
        taxonomy_id=taxonomy_id,
        minimum_age=minimum_age,
        maximum_age=maximum_age,
        day=day,
        postcode=postcode,
        proximity=proximity,
        modified_after=modified_after,
    )


FeedQuery = Annotated[FeedParams, Depends(feed_params)]


@_route("/", "oruk-api_details", "ORUK API details", "openapi.json (GET /)")
async def api_details(request: Request) -> Response:
    """The HSDS version, the profile and the ORUK OpenAPI document this API follows."""
    return conditional(request, publish.api_details(), RELEASED, dated=True)


@_route(
    "/services",
    "oruk-services",
    "ORUK services: a page, or every one as NDJSON",
    "compiled/service_list.json",
)
async def services(
    request: Request,
    session: SessionDep,
    sessionmaker: SessionmakerDep,
    params: FeedQuery,
    format: Annotated[
        Literal["json", "ndjson"],
        Query(description="ndjson: every matching service, fully nested, one a line"),
    ] = "json",
    full: Annotated[bool, Query(description="fully nested services in the page")] = False,
    page: Page = 1,
    per_page: PerPage = 20,
) -> Response:
    """The directory's services as ORUK: a page of one-to-one fields (by name; by distance
    with postcode and proximity), or with `format=ndjson` every matching service fully nested,
    streamed a line each (by id)."""
    query = await feed.query_of(session, params)
    if format == "ndjson":
        if request.method == "HEAD":
            return Response(media_type=NDJSON)
        setattr(request.state, STREAMING, True)  # a whole directory outlasts the timeout
        return StreamingResponse(feed.stream(sessionmaker, query), media_type=NDJSON)
    document, last_modified = await feed.services_page(
        session, query, page_number=page, per_page=min(per_page, MAX_PER_PAGE), full=full
    )
    return conditional(request, document, last_modified, dated=False)


@_route(
    "/services/{service_id}", "oruk-service", "ORUK service, fully nested", "compiled/service.json"
)
async def service(request: Request, service_id: str, session: SessionDep) -> Response:
    """One service with its organisation, service_at_locations (location, address,
    accessibility), schedules, cost options, languages, contacts, capacity and attributes."""
    document, last_modified = await feed.service_document(session, service_id)
    return conditional(request, document, last_modified, dated=True)


@_route("/taxonomies", "oruk-taxonomies", "ORUK taxonomies", "taxonomy.json")
async def taxonomies(request: Request, page: Page = 1, per_page: PerPage = 20) -> Response:
    """The activity-category and need CodeSystems as ORUK taxonomies."""
    document = feed.static_page(
        publish.taxonomies(), page_number=page, per_page=min(per_page, MAX_PER_PAGE)
    )
    return conditional(request, document, RELEASED, dated=True)


@_route("/taxonomies/{taxonomy_id}", "oruk-taxonomy", "ORUK taxonomy", "taxonomy.json")
async def taxonomy(request: Request, taxonomy_id: str) -> Response:
    return conditional(request, feed.taxonomy_document(taxonomy_id), RELEASED, dated=True)


@_route("/taxonomy_terms", "oruk-taxonomy_terms", "ORUK taxonomy terms", "taxonomy_term.json")
async def taxonomy_terms(request: Request, page: Page = 1, per_page: PerPage = 20) -> Response:
    """Every activity-category and need code as an ORUK taxonomy term (`name` is the code)."""
    document = feed.static_page(
        list(publish.taxonomy_terms()), page_number=page, per_page=min(per_page, MAX_PER_PAGE)
    )
    return conditional(request, document, RELEASED, dated=True)


@_route(
    "/taxonomy_terms/{term_id}", "oruk-taxonomy_term", "ORUK taxonomy term", "taxonomy_term.json"
)
async def taxonomy_term(request: Request, term_id: str) -> Response:
    return conditional(request, feed.taxonomy_term_document(term_id), RELEASED, dated=True)


@_route(
    "/service_at_locations",
    "oruk-service_at_locations",
    "ORUK service_at_locations",
    "compiled/service_at_location_list.json",
)
async def service_at_locations(
    request: Request,
    session: SessionDep,
    params: FeedQuery,
    page: Page = 1,
    per_page: PerPage = 20,
) -> Response:
    """The places of the matching services (by service, then position), each with its
    location; with postcode and proximity, the places within that distance."""
    query = await feed.query_of(session, params)
    document = await feed.locations_page(
        session, query, page_number=page, per_page=min(per_page, MAX_PER_PAGE)
    )
    return conditional(request, document, None, dated=False)


@_route(
    "/service_at_locations/{location_id}",
    "oruk-service_at_location",
    "ORUK service_at_location",
    "service_at_location.json",
)
async def service_at_location(request: Request, location_id: str, session: SessionDep) -> Response:
    """One service_at_location with its location and its fully nested service."""
    document, last_modified = await feed.location_document(session, location_id)
    return conditional(request, document, last_modified, dated=True)
