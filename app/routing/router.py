"""``/api/v1/routing``: the admin's routing tables: practice ODS code -> link-worker service
(GP referrals), and postcode prefix -> link-worker service (self-referrals, ``/postcodes``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse

from app.auth.dependencies import Caller, allowed
from app.auth.policy import Action
from app.auth.principal import ODS_CODE
from app.db import SessionDep
from app.errors import Issue, Unprocessable
from app.routing import service
from app.routing.schemas import PostcodeRouteRead, RoutingRuleRead, RoutingRuleWrite

router = APIRouter(prefix="/api/v1/routing", tags=["routing"])

RoutingCaller = Annotated[Caller, Depends(allowed(Action.ROUTING_MANAGE))]


def _ods(value: str, field: str) -> str:
    if not ODS_CODE.match(value.upper()):
        raise Unprocessable(f"{field} is not an ODS code", [Issue("not an ODS code", field)])
    return value.upper()


@router.get("", operation_id="routing-list_routing_rules", response_model=list[RoutingRuleRead])
async def list_routing_rules(session: SessionDep, caller: RoutingCaller) -> list[RoutingRuleRead]:
    """Every routing rule: practice ODS code -> link-worker service ODS code."""
    return [
        RoutingRuleRead.model_validate(rule, from_attributes=True)
        for rule in await service.list_routing(session)
    ]


@router.put(
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


@router.delete("/{practice_ods}", operation_id="routing-delete_routing_rule", status_code=204)
async def delete_routing_rule(
    practice_ods: str, session: SessionDep, caller: RoutingCaller
) -> Response:
    """Remove a practice's routing rule (its referrals then go to the default service)."""
    await service.delete_routing(session, practice_ods.upper())
    return Response(status_code=204)


def _prefix(value: str) -> str:
    prefix = " ".join(value.upper().split())
    if not service.POSTCODE_PREFIX.match(prefix):
        raise Unprocessable(
            "prefix is a postcode area (LS), district (LS6) or sector (LS6 3)",
            [Issue("not a postcode prefix", "prefix")],
        )
    return prefix


@router.get(
    "/postcodes",
    operation_id="routing-list_postcode_routes",
    response_model=list[PostcodeRouteRead],
)
async def list_postcode_routes(
    session: SessionDep, caller: RoutingCaller
) -> list[PostcodeRouteRead]:
    """Every postcode route: postcode prefix -> link-worker service ODS code (self-referrals)."""
    return [
        PostcodeRouteRead.model_validate(route, from_attributes=True)
        for route in await service.list_postcode_routes(session)
    ]


@router.put(
    "/postcodes/{prefix}",
    operation_id="routing-put_postcode_route",
    response_model=PostcodeRouteRead,
)
async def put_postcode_route(
    prefix: str, body: RoutingRuleWrite, session: SessionDep, caller: RoutingCaller
) -> JSONResponse:
    """Route the self-referrals of people whose postcode starts with ``prefix`` (the longest
    matching prefix wins) to a link-worker service."""
    route, created = await service.put_postcode_route(
        session, _prefix(prefix), _ods(body.performer_ods, "performer_ods"), caller.principal.sub
    )
    return JSONResponse(
        PostcodeRouteRead.model_validate(route, from_attributes=True).model_dump(mode="json"),
        status_code=201 if created else 200,
    )


@router.delete("/postcodes/{prefix}", operation_id="routing-delete_postcode_route", status_code=204)
async def delete_postcode_route(
    prefix: str, session: SessionDep, caller: RoutingCaller
) -> Response:
    """Remove a postcode route (those self-referrals then go by practice, else the default)."""
    await service.delete_postcode_route(session, " ".join(prefix.upper().split()))
    return Response(status_code=204)
