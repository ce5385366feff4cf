"""``/api/v1/caseload``: the link worker's work list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from app.auth.context import Context
from app.auth.dependencies import Caller, allowed
from app.auth.policy import Action
from app.bookings.schemas import PersonRead
from app.caseload import service
from app.caseload.schemas import CaseloadPage, CaseRead
from app.db import SessionDep
from app.deps import SettingsDep

router = APIRouter(prefix="/api/v1", tags=["caseload"])


def _read(case: service.Case) -> CaseRead:
    row = case.row
    return CaseRead(
        referral_id=row.referral_id,
        task_id=row.task_id,
        task_status=row.task_status,
        stage=row.stage,
        attention=row.attention,
        person=PersonRead(display_name=case.person.display_name, age=case.person.age),
        needs=row.needs,
        referred_at=row.authored_on,
        days_since_referral=case.days_since_referral,
        next_follow_up_due=case.next_follow_up_due,
        follow_up_overdue=case.follow_up_overdue,
        route=case.route,
    )


@router.get("/caseload", operation_id="caseload-list_caseload", response_model=CaseloadPage)
async def list_caseload(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    caller: Annotated[Caller, Depends(allowed(Action.CASELOAD_READ))],
    status: Annotated[
        list[str] | None,
        Query(max_length=12, description="Task status (repeatable); default: the open ones"),
    ] = None,
    stage: Annotated[
        list[str] | None,
        Query(max_length=6, description="Task.businessStatus code (repeatable)"),
    ] = None,
    overdue: Annotated[
        bool | None, Query(description="only (true) or no (false) overdue follow-ups")
    ] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> CaseloadPage:
    """The caller's service's referrals, what needs attention first: overdue follow-ups, new
    referrals, people not yet contacted, scheduled follow-ups, on hold (then ended ones, when
    asked for by status). Each with its Task status and stage, the person's given name and
    initial and age, needs, days since referral and the next follow-up due."""
    total, cases = await service.caseload(
        session,
        Context.of(request, caller),
        service.Filters(statuses=status, stages=stage, overdue=overdue),
        follow_up_weeks=settings.follow_up_weeks,
        offset=(page - 1) * per_page,
        limit=per_page,
    )
    return CaseloadPage(total=total, page=page, per_page=per_page, items=[_read(c) for c in cases])
