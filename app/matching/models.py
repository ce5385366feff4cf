"""What link workers tell matching: the activities marked not suitable for a referral."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class UnsuitableMark(Base):
    """An activity a link worker marked not suitable for a referral, with the reason's code
    (``unsuitable.REASONS``). One row per (referral, activity): marking again updates it. Goes
    with its referral (a purge) and with its activity (a deletion)."""

    __tablename__ = "unsuitable_mark"
    __table_args__ = (
        UniqueConstraint("referral_id", "activity_id"),
        # the counts per activity and reason (provider, commissioner)
        Index("ix_unsuitable_mark_activity_id", "activity_id", "reason"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referral.id", ondelete="CASCADE"))
    activity_id: Mapped[str] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(500))  # free text: never in counts or logs
    marked_by: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
