"""Retention: ``assetlink purge`` removes the personal data of referrals closed long ago.

A referral is closed when its Task is in a final state (completed, cancelled, rejected,
failed); it closed when the Task last changed. For each referral closed before the cut-off,
in one transaction (all or nothing):

- removed: the referral (its identifiers, codings, needs, free text), its Task, Consent,
  bookings, outcome records (the questionnaire answers and QuestionnaireResponses) and scores,
  every stored version of each, and the person (NHS number, name, birth date, address) when no
  other referral of theirs is left;
- kept: the report summary rows (``report_*``: dimensions and flags, no identifier beyond
  the referral id), which ``report_purged`` then shields from recomputation, so every report
  counts the referral as before; the audit trail (ids, roles, organisations, times: no personal
  data), whose ids of removed records now lead nowhere;
- also removed: the Task's notification events and their deliveries (ids only, but nothing
  may be sent of a Task that is gone);
- recorded: one audit event per referral (operation ``purge``, action D, by ``assetlink
  purge``).

A second run over the same cut-off finds nothing left to remove (idempotent). The summary rows
are first brought up to date, so what is kept counts the referral's last state.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, exists, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit import service as audit
from app.auth.principal import Principal, Role
from app.bookings.models import Booking
from app.db import transaction, utcnow
from app.messages.models import Message
from app.notifications import outbox
from app.outcomes.models import OutcomeRecord, OutcomeScore
from app.questionnaires.models import QuestionnaireLink, QuestionnaireLinkToken
from app.referrals.lifecycle import TERMINAL
from app.referrals.models import (
    Consent,
    Patient,
    Referral,
    ReferralCoding,
    ReferralIdentifier,
    ReferralNeed,
    ResourceVersion,
    Task,
)
from app.reporting import summary
from app.reporting.models import ReportDirty, ReportPurged

PURGER = Principal(sub="assetlink purge", role=Role.ADMIN, org="SYSTEM")
CHUNK = 500  # ids per IN (...) list: well under SQLite's and asyncpg's parameter limits


@dataclass(frozen=True)
class Purged:
    referrals: int
    patients: int


async def purge(
    sessionmaker: async_sessionmaker[AsyncSession],
    before: dt.datetime,
    *,
    write_lock: asyncio.Lock | None = None,
) -> Purged:
    """Remove the personal data of every referral closed before ``before`` (see above)."""
    await summary.refresh(sessionmaker, write_lock=write_lock)
    async with transaction(sessionmaker, write=True, lock=write_lock) as session:
        closed = (
            await session.execute(
                select(Task.referral_id, Task.patient_id, Task.updated_at).where(
                    Task.status.in_(TERMINAL), Task.updated_at < before
                )
            )
        ).all()
        patients: set[uuid.UUID] = set()
        for start in range(0, len(closed), CHUNK):
            rows = closed[start : start + CHUNK]
            patients |= await _remove(session, [(r[0], r[1], r[2]) for r in rows])
        return Purged(len(closed), len(patients))


async def _remove(
    session: AsyncSession, rows: Sequence[tuple[uuid.UUID, uuid.UUID, dt.datetime]]
) -> set[uuid.UUID]:
    referrals = [r[0] for r in rows]
    people = {r[1] for r in rows}
    versioned = await _versioned_ids(session, referrals)
    await session.execute(delete(OutcomeScore).where(OutcomeScore.referral_id.in_(referrals)))
    await session.execute(delete(OutcomeRecord).where(OutcomeRecord.referral_id.in_(referrals)))
    await session.execute(delete(Message).where(Message.referral_id.in_(referrals)))
    links = select(QuestionnaireLink.id).where(QuestionnaireLink.referral_id.in_(referrals))
    await session.execute(
        delete(QuestionnaireLinkToken).where(QuestionnaireLinkToken.link_id.in_(links))
    )
    await session.execute(
        delete(QuestionnaireLink).where(QuestionnaireLink.referral_id.in_(referrals))
    )
    await session.execute(delete(Booking).where(Booking.referral_id.in_(referrals)))
    await session.execute(delete(Consent).where(Consent.referral_id.in_(referrals)))
    tasks = (await session.scalars(select(Task.id).where(Task.referral_id.in_(referrals)))).all()
    await outbox.forget(session, tasks)  # nothing may be sent of a Task that is gone
    await session.execute(delete(Task).where(Task.referral_id.in_(referrals)))
    for part in (ReferralIdentifier, ReferralCoding, ReferralNeed):
        await session.execute(delete(part).where(part.referral_id.in_(referrals)))
    await session.execute(delete(Referral).where(Referral.id.in_(referrals)))
    # The person goes with their last referral.
    alone = set(
        (
            await session.scalars(
                select(Patient.id).where(
                    Patient.id.in_(people), ~exists().where(Referral.patient_id == Patient.id)
                )
            )
        ).all()
    )
    await session.execute(delete(Patient).where(Patient.id.in_(alone)))
    await session.execute(
        delete(ResourceVersion).where(ResourceVersion.resource_id.in_([*versioned, *alone]))
    )
    now = utcnow()
    await session.execute(
        insert(ReportPurged),
        [{"referral_id": r, "closed_at": closed_at, "purged_at": now} for r, _, closed_at in rows],
    )
    # The deletes queued the referrals for a refresh: their summary rows are what is kept.
    await session.execute(delete(ReportDirty).where(ReportDirty.referral_id.in_(referrals)))
    actor = audit.Actor(PURGER, None)
    await session.execute(
        insert(audit.table()),
        audit.success_rows(
            actor,
            [audit.Access("purge", "ServiceRequest", str(r), p) for r, p, _ in rows],
            recorded_at=now,
        ),
    )
    return alone


async def _versioned_ids(session: AsyncSession, referrals: list[uuid.UUID]) -> list[uuid.UUID]:
    """The ids whose stored versions go with the referrals: theirs, their Tasks', Consents'."""
    ids: list[Any] = list(referrals)
    for model in (Task, Consent):
        ids += (
            await session.scalars(select(model.id).where(model.referral_id.in_(referrals)))
        ).all()
    return ids
