"""The worker's questionnaire jobs: the reminder 7 days after an unused link (once, across
restarts; none for a used or expired link) and the follow-up schedule (6 and 12 weeks after the
first contact, once each); and what never reaches the logs."""

from __future__ import annotations

import asyncio
import datetime as dt
import io

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.referrals.models import Task
from tests.conftest import TokenFactory
from tests.messages.notify_fake import NotifyFake
from tests.ops.test_logging import logs
from tests.outcomes.conftest import VALID
from tests.questionnaires.conftest import (
    MOBILE,
    SMS_LINK,
    SMS_REMINDER,
    Clock,
    Send,
    accepted_person,
    links,
    links_sent,
    open_page,
    set_link,
    worker,
)

__all__ = ["logs"]  # the fixture
FORM = {k: str(v) for k, v in VALID["SWEMWBS"].items()}
LATER = Clock(dt.timedelta(days=8))


async def test_an_unused_link_is_reminded_once_and_only_once(
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    settings: Settings,
    fake: NotifyFake,
    send: Send,
) -> None:
    await send()  # not used: reminded
    _, used = await send()
    _, expired = await send()
    _, csrf = await open_page(committed_client, used)
    assert (await committed_client.post(f"/q/{used}", data={**FORM, "csrf_token": csrf})).is_success
    await set_link(
        committed, (await links(committed))[2].id, expires_at=LATER() - dt.timedelta(hours=1)
    )
    assert (await committed_client.get(f"/q/{expired}")).status_code == 200  # open until then

    await worker(settings, committed, fake, Clock(dt.timedelta(days=6))).run(once=True)
    assert len(fake.sent) == 3  # not yet: 7 days
    await worker(settings, committed, fake, LATER).run(once=True)
    await worker(settings, committed, fake, LATER).run(once=True)  # a restarted worker
    await asyncio.gather(
        worker(settings, committed, fake, LATER).run(once=True),
        worker(settings, committed, fake, LATER).run(once=True),
    )

    assert [s.template_id for s in fake.sent] == [SMS_LINK] * 3 + [SMS_REMINDER]
    reminder = fake.sent[-1]
    assert (reminder.to, reminder.personalisation["first_name"]) == (MOBILE, "Grace")
    token = links_sent(fake)[-1]
    assert token not in links_sent(fake)[:-1]  # a token of its own, for the same link
    assert (await committed_client.get(f"/q/{token}")).status_code == 200


async def test_the_follow_up_schedule_sends_a_link_at_6_and_12_weeks_once(
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    auth: TokenFactory,
    lw: dict[str, str],
    settings: Settings,
    fake: NotifyFake,
) -> None:
    person = await accepted_person(committed_client, auth)
    baseline = await committed_client.post(
        f"/api/v1/referrals/{person.referral_id}/outcomes",
        json={
            "instrument": "SWEMWBS",
            "timepoint": "baseline",
            "collected_at": dt.datetime.now(dt.UTC).isoformat(),
            "mode": "assisted",
            "answers": VALID["SWEMWBS"],
        },
        headers=lw,
    )
    assert baseline.status_code == 201, baseline.text
    await accepted_person(committed_client, auth)  # no baseline: nothing to follow up
    first_contact = dt.datetime.now(dt.UTC) - dt.timedelta(days=43)
    async with committed() as session, session.begin():
        await session.execute(update(Task).values(first_contact_at=first_contact))

    for _ in range(2):  # 6 weeks and a day after the first contact; the job runs again
        await worker(settings, committed, fake, Clock()).run(once=True)
    six = [k.schedule_key for k in await links(committed)]
    assert six == [f"follow-up:{person.referral_id}:6w:SWEMWBS"]
    assert len(fake.sent) == 1

    twelve_weeks = Clock(dt.timedelta(days=42))  # 12 weeks and a day after it
    for _ in range(2):
        await worker(settings, committed, fake, twelve_weeks).run(once=True)
    keys = [k.schedule_key for k in await links(committed)]
    assert keys == [
        f"follow-up:{person.referral_id}:6w:SWEMWBS",
        f"follow-up:{person.referral_id}:12w:SWEMWBS",
    ]
    assert [s.template_id for s in fake.sent] == [SMS_LINK, SMS_LINK]
    assert {k.timepoint for k in await links(committed)} == {"follow-up"}


async def test_no_token_contact_or_answer_reaches_the_logs(
    logs: io.StringIO,
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    settings: Settings,
    fake: NotifyFake,
    send: Send,
) -> None:
    _, token = await send()
    _, guessed_csrf = await open_page(committed_client, token)
    await committed_client.get("/q/" + "x" * 43)  # an unknown link
    done = await committed_client.post(f"/q/{token}", data={**FORM, "csrf_token": guessed_csrf})
    assert done.is_success
    await worker(settings, committed, fake, LATER).run(once=True)

    logged = logs.getvalue()
    assert "/q/{token}" in logged  # the route is logged, never the path
    for secret in (
        token,
        "x" * 43,
        MOBILE,
        MOBILE.replace(" ", ""),
        "Grace",
        "Okafor",
        guessed_csrf,
    ):
        assert secret not in logged
