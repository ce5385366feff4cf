"""Every SQL statement of the delivery queue: fan-out, claim, results, re-queue, depth.

Fan-out and claim lock the rows they take with ``SELECT ... FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so several workers split the work instead of queueing on each other; SQLite ignores
the clause (its writers take the database's write lock, ``BEGIN IMMEDIATE``, so one worker at a
time runs these transactions, and one worker is enough there). A claim is a lease: the row's
``next_attempt_at`` moves ``lease`` seconds ahead; a worker that dies holding it loses it then,
and another worker takes the row again. A result is written only while the lease is the one the
worker took (``next_attempt_at`` unchanged), so a worker that lost its lease changes nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.notifications import delivery
from app.notifications.models import Delivery, OutboxEvent, Subscription
from app.referrals.models import ResourceVersion

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
ACTIVE, ERROR = "active", "error"


# --- fan-out ---------------------------------------------------------------------------------


async def fan_out(session: AsyncSession, now: dt.datetime, batch: int) -> int:
    """Turn up to ``batch`` undispatched events (oldest first) into one pending delivery per
    subscription that hears each (active, or in error: kept for its re-queue); mark them
    dispatched. The number of events taken."""
    event_ids = list(
        await session.scalars(
            select(OutboxEvent.id)
            .where(OutboxEvent.dispatched_at.is_(None))
            .order_by(OutboxEvent.occurred_at, OutboxEvent.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
    )
    if not event_ids:
        return 0
    # A subscription only ever hears its own organisation's Tasks: the join is on the owner.
    # One in ``error`` still gets its deliveries, pending until an admin re-queues it.
    pairs = await session.execute(
        select(
            OutboxEvent.id,
            OutboxEvent.task_status,
            OutboxEvent.occurred_at,
            Subscription.id,
            Subscription.statuses,
            Subscription.resource["end"].as_string(),
        )
        .join(
            Subscription,
            and_(
                Subscription.owner_ods == OutboxEvent.requester_ods,
                Subscription.status.in_((ACTIVE, ERROR)),
                Subscription.created_at <= OutboxEvent.occurred_at,
            ),
        )
        .where(OutboxEvent.id.in_(event_ids))
    )
    rows = [
        {
            "id": uuid.uuid4(),
            "event_id": event_id,
            "subscription_id": subscription_id,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for event_id, task_status, occurred_at, subscription_id, statuses, end in pairs
        if delivery.hears(statuses, end, task_status, occurred_at)
    ]
    if rows:
        await session.execute(insert(Delivery), rows)
    await session.execute(
        update(OutboxEvent).where(OutboxEvent.id.in_(event_ids)).values(dispatched_at=now)
    )
    return len(event_ids)


# --- claim -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """A claimed delivery, with what sending it needs."""

    delivery_id: uuid.UUID
    event_id: uuid.UUID
    subscription_id: uuid.UUID
    attempts: int  # before this one
    lease_until: dt.datetime
    endpoint: str
    secret: str
    channel_headers: list[str]
    occurred_at: dt.datetime
    task: dict[str, Any] | None  # the Task version of the event (None: not stored)
    recorded_at: dt.datetime | None


async def claim(
    session: AsyncSession, now: dt.datetime, lease_until: dt.datetime, limit: int
) -> list[Job]:
    """Take up to ``limit`` due pending deliveries of active subscriptions (longest due first)
    until ``lease_until``."""
    ids = list(
        await session.scalars(
            select(Delivery.id)
            .join(Subscription, Subscription.id == Delivery.subscription_id)
            .where(
                Delivery.status == PENDING,
                Delivery.next_attempt_at <= now,
                Subscription.status == ACTIVE,
            )
            .order_by(Delivery.next_attempt_at, Delivery.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True, of=Delivery)
        )
    )
    if not ids:
        return []
    await session.execute(
        update(Delivery).where(Delivery.id.in_(ids)).values(next_attempt_at=lease_until)
    )
    rows = await session.execute(
        select(
            Delivery.id,
            Delivery.event_id,
            Delivery.subscription_id,
            Delivery.attempts,
            Subscription.endpoint,
            Subscription.secret,
            Subscription.resource["channel"],
            OutboxEvent.occurred_at,
            ResourceVersion.resource,
            ResourceVersion.recorded_at,
        )
        .join(Subscription, Subscription.id == Delivery.subscription_id)
        .join(OutboxEvent, OutboxEvent.id == Delivery.event_id)
        .outerjoin(
            ResourceVersion,
            and_(
                ResourceVersion.resource_type == "Task",
                ResourceVersion.resource_id == OutboxEvent.task_id,
                ResourceVersion.version_id == OutboxEvent.task_version,
            ),
        )
        .where(Delivery.id.in_(ids))
        .order_by(OutboxEvent.occurred_at)
    )
    return [
        Job(
            delivery_id=row[0],
            event_id=row[1],
            subscription_id=row[2],
            attempts=row[3],
            lease_until=lease_until,
            endpoint=row[4],
            secret=row[5],
            channel_headers=list((row[6] or {}).get("header") or []),
            occurred_at=row[7],
            task=row[8],
            recorded_at=row[9],
        )
        for row in rows
    ]


# --- results ---------------------------------------------------------------------------------


def _leased(job: Job) -> Any:
    return and_(
        Delivery.id == job.delivery_id,
        Delivery.status == PENDING,
        Delivery.next_attempt_at == job.lease_until,
    )


async def _attempted(
    session: AsyncSession,
    job: Job,
    now: dt.datetime,
    http_status: int | None,
    error: str | None,
    **outcome: Any,
) -> bool:
    """Store one attempt on the delivery while the lease is still the worker's; False when it
    is not (another worker has the row now)."""
    result = await session.execute(
        update(Delivery)
        .where(_leased(job))
        .values(
            attempts=job.attempts + 1,
            last_attempt_at=now,
            last_status=http_status,
            last_error=error,
            **outcome,
        )
    )
    return _one(result)


async def delivered(session: AsyncSession, job: Job, now: dt.datetime, http_status: int) -> bool:
    return await _attempted(
        session, job, now, http_status, None, status=DELIVERED, delivered_at=now
    )


async def retry_later(
    session: AsyncSession,
    job: Job,
    now: dt.datetime,
    due: dt.datetime,
    http_status: int | None,
    error: str,
) -> bool:
    return await _attempted(session, job, now, http_status, error, next_attempt_at=due)


async def give_up(
    session: AsyncSession, job: Job, now: dt.datetime, http_status: int | None, error: str
) -> bool:
    """The retry budget is spent: the delivery fails and its subscription goes to ``error``."""
    if not await _attempted(session, job, now, http_status, error, status=FAILED):
        return False
    await _set_subscription(
        session,
        job.subscription_id,
        ERROR,
        f"delivery of event {job.event_id} failed after {job.attempts + 1} attempts: {error}",
        now,
    )
    return True


async def release(session: AsyncSession, jobs: Sequence[Job], now: dt.datetime) -> None:
    """Give back claimed deliveries that were never sent: due again now."""
    for job in jobs:
        await session.execute(update(Delivery).where(_leased(job)).values(next_attempt_at=now))


def _one(result: Any) -> bool:
    return bool(result.rowcount == 1)


async def _set_subscription(
    session: AsyncSession, subscription_id: uuid.UUID, status: str, error: str | None, now: Any
) -> None:
    """A new version of the subscription with this status (the Subscription is versioned)."""
    await session.execute(
        update(Subscription)
        .where(Subscription.id == subscription_id, Subscription.status != status)
        .values(
            status=status,
            error=error,
            version_id=Subscription.version_id + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )


# --- admin -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryView:
    delivery: Delivery
    task_id: uuid.UUID
    task_version: int


async def list_deliveries(
    session: AsyncSession, status: str | None, offset: int, limit: int
) -> tuple[int, list[DeliveryView]]:
    where = [Delivery.status == status] if status is not None else []
    total = await session.scalar(select(func.count()).select_from(Delivery).where(*where))
    rows = await session.execute(
        select(Delivery, OutboxEvent.task_id, OutboxEvent.task_version)
        .join(OutboxEvent, OutboxEvent.id == Delivery.event_id)
        .where(*where)
        .order_by(Delivery.created_at, Delivery.id)
        .offset(offset)
        .limit(limit)
    )
    return int(total or 0), [DeliveryView(*row) for row in rows]


async def delivery_for_update(session: AsyncSession, delivery_id: uuid.UUID) -> Delivery | None:
    return await session.scalar(
        select(Delivery).where(Delivery.id == delivery_id).with_for_update()
    )


async def subscription_exists(session: AsyncSession, subscription_id: uuid.UUID) -> bool:
    found = await session.scalar(select(Subscription.id).where(Subscription.id == subscription_id))
    return found is not None


async def requeue(
    session: AsyncSession,
    subscription_id: uuid.UUID,
    now: dt.datetime,
    delivery_id: uuid.UUID | None = None,
) -> int:
    """Failed deliveries (one, or every one of the subscription) pending again, due now, with a
    fresh retry budget; the subscription active again. The number re-queued."""
    where = [Delivery.subscription_id == subscription_id, Delivery.status == FAILED]
    if delivery_id is not None:
        where.append(Delivery.id == delivery_id)
    result = await session.execute(
        update(Delivery)
        .where(*where)
        .values(status=PENDING, attempts=0, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    await _set_subscription(session, subscription_id, ACTIVE, None, now)
    return int(result.rowcount)  # type: ignore[attr-defined]


# --- depth -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Depth:
    undispatched: int
    pending: int
    oldest_at: dt.datetime | None  # the oldest undispatched event or pending delivery's event
    by_status: dict[str, int]


async def depth(session: AsyncSession) -> Depth:
    undispatched, oldest_event = (
        await session.execute(
            select(func.count(), func.min(OutboxEvent.occurred_at)).where(
                OutboxEvent.dispatched_at.is_(None)
            )
        )
    ).one()
    oldest_pending = await session.scalar(
        select(func.min(OutboxEvent.occurred_at))
        .join(Delivery, Delivery.event_id == OutboxEvent.id)
        .where(Delivery.status == PENDING)
    )
    by_status = {
        status: int(count)
        for status, count in await session.execute(
            select(Delivery.status, func.count()).group_by(Delivery.status)
        )
    }
    oldest = [t for t in (oldest_event, oldest_pending) if t is not None]
    return Depth(
        undispatched=int(undispatched),
        pending=by_status.get(PENDING, 0),
        oldest_at=min(oldest) if oldest else None,
        by_status=by_status,
    )
