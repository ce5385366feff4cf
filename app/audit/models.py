from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    """One access to a person's data. Holds ids only: never a name or an NHS number."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_recorded_at", "recorded_at"),
        Index("ix_audit_event_entity", "entity_type", "entity_id"),
        Index("ix_audit_event_patient_id", "patient_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    request_id: Mapped[str | None] = mapped_column(String(128))
    actor_sub: Mapped[str] = mapped_column(String(256))
    actor_role: Mapped[str] = mapped_column(String(32))
    actor_org: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))  # FHIR AuditEvent.action: C R U D E
    operation: Mapped[str] = mapped_column(String(64))  # read, search, create, update, ...
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    patient_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    outcome: Mapped[str] = mapped_column(String(2))  # FHIR AuditEvent.outcome: 0 4 8 12
    outcome_text: Mapped[str | None] = mapped_column(String(256))
