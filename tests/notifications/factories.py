"""Subscriptions inserted as rows, referrals through the API, and the events of Task changes."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import utcnow
from app.notifications.models import Delivery, OutboxEvent, Subscription
from tests.referrals import factories as referral_factories


async def subscription(
    sessionmaker: async_sessionmaker[AsyncSession],
    endpoint: str,
    *,
    owner_ods: str = "A81001",
    statuses: list[str] | None = None,
    headers: list[str] | None = None,
    end: str | None = None,
    created_at: dt.datetime | None = None,
) -> Subscription:
    """An active rest-hook Subscription row, committed, as ``POST /fhir/Subscription`` stores
    one (inserted here: some tests need another organisation's, a creation time or an end)."""
    criteria = "Task" if statuses is None else "Task?status=" + ",".join(statuses)
    channel: dict[str, Any] = {
        "type": "rest-hook",
        "endpoint": endpoint,
        "payload": "application/fhir+json",
    }
    if headers:
        channel["header"] = headers
    resource: dict[str, Any] = {
        "resourceType": "Subscription",
        "reason": "Tell the practice how its referrals go",
        "criteria": criteria,
        "channel": channel,
    }
    if end is not None:
        resource["end"] = end
    row = Subscription(
        owner_ods=owner_ods,
        status="active",
        statuses=statuses,
        endpoint=endpoint,
        secret=secrets.token_hex(32),
        resource=resource,
        created_at=created_at or utcnow() - dt.timedelta(seconds=1),
    )
    async with sessionmaker() as session:
        session.add(row)
        await session.commit()
    return row


async def referral_task(
    client: httpx.AsyncClient, headers: dict[str, str], requester_ods: str = "A81001"
) -> dict[str, Any]:
    """A new referral's Task (version 1), through the API."""
    created = await client.post(
        "/fhir/ServiceRequest",
        json=referral_factories.service_request(requester_ods=requester_ods),
        headers=headers,
    )
    assert created.status_code == 201, created.text
    found = await client.get(f"/fhir/Task?focus={created.json()['id']}", headers=headers)
    return dict(found.json()["entry"][0]["resource"])


async def event_of(
    sessionmaker: async_sessionmaker[AsyncSession], task: dict[str, Any]
) -> uuid.UUID:
    """The outbox event that the change making this Task version wrote."""
    async with sessionmaker() as session:
        found = await session.scalar(
            select(OutboxEvent.id).where(
                OutboxEvent.task_id == uuid.UUID(task["id"]),
                OutboxEvent.task_version == int(task["meta"]["versionId"]),
            )
        )
    assert found is not None, f"no event for Task {task['id']} version {task['meta']['versionId']}"
    return found


async def deliveries(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Delivery]:
    async with sessionmaker() as session:
        return list(await session.scalars(select(Delivery).order_by(Delivery.created_at)))


async def subscription_row(
    sessionmaker: async_sessionmaker[AsyncSession], subscription_id: uuid.UUID
) -> Subscription:
    async with sessionmaker() as session:
        found = await session.get(Subscription, subscription_id)
        assert found is not None
        return found
