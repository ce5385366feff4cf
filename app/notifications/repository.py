"""Every SQL query of the notifications domain's subscriptions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.notifications.models import Subscription


@dataclass(frozen=True)
class SubscriptionQuery:
    ids: Sequence[uuid.UUID] = ()
    statuses: Sequence[str] = ()
    owner_ods: str | None = None  # None: every organisation's (an admin's reach)


async def get(session: AsyncSession, subscription_id: uuid.UUID) -> Subscription | None:
    return await session.get(Subscription, subscription_id)


async def search(
    session: AsyncSession, query: SubscriptionQuery, *, offset: int, limit: int
) -> tuple[int, list[Subscription]]:
    where: list[ColumnElement[bool]] = []
    if query.owner_ods is not None:
        where.append(Subscription.owner_ods == query.owner_ods)
    if query.ids:
        where.append(Subscription.id.in_(query.ids))
    if query.statuses:
        where.append(Subscription.status.in_(query.statuses))
    total = await session.scalar(select(func.count()).select_from(Subscription).where(*where)) or 0
    if limit == 0:
        return total, []
    rows = await session.scalars(
        select(Subscription)
        .where(*where)
        .order_by(Subscription.created_at, Subscription.id)
        .offset(offset)
        .limit(limit)
    )
    return total, list(rows)


async def delete_subscription(session: AsyncSession, subscription_id: uuid.UUID) -> bool:
    """Delete the row (its deliveries go with it: ``ON DELETE CASCADE``); False if it was gone."""
    result = await session.execute(delete(Subscription).where(Subscription.id == subscription_id))
    return bool(getattr(result, "rowcount", 0))
