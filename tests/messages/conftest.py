"""Messages run on committed databases (the worker's transactions are its own), against the
strict GOV.UK Notify fake on loopback (tests/messages/notify_fake.py) through the real client."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.principal import Role
from app.config import Settings
from app.db import create_sessionmaker
from app.directory.vocabulary import WEEKDAYS
from app.messages import reminders
from app.messages.models import Message
from app.messages.notify import Notify
from app.messages.worker import MessageWorker
from tests.conftest import TokenFactory, make_settings
from tests.directory.conftest import activity_body
from tests.messages.notify_fake import NotifyFake, Template, running
from tests.referrals import factories

SMS_REMINDER = "6a1f4e8c-3f5e-4a53-9a53-7a1f6c0e2b01"
EMAIL_REMINDER = "6a1f4e8c-3f5e-4a53-9a53-7a1f6c0e2b02"
TEMPLATES = {
    SMS_REMINDER: Template(
        "sms", "Reminder: ((activity)) is on ((date)), ((time)), at ((venue)). Reply STOP to stop."
    ),
    EMAIL_REMINDER: Template(
        "email",
        "You have a place at ((activity)) on ((date)), ((time)), at ((venue)).",
        subject="Your activity tomorrow",
    ),
}
MOBILE = "07700 900461"  # Ofcom's drama range: never a real person
EMAIL = "grace.okafor@example.org"
# Noon in London today: "tomorrow" is a day of its own and the reminder is due (10am passed).
NOON = dt.datetime.combine(
    dt.datetime.now(reminders.LONDON).date(), dt.time(12), tzinfo=reminders.LONDON
).astimezone(dt.UTC)


@pytest.fixture
def fake() -> Iterator[NotifyFake]:
    with running(NotifyFake(dict(TEMPLATES))) as found:
        yield found


@pytest.fixture
def message_settings(database_url: str, fake: NotifyFake) -> Settings:
    return make_settings(
        database_url,
        notify_api_key=fake.api_key,
        notify_base_url=fake.url,
        notify_template_booking_reminder_sms=SMS_REMINDER,
        notify_template_booking_reminder_email=EMAIL_REMINDER,
        notify_backoff_s=0.01,
        notify_backoff_max_s=0.02,
        notify_timeout_s=0.3,
        notify_lease_s=1.0,
        message_receipt_poll_s=0.01,
    )


@pytest.fixture
def committed(committed_app: Any) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(committed_app.state.engine)


MakeWorker = Callable[..., MessageWorker]


@pytest.fixture
def make_worker(
    message_settings: Settings, committed: async_sessionmaker[AsyncSession], fake: NotifyFake
) -> MakeWorker:
    started = time.monotonic()

    def clock() -> dt.datetime:  # noon in London, running on from when the test began
        return NOON + dt.timedelta(seconds=time.monotonic() - started)

    def make(cls: type[MessageWorker] = MessageWorker, **overrides: Any) -> MessageWorker:
        settings = message_settings.model_copy(update=overrides)
        client = Notify(fake.api_key, fake.url, timeout_s=5.0)
        return cls(settings, committed, client, clock=clock)

    return make


def tomorrow_weekday() -> str:
    return WEEKDAYS[reminders.tomorrow(NOON).weekday()]


async def booked_place(
    client: httpx.AsyncClient,
    auth: TokenFactory,
    *,
    telecom: list[dict[str, Any]] | None = None,
    opt_out: bool = False,
    byday: str | None = None,
) -> dict[str, Any]:
    """A referral of a person with a mobile number (or ``telecom``), accepted, with a place
    booked on an activity that runs tomorrow (or on ``byday``) 10:30 to midday."""
    admin = auth(Role.ADMIN, "X26")
    activity = await client.post(
        "/api/v1/directory/services",
        json=activity_body(
            name="Tuesday Singers",
            schedules=[
                {
                    "freq": "WEEKLY",
                    "byday": byday or tomorrow_weekday(),
                    "opens_at": "10:30",
                    "closes_at": "12:00",
                }
            ],
        ),
        headers=admin,
    )
    assert activity.status_code == 201, activity.text
    person = factories.patient(
        telecom=telecom if telecom is not None else [{"system": "phone", "value": MOBILE}]
    )
    sr = factories.service_request(person=person)
    if opt_out:
        sr["extension"][0]["extension"].append({"url": "contactByMessage", "valueBoolean": False})
    created = await client.post(
        "/fhir/ServiceRequest", json=sr, headers=auth(Role.REFERRER, "A81001")
    )
    assert created.status_code == 201, created.text
    lw = auth(Role.LINK_WORKER, "Y02718")
    referral_id = created.json()["id"]
    task = (await client.get(f"/fhir/Task?focus={referral_id}", headers=lw)).json()["entry"][0][
        "resource"
    ]
    moved = await client.put(
        f"/fhir/Task/{task['id']}", json={**task, "status": "accepted"}, headers=lw
    )
    assert moved.status_code == 200, moved.text
    booking = await client.post(
        f"/api/v1/referrals/{referral_id}/bookings",
        json={"activity_id": activity.json()["id"]},
        headers=lw,
    )
    assert booking.status_code == 201, booking.text
    return dict(booking.json())


async def messages(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Message]:
    async with sessionmaker() as session:
        return list(await session.scalars(select(Message).order_by(Message.created_at)))


async def message(sessionmaker: async_sessionmaker[AsyncSession], booking_id: str) -> Message:
    found = [m for m in await messages(sessionmaker) if m.booking_id == uuid.UUID(booking_id)]
    assert len(found) == 1, found
    return found[0]
