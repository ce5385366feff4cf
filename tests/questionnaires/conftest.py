"""Questionnaire links run on committed databases (the worker's transactions are its own),
sending through the strict GOV.UK Notify fake (tests/messages/notify_fake.py) with the real
client; the link is read from what the fake was sent, as the person would read their text."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.principal import Role
from app.config import Settings
from app.db import create_sessionmaker, utcnow
from app.messages.models import Message
from app.messages.notify import Notify
from app.messages.worker import MessageWorker
from app.outcomes.models import OutcomeRecord
from app.questionnaires.models import QuestionnaireLink
from tests.conftest import TokenFactory, make_settings
from tests.messages.notify_fake import NotifyFake, Template, running
from tests.outcomes.conftest import PERFORMER
from tests.referrals import factories

SMS_LINK = "7b2f4e8c-3f5e-4a53-9a53-7a1f6c0e2c01"
EMAIL_LINK = "7b2f4e8c-3f5e-4a53-9a53-7a1f6c0e2c02"
SMS_REMINDER = "7b2f4e8c-3f5e-4a53-9a53-7a1f6c0e2c03"
TEMPLATES = {
    SMS_LINK: Template(
        "sms",
        "Hello ((first_name)), please answer ((questionnaire)): ((link)) (until ((expires))).",
    ),
    EMAIL_LINK: Template(
        "email",
        "Hello ((first_name)), please answer ((questionnaire)): ((link)) (until ((expires))).",
        subject="A few questions from your link worker",
    ),
    SMS_REMINDER: Template(
        "sms", "A reminder, ((first_name)): ((questionnaire)) at ((link)) until ((expires))."
    ),
}
MOBILE = "07700 900462"  # Ofcom's drama range: never a real person
EMAIL = "grace.okafor@example.org"
BASE = "https://assetlink.example.nhs.uk"
LINK = re.compile(re.escape(BASE) + r"/q/([A-Za-z0-9_-]{43})")
GUESSES = 3


@pytest.fixture
def fake() -> Iterator[NotifyFake]:
    with running(NotifyFake(dict(TEMPLATES))) as found:
        yield found


@pytest.fixture
def settings(database_url: str, fake: NotifyFake) -> Settings:
    return make_settings(
        database_url,
        public_base_url=BASE,
        notify_api_key=fake.api_key,
        notify_base_url=fake.url,
        notify_template_questionnaire_link_sms=SMS_LINK,
        notify_template_questionnaire_link_email=EMAIL_LINK,
        notify_template_questionnaire_reminder_sms=SMS_REMINDER,
        notify_timeout_s=0.3,
        notify_lease_s=1.0,
        questionnaire_link_guesses=GUESSES,
        disclosure_suppress_below=1,  # the reports' figures of a handful of people, shown
        disclosure_round_to=1,
        disclosure_min_n=1,
    )


@pytest.fixture
def committed(committed_app: Any) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(committed_app.state.engine)


@dataclass
class Clock:
    """The worker's time: now, moved on by a test."""

    offset: dt.timedelta = field(default_factory=dt.timedelta)

    def __call__(self) -> dt.datetime:
        return utcnow() + self.offset


@dataclass
class Person:
    referral_id: str
    task: dict[str, Any]


@pytest.fixture
def lw(auth: TokenFactory) -> dict[str, str]:
    return auth(Role.LINK_WORKER, PERFORMER)


def worker(
    settings: Settings, committed: async_sessionmaker[AsyncSession], fake: NotifyFake, clock: Clock
) -> MessageWorker:
    return MessageWorker(
        settings, committed, Notify(fake.api_key, fake.url, timeout_s=5.0), clock=clock
    )


async def accepted_person(
    client: httpx.AsyncClient, auth: TokenFactory, telecom: list[dict[str, Any]] | None = None
) -> Person:
    """A referral of Grace Okafor (with a mobile number), accepted by the link workers."""
    person = factories.patient(
        telecom=telecom if telecom is not None else [{"system": "phone", "value": MOBILE}]
    )
    created = await client.post(
        "/fhir/ServiceRequest",
        json=factories.service_request(person=person),
        headers=auth(Role.REFERRER, "A81001"),
    )
    assert created.status_code == 201, created.text
    lw = auth(Role.LINK_WORKER, PERFORMER)
    referral_id = created.json()["id"]
    bundle = (await client.get(f"/fhir/Task?focus={referral_id}", headers=lw)).json()
    task = bundle["entry"][0]["resource"]
    body = {k: v for k, v in task.items() if k not in ("meta", "lastModified")}
    moved = await client.put(
        f"/fhir/Task/{task['id']}", json={**body, "status": "accepted"}, headers=lw
    )
    assert moved.status_code == 200, moved.text
    return Person(referral_id, moved.json())


async def task_of(
    client: httpx.AsyncClient, lw: dict[str, str], referral_id: str
) -> dict[str, Any]:
    bundle = (await client.get(f"/fhir/Task?focus={referral_id}", headers=lw)).json()
    return dict(bundle["entry"][0]["resource"])


def links_sent(fake: NotifyFake) -> list[str]:
    """The tokens of the links in the messages sent, in order."""
    return [m.group(1) for s in fake.sent for m in [LINK.search(s.body)] if m]


async def records(sessionmaker: async_sessionmaker[AsyncSession]) -> list[OutcomeRecord]:
    async with sessionmaker() as session:
        return list(
            await session.scalars(select(OutcomeRecord).order_by(OutcomeRecord.recorded_at))
        )


async def links(sessionmaker: async_sessionmaker[AsyncSession]) -> list[QuestionnaireLink]:
    async with sessionmaker() as session:
        return list(
            await session.scalars(select(QuestionnaireLink).order_by(QuestionnaireLink.created_at))
        )


async def messages(sessionmaker: async_sessionmaker[AsyncSession]) -> list[Message]:
    async with sessionmaker() as session:
        return list(await session.scalars(select(Message).order_by(Message.created_at)))


async def set_link(
    sessionmaker: async_sessionmaker[AsyncSession], link_id: uuid.UUID, **values: Any
) -> None:
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(QuestionnaireLink).where(QuestionnaireLink.id == link_id).values(**values)
        )


async def open_page(client: httpx.AsyncClient, token: str) -> tuple[httpx.Response, str]:
    """GET the page: the response and its CSRF field (the cookie is kept by the client)."""
    page = await client.get(f"/q/{token}")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    return page, found.group(1) if found else ""


Send = Callable[..., Awaitable[tuple[str, str]]]


@pytest.fixture
def send(
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    auth: TokenFactory,
    lw: dict[str, str],
    settings: Settings,
    fake: NotifyFake,
) -> Send:
    """Send a link as a link worker, and text it with the worker: (referral id, token)."""

    async def sent(instrument: str = "SWEMWBS", clock: Clock | None = None) -> tuple[str, str]:
        person = await accepted_person(committed_client, auth)
        asked = await committed_client.post(
            f"/api/v1/referrals/{person.referral_id}/questionnaire-links",
            json={"instrument": instrument, "channel": "sms"},
            headers=lw,
        )
        assert asked.status_code == 202, asked.text
        before = len(fake.sent)
        await worker(settings, committed, fake, clock or Clock()).run(once=True)
        assert len(fake.sent) == before + 1
        return person.referral_id, links_sent(fake)[-1]

    return sent
