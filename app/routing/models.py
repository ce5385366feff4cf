from __future__ import annotations

import datetime as dt

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class RoutingRule(Base):
    """Admin-managed routing: referrals from a practice go to this link-worker service."""

    __tablename__ = "routing_rule"

    practice_ods: Mapped[str] = mapped_column(String(32), primary_key=True)
    performer_ods: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(256))


class PostcodeRoute(Base):
    """Admin-managed routing of self-referrals: people whose postcode starts with ``prefix``
    (an area ``LS``, a district ``LS6`` or a sector ``LS6 3``) go to this link-worker service;
    the longest matching prefix wins."""

    __tablename__ = "postcode_route"

    prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    performer_ods: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(256))
