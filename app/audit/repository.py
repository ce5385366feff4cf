"""Every SQL query of the audit trail."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.fhir.search import DateRange
from app.fhir.sql import date_clause


@dataclass(frozen=True)
class AuditQuery:
    dates: Sequence[DateRange] = ()
    patient_ids: Sequence[uuid.UUID] = ()
    entities: Sequence[tuple[str, str]] = ()  # (type, id)
    actions: Sequence[str] = ()
    outcomes: Sequence[str] = ()
    subs: Sequence[str] = ()


async def get(session: AsyncSession, event_id: uuid.UUID) -> AuditEvent | None:
    return await session.get(AuditEvent, event_id)


async def search(
    session: AsyncSession, query: AuditQuery, *, offset: int, limit: int
) -> tuple[int, list[AuditEvent]]:
    where: list[ColumnElement[bool]] = [date_clause(AuditEvent.recorded_at, d) for d in query.dates]
    if query.patient_ids:
        where.append(AuditEvent.patient_id.in_(query.patient_ids))
    if query.entities:
        where.append(
            or_(
                *(
                    and_(AuditEvent.entity_type == t, AuditEvent.entity_id == i)
                    for t, i in query.entities
                )
            )
        )
    if query.actions:
        where.append(AuditEvent.action.in_(query.actions))
    if query.outcomes:
        where.append(AuditEvent.outcome.in_(query.outcomes))
    if query.subs:
        where.append(AuditEvent.actor_sub.in_(query.subs))
    total = await session.scalar(select(func.count()).select_from(AuditEvent).where(*where))
    rows = await session.scalars(
        select(AuditEvent)
        .where(*where)
        .order_by(AuditEvent.recorded_at.desc(), AuditEvent.id)
        .offset(offset)
        .limit(limit)
    )
    return total or 0, list(rows)
