"""The messages part of ``assetlink worker``: makes reminders, sends messages through GOV.UK
Notify, and polls their delivery receipts.

Each pass: the jobs that queue messages (``JOBS``: the booking reminders, the questionnaire
links' follow-up schedule and reminders; at most every
``JOB_EVERY_S``), then a claim of due messages and their sends, then a claim of sent messages
whose receipt is due and the polls. Claims and results are short transactions of their own;
the HTTP calls (the synchronous Notify client) run in worker threads, each bounded by
``ASSETLINK_NOTIFY_TIMEOUT_S``, under a lease of ``ASSETLINK_NOTIFY_LEASE_S``.

Exactly one message per row, across crashes: every send carries the row's id as Notify's
``reference``; a row claimed again (its earlier attempt failed, or its worker died between
Notify's answer and the commit) is first looked up by that reference, and a notification
Notify already holds is adopted instead of sent again. 429, 5xx and no answer are retried with
backoff; 400 and 403 fail the message at once with Notify's error.

Receipts are polled (``GET /v2/notifications/{id}``) every ``ASSETLINK_MESSAGE_RECEIPT_POLL_S``
until Notify's status is final or ``RECEIPT_HORIZON`` has passed (docs/messages.md: why polling
rather than Notify's callbacks). Logs: one line per result, with ids and statuses only.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
import time
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit import service as audit
from app.auth.principal import Principal, Role
from app.config import Settings
from app.db import transaction, utcnow
from app.messages import contact, notify, repository, service
from app.notifications.delivery import backoff
from app.questionnaires import service as questionnaires_service

log = logging.getLogger("assetlink.worker.messages")

SENDER = Principal(sub="assetlink worker", role=Role.ADMIN, org="SYSTEM")
JOB_EVERY_S = 300.0
RECEIPT_HORIZON = dt.timedelta(days=3)
NO_RECEIPT = "no-receipt"

Job = Callable[[AsyncSession, Settings, dt.datetime], Awaitable[int]]
JOBS: tuple[Job, ...] = (
    service.make_booking_reminders,
    questionnaires_service.make_follow_up_links,
    questionnaires_service.make_link_reminders,
)
# Fields made only as a message is handed to Notify, from its idempotency key (None: the message
# is no longer wanted): a questionnaire link's token, so that no token is ever stored.
LateFields = Callable[[AsyncSession, Settings, str, dt.datetime], Awaitable[dict[str, str] | None]]
LATE_FIELDS: dict[str, LateFields] = {
    service.QUESTIONNAIRE_LINK: questionnaires_service.link_fields,
    service.QUESTIONNAIRE_REMINDER: questionnaires_service.link_fields,
}


class MessageWorker:
    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        client: notify.Notify,
        *,
        concurrency: int = 4,
        rng: random.Random | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.notify = client
        self.concurrency = concurrency
        self.rng = rng or random.Random()  # noqa: S311 (jitter, not a secret)
        self.clock = clock
        self.stopping = asyncio.Event()
        self._jobs_at = 0.0  # monotonic time the jobs last ran (0: never)

    def stop(self) -> None:
        self.stopping.set()

    async def run(self, *, once: bool = False) -> None:
        """Passes until stopped; ``once``: the jobs, then until nothing is due now."""
        while not self.stopping.is_set():
            try:
                busy = await self.pass_once()
            except DBAPIError:
                if once:
                    raise
                log.warning("database unreachable; next pass in %g s", self.settings.worker_poll_s)
                busy = False
            if busy:
                continue
            if once:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), timeout=self.settings.worker_poll_s)

    async def pass_once(self) -> bool:
        """One pass; True when it found a full batch (more may be due now)."""
        if not self._jobs_at or time.monotonic() - self._jobs_at >= JOB_EVERY_S:
            await self.run_jobs()
        sends = await self._claim(repository.claim_sends, self.settings.notify_lease_s)
        receipts = await self._claim(
            repository.claim_receipts, self.settings.message_receipt_poll_s
        )
        claimed_at = time.monotonic()
        await asyncio.gather(
            *(self._send(job, claimed_at) for job in sends),
            *(self._poll(job) for job in receipts),
        )
        return len(sends) == self.concurrency or len(receipts) == self.concurrency

    async def run_jobs(self) -> int:
        queued = 0
        for job in JOBS:
            async with transaction(self.sessionmaker, write=True) as session:
                queued += await job(session, self.settings, self.clock())
        self._jobs_at = time.monotonic()
        if queued:
            log.info("messages queued", extra={"queued": queued})
        return queued

    async def _claim(
        self, claim: Callable[..., Awaitable[list[repository.Job]]], lease_s: float
    ) -> list[repository.Job]:
        now = self.clock()
        async with transaction(self.sessionmaker, write=True) as session:
            return await claim(session, now, now + dt.timedelta(seconds=lease_s), self.concurrency)

    # --- sending ---------------------------------------------------------------------------

    async def _send(self, job: repository.Job, claimed_at: float) -> None:
        late = time.monotonic() - claimed_at
        if (
            self.stopping.is_set()
            or late > self.settings.notify_lease_s - self.settings.notify_timeout_s
        ):
            async with transaction(self.sessionmaker, write=True) as session:
                await repository.release(session, job, self.clock())
            return
        if job.booking_status is not None and job.booking_status != "booked":
            await self._store(
                job, repository.CANCELLED, error=f"the booking is {job.booking_status}"
            )
            return
        found = contact.reachable(job.patient, job.preferences, self.clock().date())
        if job.channel not in found:
            await self._store(
                job,
                repository.CANCELLED,
                error=f"no {job.channel} contact any more, or the person opted out",
            )
            return
        answer: notify.Accepted | notify.Refused | notify.Later | None = None
        if job.attempts > 1:  # an earlier attempt may have reached Notify
            answer = await asyncio.to_thread(self.notify.find, job.message_id)
        if answer is None:
            fields = await self._late_fields(job)
            if fields is None:
                await self._store(job, repository.CANCELLED, error="no longer wanted")
                return
            answer = await asyncio.to_thread(
                self.notify.send,
                contact.Contact(job.channel, found[job.channel]),
                job.template_id,
                job.personalisation | fields,
                job.message_id,
            )
        await self._sent(job, answer)

    async def _late_fields(self, job: repository.Job) -> dict[str, str] | None:
        make = LATE_FIELDS.get(job.kind)
        if make is None:
            return {}
        async with transaction(self.sessionmaker, write=True) as session:
            return await make(session, self.settings, job.key, self.clock())

    async def _sent(
        self, job: repository.Job, answer: notify.Accepted | notify.Refused | notify.Later
    ) -> None:
        now = self.clock()
        match answer:
            case notify.Accepted(notify_id):
                await self._store(
                    job,
                    repository.SENT,
                    notify_id=notify_id,
                    sent_at=now,
                    error=None,
                    next_attempt_at=now
                    + dt.timedelta(seconds=self.settings.message_receipt_poll_s),
                    audited=True,
                )
            case notify.Refused(status, error):
                await self._store(job, repository.FAILED, error=f"{status} {error}", http=status)
            case notify.Later(status, error) if job.attempts >= self.settings.message_max_attempts:
                await self._store(
                    job,
                    repository.FAILED,
                    error=f"{status} {error} (after {job.attempts} attempts)",
                    http=status,
                )
            case notify.Later(status, error):
                wait = backoff(
                    job.attempts,
                    first_s=self.settings.notify_backoff_s,
                    max_s=self.settings.notify_backoff_max_s,
                    rng=self.rng,
                )
                await self._store(
                    job,
                    repository.PENDING,
                    error=f"{status} {error}",
                    next_attempt_at=now + dt.timedelta(seconds=wait),
                    http=status,
                )

    # --- receipts --------------------------------------------------------------------------

    async def _poll(self, job: repository.Job) -> None:
        if job.notify_id is None:  # not possible for a sent message; never poll forever
            await self._store(job, NO_RECEIPT, error="no Notify id")
            return
        answer = await asyncio.to_thread(self.notify.receipt, job.notify_id)
        now = self.clock()
        expired = job.sent_at is not None and now - job.sent_at > RECEIPT_HORIZON
        match answer:
            case notify.Receipt(status, at) if answer.final:
                await self._store(job, status, receipt_status=status, receipt_at=at or now)
            case notify.Receipt(status, _):
                await self._store(
                    job,
                    NO_RECEIPT if expired else repository.SENT,
                    receipt_status=status,
                    receipt_at=now,
                )
            case notify.Refused(status, error):
                await self._store(job, NO_RECEIPT, error=f"{status} {error}", http=status)
            case notify.Later(status, error):
                await self._store(job, NO_RECEIPT if expired else repository.SENT, http=status)

    async def _store(
        self,
        job: repository.Job,
        status: str,
        *,
        http: int | None = None,
        audited: bool = False,
        **values: object,
    ) -> None:
        now = self.clock()
        try:
            async with transaction(self.sessionmaker, write=True) as session:
                kept = await repository.store(session, job, status, now, **values)
                if kept and audited:
                    audit.record(
                        session,
                        audit.Actor(SENDER, None),
                        audit.Access("send", "Message", str(job.message_id), job.patient_id),
                    )
        except DBAPIError:  # the lease runs out; the next claim looks the reference up first
            log.warning("message result not stored", extra={"message_id": str(job.message_id)})
            return
        log.info(
            "message %s",
            status,
            extra={
                "message_id": str(job.message_id),
                "kind": job.kind,
                "channel": job.channel,
                "status": status,
                "attempt": job.attempts,
                "http_status": http,
                "lease_kept": kept,
            },
        )
