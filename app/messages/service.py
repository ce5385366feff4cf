"""Messages to the person (DESIGN.md 13): what is queued, for whom, on which channel.

A message is queued in the transaction of its cause, once per idempotency key, on the channel
the person can be reached on (a text if they have a mobile number and the kind has a text
template, else an email), only when they have one and have not opted out. The worker
(``worker.py``) sends it and polls its receipt.

Kinds: the booking reminder (``make_booking_reminders``, run by the worker), and for the
questionnaire links to come, ``QUESTIONNAIRE_LINK`` (queued with ``queue_message`` when a link
is sent) and ``QUESTIONNAIRE_REMINDER`` (7 days after an unused link: a job beside
``make_booking_reminders`` in the worker's ``JOBS``, keyed ``questionnaire-reminder:<link id>``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.directory import schedules
from app.directory import service as directory_service
from app.directory.schemas import ActivityCard
from app.messages import contact, reminders, repository
from app.messages.models import Message
from app.referrals import service as referrals_service

BOOKING_REMINDER = reminders.BOOKING_REMINDER
QUESTIONNAIRE_LINK = "questionnaire-link"
QUESTIONNAIRE_REMINDER = "questionnaire-reminder"
KINDS = (BOOKING_REMINDER, QUESTIONNAIRE_LINK, QUESTIONNAIRE_REMINDER)
CARDS_AT_ONCE = 200  # activities read per directory call


def template(settings: Settings, kind: str, channel: str) -> str | None:
    """The Notify template of a kind on a channel (settings); None: not sent on it."""
    name = f"notify_template_{kind.replace('-', '_')}_{channel}"
    value = getattr(settings, name)
    return value if isinstance(value, str) and value else None


def _usable(settings: Settings, kind: str) -> dict[str, bool]:
    return {channel: template(settings, kind, channel) is not None for channel in contact.CHANNELS}


async def _queue(
    session: AsyncSession,
    settings: Settings,
    *,
    kind: str,
    key: str,
    referral_id: uuid.UUID,
    booking_id: uuid.UUID | None,
    reachable: Mapping[str, str],
    personalisation: dict[str, str],
    due_at: dt.datetime,
    now: dt.datetime,
    only: str | None = None,
) -> bool:
    usable = {c: ok and only in (None, c) for c, ok in _usable(settings, kind).items()}
    chosen = contact.choose(reachable, usable)
    if chosen is None:
        return False
    channel_template = template(settings, kind, chosen.channel)
    assert channel_template is not None
    return await repository.add_once(
        session,
        Message(
            kind=kind,
            idempotency_key=key,
            referral_id=referral_id,
            booking_id=booking_id,
            channel=chosen.channel,
            template_id=channel_template,
            personalisation=personalisation,
            status=repository.PENDING,
            attempts=0,
            next_attempt_at=due_at,
            created_at=now,
            updated_at=now,
        ),
    )


async def queue_message(
    session: AsyncSession,
    settings: Settings,
    *,
    kind: str,
    key: str,
    referral_id: uuid.UUID,
    personalisation: dict[str, str],
    now: dt.datetime,
    due_at: dt.datetime | None = None,
    booking_id: uuid.UUID | None = None,
    channel: str | None = None,
) -> bool:
    """Queue one message to the person of a referral, in the caller's transaction, unless one
    with ``key`` exists or the person cannot be reached (no mobile or email for a kind with a
    template, or opted out; only on ``channel`` when given). True when queued."""
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    referral = await referrals_service.peek_referral(session, referral_id)
    patient = await referrals_service.patient_of(session, referral)
    return await _queue(
        session,
        settings,
        kind=kind,
        key=key,
        referral_id=referral_id,
        booking_id=booking_id,
        reachable=contact.reachable(patient.resource, referral.preferences, now.date()),
        personalisation=personalisation,
        due_at=due_at or now,
        now=now,
        only=channel,
    )


async def make_booking_reminders(
    session: AsyncSession, settings: Settings, now: dt.datetime
) -> int:
    """Queue the reminder of every booked place whose activity has a session tomorrow (London
    time), once per booking and session day. The number queued."""
    if not any(_usable(settings, BOOKING_REMINDER).values()):
        return 0
    day = reminders.tomorrow(now)
    places = await repository.booked(session)
    done = await repository.existing_keys(
        session, [reminders.key(p.booking_id, day) for p in places]
    )
    places = [p for p in places if reminders.key(p.booking_id, day) not in done]
    activity_ids = sorted({p.activity_id for p in places})
    cards: dict[str, ActivityCard] = {}
    for start in range(0, len(activity_ids), CARDS_AT_ONCE):
        cards |= await directory_service.get_cards(
            session, activity_ids[start : start + CARDS_AT_ONCE]
        )
    running = {aid: _session_on(card, day) for aid, card in cards.items()}
    places = [p for p in places if running.get(p.activity_id) is not None]
    people = await repository.contacts(session, sorted({p.referral_id for p in places}))
    queued = 0
    for place in places:
        card, session_tomorrow = cards[place.activity_id], running[place.activity_id]
        assert session_tomorrow is not None
        patient, preferences = people[place.referral_id]
        first = card.locations[0] if card.locations else None
        where = reminders.venue(
            [first.name, first.address_1, first.city, first.postcode] if first else [],
            card.attending_type,
        )
        queued += await _queue(
            session,
            settings,
            kind=BOOKING_REMINDER,
            key=reminders.key(place.booking_id, day),
            referral_id=place.referral_id,
            booking_id=place.booking_id,
            reachable=contact.reachable(patient, preferences, now.date()),
            personalisation=reminders.personalisation(card.name, session_tomorrow, where),
            due_at=reminders.due_at(day, now),
            now=now,
        )
    return queued


def _session_on(card: ActivityCard, day: dt.date) -> schedules.Session | None:
    """The activity's first session on ``day``, if it has one."""
    found = schedules.next_sessions(card.schedules, day, count=1)
    return found[0] if found and found[0].date == day else None
