"""Notifications as stored: subscriptions, the outbox of Task changes, and their deliveries.

``outbox_event`` is the transactional outbox: one row per Task change (the Task id and the
version that change made), written in the same transaction as the change, so an event exists
exactly when its change does. ``assetlink worker`` fans each event out to the subscriptions
of the referral's requesting organisation whose criteria it meets (one ``delivery`` row per
subscription) and delivers those rows, claiming them with a lease (``next_attempt_at``) taken
under ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class Subscription(Base):
    """A GP system's rest-hook Subscription to the Tasks of its organisation's referrals."""

    __tablename__ = "subscription"
    __table_args__ = (Index("ix_subscription_owner_ods_status", "owner_ods", "status"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    version_id: Mapped[int] = mapped_column(Integer)
    owner_ods: Mapped[str] = mapped_column(String(32))  # the organisation that registered it
    status: Mapped[str] = mapped_column(String(16))  # active | error | off
    # The Task statuses the criteria narrow to (``Task?status=a,b``); None: every status.
    statuses: Mapped[list[str] | None] = mapped_column(JSON)
    endpoint: Mapped[str] = mapped_column(String(2048))
    secret: Mapped[str] = mapped_column(String(128))  # the HMAC key; shown once, at creation
    error: Mapped[str | None] = mapped_column(String(512))  # why the status is ``error``
    resource: Mapped[dict[str, Any]] = mapped_column(JSON)  # as registered, without the secret
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __mapper_args__ = {"version_id_col": version_id}  # noqa: RUF012


class OutboxEvent(Base):
    """One Task change: the Task's id and the version the change made (its stable event id)."""

    __tablename__ = "outbox_event"
    __table_args__ = (Index("ix_outbox_event_pending", "dispatched_at", "occurred_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    task_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    task_version: Mapped[int] = mapped_column(Integer)
    task_status: Mapped[str] = mapped_column(String(16))  # for the criteria's status filter
    requester_ods: Mapped[str] = mapped_column(String(32))  # whose subscriptions may hear it
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # fanned out


class Delivery(Base):
    """One event for one subscription: pending (due at ``next_attempt_at``), delivered or
    failed (after the retry budget; listed for admins, who may re-queue it)."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("event_id", "subscription_id"),
        Index("ix_delivery_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("outbox_event.id"), index=True)
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("subscription.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)  # due, or lease end
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)  # the receiver's HTTP status
    last_error: Mapped[str | None] = mapped_column(String(512))
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
