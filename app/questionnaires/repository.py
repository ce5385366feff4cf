"""Every query of questionnaire links: links and their token hashes, the follow-up schedule's
and the reminders' due links, and single use (a conditional update)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.outcomes.models import OutcomeRecord
from app.questionnaires.models import QuestionnaireLink, QuestionnaireLinkToken
from app.referrals.models import Task

NOT_FOLLOWED_UP = ("requested", "rejected", "cancelled", "failed", "entered-in-error")


async def add_link(session: AsyncSession, link: QuestionnaireLink) -> None:
    session.add(link)
    await session.flush()


async def add_token(
    session: AsyncSession, link_id: uuid.UUID, token_hash: str, now: dt.datetime
) -> None:
    session.add(QuestionnaireLinkToken(token_hash=token_hash, link_id=link_id, created_at=now))
    await session.flush()


async def get_link(session: AsyncSession, link_id: uuid.UUID) -> QuestionnaireLink | None:
    return await session.get(QuestionnaireLink, link_id)


async def link_by_token_hash(session: AsyncSession, token_hash: str) -> QuestionnaireLink | None:
    return await session.scalar(
        select(QuestionnaireLink)
        .join(QuestionnaireLinkToken, QuestionnaireLinkToken.link_id == QuestionnaireLink.id)
        .where(QuestionnaireLinkToken.token_hash == token_hash)
    )


async def use(session: AsyncSession, link_id: uuid.UUID, now: dt.datetime) -> bool:
    """Mark a link used, if it is still open: True for the one caller that did (a second,
    concurrent one waits for the first's row lock on PostgreSQL, then finds it used)."""
    result = await session.execute(
        update(QuestionnaireLink)
        .where(
            QuestionnaireLink.id == link_id,
            QuestionnaireLink.used_at.is_(None),
            QuestionnaireLink.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def existing_schedule_keys(session: AsyncSession, keys: Sequence[str]) -> set[str]:
    if not keys:
        return set()
    found = await session.scalars(
        select(QuestionnaireLink.schedule_key).where(QuestionnaireLink.schedule_key.in_(keys))
    )
    return {k for k in found if k is not None}


async def first_contacts(
    session: AsyncSession, since: dt.datetime, until: dt.datetime
) -> list[tuple[uuid.UUID, dt.datetime]]:
    """Referrals still being followed up whose first contact was in ``[since, until)``."""
    rows = await session.execute(
        select(Task.referral_id, Task.first_contact_at).where(
            Task.first_contact_at >= since,
            Task.first_contact_at < until,
            Task.status.not_in(NOT_FOLLOWED_UP),
        )
    )
    return [(r[0], r[1]) for r in rows if r[1] is not None]


async def baseline_instruments(
    session: AsyncSession, referral_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    """The instruments each referral has a baseline of (what a follow-up can be paired with)."""
    out: dict[uuid.UUID, list[str]] = {}
    if not referral_ids:
        return out
    rows = await session.execute(
        select(OutcomeRecord.referral_id, OutcomeRecord.instrument)
        .where(OutcomeRecord.referral_id.in_(referral_ids), OutcomeRecord.timepoint == "baseline")
        .distinct()
        .order_by(OutcomeRecord.referral_id, OutcomeRecord.instrument)
    )
    for referral_id, instrument in rows:
        out.setdefault(referral_id, []).append(instrument)
    return out


async def due_reminders(
    session: AsyncSession, sent_before: dt.datetime, now: dt.datetime
) -> list[QuestionnaireLink]:
    """Open links sent before ``sent_before`` that have had no reminder."""
    return list(
        await session.scalars(
            select(QuestionnaireLink)
            .where(
                QuestionnaireLink.used_at.is_(None),
                QuestionnaireLink.reminded_at.is_(None),
                QuestionnaireLink.created_at <= sent_before,
                QuestionnaireLink.expires_at > now,
            )
            .order_by(QuestionnaireLink.created_at)
            .with_for_update(skip_locked=True)
        )
    )
