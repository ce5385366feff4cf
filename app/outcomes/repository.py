"""Every SQL query of the outcomes domain."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.policy import Reach
from app.fhir.search import DateRange
from app.fhir.sql import date_clause
from app.outcomes.models import OutcomeRecord, OutcomeScore
from app.referrals.models import Referral
from app.referrals.reach import referral_visible


async def add_record(
    session: AsyncSession, record: OutcomeRecord, scores: Sequence[OutcomeScore]
) -> None:
    session.add(record)
    await session.flush()  # the record before the scores that refer to it
    session.add_all(scores)
    await session.flush()


async def insert_bulk(
    session: AsyncSession, records: Sequence[dict[str, Any]], scores: Sequence[dict[str, Any]]
) -> None:
    """Records and their scores loaded in bulk (``seed-demo``): one executemany each."""
    if records:
        await session.execute(insert(cast(Table, OutcomeRecord.__table__)), list(records))
    if scores:
        await session.execute(insert(cast(Table, OutcomeScore.__table__)), list(scores))


async def delete_for_referrals(session: AsyncSession, referral_ids: Sequence[uuid.UUID]) -> None:
    """Delete the outcome records and scores of the referrals (before the referrals)."""
    for start in range(0, len(referral_ids), 500):
        chunk = list(referral_ids[start : start + 500])
        await session.execute(delete(OutcomeScore).where(OutcomeScore.referral_id.in_(chunk)))
        await session.execute(delete(OutcomeRecord).where(OutcomeRecord.referral_id.in_(chunk)))


async def records_for_referral(
    session: AsyncSession, referral_id: uuid.UUID
) -> list[OutcomeRecord]:
    rows = await session.scalars(
        select(OutcomeRecord)
        .where(OutcomeRecord.referral_id == referral_id)
        .order_by(OutcomeRecord.collected_at, OutcomeRecord.recorded_at, OutcomeRecord.id)
    )
    return list(rows)


async def scores_for_records(
    session: AsyncSession, record_ids: Sequence[uuid.UUID]
) -> list[OutcomeScore]:
    if not record_ids:
        return []
    rows = await session.scalars(
        select(OutcomeScore)
        .where(OutcomeScore.record_id.in_(record_ids))
        .order_by(OutcomeScore.record_id, OutcomeScore.measure)
    )
    return list(rows)


async def first_collected(
    session: AsyncSession, referral_id: uuid.UUID, instrument: str, timepoints: Sequence[str]
) -> dt.datetime | None:
    """The earliest ``collected_at`` of the referral's ``instrument`` records at ``timepoints``."""
    return await session.scalar(
        select(func.min(OutcomeRecord.collected_at)).where(
            OutcomeRecord.referral_id == referral_id,
            OutcomeRecord.instrument == instrument,
            OutcomeRecord.timepoint.in_(timepoints),
        )
    )


async def record_by_questionnaire_response(
    session: AsyncSession, response_id: uuid.UUID
) -> OutcomeRecord | None:
    return await session.scalar(
        select(OutcomeRecord).where(OutcomeRecord.questionnaire_response_id == response_id)
    )


async def score_with_record(
    session: AsyncSession, score_id: uuid.UUID
) -> tuple[OutcomeScore, OutcomeRecord] | None:
    row = (
        await session.execute(
            select(OutcomeScore, OutcomeRecord)
            .join(OutcomeRecord, OutcomeRecord.id == OutcomeScore.record_id)
            .where(OutcomeScore.id == score_id)
        )
    ).first()
    return (row[0], row[1]) if row else None


@dataclass(frozen=True)
class ObservationQuery:
    ids: list[uuid.UUID] = field(default_factory=list)
    referral_ids: list[uuid.UUID] = field(default_factory=list)
    patient_ids: list[uuid.UUID] = field(default_factory=list)
    response_ids: list[uuid.UUID] = field(default_factory=list)
    dates: list[DateRange] = field(default_factory=list)


async def search_observations(
    session: AsyncSession,
    query: ObservationQuery,
    reach: Reach,
    org: str,
    *,
    offset: int,
    limit: int,
) -> tuple[int, list[tuple[OutcomeScore, OutcomeRecord]]]:
    """Scores with their records, within the caller's reach, newest collection first."""
    conditions = [referral_visible(reach, org)]
    if query.ids:
        conditions.append(OutcomeScore.id.in_(query.ids))
    if query.referral_ids:
        conditions.append(OutcomeScore.referral_id.in_(query.referral_ids))
    if query.patient_ids:
        conditions.append(OutcomeRecord.patient_id.in_(query.patient_ids))
    if query.response_ids:
        conditions.append(OutcomeRecord.questionnaire_response_id.in_(query.response_ids))
    conditions += [date_clause(OutcomeScore.collected_at, d) for d in query.dates]
    base = (
        select(OutcomeScore, OutcomeRecord)
        .join(OutcomeRecord, OutcomeRecord.id == OutcomeScore.record_id)
        .join(Referral, Referral.id == OutcomeScore.referral_id)
        .where(*conditions)
    )
    total = await session.scalar(select(func.count()).select_from(base.subquery()))
    rows = await session.execute(
        base.order_by(
            OutcomeScore.collected_at.desc(), OutcomeScore.record_id, OutcomeScore.measure
        )
        .offset(offset)
        .limit(limit)
    )
    return int(total or 0), [(score, record) for score, record in rows]
