"""Writing and reading the audit trail.

``record`` adds the audit row to the request's own transaction (a Core INSERT just before it
commits, ``db.keep``), so an access and its record are stored together or not at all. On SQLite
a reading request's rows are written just after its read commits instead, in a short writer
transaction, before the answer is sent (else a 503): a WAL reader cannot become a writer once
another connection has committed (``db.keep``).
``record_denied`` is written in a transaction of its own once the request's transaction has been
rolled back (access was refused).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request

from app.audit import repository
from app.audit.models import AuditEvent
from app.audit.repository import AuditQuery
from app.auth.principal import Principal
from app.db import keep, keep_after_rollback, transaction, utcnow
from app.errors import NotFound


class Outcome(StrEnum):
    """FHIR AuditEvent.outcome."""

    SUCCESS = "0"
    MINOR_FAILURE = "4"  # the request was refused (403, 404, 409, 412, 422)
    SERIOUS_FAILURE = "8"


SELF = "self"
"""The sub, role and org recorded for a person acting on a public page (a self-referral): no
token, so no name for them, and the trail holds ids only."""


@dataclass(frozen=True)
class Actor:
    principal: Principal | None  # None: the person themselves, on a public page
    request_id: str | None

    @classmethod
    def of(cls, request: Request, principal: Principal | None) -> Actor:
        return cls(principal, getattr(request.state, "request_id", None))

    def who(self) -> dict[str, str]:
        """The actor columns of an audit row."""
        if self.principal is None:
            return {"actor_sub": SELF, "actor_role": SELF, "actor_org": SELF}
        return {
            "actor_sub": self.principal.sub[:256],
            "actor_role": self.principal.role.value,
            "actor_org": self.principal.org,
        }


@dataclass(frozen=True)
class Access:
    operation: str  # read, vread, history, search, create, update, ...
    entity_type: str
    entity_id: str | None = None
    patient_id: uuid.UUID | None = None

    @property
    def action(self) -> str:
        """FHIR AuditEvent.action (C R U D E) for the operation."""
        return {"create": "C", "update": "U", "patch": "U", "delete": "D", "purge": "D"}.get(
            self.operation, "E" if self.operation.startswith("$") else "R"
        )


def _row(actor: Actor, access: Access, outcome: Outcome, text: str | None) -> dict[str, Any]:
    """An audit row's columns but its id and time (the columns' defaults)."""
    return {
        "request_id": actor.request_id,
        **actor.who(),
        "action": access.action,
        "operation": access.operation,
        "entity_type": access.entity_type,
        "entity_id": access.entity_id,
        "patient_id": access.patient_id,
        "outcome": outcome.value,
        "outcome_text": text[:256] if text else None,
    }


def record(session: AsyncSession, actor: Actor, access: Access) -> None:
    row = _row(actor, access, Outcome.SUCCESS, None)
    if not keep(session, table(), row):
        session.add(AuditEvent(**row))


def success_rows(
    actor: Actor, accesses: Sequence[Access], *, recorded_at: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """The rows ``record`` would store for ``accesses``, for a batch written by
    ``table()`` (with the caller's own rows)."""
    at = recorded_at or utcnow()
    return [
        {"id": uuid.uuid4(), "recorded_at": at, **_row(actor, access, Outcome.SUCCESS, None)}
        for access in accesses
    ]


def table() -> Table:
    """The table ``success_rows`` rows go to (for a caller storing them with its own rows)."""
    return cast(Table, AuditEvent.__table__)


async def record_denied(
    sessionmaker: async_sessionmaker[AsyncSession], actor: Actor, access: Access, reason: str
) -> None:
    """A refused access: stored after the request's transaction is rolled back."""
    event = AuditEvent(**_row(actor, access, Outcome.MINOR_FAILURE, reason))
    if keep_after_rollback(event):
        return
    async with transaction(sessionmaker, write=True) as session:
        session.add(event)


async def get(session: AsyncSession, event_id: uuid.UUID) -> AuditEvent:
    event = await repository.get(session, event_id)
    if event is None:
        raise NotFound(f"No AuditEvent with id {event_id}")
    return event


async def search(
    session: AsyncSession, query: AuditQuery, *, offset: int, limit: int
) -> tuple[int, list[AuditEvent]]:
    return await repository.search(session, query, offset=offset, limit=limit)
