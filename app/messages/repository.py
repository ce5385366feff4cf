"""Every SQL statement of messages: reminders' candidates, the outbox's claims and results.

Claims lock the rows they take with ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
several workers split the work; SQLite ignores the clause (its writers take the database's
write lock in turn). A claim is a lease: ``next_attempt_at`` moves ahead; a worker that dies
holding it loses it then. A result is stored only while the lease is the worker's.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.bookings.models import Booking
from app.messages.models import Message
from app.referrals.models import Patient, Referral

PENDING, SENDING, SENT = "pending", "sending", "sent"
FAILED, CANCELLED = "failed", "cancelled"


@dataclass(frozen=True)
class Booked:
    booking_id: uuid.UUID
    referral_id: uuid.UUID
    activity_id: str


async def booked(session: AsyncSession) -> list[Booked]:
    """Every booked place (ids only: most have no session tomorrow)."""
    rows = await session.execute(
        select(Booking.id, Booking.referral_id, Booking.activity_id)
        .where(Booking.status == "booked")
        .order_by(Booking.created_at, Booking.id)
    )
    return [Booked(*row) for row in rows]


async def contacts(
    session: AsyncSession, referral_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[dict[str, Any], dict[str, Any]]]:
    """By referral: the person's Patient resource (its ``telecom``) and the referral's
    preferences (``contact_by_message``)."""
    found: dict[uuid.UUID, tuple[dict[str, Any], dict[str, Any]]] = {}
    for start in range(0, len(referral_ids), 500):
        chunk = list(referral_ids[start : start + 500])
        rows = await session.execute(
            select(Referral.id, Patient.resource, Referral.preferences)
            .join(Patient, Patient.id == Referral.patient_id)
            .where(Referral.id.in_(chunk))
        )
        found |= {row[0]: (row[1], row[2]) for row in rows}
    return found


async def existing_keys(session: AsyncSession, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = list(keys[start : start + 500])
        found |= set(
            await session.scalars(
                select(Message.idempotency_key).where(Message.idempotency_key.in_(chunk))
            )
        )
    return found


async def add_once(session: AsyncSession, message: Message) -> bool:
    """Store a new message unless one with its idempotency key exists (also one another worker
    is storing at this moment: the unique key decides); False when it does."""
    try:
        async with session.begin_nested():  # (it flushes what is pending first: add inside)
            session.add(message)
            await session.flush()
    except IntegrityError:  # the savepoint's rollback has taken the new row out of the session
        return False
    return True


# --- claims ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """A claimed message, with what sending it (or asking for its receipt) needs."""

    message_id: uuid.UUID
    kind: str
    key: str  # the idempotency key: names the cause (a booking, a questionnaire link)
    channel: str
    template_id: str
    personalisation: dict[str, str]
    attempts: int  # with this one
    claimed_as: str  # the status the claim left it in (sending, or sent for a receipt)
    lease_until: dt.datetime
    notify_id: uuid.UUID | None
    sent_at: dt.datetime | None
    booking_status: str | None  # None: the message is for no booking
    patient_id: uuid.UUID
    patient: dict[str, Any]
    preferences: dict[str, Any]


async def _claim(
    session: AsyncSession,
    statuses: tuple[str, ...],
    claimed_as: str,
    now: dt.datetime,
    lease_until: dt.datetime,
    limit: int,
    **values: Any,
) -> list[Job]:
    ids = list(
        await session.scalars(
            select(Message.id)
            .where(Message.status.in_(statuses), Message.next_attempt_at <= now)
            .order_by(Message.next_attempt_at, Message.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not ids:
        return []
    await session.execute(
        update(Message)
        .where(Message.id.in_(ids))
        .values(next_attempt_at=lease_until, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    rows = await session.execute(
        select(
            Message.id,
            Message.kind,
            Message.channel,
            Message.template_id,
            Message.personalisation,
            Message.attempts,
            Message.notify_id,
            Message.sent_at,
            Booking.status,
            Patient.id,
            Patient.resource,
            Referral.preferences,
            Message.idempotency_key,
        )
        .join(Referral, Referral.id == Message.referral_id)
        .join(Patient, Patient.id == Referral.patient_id)
        .outerjoin(Booking, Booking.id == Message.booking_id)
        .where(Message.id.in_(ids))
        .order_by(Message.created_at)
    )
    return [
        Job(
            message_id=r[0],
            kind=r[1],
            key=r[12],
            channel=r[2],
            template_id=r[3],
            personalisation=r[4],
            attempts=r[5],
            claimed_as=claimed_as,
            lease_until=lease_until,
            notify_id=r[6],
            sent_at=r[7],
            booking_status=r[8],
            patient_id=r[9],
            patient=r[10],
            preferences=r[11],
        )
        for r in rows
    ]


async def claim_sends(
    session: AsyncSession, now: dt.datetime, lease_until: dt.datetime, limit: int
) -> list[Job]:
    """Take due messages to send (pending, or sending whose lease ran out: a worker died)."""
    return await _claim(
        session,
        (PENDING, SENDING),
        SENDING,
        now,
        lease_until,
        limit,
        status=SENDING,
        attempts=Message.attempts + 1,
        last_attempt_at=now,
    )


async def claim_receipts(
    session: AsyncSession, now: dt.datetime, lease_until: dt.datetime, limit: int
) -> list[Job]:
    """Take sent messages whose receipt is due to be asked for."""
    return await _claim(session, (SENT,), SENT, now, lease_until, limit)


async def store(
    session: AsyncSession, job: Job, status: str, now: dt.datetime, **values: Any
) -> bool:
    """A result, while the lease is still the worker's; False when it is not."""
    result = await session.execute(
        update(Message)
        .where(
            and_(
                Message.id == job.message_id,
                Message.status == job.claimed_as,
                Message.next_attempt_at == job.lease_until,
            )
        )
        .values(status=status, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def release(session: AsyncSession, job: Job, now: dt.datetime) -> None:
    """Give back a claimed message that was not sent: due now, the attempt not counted."""
    await session.execute(
        update(Message)
        .where(Message.id == job.message_id, Message.next_attempt_at == job.lease_until)
        .values(status=PENDING, attempts=job.attempts - 1, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )


async def get(session: AsyncSession, message_id: uuid.UUID) -> Message | None:
    return await session.get(Message, message_id)


async def for_booking(session: AsyncSession, booking_id: uuid.UUID) -> list[Message]:
    return list(
        await session.scalars(
            select(Message).where(Message.booking_id == booking_id).order_by(Message.created_at)
        )
    )
