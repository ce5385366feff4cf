"""``assetlink worker`` as a process: with a Notify API key it makes the reminders and sends
them (beside the GP notifications); without one it sends nothing and says so."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.directory.vocabulary import WEEKDAYS
from app.messages import reminders
from tests.conftest import TokenFactory
from tests.messages.conftest import MOBILE, SMS_REMINDER, booked_place, message
from tests.messages.notify_fake import NotifyFake
from tests.notifications.test_worker_process import start_worker


async def test_the_worker_process_reminds_through_notify(
    database_url: str,
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    auth: TokenFactory,
    fake: NotifyFake,
    tmp_path: Path,
) -> None:
    log = tmp_path / "worker.log"
    now = dt.datetime.now(dt.UTC)
    booking = await booked_place(
        committed_client,
        auth,
        byday=WEEKDAYS[reminders.tomorrow(now).weekday()],
    )
    without_key = start_worker(database_url, log, "--once")
    assert without_key.wait(60) == 0, log.read_text()
    assert "messages off: ASSETLINK_NOTIFY_API_KEY is not set" in log.read_text()
    assert fake.requests == []

    worker = start_worker(
        database_url,
        log,
        "--once",
        ASSETLINK_NOTIFY_API_KEY=fake.api_key,
        ASSETLINK_NOTIFY_BASE_URL=fake.url,
        ASSETLINK_NOTIFY_TEMPLATE_BOOKING_REMINDER_SMS=SMS_REMINDER,
    )
    assert worker.wait(60) == 0, log.read_text()

    stored = await message(committed, booking["id"])
    due = reminders.due_at(reminders.tomorrow(now), now)
    if due <= dt.datetime.now(dt.UTC):  # after 10am in London: sent at once
        [sent] = fake.sent
        assert (sent.to, str(stored.notify_id), stored.status) == (MOBILE, sent.id, "sent")
    else:  # before: waiting for 10am
        assert (stored.status, stored.next_attempt_at, fake.sent) == ("pending", due, [])
    assert MOBILE not in log.read_text()
