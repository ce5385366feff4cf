"""Group commit for referral intake: concurrent creates are stored together.

Each ``POST /fhir/ServiceRequest`` hands its checked draft, through ``service.submit``, to the
process's ``IntakeWriter`` and awaits its own answer. The writer stores whatever is queued in
one transaction: the stored identifiers looked up, then ``service.store_new`` (two more SELECTs
for the whole batch, the people by NHS number and the routing rules, then the rows
``app/referrals/plan.py`` plans, in multi-row INSERTs; on PostgreSQL the people's INSERT, then
one statement for every other table), then takes what queued up meanwhile. There is no
waiting window: a request that finds the writer idle is written at once, alone.

The batch takes only the plain case: a new referral whose identifiers are not stored, for a
person no other referral of the batch is about. Everything else is *deferred* and goes, after
the batch is committed, through ``service.create_referral`` one by one, in a transaction each:
a retry or conditional create that matches a stored referral (200, 409 or 412), a second
referral of the batch with the same identifier (so concurrent duplicates still give one 201
and 200 for the rest) or the same NHS number (one Patient per person). When the batch
transaction fails (a constraint raced by another process, a patient updated meanwhile, a value
the database refuses), nothing of it is stored and every item of it is retried the same
one-by-one way, so one item's failure is its own answer only. A batch whose connection was lost
is written again once on a new one; when the database cannot be reached, every request of the
batch answers that (503) at once.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from app.auth.context import Context
from app.db import unavailable, write_session
from app.referrals import repository, service
from app.referrals.intake import ReferralDraft
from app.referrals.plan import Intake

log = logging.getLogger(__name__)

MAX_BATCH = 64


@dataclass
class Submission:
    ctx: Context
    draft: ReferralDraft
    default_performer: str | None
    if_none_exist: tuple[str, str] | None
    future: asyncio.Future[Intake]

    @property
    def criteria(self) -> list[tuple[str, str]]:
        return [self.if_none_exist] if self.if_none_exist else self.draft.identifiers

    def answer(self, intake: Intake) -> None:
        if not self.future.done():  # the client may have gone (request cancelled)
            self.future.set_result(intake)

    def fail(self, error: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(error)


class IntakeWriter:
    """The process's intake queue; ``state`` is the application's (sessionmaker, SQLite lock)."""

    def __init__(self, state: Any) -> None:
        self._state = state
        self._queue: list[Submission] = []
        self._drainer: asyncio.Task[None] | None = None

    async def create(
        self,
        ctx: Context,
        draft: ReferralDraft,
        *,
        default_performer: str | None,
        if_none_exist: tuple[str, str] | None = None,
    ) -> Intake:
        """What ``service.create_referral`` answers, stored with the referrals queued alongside."""
        future: asyncio.Future[Intake] = asyncio.get_running_loop().create_future()
        self._queue.append(Submission(ctx, draft, default_performer, if_none_exist, future))
        if self._drainer is None:
            # A context of its own: the writer serves many requests, it is none of them.
            self._drainer = asyncio.create_task(self._drain(), context=contextvars.Context())
        return await future

    async def _drain(self) -> None:
        try:
            while self._queue:
                # Requests already received run first and join this batch: not a waiting
                # window (one turn of the event loop, nothing when the server is idle).
                await asyncio.sleep(0)
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                await self._write([s for s in batch if not s.future.done()])
        except BaseException as error:  # cancelled at shutdown: nobody waits forever
            for submission in self._queue:
                submission.fail(error)
            self._queue = []
            raise
        finally:
            self._drainer = None

    async def _write(self, batch: list[Submission]) -> None:
        if not batch:
            return
        try:
            deferred = await self._write_deferring(batch)
            for index, submission in enumerate(deferred):
                error = await self._write_one(submission)
                if error is not None and unavailable(error):
                    for waiting in deferred[index + 1 :]:  # each would wait for it in turn
                        waiting.fail(error)
                    break
        except Exception as error:  # a bug: the batch's requests answer 500, the writer goes on
            log.exception("intake batch failed")
            for submission in batch:
                submission.fail(error)
        except BaseException as error:  # cancelled (shutdown)
            for submission in batch:
                submission.fail(error)
            raise

    async def _write_deferring(self, batch: list[Submission]) -> list[Submission]:
        """Write the batch; what is left to write one by one (all of it if the batch failed)."""
        pending = batch
        for attempt in range(2):
            try:
                return await self._write_batch(pending)
            except Exception as error:
                if not isinstance(error, SQLAlchemyError | repository.PatientMoved | OSError):
                    raise  # a bug
                pending = [s for s in pending if not s.future.done()]
                if attempt == 0 and getattr(error, "connection_invalidated", False):
                    continue  # a connection lost (database restarted): once more on a new one
                if unavailable(error):
                    for submission in pending:
                        submission.fail(error)
                    return []
                log.info("intake batch of %d written one by one: %s", len(batch), type(error))
                return pending
        raise AssertionError("unreachable")

    async def _write_one(self, submission: Submission) -> BaseException | None:
        try:
            async with write_session(self._state) as session:
                intake = await service.create_referral(
                    session,
                    submission.ctx,
                    submission.draft,
                    default_performer=submission.default_performer,
                    if_none_exist=submission.if_none_exist,
                )
        except Exception as error:  # the request's own answer (409, 412, 422, 503...)
            submission.fail(error)
            return error
        submission.answer(intake)
        return None

    async def _write_batch(self, batch: Sequence[Submission]) -> list[Submission]:
        """Store the plain new referrals of ``batch`` in one transaction; the rest is returned
        (deferred) to be written one by one afterwards."""
        fresh, deferred = [], []
        keys: set[tuple[str, str]] = set()
        numbers: set[str | None] = set()
        for submission in batch:
            own = {*submission.criteria, *submission.draft.identifiers}
            number = submission.draft.patient.nhs_number
            if own & keys or (number is not None and number in numbers):
                deferred.append(submission)
            else:
                fresh.append(submission)
            keys |= own
            numbers.add(number)
        stored: list[tuple[Submission, Intake]] = []
        async with write_session(self._state) as session:
            known = await repository.stored_identifiers(session, sorted(keys))
            new = []
            for submission in fresh:
                if known & {*submission.criteria, *submission.draft.identifiers}:
                    deferred.append(submission)  # a retry, a conditional create, or a clash
                else:
                    new.append(submission)
            if not new:
                return sorted(deferred, key=batch.index)
            answers = await service.store_new(
                session, [(s.ctx.actor, s.draft, s.default_performer) for s in new]
            )
            for submission, answer in zip(new, answers, strict=True):
                if isinstance(answer, Intake):
                    stored.append((submission, answer))
                else:
                    submission.fail(answer)
        for submission, intake in stored:
            submission.answer(intake)
        return sorted(deferred, key=batch.index)
