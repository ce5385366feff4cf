"""The admin's JSON view of deliveries (``/api/v1/notifications``)."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, Field


class DeliveryRead(BaseModel):
    id: uuid.UUID
    event_id: uuid.UUID = Field(description="the Bundle.id and X-Assetlink-Event-Id sent")
    task_id: uuid.UUID
    task_version: int
    subscription_id: uuid.UUID
    status: str = Field(description="pending | delivered | failed")
    attempts: int
    last_status: int | None = Field(description="the receiver's last HTTP status, if it answered")
    last_error: str | None
    created_at: dt.datetime
    last_attempt_at: dt.datetime | None
    next_attempt_at: dt.datetime = Field(description="pending: when it is due (or its lease ends)")
    delivered_at: dt.datetime | None


class DeliveryPage(BaseModel):
    total: int
    page: int
    per_page: int
    items: list[DeliveryRead]


class Requeued(BaseModel):
    subscription_id: uuid.UUID
    requeued: int = Field(description="failed deliveries now pending again, due now")
