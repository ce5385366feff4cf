"""Questionnaires from a link (DESIGN.md 13): a link worker, or the follow-up schedule, sends
the person a one-time link to an instrument; the person answers it on ``/q/{token}``
(app/person/questionnaire_router.py) and it is scored, stored and moves the Task exactly as an
outcome a link worker records (``outcomes_service.record_from_link``).

A link is open until it is used or ``ASSETLINK_QUESTIONNAIRE_LINK_DAYS`` have passed. Its
message (kind ``questionnaire-link``) and its one reminder (``questionnaire-reminder``, after
``ASSETLINK_QUESTIONNAIRE_REMINDER_DAYS``) go through the messages outbox; the link's token is
made only when the worker hands the message to Notify (``link_fields``), so no token is ever
stored, not even in the outbox: only its SHA-256 (tokens.py).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.context import Context
from app.auth.principal import Principal, Role
from app.config import Settings
from app.errors import Conflict, Issue, Unprocessable
from app.messages import service as messages_service
from app.outcomes import instruments
from app.outcomes import service as outcomes_service
from app.questionnaires import repository, tokens
from app.questionnaires.models import QuestionnaireLink
from app.referrals import lifecycle
from app.referrals import service as referrals_service

SCHEDULE = Principal(sub="assetlink follow-up schedule", role=Role.ADMIN, org="SYSTEM")
PATH = "/q/"  # the page's path; the link is the public base URL, this and the token
OPEN, USED, EXPIRED = "open", "used", "expired"
# What the message calls each instrument (the template's ((questionnaire)) field)
PLAIN_NAMES = {
    "ONS4": "4 questions about how you feel",
    "SWEMWBS": "7 questions about how you feel",
    "WEMWBS": "14 questions about how you feel",
    "UCLA3": "3 questions about feeling lonely",
    "ONS_LONELINESS": "1 question about feeling lonely",
}


@dataclass(frozen=True)
class Found:
    """A link opened by its token: its state, and the only thing the page says of the person."""

    link: QuestionnaireLink
    state: str  # open | used | expired
    first_name: str | None
    patient_id: uuid.UUID | None = None  # of an open link: whose name the page shows


def link_key(link_id: uuid.UUID) -> str:
    return f"{messages_service.QUESTIONNAIRE_LINK}:{link_id}"


def reminder_key(link_id: uuid.UUID) -> str:
    return f"{messages_service.QUESTIONNAIRE_REMINDER}:{link_id}"


def _first_name(patient: Mapping[str, Any]) -> str | None:
    for name in patient.get("name") or []:
        given = name.get("given") if isinstance(name, dict) else None
        if given and isinstance(given[0], str) and name.get("use") != "old":
            return given[0].split()[0][:40]
    return None


async def _create(
    session: AsyncSession,
    settings: Settings,
    *,
    referral_id: uuid.UUID,
    instrument: str,
    timepoint: str | None,
    channel: str | None,
    sent_by: str,
    schedule_key: str | None,
    now: dt.datetime,
) -> tuple[QuestionnaireLink, bool]:
    """A new link and its message queued; False when the person cannot be reached."""
    link = QuestionnaireLink(
        id=uuid.uuid4(),
        referral_id=referral_id,
        instrument=instrument,
        timepoint=timepoint,
        channel=channel,
        sent_by=sent_by[:256],
        schedule_key=schedule_key,
        created_at=now,
        expires_at=now + dt.timedelta(days=settings.questionnaire_link_days),
    )
    await repository.add_link(session, link)
    queued = await messages_service.queue_message(
        session,
        settings,
        kind=messages_service.QUESTIONNAIRE_LINK,
        key=link_key(link.id),
        referral_id=referral_id,
        personalisation=await _fields(session, link),
        now=now,
        channel=channel,
    )
    return link, queued


async def _fields(session: AsyncSession, link: QuestionnaireLink) -> dict[str, str]:
    """The template's fields but the link: ((first_name)), ((questionnaire)), ((expires))."""
    referral = await referrals_service.peek_referral(session, link.referral_id)
    patient = await referrals_service.patient_of(session, referral)
    day = link.expires_at.date()
    return {
        "first_name": _first_name(patient.resource) or "there",
        "questionnaire": PLAIN_NAMES[link.instrument],
        "expires": f"{day:%A} {day.day} {day:%B}",
    }


def _check_ready(settings: Settings) -> None:
    if not settings.public_base_url:
        raise Conflict(
            "Questionnaire links need ASSETLINK_PUBLIC_BASE_URL (the address people open them at)"
        )


async def send_link(
    session: AsyncSession,
    ctx: Context,
    settings: Settings,
    referral_id: uuid.UUID,
    *,
    instrument: str,
    channel: str | None,
    timepoint: str | None,
    now: dt.datetime,
) -> QuestionnaireLink:
    """A link worker sends the person of a referral in their reach a link to ``instrument``."""
    instruments.instrument(instrument)  # 422 naming ``instrument``
    _check_ready(settings)
    referral = await referrals_service.read_referral(session, ctx, referral_id)
    task = await referrals_service.task_of(session, referral.id)
    if task.status in outcomes_service.NOT_TAKEN_ON:
        taken_on = set(lifecycle.TASK_STATUSES) - set(outcomes_service.NOT_TAKEN_ON)
        raise lifecycle.status_conflict("send a questionnaire", task.status, taken_on)
    link, queued = await _create(
        session,
        settings,
        referral_id=referral.id,
        instrument=instrument,
        timepoint=timepoint,
        channel=channel,
        sent_by=ctx.caller.principal.sub,
        schedule_key=None,
        now=now,
    )
    if not queued:
        how = f"by {channel}" if channel else "by text or email"
        raise Unprocessable(
            f"The person cannot be sent a link {how}: no such contact in their record, they "
            "opted out of messages, or no Notify template is set for it",
            [Issue("the person cannot be reached this way", "channel")],
        )
    audit.record(
        session,
        ctx.actor,
        audit.Access("create", "QuestionnaireLink", str(link.id), referral.patient_id),
    )
    return link


async def make_follow_up_links(session: AsyncSession, settings: Settings, now: dt.datetime) -> int:
    """The follow-up schedule (a worker job): at each of ``questionnaire_follow_up_weeks``
    after the first contact, one link per instrument the referral has a baseline of, once
    (``schedule_key``); a week passed longer ago than a link lasts is not sent late."""
    if not settings.public_base_url or not settings.questionnaire_follow_up_weeks:
        return 0
    actor = audit.Actor(SCHEDULE, None)
    made = 0
    lasts = dt.timedelta(days=settings.questionnaire_link_days)
    for weeks in sorted(set(settings.questionnaire_follow_up_weeks)):
        due = now - dt.timedelta(weeks=weeks)
        contacts = await repository.first_contacts(session, due - lasts, due)
        baselines = await repository.baseline_instruments(session, [r for r, _ in contacts])
        wanted = [
            (referral_id, instrument, f"follow-up:{referral_id}:{weeks}w:{instrument}")
            for referral_id, _ in contacts
            for instrument in baselines.get(referral_id, [])
        ]
        done = await repository.existing_schedule_keys(session, [k for _, _, k in wanted])
        for referral_id, instrument, key in wanted:
            if key in done:
                continue
            link, queued = await _create(
                session,
                settings,
                referral_id=referral_id,
                instrument=instrument,
                timepoint="follow-up",
                channel=None,
                sent_by=SCHEDULE.sub,
                schedule_key=key,
                now=now,
            )
            referral = await referrals_service.peek_referral(session, referral_id)
            access = audit.Access("create", "QuestionnaireLink", str(link.id), referral.patient_id)
            audit.record(session, actor, access)
            made += queued
    return made


async def make_link_reminders(session: AsyncSession, settings: Settings, now: dt.datetime) -> int:
    """The reminder (a worker job): one message for each link still open
    ``questionnaire_reminder_days`` after it was sent, once (``reminded_at`` and the message's
    idempotency key); none for a used or expired link."""
    sent_before = now - dt.timedelta(days=settings.questionnaire_reminder_days)
    queued = 0
    for link in await repository.due_reminders(session, sent_before, now):
        link.reminded_at = now
        queued += await messages_service.queue_message(
            session,
            settings,
            kind=messages_service.QUESTIONNAIRE_REMINDER,
            key=reminder_key(link.id),
            referral_id=link.referral_id,
            personalisation=await _fields(session, link),
            now=now,
            channel=link.channel,
        )
    await session.flush()
    return queued


async def link_fields(
    session: AsyncSession, settings: Settings, key: str, now: dt.datetime
) -> dict[str, str] | None:
    """The ((link)) of a questionnaire message, made as the worker hands it to Notify: a new
    token of the link the message's ``key`` names, its hash stored. None: the link was used or
    has expired (the message is not sent)."""
    link_id = uuid.UUID(key.rpartition(":")[2])
    link = await repository.get_link(session, link_id)
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    base = settings.public_base_url
    if not base:
        return None
    token = tokens.new_token()
    await repository.add_token(session, link.id, tokens.token_hash(token), now)
    return {"link": f"{base.rstrip('/')}{PATH}{token}"}


async def find(session: AsyncSession, token: str, now: dt.datetime) -> Found | None:
    """The link a token opens (looked up by its hash), or None for an unknown token."""
    if not tokens.well_formed(token):
        return None
    link = await repository.link_by_token_hash(session, tokens.token_hash(token))
    if link is None:
        return None
    if link.used_at is not None:
        return Found(link, USED, None)
    if link.expires_at <= now:
        return Found(link, EXPIRED, None)
    referral = await referrals_service.peek_referral(session, link.referral_id)
    patient = await referrals_service.patient_of(session, referral)
    return Found(link, OPEN, _first_name(patient.resource), patient.id)


def audit_view(session: AsyncSession, ctx: Context, found: Found) -> None:
    """The page of an open link was shown (with the person's first name): audited."""
    access = audit.Access("read", "QuestionnaireLink", str(found.link.id), found.patient_id)
    audit.record(session, ctx.actor, access)


async def answer(
    session: AsyncSession, ctx: Context, found: Found, answers: object, now: dt.datetime
) -> str:
    """Score and store the person's answers exactly as a link worker's (the same use case), and
    use the link up; ``used`` when another answer got there first (nothing stored). Raises the
    outcome's 422 (naming ``answers.<item>``) with nothing used."""
    link = found.link
    instruments.validate_answers(link.instrument, answers)
    if not await repository.use(session, link.id, now):
        return USED
    timepoint = link.timepoint or await outcomes_service.next_timepoint(
        session, link.referral_id, link.instrument
    )
    draft = outcomes_service.OutcomeDraft(
        instrument=link.instrument,
        timepoint=timepoint,
        collected_at=now,
        mode="self",
        answers=answers,
    )
    stored = await outcomes_service.record_from_link(session, ctx, link.referral_id, draft)
    link.record_id = stored.record.id
    await session.flush()
    return OPEN
