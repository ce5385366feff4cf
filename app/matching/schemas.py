from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from app.directory.schemas import LocalTime
from app.matching.labels import UNSUITABLE_REASONS


class ActivityCard(BaseModel):
    id: str
    name: str
    organisation: str | None
    attending_type: str
    categories: list[str]


class ComponentsRead(BaseModel):
    need_fit: float
    interest_fit: float
    proximity: float
    language_fit: float
    day_fit: float
    spare_capacity: float
    equity: float
    group_fit: float
    situation_fit: float
    outcome: float = Field(
        description="the outcome prior: 0.5 without enough people behind it (docs/matching.md)"
    )


class SessionRead(BaseModel):
    date: dt.date
    start_time: LocalTime | None = Field(description="local time, as the directory gives it")
    end_time: LocalTime | None


class VenueRead(BaseModel):
    name: str | None
    address_1: str | None
    city: str | None
    postcode: str | None


class MatchRead(BaseModel):
    activity: ActivityCard
    score: float = Field(ge=0, le=1, description="rounded to 3 decimals (ranking uses exact)")
    components: ComponentsRead = Field(description="each rounded to 3 decimals")
    reasons: list[str]
    attendance: str = Field(
        description="in-person | online | phone: how the person would take part"
    )
    distance_km: float | None = Field(description="to the venue, rounded to 0.1 km")
    waitlist: bool = Field(description="full: offered for the waiting list (include_full=true)")
    venue: VenueRead | None = Field(
        description="where the person would go (the location the distance is to); "
        "none unless in person"
    )
    next_sessions: list[SessionRead] = Field(
        description="the next 3 sessions from today by the activity's schedules "
        "(empty when its days are not known)"
    )


def _known_reason(code: str) -> str:
    if code not in UNSUITABLE_REASONS:
        raise ValueError(f"not a reason code: one of {', '.join(UNSUITABLE_REASONS)}")
    return code


Reason = Annotated[
    str,
    AfterValidator(_known_reason),
    Field(
        max_length=32,
        json_schema_extra={"enum": list(UNSUITABLE_REASONS)},
        description="; ".join(f"`{code}`: {what}" for code, what in UNSUITABLE_REASONS.items()),
    ),
]


class UnsuitableWrite(BaseModel):
    reason: Reason
    note: str | None = Field(
        None, max_length=500, description="for the link workers of the service; never counted"
    )

    model_config = {"extra": "forbid"}


class UnsuitableRead(BaseModel):
    activity_id: str
    activity_name: str
    reason: str
    note: str | None
    marked_at: dt.datetime
    updated_at: dt.datetime


class ExclusionRead(BaseModel):
    rule: int
    description: str
    count: int


class MatchesRead(BaseModel):
    referral_id: uuid.UUID
    matches: list[MatchRead]
    eligible: int = Field(description="activities that pass every hard rule")
    considered: int = Field(description="eligible + excluded")
    excluded: list[ExclusionRead] = Field(description="activities excluded, by hard rule")
    unsuitable: list[UnsuitableRead] = Field(
        description="activities marked not suitable for this referral: left out of `matches` "
        "(still counted in `eligible` when they pass the hard rules)"
    )
    warnings: list[str]
