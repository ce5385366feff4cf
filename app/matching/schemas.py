from __future__ import annotations

import uuid

from pydantic import BaseModel, Field


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


class MatchRead(BaseModel):
    activity: ActivityCard
    score: float = Field(ge=0, le=1)
    components: ComponentsRead
    reasons: list[str]
    attendance: str = Field(
        description="in-person | online | phone: how the person would take part"
    )
    distance_km: float | None
    waitlist: bool = Field(description="full: offered for the waiting list (include_full=true)")


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
