"""Referrals as stored: the person, the referral (ServiceRequest), its Task, every version.

The current state of each resource is a row with the columns search and authorisation need,
plus the FHIR JSON the server renders from; every version of every resource is also kept in
``resource_version`` for ``vread`` and ``_history``. ``version_id`` is SQLAlchemy's
``version_id_col``: an UPDATE carries ``WHERE version_id = <old>``, so two concurrent writers
of the same version cannot both succeed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class Patient(Base):
    """One row per person (NHS number); demographics are those of the latest referral. A person
    who referred themselves without giving an NHS number has none (docs/self-referral.md)."""

    __tablename__ = "patient"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    version_id: Mapped[int] = mapped_column(Integer)
    nhs_number: Mapped[str | None] = mapped_column(String(10), unique=True)
    birth_date: Mapped[dt.date] = mapped_column(Date)
    gender: Mapped[str | None] = mapped_column(String(16))
    postcode: Mapped[str] = mapped_column(String(16))
    resource: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __mapper_args__ = {"version_id_col": version_id}  # noqa: RUF012


class Referral(Base):
    """A ServiceRequest: a GP practice's referral of a person to a link-worker service."""

    __tablename__ = "referral"
    __table_args__ = (
        Index("ix_referral_requester_ods_authored_on", "requester_ods", "authored_on"),
        Index("ix_referral_performer_ods_authored_on", "performer_ods", "authored_on"),
        Index("ix_referral_updated_at", "updated_at"),
        Index("ix_referral_authored_on", "authored_on"),  # the reports' date window
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    version_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    intent: Mapped[str] = mapped_column(String(16))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    requester_ods: Mapped[str] = mapped_column(String(32))
    performer_ods: Mapped[str] = mapped_column(String(32))
    authored_on: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    preferences: Mapped[dict[str, Any]] = mapped_column(JSON)
    resource: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __mapper_args__ = {"version_id_col": version_id}  # noqa: RUF012


class ReferralIdentifier(Base):
    """The referrer's business identifiers (``system|value``), unique across referrals."""

    __tablename__ = "referral_identifier"
    __table_args__ = (UniqueConstraint("system", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    referral_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("referral.id", ondelete="CASCADE"), index=True
    )
    system: Mapped[str] = mapped_column(String(256))
    value: Mapped[str] = mapped_column(String(256))


class ReferralCoding(Base):
    """``code`` and ``category`` codings of a referral, for token search."""

    __tablename__ = "referral_coding"
    __table_args__ = (Index("ix_referral_coding_lookup", "element", "code", "system"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    referral_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("referral.id", ondelete="CASCADE"), index=True
    )
    element: Mapped[str] = mapped_column(String(16))  # code | category
    system: Mapped[str | None] = mapped_column(String(256))
    code: Mapped[str] = mapped_column(String(128))


class ReferralNeed(Base):
    """The needs behind a referral (codes of the ``need`` CodeSystem), for matching and reports."""

    __tablename__ = "referral_need"

    referral_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("referral.id", ondelete="CASCADE"), primary_key=True
    )
    need: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
    # The element of the stored ServiceRequest whose words gave the need ("reasonCode[0].text"),
    # when they did; the words stay in the ServiceRequest only (a person's data).
    found_in: Mapped[str | None] = mapped_column(String(64))


class Task(Base):
    """The closed-loop Task of a referral (Gravity referral status set, DESIGN.md 5.2)."""

    __tablename__ = "task"
    __table_args__ = (
        Index("ix_task_owner_ods_status", "owner_ods", "status"),
        Index("ix_task_requester_ods_status", "requester_ods", "status"),
        Index("ix_task_updated_at", "updated_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    version_id: Mapped[int] = mapped_column(Integer)
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referral.id"), unique=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    business_status: Mapped[str | None] = mapped_column(String(32))
    requester_ods: Mapped[str] = mapped_column(String(32))
    owner_ods: Mapped[str] = mapped_column(String(32))
    authored_on: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    output: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    first_contact_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __mapper_args__ = {"version_id_col": version_id}  # noqa: RUF012


class Consent(Base):
    """A Consent sent as its own resource (in a transaction); contained ones stay contained."""

    __tablename__ = "consent"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    version_id: Mapped[int] = mapped_column(Integer)
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referral.id"), index=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    resource: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __mapper_args__ = {"version_id_col": version_id}  # noqa: RUF012


class ResourceVersion(Base):
    """Every version of every FHIR resource the server keeps, as it was rendered."""

    __tablename__ = "resource_version"

    resource_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    resource_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    version_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    resource: Mapped[dict[str, Any]] = mapped_column(JSON)
