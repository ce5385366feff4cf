from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class Booking(Base):
    """A person's place on an activity, for one referral. One row per (referral, activity):
    booking again after a cancellation takes the same row back."""

    __tablename__ = "booking"
    __table_args__ = (
        UniqueConstraint("referral_id", "activity_id"),
        Index("ix_booking_activity_id_status", "activity_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referral.id"), index=True)
    activity_id: Mapped[str] = mapped_column(ForeignKey("activity.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    status: Mapped[str] = mapped_column(
        String(16)
    )  # booked | attended | did-not-attend | cancelled
    booked_by: Mapped[str] = mapped_column(String(256))
    # why a cancelled booking was cancelled: booking-cancelled | referral-revoked | task-<status>
    cancelled_reason: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
