"""Routing use cases: the admin's tables, and the performer they give a practice's referrals
(practice -> service) and a self-referral (postcode prefix -> service)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import column_length, utcnow
from app.errors import NotFound
from app.routing import repository
from app.routing.models import PostcodeRoute, RoutingRule


async def performers(session: AsyncSession, practices: Sequence[str]) -> dict[str, str]:
    """The link-worker service each practice's rule routes to, for those with a rule, in one
    query (`app.referrals.plan.performer` decides a referral's performer with it)."""
    return await repository.routed_performers(session, practices)


async def list_routing(session: AsyncSession) -> list[RoutingRule]:
    return await repository.routing_rules(session)


Rule = TypeVar("Rule", RoutingRule, PostcodeRoute)


async def _put(
    session: AsyncSession, found: Rule | None, new: Callable[[], Rule], performer_ods: str, by: str
) -> tuple[Rule, bool]:
    """``found`` routed to ``performer_ods`` (else ``new()``, added), and whether it is new."""
    rule = found if found is not None else new()
    if found is None:
        session.add(rule)
    by = by[: column_length(RoutingRule.updated_by)]  # a token's sub, as the audit keeps it
    rule.performer_ods, rule.updated_by, rule.updated_at = performer_ods, by, utcnow()
    await session.flush()
    return rule, found is None


async def put_routing(
    session: AsyncSession, practice_ods: str, performer_ods: str, by: str
) -> tuple[RoutingRule, bool]:
    found = await repository.routing_rule(session, practice_ods)
    return await _put(
        session, found, lambda: RoutingRule(practice_ods=practice_ods), performer_ods, by
    )


async def delete_routing(session: AsyncSession, practice_ods: str) -> None:
    if not await repository.delete_routing_rule(session, practice_ods):
        raise NotFound(f"No routing rule for {practice_ods}")


POSTCODE_PREFIX = re.compile(r"^[A-Z]{1,2}([0-9][A-Z0-9]?( [0-9])?)?$")
"""An area (``LS``), a district (``LS6``) or a sector (``LS6 3``)."""


def postcode_prefixes(postcode: str) -> list[str]:
    """The sector, district and area of a normalised UK postcode (``LS6 3AB`` -> ``LS6 3``,
    ``LS6``, ``LS``): the prefixes a postcode route may have."""
    outward, _, inward = postcode.partition(" ")
    area = re.match(r"[A-Z]+", outward)
    found = [f"{outward} {inward[:1]}"] if inward else []
    return [*found, outward, *([area.group(0)] if area else [])]


async def performer_by_postcode(session: AsyncSession, postcode: str) -> str | None:
    """The link-worker service of the longest postcode route matching ``postcode``."""
    return await repository.longest_postcode_route(session, postcode_prefixes(postcode))


async def list_postcode_routes(session: AsyncSession) -> list[PostcodeRoute]:
    return await repository.postcode_routes(session)


async def put_postcode_route(
    session: AsyncSession, prefix: str, performer_ods: str, by: str
) -> tuple[PostcodeRoute, bool]:
    found = await repository.postcode_route(session, prefix)
    return await _put(session, found, lambda: PostcodeRoute(prefix=prefix), performer_ods, by)


async def delete_postcode_route(session: AsyncSession, prefix: str) -> None:
    if not await repository.delete_postcode_route(session, prefix):
        raise NotFound(f"No postcode route for {prefix}")
