from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import one_of
from app.routing.models import RoutingRule


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
