"""Marking a match not suitable (issue 19): a link worker of the referral's service (or an admin)
says why an activity does not suit the person, with a reason code; the activity is then left
out of that referral's matches, and the reasons are counted per activity for its provider and
for commissioners (`counts`, published by the reports' disclosure rules).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.context import Context
from app.auth.policy import Reach
from app.db import utcnow
from app.errors import Conflict, Issue, NotFound, Unprocessable
from app.matching import repository
from app.matching.labels import UNSUITABLE_REASONS as REASONS
from app.matching.models import UnsuitableMark
from app.referrals import service as referrals_service


@dataclass(frozen=True)
class Marked:
    mark: UnsuitableMark
    activity_name: str


async def mark(
    session: AsyncSession,
    ctx: Context,
    referral_id: uuid.UUID,
    activity_id: str,
    reason: str,
    note: str | None,
) -> tuple[Marked, bool]:
    """Mark the activity not suitable for the referral, or update the mark's reason and note;
    returns it and whether it is new. Audited as a write."""
    if reason not in REASONS:  # the schema refuses it first; a direct caller too
        raise Unprocessable(
            f"Unknown reason {reason!r}; one of {', '.join(REASONS)}", [Issue("unknown", "reason")]
        )
    referral = await referrals_service.read_referral(session, ctx, referral_id, "read")
    name = await repository.activity_name(session, activity_id)
    if name is None:
        raise Unprocessable(
            f"No activity {activity_id!r} in the directory",
            [Issue("unknown activity", "activity_id")],
        )
    now, by = utcnow(), ctx.caller.principal.sub[:256]
    found = await repository.mark_of(session, referral.id, activity_id)
    created = found is None
    if found is None:
        found = UnsuitableMark(
            referral_id=referral.id,
            activity_id=activity_id,
            reason=reason,
            note=note,
            marked_by=by,
            created_at=now,
            updated_at=now,
        )
        session.add(found)
        try:
            async with session.begin_nested():
                await session.flush()
        except IntegrityError:  # marked at the same moment by another request
            raise Conflict(
                f"{name} was being marked for this referral at the same time: try again",
                [Issue("marked concurrently", "activity_id")],
            ) from None
    else:
        found.reason, found.note, found.marked_by, found.updated_at = reason, note, by, now
        await session.flush()
    audit.record(
        session,
        ctx.actor,
        audit.Access(
            "create" if created else "update", "UnsuitableMark", str(found.id), referral.patient_id
        ),
    )
    return Marked(found, name), created


async def unmark(
    session: AsyncSession, ctx: Context, referral_id: uuid.UUID, activity_id: str
) -> None:
    """Withdraw a mark: the activity comes back in the referral's matches. Audited."""
    referral = await referrals_service.read_referral(session, ctx, referral_id, "read")
    found = await repository.mark_of(session, referral.id, activity_id)
    if found is None:
        raise NotFound(f"{activity_id!r} is not marked not suitable for this referral")
    access = audit.Access("delete", "UnsuitableMark", str(found.id), referral.patient_id)
    await session.delete(found)
    await session.flush()
    audit.record(session, ctx.actor, access)


async def marks_of(session: AsyncSession, referral_id: uuid.UUID) -> list[Marked]:
    """The referral's marks, for a caller that has read the referral (and audited it)."""
    return [Marked(m, name) for m, name in await repository.marks_of(session, referral_id)]


async def counts(
    session: AsyncSession, ctx: Context, start: dt.datetime, end: dt.datetime
) -> dict[tuple[str, str], int]:
    """(activity id, reason) -> marks made in [start, end), true counts (the caller publishes
    them with the disclosure rules): a provider's own activities, every activity otherwise."""
    provider = ctx.org if ctx.reach is Reach.OWN_ACTIVITIES else None
    return await repository.mark_counts(session, provider, start, end)
