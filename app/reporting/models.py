"""The reports' summary tables (docs/reports.md "Summary tables").

Derived data only: every row is recomputed from the referral, Task, booking, patient, area and
outcome-score tables by ``app.reporting.summary.refresh``. Database triggers (migration 0008)
queue the id of every referral whose inputs change in ``report_dirty``, whoever writes the
rows; a report first brings the summary rows of the queued referrals up to date, then
aggregates them. None of these tables holds an identifier beyond the referral id, a name, a
birth date or a postcode.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime
from app.reporting.repository import (
    CHANGE_SUMS,
    DAY_BUCKETS,
    DIMENSION_COLUMNS,
    MONTH_SUMS,
    PARTIAL_KEY,
)

# the columns the median statement reads beside the days (an index-only scan on PostgreSQL)
FIRST_CONTACT_INCLUDE = DIMENSION_COLUMNS


class _Dimensions:
    """A summary row's reporting dimensions (``repository.DIMENSION_COLUMNS``)."""

    authored_on: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    month: Mapped[str] = mapped_column(String(8))  # 2026-11 (UTC)
    quarter: Mapped[str] = mapped_column(String(8))  # 2026-Q4
    practice: Mapped[str] = mapped_column(String(32))  # the requester's ODS code
    performer: Mapped[str] = mapped_column(String(32))
    imd_decile: Mapped[int | None] = mapped_column(Integer)  # None: postcode not in the lookup
    age_band: Mapped[str] = mapped_column(String(8))  # age on the day of the referral
    sex: Mapped[str] = mapped_column(String(16))


class _Happened(_Dimensions):
    """A referral's reporting dimensions and what happened to it."""

    # 0 or 1 each
    accepted: Mapped[int] = mapped_column(SmallInteger)
    rejected: Mapped[int] = mapped_column(SmallInteger)
    declined: Mapped[int] = mapped_column(SmallInteger)
    booked: Mapped[int] = mapped_column(SmallInteger)
    attended: Mapped[int] = mapped_column(SmallInteger)
    completed: Mapped[int] = mapped_column(SmallInteger)
    engaged: Mapped[int] = mapped_column(SmallInteger)
    first_contact_days: Mapped[float | None] = mapped_column(Float)  # None: no first contact


class ReportReferral(_Happened, Base):
    """One narrow row per referral: its reporting dimensions and what happened to it."""

    __tablename__ = "report_referral"
    __table_args__ = (
        Index("ix_report_referral_authored_on", "authored_on"),
        # the median statement reads the first contacts of a few buckets of days (migration 0010)
        Index(
            "ix_report_referral_first_contact",
            "first_contact_days",
            postgresql_include=list(FIRST_CONTACT_INCLUDE),
            postgresql_where=text("first_contact_days IS NOT NULL"),
            sqlite_where=text("first_contact_days IS NOT NULL"),
        ),
    )

    referral_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)


class ReportNeed(_Happened, Base):
    """``report_referral`` once per need of the referral (``need`` = ``none`` for a referral
    without one): the reports grouped by need read this table alone, without a join."""

    __tablename__ = "report_need"
    # covering: the outcomes report joins (referral_id, need) of the window by an index-only scan
    __table_args__ = (
        Index("ix_report_need_authored_on", "authored_on", "referral_id", "need"),
        Index(
            "ix_report_need_first_contact",
            "first_contact_days",
            postgresql_include=["need", *FIRST_CONTACT_INCLUDE],
            postgresql_where=text("first_contact_days IS NOT NULL"),
            sqlite_where=text("first_contact_days IS NOT NULL"),
        ),
    )

    referral_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    need: Mapped[str] = mapped_column(String(32), primary_key=True)


class ReportCategory(Base):
    """The activity categories a referral is booked on (bookings counted as ``booked``), with its
    ``authored_on``."""

    __tablename__ = "report_category"
    __table_args__ = (Index("ix_report_category_authored_on", "authored_on"),)

    referral_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    authored_on: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ReportChange(_Dimensions, Base):
    """One row per referral and score measure with a baseline and a later follow-up: the
    earliest baseline and the latest follow-up or exit at or after it, with the referral's
    dimensions copied from ``report_referral`` (so the outcomes report reads one table)."""

    __tablename__ = "report_change"
    __table_args__ = (Index("ix_report_change_authored_on", "authored_on"),)

    referral_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    instrument: Mapped[str] = mapped_column(String(32), primary_key=True)
    measure: Mapped[str] = mapped_column(String(32), primary_key=True)
    baseline: Mapped[float] = mapped_column(Float)
    follow_up: Mapped[float] = mapped_column(Float)


class ReportPurged(Base):
    """Referrals whose personal data ``assetlink purge`` removed (``app/retention.py``): their
    summary rows are all that is left of them, so a refresh never recomputes them (their
    sources are gone) and they keep counting in every report."""

    __tablename__ = "report_purged"

    referral_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    closed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    purged_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ReportDirty(Base):
    """The queue of referrals whose summary rows are out of date. Filled by triggers only
    (append-only, duplicates allowed: a writer never waits for or merges with another)."""

    __tablename__ = "report_dirty"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    referral_id: Mapped[uuid.UUID] = mapped_column(Uuid)


# The monthly partial aggregates (docs/reports.md "Monthly partials"): per calendar month (UTC)
# and per set of at most two *base* dimensions (``dims``, e.g. ``practice+sex``; ``""`` for
# none), the counts and sums of the summary rows of that month, grouped by those dimensions. A
# column outside ``dims`` holds the filler ("" or 0); inside it "" is no activity category and 0
# an unknown IMD decile (the key is then unique without NULLs). A report reads the whole months
# of its window from here and only the days at its edges from the summary rows.


def _partial_key() -> list[Column[Any]]:
    return [
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
        Column("dims", String(40), nullable=False),
        Column("month", String(8), nullable=False),
        Column("quarter", String(8), nullable=False),
        Column("practice", String(32), nullable=False),
        Column("performer", String(32), nullable=False),
        Column("imd_decile", Integer, nullable=False),
        Column("age_band", String(8), nullable=False),
        Column("sex", String(16), nullable=False),
        Column("need", String(32), nullable=False),
        Column("category", String(32), nullable=False),
    ]


class ReportMonth(Base):
    """Counts of ``report_referral`` (``report_need`` when ``need`` is in ``dims``) per month
    and group, and its first contacts per bucket of days (``days_00``...: the buckets of
    ``repository.DAY_BOUNDS``)."""

    __table__ = Table(
        "report_month",
        Base.metadata,
        *_partial_key(),
        *(Column(name, Integer, nullable=False) for name in MONTH_SUMS),
        *(Column(name, Integer, nullable=False) for name in DAY_BUCKETS),
        Index("uq_report_month_key", "dims", "month", *PARTIAL_KEY, unique=True),
    )


class ReportMonthChange(Base):
    """Sums of ``report_change`` per month, group and score measure (the measures the reports
    follow): the number of pairs, the sums of the baselines, follow-ups, changes and squared
    changes, and the number reliably improved (0 for a measure without a threshold)."""

    __table__ = Table(
        "report_month_change",
        Base.metadata,
        *_partial_key(),
        Column("instrument", String(32), nullable=False),
        Column("measure", String(32), nullable=False),
        Column("n", Integer, nullable=False),
        *(Column(name, Float, nullable=False) for name in CHANGE_SUMS[1:-1]),
        Column("improved", Integer, nullable=False),
        # a kind's rows of one measure together: the equity view reads one measure
        Index(
            "uq_report_month_change_key",
            "dims",
            "instrument",
            "measure",
            "month",
            *PARTIAL_KEY,
            unique=True,
        ),
    )
