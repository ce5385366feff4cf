"""Booking places on activities (DESIGN.md 8): one place taken atomically, attendance, cancellation
giving the place back; the referral's Task follows (``activity-booked``, ``attending``, outputs).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.context import Context
from app.auth.policy import Reach
from app.bookings import repository
from app.bookings.models import Booking
from app.db import utcnow
from app.directory import service as directory_service
from app.errors import Conflict, Issue, NotFound, Unprocessable
from app.referrals import lifecycle
from app.referrals import service as referrals_service
from app.referrals.people import PersonBrief

STATUSES = ("booked", "attended", "did-not-attend", "cancelled")
# booked -> anything; attended <-> did-not-attend (corrections); cancelled is final.
TRANSITIONS = {
    "booked": frozenset({"attended", "did-not-attend", "cancelled"}),
    "attended": frozenset({"did-not-attend"}),
    "did-not-attend": frozenset({"attended"}),
    "cancelled": frozenset(),
}
OPEN_TASK = ("accepted", "in-progress")
CANCELLED_BY_USER = "booking-cancelled"  # Booking.cancelled_reason of a PATCH to cancelled


@dataclass(frozen=True)
class BookingView:
    booking: Booking
    activity_name: str
    person: PersonBrief | None  # None for providers' views of others' data


async def book(
    session: AsyncSession, ctx: Context, referral_id: uuid.UUID, activity_id: str
) -> BookingView:
    """Take one place for the referral's person; 409 when there is none or it is already booked."""
    referral = await referrals_service.read_referral(session, ctx, referral_id, "book")
    task = await referrals_service.task_of(session, referral.id)
    if task.status not in OPEN_TASK:
        raise lifecycle.status_conflict("book activities", task.status, OPEN_TASK)
    activity = await repository.bookable_activity(session, activity_id)
    if activity is None:
        raise Unprocessable(
            f"No activity {activity_id!r} in the directory",
            [Issue("unknown activity", "activity_id")],
        )
    name, status, accepting = activity
    if status != "active" or not accepting:
        why = f"its status is {status}" if status != "active" else "it is not accepting referrals"
        raise Conflict(
            f"{name} is not taking referrals: {why}; it can be booked when its provider makes it "
            "active and accepting referrals again",
            [Issue("not bookable", "activity_id", code="business-rule")],
        )
    existing = await repository.booking_for(session, referral.id, activity_id)
    if existing is not None and existing.status != "cancelled":
        raise Conflict(
            f"This referral already has a place on {name} (booking {existing.id}, "
            f"{existing.status}); a cancelled booking can be booked again",
            [Issue("already booked", "activity_id", code="duplicate")],
        )
    if not await directory_service.take_place(session, activity_id):
        raise Conflict(
            f"{name} has no place left: book it when a place is given back, or choose another "
            "activity",
            [Issue("no place available", "activity_id", code="business-rule")],
        )
    now = utcnow()
    if existing is None:
        booking = Booking(
            referral_id=referral.id,
            activity_id=activity_id,
            patient_id=referral.patient_id,
            status="booked",
            booked_by=ctx.caller.principal.sub[:256],
            created_at=now,
            updated_at=now,
        )
        session.add(booking)
        try:
            async with session.begin_nested():
                await session.flush()
        except IntegrityError:  # a concurrent booking of the same activity for this referral
            raise Conflict(f"This referral already has a place on {name}") from None
    else:
        booking = existing
        booking.status, booking.updated_at, booking.booked_by = (
            "booked",
            now,
            ctx.caller.principal.sub[:256],
        )
        booking.cancelled_reason = None
    await referrals_service.advance_task(session, ctx, task, stage="activity-booked", start=True)
    audit.record(
        session, ctx.actor, audit.Access("create", "Booking", str(booking.id), referral.patient_id)
    )
    return BookingView(booking, name, await repository.person_brief(session, referral.patient_id))


async def get_booking(session: AsyncSession, ctx: Context, booking_id: uuid.UUID) -> Booking:
    """A booking the caller may see: its referral's link-worker service, the activity's provider,
    or an admin. Out of reach is 404."""
    booking = await repository.get_booking(session, booking_id)
    if booking is None:
        raise NotFound(f"No booking {booking_id}")
    if ctx.reach is Reach.OWN_ACTIVITIES:
        owner = await repository.activity_owner(session, booking.activity_id)
        visible = owner == ctx.org
    else:
        referral = await referrals_service.peek_referral(session, booking.referral_id)
        visible = referrals_service.visible(referral, ctx)
    access = audit.Access("read", "Booking", str(booking.id), booking.patient_id)
    if not visible:
        await audit.record_denied(
            ctx.sessionmaker, ctx.actor, access, "outside the caller's organisation"
        )
        raise NotFound(f"No booking {booking_id}")
    return booking


async def update_status(
    session: AsyncSession, ctx: Context, booking_id: uuid.UUID, status: str
) -> BookingView:
    """Attendance or cancellation; cancelling gives the place back."""
    booking = await get_booking(session, ctx, booking_id)
    if status not in STATUSES or status == "booked":
        raise Unprocessable(
            "status must be attended, did-not-attend or cancelled",
            [Issue("invalid status", "status")],
        )
    if status == booking.status:
        return await view(session, ctx, booking)
    if status not in TRANSITIONS[booking.status]:
        allowed = " or ".join(sorted(TRANSITIONS[booking.status]))
        raise Conflict(
            f"A {booking.status} booking cannot become {status}: "
            + (f"it can only become {allowed}" if allowed else "book the activity again"),
            [Issue("illegal transition", "status", code="business-rule")],
        )
    if status == "cancelled":
        await _cancel_open(session, booking.referral_id, CANCELLED_BY_USER, booking_id=booking.id)
        await session.refresh(booking)
    else:
        booking.status, booking.updated_at = status, utcnow()
        await session.flush()
    task = await referrals_service.task_of(session, booking.referral_id)
    attended = await repository.attended_activities(session, booking.referral_id)
    await referrals_service.advance_task(
        session,
        ctx,
        task,
        stage="attending" if status == "attended" else None,
        outputs=attended,
    )
    audit.record(
        session, ctx.actor, audit.Access("update", "Booking", str(booking.id), booking.patient_id)
    )
    return await view(session, ctx, booking)


async def end_bookings(
    session: AsyncSession, ctx: Context, referral_id: uuid.UUID, reason: str
) -> None:
    """The referral has ended: its open bookings are cancelled and their places given back, in
    this transaction (DESIGN.md 5.2); each booking records ``reason``."""
    for booking_id, patient_id in await _cancel_open(session, referral_id, reason):
        audit.record(
            session, ctx.actor, audit.Access("update", "Booking", str(booking_id), patient_id)
        )


async def _cancel_open(
    session: AsyncSession,
    referral_id: uuid.UUID,
    reason: str,
    *,
    booking_id: uuid.UUID | None = None,
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Cancel the referral's open bookings (or only ``booking_id``) and give each place back:
    the one way a place returns. Returns (booking id, patient id) of each booking cancelled."""
    cancelled = await repository.cancel_open(session, referral_id, reason, booking_id=booking_id)
    for activity_id in sorted({activity_id for _, _, activity_id in cancelled}):
        await directory_service.release_place(session, activity_id)
    return [(booking, patient) for booking, patient, _ in cancelled]


async def view(session: AsyncSession, ctx: Context, booking: Booking) -> BookingView:
    activity = await repository.bookable_activity(session, booking.activity_id)
    name = activity[0] if activity else booking.activity_id
    return BookingView(booking, name, await repository.person_brief(session, booking.patient_id))


async def list_bookings(
    session: AsyncSession,
    ctx: Context,
    *,
    referral_id: uuid.UUID | None,
    activity_id: str | None,
    status: str | None,
    offset: int,
    limit: int,
) -> tuple[int, list[BookingView]]:
    if referral_id is not None:
        await referrals_service.read_referral(session, ctx, referral_id, "search")
    total, rows = await repository.search(
        session,
        reach=ctx.reach,
        org=ctx.org,
        referral_id=referral_id,
        activity_id=activity_id,
        status=status,
        offset=offset,
        limit=limit,
    )
    views = []
    for booking, name in rows:
        audit.record(
            session,
            ctx.actor,
            audit.Access("search", "Booking", str(booking.id), booking.patient_id),
        )
        views.append(
            BookingView(booking, name, await repository.person_brief(session, booking.patient_id))
        )
    return total, views
