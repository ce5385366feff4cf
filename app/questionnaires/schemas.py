"""The JSON API's bodies: a questionnaire link to send, and the link as sent (never its token)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.ops.input_guard import Text


class LinkCreate(BaseModel):
    """A questionnaire link to send to the person of a referral."""

    model_config = ConfigDict(extra="forbid")

    instrument: Text = Field(
        description="ONS4 | SWEMWBS | WEMWBS | UCLA3 | ONS_LONELINESS", examples=["SWEMWBS"]
    )
    channel: Literal["sms", "email"] | None = Field(
        None, description="text or email; default: a text when the person has a mobile number"
    )
    timepoint: Literal["baseline", "follow-up", "exit"] | None = Field(
        None,
        description="default: baseline when the referral has no record of the instrument yet, "
        "else follow-up (decided when the person answers)",
    )


class LinkRead(BaseModel):
    id: uuid.UUID
    referral_id: uuid.UUID
    instrument: str
    timepoint: str | None
    channel: str | None = Field(description="as asked for; null: the person's usual channel")
    created_at: dt.datetime
    expires_at: dt.datetime
    status: Literal["queued"] = Field(
        description="the message is in the outbox; the worker sends it through GOV.UK Notify"
    )
