"""``/fhir/Subscription``: a GP system registers, reads, searches and deletes the rest-hook
Subscriptions of its organisation (DESIGN.md 11)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from app.auth.context import Context
from app.auth.dependencies import Caller, allowed
from app.auth.policy import Action
from app.db import SessionDep
from app.deps import SettingsDep
from app.errors import known_uuid
from app.fhir.capability import ResourceCapability, SearchParam
from app.fhir.codec import check_structure, loads
from app.fhir.http import fhir_base, search_request, searchset_response
from app.fhir.responses import (
    FHIR_RESPONSES,
    FhirResponse,
    fhir_body,
    search_routes,
    version_headers,
)
from app.fhir.search import reference_ids
from app.notifications import service, subscriptions
from app.notifications.repository import SubscriptionQuery

router = APIRouter(prefix="/fhir", tags=["fhir"])

SEARCH_PARAMS = (
    SearchParam("_id", "token"),
    SearchParam("status", "token", "active | error"),
)
CAPABILITY = ResourceCapability(
    type="Subscription",
    interactions=("create", "read", "search-type", "delete"),
    search_params=SEARCH_PARAMS,
    documentation=(
        "rest-hook Subscriptions to the Tasks of the caller's organisation's referrals "
        "(criteria Task or Task?status=a,b); the HMAC secret is returned once, at creation "
        "(DESIGN.md 11, docs/fhir.md)."
    ),
)

ManagerDep = Annotated[Caller, Depends(allowed(Action.SUBSCRIPTION_MANAGE))]
IdPath = Annotated[str, Path(description="resource id")]


@router.post(
    "/Subscription",
    operation_id="fhir-create_subscription",
    response_class=FhirResponse,
    status_code=201,
    openapi_extra=fhir_body("subscription"),
    responses=FHIR_RESPONSES,
)
async def create_subscription(
    request: Request, session: SessionDep, caller: ManagerDep, settings: SettingsDep
) -> Response:
    """Register a rest-hook Subscription; the response alone carries its secret (whatever
    Prefer asks)."""
    body = loads(await request.body())
    check_structure(body, "Subscription")
    draft = subscriptions.check_subscription(body, settings.subscription_http_hosts)
    row, secret = await service.create_subscription(session, Context.of(request, caller), draft)
    resource = subscriptions.subscription_resource(row, secret)
    headers = version_headers(resource)
    headers["Location"] = f"{fhir_base(request)}/Subscription/{row.id}/_history/{row.version_id}"
    return FhirResponse(resource, status_code=201, headers=headers)


@router.get(
    "/Subscription/{resource_id}",
    operation_id="fhir-read_subscription",
    response_class=FhirResponse,
    responses=FHIR_RESPONSES,
)
async def read_subscription(
    request: Request, session: SessionDep, caller: ManagerDep, resource_id: IdPath
) -> Response:
    """Read a Subscription of the caller's organisation (without its secret)."""
    row = await service.read_subscription(
        session, Context.of(request, caller), known_uuid(resource_id, "Subscription")
    )
    resource = subscriptions.subscription_resource(row)
    return FhirResponse(resource, headers=version_headers(resource))


@router.delete(
    "/Subscription/{resource_id}",
    operation_id="fhir-delete_subscription",
    status_code=204,
    response_class=Response,
    responses=FHIR_RESPONSES,
)
async def delete_subscription(
    request: Request, session: SessionDep, caller: ManagerDep, resource_id: IdPath
) -> Response:
    """Delete a Subscription of the caller's organisation, with its pending deliveries."""
    await service.delete_subscription(
        session, Context.of(request, caller), known_uuid(resource_id, "Subscription")
    )
    return Response(status_code=204)


@search_routes(router, "/Subscription", "fhir-search_subscriptions", FHIR_RESPONSES)
async def search_subscriptions(
    request: Request, session: SessionDep, caller: ManagerDep
) -> Response:
    """Search the caller's organisation's Subscriptions by `_id` or `status` (searchset
    Bundle, oldest first)."""
    search = await search_request(request)
    query = SubscriptionQuery(
        ids=reference_ids(search.values("_id"), "Subscription"), statuses=search.values("status")
    )
    page = search.page(SEARCH_PARAMS)
    total, rows = await service.search_subscriptions(
        session, Context.of(request, caller), query, offset=page.offset, limit=page.count
    )
    resources = [subscriptions.subscription_resource(row) for row in rows]
    return searchset_response(request, "Subscription", page, resources, total=total)
