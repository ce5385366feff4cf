"""Questionnaire links as stored: the link (one referral, one instrument, one use, an expiry) and
the hashes of its tokens.

A token is never stored: only its SHA-256 (``questionnaire_link_token.token_hash``), looked up
by that hash. A link has a token per message that carried it (the link's message, its
reminder, a resend), each minted when the message is handed to Notify; all of them die with the
link when it is used or expires.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class QuestionnaireLink(Base):
    """A link to one instrument for the person of a referral: open until ``used_at`` or
    ``expires_at``; ``schedule_key`` makes the follow-up schedule's links once."""

    __tablename__ = "questionnaire_link"
    __table_args__ = (Index("ix_questionnaire_link_open", "used_at", "reminded_at", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referral.id"), index=True)
    instrument: Mapped[str] = mapped_column(String(32))
    timepoint: Mapped[str | None] = mapped_column(String(16))  # None: decided when answered
    channel: Mapped[str | None] = mapped_column(String(8))  # asked for (sms | email), or any
    sent_by: Mapped[str] = mapped_column(String(256))  # the link worker's sub, or the schedule
    schedule_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    reminded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # reminder queued
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    record_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # the outcome record it made


class QuestionnaireLinkToken(Base):
    """The SHA-256 of one token of a link (hex); the token itself is only ever in a message."""

    __tablename__ = "questionnaire_link_token"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    link_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("questionnaire_link.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
