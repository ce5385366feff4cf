from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import one_of
from app.routing.models import PostcodeRoute, RoutingRule


async def routing_rule(session: AsyncSession, practice_ods: str) -> RoutingRule | None:
    return await session.get(RoutingRule, practice_ods)


async def routing_rules(session: AsyncSession) -> list[RoutingRule]:
    return list(await session.scalars(select(RoutingRule).order_by(RoutingRule.practice_ods)))


async def delete_routing_rule(session: AsyncSession, practice_ods: str) -> bool:
    result = await session.execute(
        delete(RoutingRule).where(RoutingRule.practice_ods == practice_ods)
    )
    return bool(getattr(result, "rowcount", 0))


async def routed_performers(session: AsyncSession, practices: Sequence[str]) -> dict[str, str]:
    """The routing table's performer for each practice that has a rule."""
    if not practices:
        return {}
    rows = await session.execute(
        select(RoutingRule.practice_ods, RoutingRule.performer_ods).where(
            one_of(session, RoutingRule.practice_ods, practices)
        )
    )
    return {str(practice): str(performer) for practice, performer in rows}


async def postcode_route(session: AsyncSession, prefix: str) -> PostcodeRoute | None:
    return await session.get(PostcodeRoute, prefix)


async def postcode_routes(session: AsyncSession) -> list[PostcodeRoute]:
    return list(await session.scalars(select(PostcodeRoute).order_by(PostcodeRoute.prefix)))


async def delete_postcode_route(session: AsyncSession, prefix: str) -> bool:
    result = await session.execute(delete(PostcodeRoute).where(PostcodeRoute.prefix == prefix))
    return bool(getattr(result, "rowcount", 0))


async def longest_postcode_route(session: AsyncSession, prefixes: Sequence[str]) -> str | None:
    """The performer of the longest of ``prefixes`` that has a route."""
    row = (
        await session.execute(
            select(PostcodeRoute.performer_ods)
            .where(PostcodeRoute.prefix.in_(prefixes))
            .order_by(func.length(PostcodeRoute.prefix).desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return None if row is None else str(row)
