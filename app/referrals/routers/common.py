"""What the referral resources' routes share: the read caller, request bodies, need resolvers,
organisation and NHS number search values."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Depends, Path, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.dependencies import Caller, allowed
from app.auth.policy import Action
from app.auth.principal import ODS_CODE
from app.errors import BadRequest, Issue
from app.fhir.codec import check_structure, loads
from app.fhir.responses import FhirResponse, version_headers
from app.fhir.search import SearchRequest, token
from app.referrals import intake, needs, nhs_number
from app.terminology import service as terminology_service

ReadCaller = Annotated[Caller, Depends(allowed(Action.REFERRAL_READ))]
IdPath = Annotated[str, Path(description="resource id")]


async def resolver(
    cache: terminology_service.NeedMappingCache, session: AsyncSession
) -> intake.NeedResolver:
    return needs.resolver(await cache.get(session))


async def cached_resolver(
    cache: terminology_service.NeedMappingCache, sessionmaker: async_sessionmaker[AsyncSession]
) -> intake.NeedResolver:
    """``resolver`` without a request session: one is opened only to reload the mapping."""
    mapping = cache.cached()
    if mapping is None:
        async with sessionmaker() as session:
            mapping = await cache.get(session)
    return needs.resolver(mapping)


async def body_of(request: Request) -> Any:
    return loads(await request.body())


def resource_response(resource: dict[str, Any]) -> FhirResponse:
    return FhirResponse(resource, headers=version_headers(resource))


async def update_body(request: Request, resource_type: str, resource_id: str) -> dict[str, Any]:
    """The body of a PUT: R4 JSON of the type, with the id of the URL (else 400)."""
    body = await body_of(request)
    check_structure(body, resource_type)
    if body.get("id") != resource_id:
        raise BadRequest(
            "The resource id must equal the id in the URL",
            [Issue("id mismatch", f"{resource_type}.id")],
        )
    return dict(body)


def _unsupported_modifier(name: str, modifier: str) -> BadRequest:
    return BadRequest(
        f"Modifier :{modifier} is not supported on {name}",
        [Issue("unsupported modifier", f"{name}:{modifier}", code="not-supported")],
    )


def organisations(search: SearchRequest, name: str) -> list[str]:
    values = [v.removeprefix("Organization/").upper() for v in search.values(name)]
    for modifier, raw_values in search.modifiers(name).items():
        if modifier != "identifier":
            raise _unsupported_modifier(name, modifier)
        for raw in raw_values:
            for value in raw.split(","):
                system, code = token(value)
                values.append(code.upper() if system in (None, intake.ODS_SYSTEM) else "\x00")
    for value in values:
        if value != "\x00" and not ODS_CODE.match(value):
            raise BadRequest(f"{name}: {value!r} is not an ODS code", [Issue("malformed", name)])
    return values


def nhs_number_value(value: str) -> str:
    """An NHS number search value, system optional; another system's value matches nothing."""
    system, number = token(value)
    return number if system in (None, nhs_number.SYSTEM) else "-"


def nhs_numbers(search: SearchRequest, name: str) -> list[str]:
    """The NHS numbers of ``name:identifier`` (the only modifier a person reference takes)."""
    numbers = []
    for modifier, raw_values in search.modifiers(name).items():
        if modifier != "identifier":
            raise _unsupported_modifier(name, modifier)
        for raw in raw_values:
            numbers += [nhs_number_value(value) for value in raw.split(",")]
    return numbers


def parse_if_none_exist(header: str) -> tuple[str, str]:
    """``identifier=system|value`` (the only conditional-create criterion supported)."""
    pairs = parse_qsl(header.lstrip("?"), keep_blank_values=True)
    if len(pairs) != 1 or pairs[0][0] != "identifier" or "|" not in pairs[0][1]:
        raise BadRequest(
            "If-None-Exist supports exactly one criterion: identifier=system|value",
            [Issue("unsupported criterion", "If-None-Exist", code="not-supported")],
        )
    system, _, value = pairs[0][1].partition("|")
    if not system or not value:
        raise BadRequest(
            "If-None-Exist needs identifier=system|value", [Issue("malformed", "If-None-Exist")]
        )
    return system, value
