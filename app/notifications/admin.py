"""The admin's use cases for failed deliveries: list them, and re-queue one or a subscription's.

Re-queueing gives a delivery a fresh retry budget, due now, and puts its subscription back to
``active`` (the worker claims nothing of a subscription in ``error``).
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import utcnow
from app.errors import Conflict, NotFound
from app.notifications import queue


async def list_deliveries(
    session: AsyncSession, status: str | None, offset: int, limit: int
) -> tuple[int, list[queue.DeliveryView]]:
    return await queue.list_deliveries(session, status, offset, limit)


async def requeue_delivery(session: AsyncSession, delivery_id: uuid.UUID) -> uuid.UUID:
    """Re-queue one failed delivery; its subscription's id."""
    found = await queue.delivery_for_update(session, delivery_id)
    if found is None:
        raise NotFound(f"delivery {delivery_id} is not known")
    if found.status != queue.FAILED:
        raise Conflict(f"delivery {delivery_id} is {found.status}, not failed")
    await queue.requeue(session, found.subscription_id, utcnow(), delivery_id)
    return found.subscription_id


async def requeue_subscription(session: AsyncSession, subscription_id: uuid.UUID) -> int:
    """Re-queue every failed delivery of a subscription; how many."""
    if not await queue.subscription_exists(session, subscription_id):
        raise NotFound(f"Subscription/{subscription_id} is not known")
    return await queue.requeue(session, subscription_id, utcnow())
