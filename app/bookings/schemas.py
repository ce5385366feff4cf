from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.ops.input_guard import Text


class BookingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    activity_id: Text = Field(min_length=1, max_length=64, description="directory activity id")


class BookingUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["attended", "did-not-attend", "cancelled"]


class PersonRead(BaseModel):
    display_name: str = Field(description="given name and family initial; never an NHS number")
    age: int


class BookingRead(BaseModel):
    id: uuid.UUID
    referral_id: uuid.UUID
    activity_id: str
    activity_name: str
    status: str
    cancelled_reason: str | None = Field(
        description="why a cancelled booking was cancelled: booking-cancelled (PATCH), "
        "referral-revoked, task-cancelled, task-rejected, task-completed or task-failed (the "
        "referral ended and its open bookings with it); null otherwise"
    )
    person: PersonRead | None
    booked_at: dt.datetime
    updated_at: dt.datetime


class BookingPage(BaseModel):
    total: int
    page: int
    per_page: int
    items: list[BookingRead]
