from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, Field

from app.bookings.schemas import PersonRead
from app.caseload.attention import ATTENTION


class CaseRead(BaseModel):
    referral_id: uuid.UUID = Field(description="the ServiceRequest id")
    task_id: uuid.UUID
    task_status: str = Field(description="Task.status")
    stage: str | None = Field(description="Task.businessStatus (referral-stage code)")
    attention: str = Field(
        description="why the row is where it is: the attention order, first to last",
        json_schema_extra={"enum": list(ATTENTION)},
    )
    person: PersonRead
    needs: list[str] = Field(description="need codes of the referral")
    referred_at: dt.datetime = Field(description="ServiceRequest.authoredOn")
    days_since_referral: int
    next_follow_up_due: dt.datetime | None = Field(
        description="ASSETLINK_FOLLOW_UP_WEEKS after the last wellbeing measure, else after "
        "first contact; null before first contact, on hold and once ended"
    )
    follow_up_overdue: bool
    route: Literal["gp", "self"] = Field(
        description="how the referral came: from a GP system, or the person referred themselves "
        "(/refer; its ServiceRequest.requester is the Patient)"
    )


class CaseloadPage(BaseModel):
    total: int
    page: int
    per_page: int
    items: list[CaseRead]
