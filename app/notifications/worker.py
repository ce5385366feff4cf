"""``assetlink worker``: fans Task change events out to subscriptions and delivers them.

Each pass runs three short transactions of its own (``app/notifications/queue.py``): fan-out,
claim (as many deliveries as free delivery slots, each leased for ``notify_lease_s``), and one
per result. Deliveries run concurrently up to ``concurrency``; each is one POST with a total
timeout of ``notify_timeout_s``, which the settings keep below the lease, so a delivery is never
in flight twice at once. A delivery that has not started within ``lease - timeout`` seconds of
its claim is given back instead of sent.

Stopping (SIGTERM, SIGINT): no more claims; deliveries in flight finish (bounded by the
timeout); claimed ones not yet sent are given back (due now); the process exits 0.
Logs: one JSON line per delivery result, with ids only (never a person's data).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import random
import time
from dataclasses import dataclass

import httpx
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.db import transaction, utcnow
from app.notifications import delivery, queue
from app.ops.metrics import NOTIFICATION_DELIVERIES

log = logging.getLogger("assetlink.worker")

FAN_OUT_BATCH = 500


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to: the receiver's status (None: no answer) and any error."""

    http_status: int | None
    error: str | None  # None: delivered


class Worker:
    def __init__(
        self,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        http: httpx.AsyncClient,
        *,
        concurrency: int = 8,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.http = http
        self.concurrency = concurrency
        self.rng = rng or random.Random()  # noqa: S311 (jitter, not a secret)
        self.base_url = settings.public_base_url or delivery.DEFAULT_BASE_URL
        self.stopping = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._idle_s = settings.worker_poll_s
        self._claim_at = max(1, concurrency // 2)

    def stop(self) -> None:
        """Claim nothing more; let what is in flight finish (``run`` then returns)."""
        self.stopping.set()

    async def run(self, *, once: bool = False) -> None:
        """Passes until stopped; ``once``: until nothing is due now and nothing is in flight.

        A pass (fan-out, then a claim for every free slot) runs when half the slots or more
        are free, so claims come in batches rather than one per finished delivery."""
        try:
            while not self.stopping.is_set():
                free = self.concurrency - len(self._in_flight)
                if self._in_flight and free < self._claim_at:
                    await self._until_one_finishes(self._idle_s)
                    continue
                try:
                    dispatched = await self.fan_out()
                    claimed = await self.claim(free)
                except DBAPIError:
                    if once:
                        raise
                    log.warning("database unreachable; next pass in %g s", self._idle_s)
                    await self._sleep(self._idle_s)
                    continue
                for job in claimed:
                    self._start(job)
                if dispatched == FAN_OUT_BATCH or len(claimed) == free:
                    continue  # more may be due now
                if self._in_flight:
                    await self._until_one_finishes(self._idle_s)
                elif once:
                    return
                else:
                    await self._sleep(self._idle_s)
        finally:
            if self._in_flight:
                await asyncio.wait(set(self._in_flight))

    async def fan_out(self) -> int:
        async with transaction(self.sessionmaker, write=True) as session:
            return await queue.fan_out(session, utcnow(), FAN_OUT_BATCH)

    async def claim(self, limit: int) -> list[queue.Job]:
        now = utcnow()
        lease_until = now + dt.timedelta(seconds=self.settings.notify_lease_s)
        async with transaction(self.sessionmaker, write=True) as session:
            return await queue.claim(session, now, lease_until, limit)

    def _start(self, job: queue.Job) -> None:
        task = asyncio.create_task(self._deliver(job, claimed_at=time.monotonic()))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)

    async def _until_one_finishes(self, seconds: float) -> None:
        stop = asyncio.create_task(self.stopping.wait())
        try:
            await asyncio.wait(
                {*self._in_flight, stop}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            stop.cancel()

    async def _deliver(self, job: queue.Job, *, claimed_at: float) -> None:
        late = time.monotonic() - claimed_at
        if self.stopping.is_set() or late > self.settings.notify_lease_s - (
            self.settings.notify_timeout_s
        ):
            async with transaction(self.sessionmaker, write=True) as session:
                await queue.release(session, [job], utcnow())
            return
        outcome = await self.send(job)
        try:
            await self._record(job, outcome)
        except DBAPIError:  # the lease runs out and another pass sends it again
            log.warning("delivery result not stored", extra={"event_id": str(job.event_id)})

    async def send(self, job: queue.Job) -> Outcome:
        """One attempt: POST the event's Bundle, signed; 2xx is delivered."""
        if job.task is None or job.recorded_at is None:
            return Outcome(None, "the Task version of this event is not stored")
        bundle = delivery.history_bundle(
            job.task,
            event_id=str(job.event_id),
            occurred_at=job.occurred_at,
            recorded_at=job.recorded_at,
            base_url=self.base_url,
        )
        body = delivery.encode(bundle)
        headers = delivery.headers(
            body,
            secret=job.secret,
            event_id=str(job.event_id),
            subscription_id=str(job.subscription_id),
            channel_headers=job.channel_headers,
        )
        try:
            async with asyncio.timeout(self.settings.notify_timeout_s):
                response = await self.http.post(job.endpoint, content=body, headers=headers)
        except TimeoutError:
            return Outcome(None, f"no answer within {self.settings.notify_timeout_s:g} s")
        except httpx.HTTPError as exc:
            return Outcome(None, delivery.short_error(f"{type(exc).__name__}: {exc}"))
        if 200 <= response.status_code < 300:
            return Outcome(response.status_code, None)
        return Outcome(response.status_code, f"HTTP {response.status_code}")

    async def _record(self, job: queue.Job, outcome: Outcome) -> None:
        now = utcnow()
        attempt = job.attempts + 1
        async with transaction(self.sessionmaker, write=True) as session:
            if outcome.error is None:
                result = "delivered"
                kept = await queue.delivered(session, job, now, outcome.http_status or 200)
            elif attempt >= self.settings.notify_max_attempts:
                result = "failed"
                kept = await queue.give_up(session, job, now, outcome.http_status, outcome.error)
            else:
                result = "retry"
                wait = delivery.backoff(
                    attempt,
                    first_s=self.settings.notify_backoff_s,
                    max_s=self.settings.notify_backoff_max_s,
                    rng=self.rng,
                )
                due = now + dt.timedelta(seconds=wait)
                kept = await queue.retry_later(
                    session, job, now, due, outcome.http_status, outcome.error
                )
        NOTIFICATION_DELIVERIES.labels(result=result).inc()
        log.info(
            "delivery %s",
            result,
            extra={
                "event_id": str(job.event_id),
                "subscription_id": str(job.subscription_id),
                "delivery_id": str(job.delivery_id),
                "status": result,
                "attempt": attempt,
                "http_status": outcome.http_status,
                "error": outcome.error,
                "lease_kept": kept,
            },
        )
