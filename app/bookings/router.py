"""``/api/v1``: book places for a referral, mark attendance, list bookings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from app.audit import service as audit
from app.auth.context import Context
from app.auth.dependencies import Caller, allowed
from app.auth.policy import Action
from app.bookings import service
from app.bookings.schemas import BookingCreate, BookingPage, BookingRead, BookingUpdate, PersonRead
from app.db import SessionDep
from app.errors import known_uuid

router = APIRouter(prefix="/api/v1", tags=["bookings"])


def _read(view: service.BookingView) -> BookingRead:
    b = view.booking
    person = (
        PersonRead(display_name=view.person.display_name, age=view.person.age)
        if view.person
        else None
    )
    return BookingRead(
        id=b.id,
        referral_id=b.referral_id,
        activity_id=b.activity_id,
        activity_name=view.activity_name,
        status=b.status,
        cancelled_reason=b.cancelled_reason,
        person=person,
        booked_at=b.created_at,
        updated_at=b.updated_at,
    )


@router.post(
    "/referrals/{referral_id}/bookings",
    operation_id="bookings-create_booking",
    status_code=201,
    response_model=BookingRead,
    responses={409: {"description": "no place left, already booked, or the referral is not open"}},
)
async def create_booking(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, Depends(allowed(Action.BOOKING_WRITE))],
    referral_id: str,
    body: BookingCreate,
) -> BookingRead:
    """Book a place on an activity for the referred person (one place, taken atomically)."""
    view = await service.book(
        session,
        Context.of(request, caller),
        known_uuid(referral_id, "ServiceRequest"),
        body.activity_id,
    )
    return _read(view)


@router.get(
    "/referrals/{referral_id}/bookings",
    operation_id="bookings-list_referral_bookings",
    response_model=BookingPage,
)
async def list_referral_bookings(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, Depends(allowed(Action.BOOKING_READ))],
    referral_id: str,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> BookingPage:
    """The bookings of one referral."""
    total, views = await service.list_bookings(
        session,
        Context.of(request, caller),
        referral_id=known_uuid(referral_id, "ServiceRequest"),
        activity_id=None,
        status=None,
        offset=(page - 1) * per_page,
        limit=per_page,
    )
    return BookingPage(total=total, page=page, per_page=per_page, items=[_read(v) for v in views])


@router.get("/bookings", operation_id="bookings-list_bookings", response_model=BookingPage)
async def list_bookings(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, Depends(allowed(Action.BOOKING_READ))],
    activity_id: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[
        str | None, Query(pattern="^(booked|attended|did-not-attend|cancelled)$")
    ] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> BookingPage:
    """Bookings the caller may see: a provider those of its own activities (no NHS numbers), a
    link-worker service those of its referrals."""
    total, views = await service.list_bookings(
        session,
        Context.of(request, caller),
        referral_id=None,
        activity_id=activity_id,
        status=status,
        offset=(page - 1) * per_page,
        limit=per_page,
    )
    return BookingPage(total=total, page=page, per_page=per_page, items=[_read(v) for v in views])


@router.get(
    "/bookings/{booking_id}", operation_id="bookings-read_booking", response_model=BookingRead
)
async def read_booking(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, Depends(allowed(Action.BOOKING_READ))],
    booking_id: str,
) -> BookingRead:
    """One booking."""
    ctx = Context.of(request, caller)
    booking = await service.get_booking(session, ctx, known_uuid(booking_id, "Booking"))
    audit.record(
        session, ctx.actor, audit.Access("read", "Booking", str(booking.id), booking.patient_id)
    )
    return _read(await service.view(session, ctx, booking))


@router.patch(
    "/bookings/{booking_id}",
    operation_id="bookings-update_booking",
    response_model=BookingRead,
    responses={409: {"description": "the booking cannot move to that status"}},
)
async def update_booking(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, Depends(allowed(Action.ATTENDANCE_MARK))],
    booking_id: str,
    body: BookingUpdate,
) -> BookingRead:
    """Mark attendance (attended, did-not-attend) or cancel (the place goes back)."""
    view = await service.update_status(
        session, Context.of(request, caller), known_uuid(booking_id, "Booking"), body.status
    )
    return _read(view)
