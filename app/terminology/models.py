from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class SnomedNeedMapping(Base):
    """An administrator's SNOMED CT -> need mapping; overrides a shipped one (same concept)."""

    __tablename__ = "snomed_need_mapping"

    concept_id: Mapped[str] = mapped_column(String(18), primary_key=True)
    display: Mapped[str] = mapped_column(String(255))
    need: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(256))


class NeedPhrase(Base):
    """An administrator's free-text phrase -> need; overrides a shipped one (same phrase)."""

    __tablename__ = "need_phrase"

    phrase: Mapped[str] = mapped_column(String(100), primary_key=True)  # normalised
    need: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(256))
