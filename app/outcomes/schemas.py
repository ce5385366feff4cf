"""The JSON API's bodies: an outcome to record, a stored outcome, the list with its changes."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from app.ops.input_guard import Text

Timepoint = Literal["baseline", "follow-up", "exit"]
Mode = Literal["self", "assisted"]

_ANSWERS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
    "example": {"1": 4, "2": 3, "3": 4, "4": 3, "5": 4, "6": 3, "7": 4},
}


class OutcomeCreate(BaseModel):
    """One completed instrument, as DESIGN.md section 9 describes it."""

    model_config = ConfigDict(extra="forbid")

    instrument: Text = Field(
        description="ONS4 | SWEMWBS | WEMWBS | UCLA3 | ONS_LONELINESS", examples=["SWEMWBS"]
    )
    timepoint: Timepoint
    collected_at: AwareDatetime = Field(
        description="when the answers were given: not in the future, not before the referral"
    )
    mode: Mode = Field(description="self-completed, or completed with a link worker's help")
    # Checked item by item by the scorer, so that every fault names its item (answers.<item>).
    answers: Annotated[
        dict[str, Any],
        Field(
            description="item id -> answer; every item present and in range",
            json_schema_extra=_ANSWERS_SCHEMA,
        ),
    ]


class ScoreRead(BaseModel):
    measure: str = Field(description="total | metric | an ONS4 item | how_often")
    value: float | None = Field(description="the numeric score (null for a category)")
    band: str | None = Field(default=None, description="ONS4 threshold band")
    category: str | None = Field(default=None, description="the ONS loneliness answer")
    lonely: bool | None = Field(default=None, description="UCLA3 total >= 6; often-always")
    observation_id: uuid.UUID = Field(description="the id of this score as a FHIR Observation")


class OutcomeRead(BaseModel):
    id: uuid.UUID
    referral_id: uuid.UUID
    patient_id: uuid.UUID
    instrument: str
    timepoint: Timepoint
    collected_at: dt.datetime
    mode: Mode
    answers: dict[str, int | str]
    scores: list[ScoreRead]
    source: Literal["json", "questionnaire-response", "link"]
    questionnaire_response_id: uuid.UUID | None
    recorded_at: dt.datetime
    recorded_by: str


class MeasureChangeRead(BaseModel):
    measure: str
    baseline: float
    follow_up: float
    change: float = Field(description="follow_up - baseline, on the measure's own scale")
    direction: Literal["higher-is-better", "lower-is-better"]
    improved: bool
    deteriorated: bool
    reliable_change_threshold: float | None
    reliable_improvement: bool | None
    reliable_deterioration: bool | None
    baseline_band: str | None = None
    follow_up_band: str | None = None


class ChangeRead(BaseModel):
    instrument: str
    baseline_id: uuid.UUID = Field(description="the earliest baseline record")
    follow_up_id: uuid.UUID = Field(description="the latest follow-up or exit record")
    measures: list[MeasureChangeRead]
    lonely_transition: (
        Literal["became-lonely", "no-longer-lonely", "stayed-lonely", "stayed-not-lonely"] | None
    ) = None


class OutcomeList(BaseModel):
    referral_id: uuid.UUID
    outcomes: list[OutcomeRead] = Field(description="oldest collection first")
    changes: list[ChangeRead] = Field(
        description="per instrument with a baseline and a later follow-up or exit"
    )
