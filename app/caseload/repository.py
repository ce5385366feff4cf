"""The caseload query: one page of a link-worker service's referrals, in attention order, with
what each row shows, in one statement (the count in a second)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.policy import Reach
from app.caseload.attention import ATTENTION, FOLLOWED_UP
from app.outcomes.models import OutcomeRecord
from app.referrals.models import Patient, Referral, ReferralNeed, Task
from app.referrals.reach import referral_visible


@dataclass(frozen=True)
class CaseloadQuery:
    reach: Reach
    org: str
    statuses: Sequence[str]
    stages: Sequence[str] | None
    overdue: bool | None
    cutoff: dt.datetime  # a follow-up measured from before this is overdue (now - interval)
    offset: int
    limit: int


@dataclass(frozen=True)
class CaseloadRow:
    referral_id: uuid.UUID
    patient_id: uuid.UUID
    authored_on: dt.datetime
    task_id: uuid.UUID
    task_status: str
    stage: str | None
    follow_up_from: dt.datetime | None  # the next follow-up is due a set interval after this
    attention: str
    needs: list[str]
    patient_resource: dict[str, Any]
    birth_date: dt.date
    requester_ods: str  # intake.SELF_REQUESTER for a self-referral


def _follow_up_from() -> ColumnElement[Any]:
    """The last wellbeing measure of the referral, else its first contact; only while the
    Task is open and not on hold (docs/outcomes.md "Caseload")."""
    last_measure = (
        select(func.max(OutcomeRecord.collected_at))
        .where(OutcomeRecord.referral_id == Referral.id)
        .correlate(Referral)
        .scalar_subquery()
    )
    return case(
        (Task.status.in_(FOLLOWED_UP), func.coalesce(last_measure, Task.first_contact_at)),
        else_=None,
    )


def _attention(follow_up_from: ColumnElement[Any], cutoff: dt.datetime) -> ColumnElement[int]:
    """The rank of ``attention.ATTENTION`` each row is in (0 first)."""
    overdue = and_(follow_up_from.is_not(None), follow_up_from < cutoff)
    rules = {
        "follow-up-overdue": overdue,
        "awaiting-acceptance": Task.status == "requested",
        "awaiting-first-contact": and_(
            Task.status.in_(FOLLOWED_UP), Task.first_contact_at.is_(None)
        ),
        "follow-up-scheduled": Task.status.in_(FOLLOWED_UP),
        "on-hold": Task.status == "on-hold",
    }
    return case(
        *((rule, ATTENTION.index(name)) for name, rule in rules.items()),
        else_=ATTENTION.index("ended"),
    )


async def page(session: AsyncSession, query: CaseloadQuery) -> tuple[int, list[CaseloadRow]]:
    follow_up_from = _follow_up_from()
    rank = _attention(follow_up_from, query.cutoff)
    where = [referral_visible(query.reach, query.org), Task.status.in_(query.statuses)]
    if query.stages is not None:
        where.append(Task.business_status.in_(query.stages))
    if query.overdue is not None:
        overdue = rank == ATTENTION.index("follow-up-overdue")
        where.append(overdue if query.overdue else ~overdue)
    base = select(Referral.id).join(Task, Task.referral_id == Referral.id).where(*where)
    total = await session.scalar(select(func.count()).select_from(base.subquery())) or 0
    needs = (
        select(func.aggregate_strings(ReferralNeed.need, ","))
        .where(ReferralNeed.referral_id == Referral.id)
        .correlate(Referral)
        .scalar_subquery()
    )
    # overdue and scheduled follow-ups soonest due first; the rest oldest referral first
    sort_at = case((follow_up_from.is_not(None), follow_up_from), else_=Referral.authored_on)
    rows = await session.execute(
        select(
            Referral.id,
            Referral.patient_id,
            Referral.authored_on,
            Task.id,
            Task.status,
            Task.business_status,
            follow_up_from,
            rank,
            needs,
            Patient.resource,
            Patient.birth_date,
            Referral.requester_ods,
        )
        .join(Task, Task.referral_id == Referral.id)
        .join(Patient, Patient.id == Referral.patient_id)
        .where(*where)
        .order_by(rank, sort_at, Referral.id)
        .offset(query.offset)
        .limit(query.limit)
    )
    return total, [
        CaseloadRow(
            referral_id=r[0],
            patient_id=r[1],
            authored_on=r[2],
            task_id=r[3],
            task_status=r[4],
            stage=r[5],
            follow_up_from=r[6],
            attention=ATTENTION[r[7]],
            needs=sorted(r[8].split(",")) if r[8] else [],
            patient_resource=r[9],
            birth_date=r[10],
            requester_ods=r[11],
        )
        for r in rows
    ]
