"""Every SQL query of bookings."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, delete, func, insert, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.policy import Reach
from app.bookings.models import Booking
from app.db import utcnow
from app.directory.models import Activity, Organisation
from app.referrals import people
from app.referrals.models import Patient, Referral
from app.referrals.people import PersonBrief


async def bookable_activity(
    session: AsyncSession, activity_id: str
) -> tuple[str, str, bool] | None:
    row = (
        await session.execute(
            select(Activity.name, Activity.status, Activity.accepting_referrals).where(
                Activity.id == activity_id
            )
        )
    ).first()
    return (row[0], row[1], row[2]) if row else None


async def cancel_open(
    session: AsyncSession,
    referral_id: uuid.UUID,
    reason: str,
    *,
    booking_id: uuid.UUID | None = None,
) -> list[tuple[uuid.UUID, uuid.UUID, str]]:
    """Cancel the referral's open (``booked``) bookings, or only ``booking_id``. Conditional on
    ``status = 'booked'``, so of two requests cancelling the same booking at once one cancels
    it (and gives its place back). Returns (booking id, patient id, activity id) of each booking
    cancelled."""
    where = [Booking.referral_id == referral_id, Booking.status == "booked"]
    if booking_id is not None:
        where.append(Booking.id == booking_id)
    cancelled = (
        await session.execute(
            update(Booking)
            .where(*where)
            .values(status="cancelled", cancelled_reason=reason, updated_at=utcnow())
            .returning(Booking.id, Booking.patient_id, Booking.activity_id)
            .execution_options(synchronize_session="fetch")
        )
    ).all()
    return [(row[0], row[1], row[2]) for row in cancelled]


async def booking_for(
    session: AsyncSession, referral_id: uuid.UUID, activity_id: str
) -> Booking | None:
    return await session.scalar(
        select(Booking).where(
            Booking.referral_id == referral_id, Booking.activity_id == activity_id
        )
    )


async def get_booking(session: AsyncSession, booking_id: uuid.UUID) -> Booking | None:
    return await session.get(Booking, booking_id)


async def activity_owner(session: AsyncSession, activity_id: str) -> str | None:
    return await session.scalar(
        select(Organisation.identifier)
        .join(Activity, Activity.organisation_id == Organisation.id)
        .where(Activity.id == activity_id)
    )


async def attended_activities(
    session: AsyncSession, referral_id: uuid.UUID
) -> list[tuple[str, str]]:
    rows = await session.execute(
        select(Activity.id, Activity.name)
        .join(Booking, Booking.activity_id == Activity.id)
        .where(Booking.referral_id == referral_id, Booking.status == "attended")
        .order_by(Activity.id)
    )
    return [(r[0], r[1]) for r in rows]


async def person_brief(session: AsyncSession, patient_id: uuid.UUID) -> PersonBrief | None:
    patient = await session.get(Patient, patient_id)
    if patient is None:
        return None
    return people.brief(patient.resource, patient.birth_date, dt.datetime.now(dt.UTC).date())


def _reach(reach: Reach, org: str) -> ColumnElement[bool]:
    match reach:
        case Reach.ALL:
            return true()
        case Reach.PERFORMED:
            return Booking.referral_id.in_(select(Referral.id).where(Referral.performer_ods == org))
        case Reach.OWN_ACTIVITIES:
            return Booking.activity_id.in_(
                select(Activity.id)
                .join(Organisation, Organisation.id == Activity.organisation_id)
                .where(Organisation.identifier == org)
            )
        case _:
            return Booking.id.is_(None)


async def search(
    session: AsyncSession,
    *,
    reach: Reach,
    org: str,
    referral_id: uuid.UUID | None,
    activity_id: str | None,
    status: str | None,
    offset: int,
    limit: int,
) -> tuple[int, list[tuple[Booking, str]]]:
    where = [_reach(reach, org)]
    if referral_id is not None:
        where.append(Booking.referral_id == referral_id)
    if activity_id is not None:
        where.append(Booking.activity_id == activity_id)
    if status is not None:
        where.append(Booking.status == status)
    total = await session.scalar(select(func.count()).select_from(Booking).where(*where)) or 0
    rows = await session.execute(
        select(Booking, Activity.name)
        .join(Activity, Activity.id == Booking.activity_id)
        .where(*where)
        .order_by(Booking.created_at.desc(), Booking.id)
        .offset(offset)
        .limit(limit)
    )
    return total, [(r[0], r[1]) for r in rows]


async def insert_bulk(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Bookings loaded in bulk (``seed-demo``): one executemany of Core INSERTs."""
    if rows:
        await session.execute(insert(cast(Table, Booking.__table__)), list(rows))


async def delete_for_referrals(session: AsyncSession, referral_ids: Sequence[uuid.UUID]) -> None:
    """Delete the bookings of the referrals (before the referrals themselves are deleted)."""
    for start in range(0, len(referral_ids), 500):
        chunk = list(referral_ids[start : start + 500])
        await session.execute(delete(Booking).where(Booking.referral_id.in_(chunk)))
