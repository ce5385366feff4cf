"""Routing rules as their own domain: the admin's table and the performer it gives referrals."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound
from app.routing import service as routing_service
from app.routing.models import RoutingRule


async def test_a_rule_gives_the_practice_its_performer(session: AsyncSession) -> None:
    assert await routing_service.performers(session, ["A81001"]) == {}
    rule, created = await routing_service.put_routing(session, "A81001", "Y22222", by="admin")
    assert created
    assert rule.performer_ods == "Y22222"
    assert await routing_service.performers(session, ["A81001"]) == {"A81001": "Y22222"}
    rule, created = await routing_service.put_routing(session, "A81001", "Y33333", by="x" * 300)
    assert not created
    assert len(rule.updated_by) == 256
    assert await routing_service.performers(session, ["A81001"]) == {"A81001": "Y33333"}


async def test_performers_of_many_practices_are_those_with_a_rule(session: AsyncSession) -> None:
    assert await routing_service.performers(session, []) == {}
    await routing_service.put_routing(session, "A81001", "Y22222", by="admin")
    await routing_service.put_routing(session, "A81002", "Y33333", by="admin")
    found = await routing_service.performers(session, ["A81001", "A81002", "A81003"])
    assert found == {"A81001": "Y22222", "A81002": "Y33333"}
    assert [r.practice_ods for r in await routing_service.list_routing(session)] == [
        "A81001",
        "A81002",
    ]


async def test_deleting_a_missing_rule_is_not_found(session: AsyncSession) -> None:
    await routing_service.put_routing(session, "A81001", "Y22222", by="admin")
    await routing_service.delete_routing(session, "A81001")
    assert await session.get(RoutingRule, "A81001") is None
    with pytest.raises(NotFound):
        await routing_service.delete_routing(session, "A81001")
