from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, Field

from app.directory.schemas import LocalTime


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
    warnings: list[str]
