"""The caseload (DESIGN.md 8): a link-worker service's referrals as a work list, what needs
attention first at the top. Every row shown is audited as a search of that referral."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.context import Context
from app.caseload import attention, repository
from app.caseload.repository import CaseloadQuery
from app.db import utcnow
from app.errors import BadRequest, Issue
from app.referrals import fhir, lifecycle, people
from app.referrals import service as referrals_service
from app.referrals.people import PersonBrief


@dataclass(frozen=True)
class Filters:
    statuses: Sequence[str] | None = None  # Task statuses; default: the open ones
    stages: Sequence[str] | None = None  # Task.businessStatus codes
    overdue: bool | None = None


@dataclass(frozen=True)
class Case:
    row: repository.CaseloadRow
    person: PersonBrief
    days_since_referral: int
    next_follow_up_due: dt.datetime | None
    follow_up_overdue: bool
    route: referrals_service.Route


def _known(values: Sequence[str] | None, allowed: Collection[str], name: str) -> None:
    unknown = sorted(set(values or ()) - set(allowed))
    if unknown:
        raise BadRequest(
            f"{name}: {', '.join(unknown)} is not one of {', '.join(sorted(allowed))}",
            [Issue(f"unknown {name}", name)],
        )


async def caseload(
    session: AsyncSession,
    ctx: Context,
    filters: Filters,
    *,
    follow_up_weeks: int,
    offset: int,
    limit: int,
) -> tuple[int, list[Case]]:
    """One page of the caller's service's referrals (an admin: every service's)."""
    _known(filters.statuses, lifecycle.TASK_STATUSES, "status")
    _known(filters.stages, fhir.STAGES, "stage")
    now = utcnow()
    total, rows = await repository.page(
        session,
        CaseloadQuery(
            reach=ctx.reach,
            org=ctx.org,
            statuses=filters.statuses or attention.OPEN,
            stages=filters.stages or None,
            overdue=filters.overdue,
            cutoff=attention.cutoff(now, follow_up_weeks),
            offset=offset,
            limit=limit,
        ),
    )
    cases = []
    for row in rows:
        audit.record(
            session,
            ctx.actor,
            audit.Access("search", "ServiceRequest", str(row.referral_id), row.patient_id),
        )
        cases.append(
            Case(
                row=row,
                person=people.brief(row.patient_resource, row.birth_date, now.date()),
                days_since_referral=(now.date() - row.authored_on.date()).days,
                next_follow_up_due=attention.due(row.follow_up_from, follow_up_weeks),
                follow_up_overdue=row.attention == "follow-up-overdue",
                route=referrals_service.route_of(row.requester_ods),
            )
        )
    return total, cases
