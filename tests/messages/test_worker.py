"""The messages worker against the strict Notify fake, through the real client: a reminder is
made and sent once and only once per booking and session, across worker restarts and lost
answers; failures are retried without duplicates; refusals are recorded; receipts stored."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit.models import AuditEvent
from app.auth.principal import Role
from app.messages import reminders
from app.messages.models import Message
from app.messages.worker import MessageWorker
from tests.conftest import TokenFactory
from tests.messages.conftest import (
    EMAIL,
    EMAIL_REMINDER,
    MOBILE,
    NOON,
    SMS_REMINDER,
    MakeWorker,
    booked_place,
    message,
    messages,
)
from tests.messages.notify_fake import NotifyFake
from tests.ops.test_logging import logs

__all__ = ["logs"]  # the fixture


async def until(
    worker: MessageWorker,
    committed: async_sessionmaker[AsyncSession],
    booking_id: str,
    status: str,
) -> Message:
    """Passes (``--once``) until the booking's message has ``status``; retries fall due within
    milliseconds here."""
    for _ in range(100):
        await worker.run(once=True)
        stored = await message(committed, booking_id)
        if stored.status == status:
            return stored
        await asyncio.sleep(0.02)
    raise AssertionError(f"the message is {stored.status}, never {status}")


async def test_the_day_before_a_session_the_person_gets_one_text(
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    auth: TokenFactory,
    make_worker: MakeWorker,
    fake: NotifyFake,
) -> None:
    booking = await booked_place(committed_client, auth)

    await make_worker().run(once=True)

    [sent] = fake.sent
    day = reminders.tomorrow(NOON)
    assert (sent.type, sent.to, sent.template_id) == ("sms", MOBILE, SMS_REMINDER)
    assert sent.personalisation == {
        "activity": "Tuesday Singers",
        "date": f"{day:%A} {day.day} {day:%B}",
        "time": "10:30am to midday",
        "venue": "Dalston Library, Dalston Square, London, E5 1AU",
    }
    assert "Tuesday Singers" in sent.body
    stored = await message(committed, booking["id"])
    assert stored.idempotency_key == f"booking-reminder:{booking['id']}:{day.isoformat()}"
    assert (stored.status, stored.channel, stored.attempts) == ("sent", "sms", 1)
    assert str(stored.notify_id) == sent.id
    assert sent.reference == str(stored.id)
    async with committed() as session:
        audited = (
            await session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "Message"))
        ).all()
    assert [(a.operation, a.entity_id, a.actor_sub) for a in audited] == [
        ("send", str(stored.id), "assetlink worker")
    ]


async def test_restarted_workers_make_and_send_the_reminder_once(
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    auth: TokenFactory,
    make_worker: MakeWorker,
    fake: NotifyFake,
) -> None:
    await booked_place(committed_client, auth)
    await booked_place(committed_client, auth)

    await make_worker().run(once=True)
    await make_worker().run(once=True)  # a new process: its jobs run again at once
    first, second = make_worker(), make_worker()
    await asyncio.gather(first.run(once=True), second.run(once=True))

    assert len(fake.sent) == 2
    assert len({s.reference for s in fake.sent}) == 2
    assert [m.status for m in await messages(committed)] == ["sent", "sent"]


async def test_a_worker_dying_after_notify_took_the_message_does_not_send_it_twice(
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    auth: TokenFactory,
    make_worker: MakeWorker,
    fake: NotifyFake,
) -> None:
    """Notify accepted; the worker died before it stored that. The next claim (after the
    lease) finds the notification by its reference and adopts it."""

    class DiesAfterSending(MessageWorker):
        async def _sent(self, job: Any, answer: Any) -> None:
            return None  # the process is gone before its commit

    booking = await booked_place(committed_client, auth)
    await make_worker(DiesAfterSending).run(once=True)
    assert len(fake.sent) == 1
    assert (await message(committed, booking["id"])).status == "sending"

    await asyncio.sleep(1.1)  # the lease (1 s here) runs out
    await make_worker().run(once=True)

    assert len(fake.sent) == 1
    stored = await message(committed, booking["id"])
    assert (stored.status, stored.attempts, str(stored.notify_id)) == (
        "sent",
        2,
        fake.sent[0].id,
    )


async def test_a_lost_answer_is_found_by_reference_not_sent_again(
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    auth: TokenFactory,
    make_worker: MakeWorker,
    fake: NotifyFake,
) -> None:
    booking = await booked_place(committed_client, auth)
    fake.lose_next_answers = 1  # Notify stores it, the client sees 500

    stored = await until(make_worker(), committed, booking["id"], "sent")

    assert len(fake.sent) == 1
    assert (stored.status, str(stored.notify_id)) == ("sent", fake.sent[0].id)


async def test_500s_and_429s_are_retried_without_duplicates(
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    auth: TokenFactory,
    make_worker: MakeWorker,
    fake: NotifyFake,
) -> None:
    booking = await booked_place(committed_client, auth)
    fake.fail_next = [500, 429, 503, 500]

    stored = await until(make_worker(), committed, booking["id"], "sent")

    assert len(fake.sent) == 1
    # attempt 1 sends (500); 2, 3 and 4 look the reference up first (429, 503, 500); 5 finds
    # nothing there and sends
    assert stored.attempts == 5
    lookups = [
        path for method, path in fake.requests if (method, path) == ("GET", "/v2/notifications")
    ]
    assert len(lookups) == 4


async def test_the_retry_budget_ends_in_failed(
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    auth: TokenFactory,
    make_worker: MakeWorker,
    fake: NotifyFake,
) -> None:
    booking = await booked_place(committed_client, auth)
    fake.fail_next = [500] * 20

    stored = await until(make_worker(message_max_attempts=3), committed, booking["id"], "failed")
    assert (stored.status, stored.attempts) == ("failed", 3)
    assert stored.error == "500 Exception: Internal server error (after 3 attempts)"
    assert fake.sent == []


@pytest.mark.parametrize(
    ("telecom", "error"),
    [
        (
            [{"system": "sms", "value": "07700 90046"}],  # a digit short: Notify refuses it
            "400 ValidationError: phone_number Not a UK mobile number",
        ),
    ],
)
async def test_notify_refusals_fail_at_once_with_notifys_words(
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    auth: TokenFactory,
    make_worker: MakeWorker,
    fake: NotifyFake,
    telecom: list[dict[str, Any]],
    error: str,
) -> None:
    booking = await booked_place(committed_client, auth, telecom=telecom)

    await make_worker().run(once=True)

    stored = await message(committed, booking["id"])
    assert (stored.status, stored.attempts, stored.error) == ("failed", 1, error)
    assert fake.sent == []


async def test_an_unknown_template_and_a_wrong_key_are_refused(
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    auth: TokenFactory,
    make_worker: MakeWorker,
    fake: NotifyFake,
) -> None:
    booking = await booked_place(committed_client, auth)
    await make_worker(
        notify_template_booking_reminder_sms="0d5c8a5e-0000-4000-8000-000000000000"
    ).run(once=True)
    stored = await message(committed, booking["id"])
    assert (stored.status, stored.error) == ("failed", "400 BadRequestError: Template not found")

    other = await booked_place(committed_client, auth)
    worker = make_worker()
    fake.secret = "f" * 36  # Notify no longer knows the key the worker signs with
    await worker.run(once=True)
    stored = await message(committed, other["id"])
    assert (stored.status, stored.error) == (
        "failed",
        "403 AuthError: Invalid token: API key not found",
    )
    assert fake.sent == []


async def test_receipts_are_stored(
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    auth: TokenFactory,
    make_worker: MakeWorker,
    fake: NotifyFake,
) -> None:
    booking = await booked_place(committed_client, auth)
    worker = make_worker()
    await worker.run(once=True)
    [sent] = fake.sent

    await asyncio.sleep(0.02)
    await worker.run(once=True)  # Notify says "created": asked again later
    stored = await message(committed, booking["id"])
    assert (stored.status, stored.receipt_status) == ("sent", "created")

    fake.set_status(sent.id, "delivered")
    await asyncio.sleep(0.02)
    await worker.run(once=True)
    stored = await message(committed, booking["id"])
    assert (stored.status, stored.receipt_status) == ("delivered", "delivered")
    assert stored.receipt_at is not None
    polls = sum(1 for method, path in fake.requests if path == f"/v2/notifications/{sent.id}")
    await asyncio.sleep(0.02)
    await worker.run(once=True)  # final: never asked again
    assert polls == sum(
        1 for method, path in fake.requests if path == f"/v2/notifications/{sent.id}"
    )


async def test_who_gets_what(
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    auth: TokenFactory,
    make_worker: MakeWorker,
    fake: NotifyFake,
) -> None:
    email_only = await booked_place(
        committed_client, auth, telecom=[{"system": "email", "value": EMAIL}]
    )
    landline = await booked_place(
        committed_client, auth, telecom=[{"system": "phone", "value": "020 7946 0000"}]
    )
    opted_out = await booked_place(committed_client, auth, opt_out=True)
    not_tomorrow = await booked_place(
        committed_client, auth, byday="MO" if reminders.tomorrow(NOON).weekday() != 0 else "TU"
    )
    cancelled = await booked_place(committed_client, auth)
    lw = auth(Role.LINK_WORKER, "Y02718")
    done = await committed_client.patch(
        f"/api/v1/bookings/{cancelled['id']}", json={"status": "cancelled"}, headers=lw
    )
    assert done.status_code == 200

    await make_worker().run(once=True)

    [sent] = fake.sent
    assert (sent.type, sent.to, sent.template_id) == ("email", EMAIL, EMAIL_REMINDER)
    stored = await messages(committed)
    assert [str(m.booking_id) for m in stored] == [email_only["id"]]
    assert {landline["id"], opted_out["id"], not_tomorrow["id"], cancelled["id"]}.isdisjoint(
        str(m.booking_id) for m in stored
    )


async def test_a_booking_cancelled_after_its_reminder_was_made_is_not_reminded(
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    auth: TokenFactory,
    make_worker: MakeWorker,
    fake: NotifyFake,
) -> None:
    booking = await booked_place(committed_client, auth)
    worker = make_worker()
    await worker.run_jobs()
    lw = auth(Role.LINK_WORKER, "Y02718")
    done = await committed_client.patch(
        f"/api/v1/bookings/{booking['id']}", json={"status": "cancelled"}, headers=lw
    )
    assert done.status_code == 200

    await worker.run(once=True)

    stored = await message(committed, booking["id"])
    assert (stored.status, stored.error) == ("cancelled", "the booking is cancelled")
    assert fake.sent == []


async def test_no_contact_detail_or_content_reaches_the_logs(
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    auth: TokenFactory,
    make_worker: MakeWorker,
    fake: NotifyFake,
    logs: io.StringIO,
) -> None:
    """The service's own logging at DEBUG (every logger: the worker, Notify's client,
    requests/urllib3, SQLAlchemy) over sends, retries and a refusal."""
    await booked_place(committed_client, auth)
    await booked_place(committed_client, auth, telecom=[{"system": "email", "value": EMAIL}])
    bad = await booked_place(
        committed_client, auth, telecom=[{"system": "sms", "value": "07700 9004"}]
    )
    fake.fail_next = [500, 429]

    worker = make_worker()
    for _ in range(50):
        await worker.run(once=True)
        await asyncio.sleep(0.02)

    assert len(fake.sent) == 2
    assert (await message(committed, bad["id"])).status == "failed"
    logged = logs.getvalue()
    assert '"message sent"' in logged  # the worker's own lines are there
    assert "notifications_python_client" in logged  # and the client's (its failures)
    secrets = [MOBILE, MOBILE.replace(" ", ""), "07700 9004", EMAIL, "Tuesday Singers", "Dalston"]
    for sent in fake.sent:
        secrets += list(sent.personalisation.values())
    assert [s for s in secrets if s in logged] == []
