"""Directory tables. What matching and search filter on are real, indexed columns.

Locations carry a composite B-tree index on (latitude, longitude): a proximity search turns the
radius into a bounding box, the index range-scans the latitude band and checks longitude inside
the index, and only the rows in the box get the exact distance test. It needs no extension
(PostGIS, SpatiaLite) and behaves the same on SQLite and PostgreSQL; a geohash column would need
a precision chosen per radius and a 9-cell neighbourhood to avoid edge misses, for no gain at
the scale of one commissioning area.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, utcnow


class Organisation(Base):
    """The organisation that runs activities. ``identifier`` decides who may edit them."""

    __tablename__ = "organisation"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String)
    # ODS code, else charity number, else company number: a provider token's `org` must equal it.
    identifier: Mapped[str | None] = mapped_column(String(32), index=True)
    identifier_scheme: Mapped[str | None] = mapped_column(String(16))
    email: Mapped[str | None] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Activity(Base):
    """A community activity: an Open Referral UK ``service``."""

    __tablename__ = "activity"
    __table_args__ = (Index("ix_activity_source", "source_feed_id", "source_id", unique=True),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String)
    status: Mapped[str] = mapped_column(String(20), index=True)
    url: Mapped[str | None] = mapped_column(String(512))
    email: Mapped[str | None] = mapped_column(String(255))
    attending_type: Mapped[str] = mapped_column(String(16), index=True)
    minimum_age: Mapped[int | None] = mapped_column(Integer, index=True)
    maximum_age: Mapped[int | None] = mapped_column(Integer, index=True)
    eligibility_description: Mapped[str | None] = mapped_column(String)
    eligibility_gender: Mapped[str | None] = mapped_column(String(16), index=True)
    capacity_maximum: Mapped[int | None] = mapped_column(Integer)
    capacity_available: Mapped[int | None] = mapped_column(Integer, index=True)
    accepting_referrals: Mapped[bool] = mapped_column(Boolean, index=True)
    has_free_option: Mapped[bool] = mapped_column(Boolean, index=True)
    fees_description: Mapped[str | None] = mapped_column(String)
    contact: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(16))  # api | import | demo | sync
    # A synced activity's feed and the feed's own id of the service (docs/oruk.md); the
    # digest of what an import or sync last wrote (None after an API write): same digest,
    # unchanged service.
    source_feed_id: Mapped[str | None] = mapped_column(String(16))
    source_id: Mapped[str | None] = mapped_column(String(64))
    source_digest: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_modified: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    organisation: Mapped[Organisation | None] = relationship(lazy="raise")
    categories: Mapped[list[ActivityCategoryLink]] = relationship(
        lazy="raise", order_by="ActivityCategoryLink.term_id"
    )
    needs: Mapped[list[ActivityNeed]] = relationship(lazy="raise", order_by="ActivityNeed.code")
    languages: Mapped[list[ActivityLanguage]] = relationship(
        lazy="raise", order_by="ActivityLanguage.code"
    )
    locations: Mapped[list[Location]] = relationship(lazy="raise", order_by="Location.position")
    schedules: Mapped[list[Schedule]] = relationship(lazy="raise", order_by="Schedule.position")
    cost_options: Mapped[list[CostOption]] = relationship(
        lazy="raise", order_by="CostOption.position"
    )
    service_areas: Mapped[list[ServiceArea]] = relationship(
        lazy="raise", order_by="ServiceArea.position"
    )


class DirectoryFeed(Base):
    """A live Open Referral UK feed synced into the directory (``app/directory/sync.py``).

    ``id`` is derived from the URL and prefixes its activities' ids; ``last_synced_at`` is when
    the last successful sync started (the next one asks for ``modified_after`` it)."""

    __tablename__ = "directory_feed"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_synced_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_full_sync_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))


class ActivityCategoryLink(Base):
    """A taxonomy term of an activity. ``code`` is the activity-category code when it maps to
    one; imported terms that do not are kept with ``code`` empty."""

    __tablename__ = "activity_category"
    __table_args__ = (Index("ix_activity_category_code", "code", "activity_id"),)

    activity_id: Mapped[str] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True
    )
    term_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    code: Mapped[str | None] = mapped_column(String(32))
    label: Mapped[str | None] = mapped_column(String(255))
    taxonomy: Mapped[str | None] = mapped_column(String(255))


class ActivityNeed(Base):
    __tablename__ = "activity_need"
    __table_args__ = (Index("ix_activity_need_code", "code", "activity_id"),)

    activity_id: Mapped[str] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(32), primary_key=True)


class ActivityLanguage(Base):
    __tablename__ = "activity_language"

    activity_id: Mapped[str] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(35), primary_key=True)  # BCP 47, e.g. "en", "pl"


class Location(Base):
    """Where an activity happens. No coordinates: the location is unknown to proximity search."""

    __tablename__ = "location"
    __table_args__ = (
        # activity_id makes the proximity prefilter an index-only scan
        Index("ix_location_latitude_longitude", "latitude", "longitude", "activity_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    activity_id: Mapped[str] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    source_id: Mapped[str | None] = mapped_column(String(64))  # the ORUK location id
    name: Mapped[str | None] = mapped_column(String(255))
    address_1: Mapped[str | None] = mapped_column(String(255))
    city: Mapped[str | None] = mapped_column(String(128))
    postcode: Mapped[str | None] = mapped_column(String(8), index=True)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    access_wheelchair: Mapped[bool] = mapped_column(Boolean)
    access_step_free: Mapped[bool] = mapped_column(Boolean)
    access_hearing_loop: Mapped[bool] = mapped_column(Boolean)
    access_large_print: Mapped[bool] = mapped_column(Boolean)
    access_bsl: Mapped[bool] = mapped_column(Boolean)
    access_quiet_space: Mapped[bool] = mapped_column(Boolean)
    accessibility_description: Mapped[str | None] = mapped_column(String)


class Schedule(Base):
    """When an activity runs, RFC 5545 style (ORUK ``schedule``)."""

    __tablename__ = "schedule"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    activity_id: Mapped[str] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    freq: Mapped[str | None] = mapped_column(String(8))
    interval: Mapped[int | None] = mapped_column(Integer)
    byday: Mapped[str | None] = mapped_column(String(64))  # "TU,TH", "2MO", "-1FR"
    opens_at: Mapped[str | None] = mapped_column(String(8))  # "HH:MM:SS", local time
    closes_at: Mapped[str | None] = mapped_column(String(8))
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    description: Mapped[str | None] = mapped_column(String)


class CostOption(Base):
    __tablename__ = "cost_option"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    activity_id: Mapped[str] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    option: Mapped[str | None] = mapped_column(String(255))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    amount_description: Mapped[str | None] = mapped_column(String(255))
    free: Mapped[bool] = mapped_column(Boolean)
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)


class ServiceArea(Base):
    """Where the activity's users must live: a postcode district or a local authority (GSS)
    code. Areas imported as text only (``code`` empty) are kept but do not restrict."""

    __tablename__ = "service_area"
    __table_args__ = (Index("ix_service_area_code", "code", "activity_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    activity_id: Mapped[str] = mapped_column(
        ForeignKey("activity.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    code: Mapped[str | None] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String)


class ActivityChange(Base):
    """One row per write to an ``activity`` row (insert, update, delete), written by database
    triggers (migration 0009) so that no writer can forget it: bookings changing places,
    directory writes, imports, bulk seeding. Matching's per-process snapshot reads the rows
    added since its last request instead of re-reading the directory (app/matching/snapshot.py).

    The triggers keep the table to about `ACTIVITY_CHANGES_KEPT` rows (each insert deletes the
    row that many places older); a reader further behind reloads everything. ``xid`` is the
    writing transaction's id on PostgreSQL (NULL on SQLite, where writers are serial)."""

    __tablename__ = "activity_change"
    __table_args__ = ({"sqlite_autoincrement": True},)

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    activity_id: Mapped[str] = mapped_column(String(64))
    xid: Mapped[int | None] = mapped_column(BigInteger, index=True)


ACTIVITY_CHANGES_KEPT = 100_000


class DatabaseEpoch(Base):
    """One row: a random id given to the database when its schema is made (migration 0015).

    A database dropped and made again under the same URL has another, so a process's matching
    snapshot, which reads it with the change log at every request, knows that the log it
    follows is not the one it read before and loads everything again (the new log's numbers
    start afresh and may look like the old one's continuation)."""

    __tablename__ = "database_epoch"

    epoch: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
