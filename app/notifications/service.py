"""Subscription use cases: register, read, search and delete, within the caller's reach.

A referrer manages its own organisation's subscriptions (another organisation's is "not known",
and the attempt is audited as refused); an admin every organisation's. The owner of a new
subscription is always the caller's organisation. A Subscription holds no person's data: its
audit rows name no patient. The secret is made here and leaves only in the create response.
"""

from __future__ import annotations

import secrets
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.context import Context
from app.auth.policy import Reach
from app.errors import NotFound
from app.notifications import repository
from app.notifications.models import Subscription
from app.notifications.repository import SubscriptionQuery
from app.notifications.subscriptions import SubscriptionDraft

SECRET_BYTES = 32  # 256 bits of HMAC key


def _access(operation: str, subscription_id: uuid.UUID | str) -> audit.Access:
    return audit.Access(operation, "Subscription", str(subscription_id), None)


def _owner(ctx: Context) -> str | None:
    """The organisation whose subscriptions the caller reaches; None: every one."""
    return None if ctx.reach is Reach.ALL else ctx.org


async def create_subscription(
    session: AsyncSession, ctx: Context, draft: SubscriptionDraft
) -> tuple[Subscription, str]:
    """Store the subscription for the caller's organisation; the row and its new secret."""
    secret = secrets.token_hex(SECRET_BYTES)
    row = Subscription(
        owner_ods=ctx.org,
        status="active",
        statuses=draft.statuses,
        endpoint=draft.endpoint,
        secret=secret,
        error=None,
        resource=draft.resource,
    )
    session.add(row)
    await session.flush()
    audit.record(session, ctx.actor, _access("create", row.id))
    return row, secret


async def _reachable(
    session: AsyncSession, ctx: Context, subscription_id: uuid.UUID, operation: str
) -> Subscription:
    row = await repository.get(session, subscription_id)
    if row is None:
        raise NotFound(f"Subscription/{subscription_id} is not known")
    owner = _owner(ctx)
    if owner is not None and row.owner_ods != owner:
        access = _access(operation, subscription_id)
        await audit.record_denied(
            ctx.sessionmaker, ctx.actor, access, "outside the caller's organisation"
        )
        raise NotFound(f"Subscription/{subscription_id} is not known")
    return row


async def read_subscription(
    session: AsyncSession, ctx: Context, subscription_id: uuid.UUID
) -> Subscription:
    row = await _reachable(session, ctx, subscription_id, "read")
    audit.record(session, ctx.actor, _access("read", subscription_id))
    return row


async def search_subscriptions(
    session: AsyncSession, ctx: Context, query: SubscriptionQuery, *, offset: int, limit: int
) -> tuple[int, list[Subscription]]:
    """The caller's reach of the subscriptions ``query`` matches (one page); each hit audited."""
    total, rows = await repository.search(
        session,
        SubscriptionQuery(query.ids, query.statuses, _owner(ctx)),
        offset=offset,
        limit=limit,
    )
    for row in rows:
        audit.record(session, ctx.actor, _access("search", row.id))
    return total, rows


async def delete_subscription(
    session: AsyncSession, ctx: Context, subscription_id: uuid.UUID
) -> None:
    """Delete the subscription and its deliveries; a second delete is 404 (nothing is kept)."""
    await _reachable(session, ctx, subscription_id, "delete")
    if not await repository.delete_subscription(session, subscription_id):
        raise NotFound(f"Subscription/{subscription_id} is not known")
    audit.record(session, ctx.actor, _access("delete", subscription_id))
