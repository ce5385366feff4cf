"""Routing use cases: the admin's table, and the performer it gives a practice's referrals."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import column_length, utcnow
from app.errors import NotFound
from app.routing import repository
from app.routing.models import RoutingRule


async def performers(session: AsyncSession, practices: Sequence[str]) -> dict[str, str]:
    """The link-worker service each practice's rule routes to, for those with a rule, in one
    query (`app.referrals.plan.performer` decides a referral's performer with it)."""
    return await repository.routed_performers(session, practices)


async def list_routing(session: AsyncSession) -> list[RoutingRule]:
    return await repository.routing_rules(session)


async def put_routing(
    session: AsyncSession, practice_ods: str, performer_ods: str, by: str
) -> tuple[RoutingRule, bool]:
    rule = await repository.routing_rule(session, practice_ods)
    created = rule is None
    by = by[: column_length(RoutingRule.updated_by)]  # a token's sub, as the audit keeps it
    if rule is None:
        rule = RoutingRule(practice_ods=practice_ods, performer_ods=performer_ods, updated_by=by)
        session.add(rule)
    rule.performer_ods, rule.updated_by, rule.updated_at = performer_ods, by, utcnow()
    await session.flush()
    return rule, created


async def delete_routing(session: AsyncSession, practice_ods: str) -> None:
    if not await repository.delete_routing_rule(session, practice_ods):
        raise NotFound(f"No routing rule for {practice_ods}")
