"""The transactional outbox: the event row each Task change writes beside the change.

``event_row`` plans the row from the Task as rendered after the change (its id, version and
status) and the referral's requesting organisation; the intake plan inserts it with the rest of
a new referral's rows, and ``record`` adds it to the session of any later change, so the event
commits or rolls back with the change it describes.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.notifications.models import Delivery, OutboxEvent


def event_row(task: dict[str, Any], requester_ods: str, occurred_at: dt.datetime) -> dict[str, Any]:
    """The ``outbox_event`` row for the Task version ``task`` (a rendered FHIR Task)."""
    return {
        "id": uuid.uuid4(),
        "task_id": uuid.UUID(task["id"]),
        "task_version": int(task["meta"]["versionId"]),
        "task_status": task["status"],
        "requester_ods": requester_ods,
        "occurred_at": occurred_at,
        "dispatched_at": None,
    }


def record(
    session: AsyncSession, task: dict[str, Any], requester_ods: str, occurred_at: dt.datetime
) -> None:
    """Add the event of a Task change to the transaction that makes the change."""
    session.add(OutboxEvent(**event_row(task, requester_ods, occurred_at)))


def table() -> Table:
    """The table ``event_row`` rows go to (for a caller storing them with its own rows)."""
    return cast(Table, OutboxEvent.__table__)


async def forget(session: AsyncSession, task_ids: Sequence[uuid.UUID]) -> None:
    """Delete the events (and their deliveries) of Tasks being deleted with their versions."""
    for start in range(0, len(task_ids), 500):
        chunk = list(task_ids[start : start + 500])
        events = select(OutboxEvent.id).where(OutboxEvent.task_id.in_(chunk))
        await session.execute(delete(Delivery).where(Delivery.event_id.in_(events)))
        await session.execute(delete(OutboxEvent).where(OutboxEvent.task_id.in_(chunk)))
