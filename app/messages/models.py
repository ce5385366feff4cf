"""Messages to the person as stored: one ``message`` row per text or email, an outbox.

A row is written in the transaction of what causes it (the reminder job's, or a later use
case's) and is unique by its idempotency key (``booking-reminder:<booking id>:<session date>``),
so a cause makes its message once however often it runs. ``assetlink worker`` claims due rows
(a lease: ``next_attempt_at`` moves ahead, ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL),
sends them through GOV.UK Notify with the row's id as Notify's ``reference`` and then polls
Notify for the delivery receipt. No contact detail is stored here: the number or address is
read from the person's record when the message is sent.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class Message(Base):
    """One message to the person of a referral: pending (due at ``next_attempt_at``), sending
    (claimed; leased until ``next_attempt_at``), sent (Notify took it; its receipt polled at
    ``next_attempt_at``), then Notify's final status (delivered, permanent-failure,
    temporary-failure, technical-failure), or failed / cancelled here (``error`` says why)."""

    __tablename__ = "message"
    __table_args__ = (Index("ix_message_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(32))  # booking-reminder | questionnaire-link | ...
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referral.id"), index=True)
    booking_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("booking.id"), index=True)
    channel: Mapped[str] = mapped_column(String(8))  # sms | email
    template_id: Mapped[str] = mapped_column(String(64))  # Notify's template, from settings
    personalisation: Mapped[dict[str, Any]] = mapped_column(JSON)  # the template's fields
    status: Mapped[str] = mapped_column(String(24))
    notify_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # Notify's notification id
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # sends tried (claims)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)  # due, lease end, or poll
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(512))  # Notify's error, or why not sent
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # Notify accepted it
    receipt_status: Mapped[str | None] = mapped_column(String(24))  # Notify's latest status
    receipt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # when Notify said so
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
