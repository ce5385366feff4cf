"""Outcome records as stored: one row per completed instrument, one row per derived score.

``outcome_record`` keeps what was asked and answered (the answers, as given, in item order) and
where it came from; ``outcome_score`` keeps every derived score as a real numeric column, with
the referral, instrument, timepoint and time of collection copied onto it, so that the
commissioner reports aggregate scores with one GROUP BY over one table (joined to ``referral``
only for the grouping dimensions). Each score row is also one FHIR ``Observation`` (its id is
the Observation id). Records are never changed once stored.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class OutcomeRecord(Base):
    """One completed instrument for one referral at one timepoint (DESIGN.md section 9)."""

    __tablename__ = "outcome_record"
    __table_args__ = (
        Index(
            "ix_outcome_record_referral_instrument",
            "referral_id",
            "instrument",
            "timepoint",
            "collected_at",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referral.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient.id"), index=True)
    instrument: Mapped[str] = mapped_column(String(32))  # ONS4 | SWEMWBS | WEMWBS | UCLA3 | ...
    timepoint: Mapped[str] = mapped_column(String(16))  # baseline | follow-up | exit
    collected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    mode: Mapped[str] = mapped_column(String(16))  # self | assisted
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(32))  # json | questionnaire-response
    # The QuestionnaireResponse id and resource, when the record came as FHIR.
    questionnaire_response_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, unique=True)
    questionnaire_response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(256))  # the caller's sub


class OutcomeScore(Base):
    """One derived score of a record (an ONS4 item, a total, the SWEMWBS metric, a category)."""

    __tablename__ = "outcome_score"
    __table_args__ = (
        Index(
            "ix_outcome_score_referral_measure",
            "referral_id",
            "instrument",
            "measure",
            "timepoint",
            "collected_at",
        ),
        Index("ix_outcome_score_instrument_measure", "instrument", "measure", "timepoint"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    record_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("outcome_record.id", ondelete="CASCADE"), index=True
    )
    referral_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("referral.id"))
    instrument: Mapped[str] = mapped_column(String(32))
    measure: Mapped[str] = mapped_column(String(32))  # total | metric | an ONS4 item | how_often
    timepoint: Mapped[str] = mapped_column(String(16))
    collected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    value: Mapped[float | None] = mapped_column(Float)  # numeric scores
    band: Mapped[str | None] = mapped_column(String(16))  # ONS4 threshold band
    category: Mapped[str | None] = mapped_column(String(32))  # ONS_LONELINESS answer
    lonely: Mapped[bool | None] = mapped_column(Boolean)  # UCLA3 total >= 6; often-always
