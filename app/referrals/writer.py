"""Group commit for referral intake: concurrent creates are stored together.

Each ``POST /fhir/ServiceRequest`` hands its checked draft to the process's ``IntakeWriter`` and
awaits its own answer. The writer stores whatever is queued in one transaction of multi-row
INSERTs (three SELECTs for the whole batch: stored identifiers, the people by NHS number, the
routing rules; on PostgreSQL the people's INSERT, then one statement for every other table),
then takes what queued up meanwhile. There is no waiting window: a request
that finds the writer idle is written at once, alone.

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
import datetime as dt
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import (
    DBAPIError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import configure_mappers

from app.audit import service as audit
from app.db import utcnow, write_session
from app.referrals import fhir, repository, service
from app.referrals.intake import ReferralDraft, stored_referral
from app.referrals.models import (
    Consent,
    Patient,
    Referral,
    ReferralCoding,
    ReferralIdentifier,
    ReferralNeed,
    ResourceVersion,
    Task,
)
from app.routing import service as routing_service

log = logging.getLogger(__name__)
M = TypeVar("M", Patient, Referral, Task, Consent)

MAX_BATCH = 64


class PatientMoved(Exception):
    """A patient row changed between the batch's read and its update."""


@dataclass
class Submission:
    ctx: service.Context
    draft: ReferralDraft
    default_performer: str | None
    if_none_exist: tuple[str, str] | None
    future: asyncio.Future[service.Intake]

    @property
    def criteria(self) -> list[tuple[str, str]]:
        return [self.if_none_exist] if self.if_none_exist else self.draft.identifiers

    def answer(self, intake: service.Intake) -> None:
        if not self.future.done():  # the client may have gone (request cancelled)
            self.future.set_result(intake)

    def fail(self, error: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(error)


@dataclass
class Rows:
    """Everything one batch inserts, table by table."""

    patients: list[dict[str, Any]] = field(default_factory=list)
    patient_updates: list[tuple[dict[str, Any], int]] = field(default_factory=list)
    referrals: list[dict[str, Any]] = field(default_factory=list)
    identifiers: list[dict[str, Any]] = field(default_factory=list)
    codings: list[dict[str, Any]] = field(default_factory=list)
    needs: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    consents: list[dict[str, Any]] = field(default_factory=list)
    versions: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)

    def after_patients(self) -> list[tuple[Any, list[dict[str, Any]]]]:
        """The tables stored after the patient rows, each with its rows, in that order."""
        return [
            (Referral.__table__, self.referrals),
            (ReferralIdentifier.__table__, self.identifiers),
            (ReferralCoding.__table__, self.codings),
            (ReferralNeed.__table__, self.needs),
            (Task.__table__, self.tasks),
            (Consent.__table__, self.consents),
            (ResourceVersion.__table__, self.versions),
            (audit.table(), self.audit),
        ]

    def keep_version(self, resource: dict[str, Any], recorded_at: dt.datetime) -> None:
        self.versions.append(
            {
                "resource_type": resource["resourceType"],
                "resource_id": uuid.UUID(resource["id"]),
                "version_id": int(resource["meta"]["versionId"]),
                "recorded_at": recorded_at,
                "resource": resource,
            }
        )


class IntakeWriter:
    """The process's intake queue; ``state`` is the application's (sessionmaker, SQLite lock)."""

    def __init__(self, state: Any) -> None:
        self._state = state
        self._queue: list[Submission] = []
        self._drainer: asyncio.Task[None] | None = None

    async def create(
        self,
        ctx: service.Context,
        draft: ReferralDraft,
        *,
        default_performer: str | None,
        if_none_exist: tuple[str, str] | None = None,
    ) -> service.Intake:
        """What ``service.create_referral`` answers, stored with the referrals queued alongside."""
        future: asyncio.Future[service.Intake] = asyncio.get_running_loop().create_future()
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
                if error is not None and _unavailable(error):
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
            except (SQLAlchemyError, PatientMoved) as error:
                pending = [s for s in pending if not s.future.done()]
                if attempt == 0 and getattr(error, "connection_invalidated", False):
                    continue  # a connection lost (database restarted): once more on a new one
                if _unavailable(error):
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
        numbers: set[str] = set()
        for submission in batch:
            own = {*submission.criteria, *submission.draft.identifiers}
            number = submission.draft.patient.nhs_number
            if own & keys or number in numbers:
                deferred.append(submission)
            else:
                fresh.append(submission)
            keys |= own
            numbers.add(number)
        stored: list[tuple[Submission, service.Intake]] = []
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
            unrouted = {s.draft.requester_ods for s in new if not s.draft.performer_ods}
            routed = await routing_service.performers(session, sorted(unrouted))
            people = await repository.patient_rows(
                session, sorted(s.draft.patient.nhs_number for s in new)
            )
            rows = Rows()
            for submission in new:
                draft = submission.draft
                performer = (
                    draft.performer_ods
                    or routed.get(draft.requester_ods)
                    or submission.default_performer
                )
                if not performer:
                    submission.fail(service.no_performer())
                    continue
                intake = _plan(rows, draft, performer, people.get(draft.patient.nhs_number))
                rows.audit += audit.success_rows(
                    submission.ctx.actor, service.intake_accesses(intake)
                )
                stored.append((submission, intake))
            await _insert(session, rows)
        for submission, intake in stored:
            submission.answer(intake)
        return sorted(deferred, key=batch.index)


def _unavailable(error: BaseException) -> bool:
    """The database cannot be reached (answered 503): retrying item by item would only wait."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OperationalError | InterfaceError | PoolTimeout | OSError)


@cache
def _constructor(model: type[M]) -> Callable[[], M]:
    configure_mappers()  # as the ORM constructor would, once
    new_instance: Callable[[], M] = sa_inspect(model).class_manager.new_instance
    return new_instance


def _detached(model: type[M], values: dict[str, Any]) -> M:
    """A transient instance holding ``values``, for rendering and the answer: built as the ORM
    builds loaded rows (no ``__init__``, no change tracking), about ten times cheaper."""
    instance: M = _constructor(model)()
    instance.__dict__.update(values)
    return instance


def _plan(rows: Rows, draft: ReferralDraft, performer: str, person: Any) -> service.Intake:
    """Add the rows of one new referral (as ``service._store`` writes them) to ``rows``."""
    now = utcnow()
    given = draft.patient
    demographics = {
        "birth_date": given.birth_date,
        "gender": given.gender,
        "postcode": given.postcode,
        "resource": given.resource,
        "updated_at": now,
    }
    patient_changed = True
    if person is None:
        values = {
            "id": uuid.uuid4(),
            "version_id": 1,
            "nhs_number": given.nhs_number,
            "created_at": now,
            **demographics,
        }
        rows.patients.append(values)
    elif person.resource != given.resource:
        values = {**person._asdict(), **demographics, "version_id": person.version_id + 1}
        rows.patient_updates.append((values, person.version_id))
    else:
        values, patient_changed = person._asdict(), False
    patient = _detached(Patient, values)
    if patient_changed:
        rows.keep_version(fhir.patient_resource(patient), now)

    referral_id = uuid.uuid4()
    consent: Consent | None = None
    consent_id = uuid.uuid4() if draft.consent is not None else None
    if draft.consent is not None:
        consent_values = {
            "id": consent_id,
            "version_id": 1,
            "referral_id": referral_id,
            "patient_id": patient.id,
            "status": str(draft.consent["status"]),
            "resource": {k: v for k, v in draft.consent.items() if k not in ("id", "meta", "text")},
            "created_at": now,
            "updated_at": now,
        }
        rows.consents.append(consent_values)
        consent = _detached(Consent, consent_values)
    referral_values = {
        "id": referral_id,
        "version_id": 1,
        "status": draft.status,
        "intent": draft.intent,
        "patient_id": patient.id,
        "requester_ods": draft.requester_ods,
        "performer_ods": performer,
        "authored_on": draft.authored_on,
        "preferences": draft.preferences,
        "resource": stored_referral(draft, patient.id, consent_id),
        "created_at": now,
        "updated_at": now,
    }
    task_values = {
        "id": uuid.uuid4(),
        "version_id": 1,
        "referral_id": referral_id,
        "patient_id": patient.id,
        "status": "requested",
        "status_reason": None,
        "business_status": None,
        "requester_ods": draft.requester_ods,
        "owner_ods": performer,
        "authored_on": now,
        "output": [],
        "first_contact_at": None,
        "created_at": now,
        "updated_at": now,
    }
    rows.referrals.append(referral_values)
    rows.tasks.append(task_values)
    rows.identifiers += [
        {"referral_id": referral_id, "system": s, "value": v} for s, v in draft.identifiers
    ]
    rows.codings += [
        {"referral_id": referral_id, "element": element, "system": s, "code": c}
        for element, codings in (("code", draft.codes), ("category", draft.categories))
        for s, c in codings
    ]
    rows.needs += draft.need_rows(referral_id)
    referral, task = _detached(Referral, referral_values), _detached(Task, task_values)
    rows.keep_version(fhir.service_request_resource(referral), now)
    rows.keep_version(fhir.task_resource(task), now)
    if consent is not None:
        rows.keep_version(fhir.consent_resource(consent), now)
    return service.Intake(
        referral, task, patient, consent, created=True, patient_changed=patient_changed
    )


async def _insert(session: Any, rows: Rows) -> None:
    # The people first, on their own: the patient table's triggers read the referral table,
    # and in a statement of its own they see the referrals stored before, as one by one.
    await repository.insert_rows(session, Patient, rows.patients)
    for values, expected in rows.patient_updates:
        if not await repository.update_patient_row(session, values, expected):
            raise PatientMoved(values["id"])
    await repository.insert_tables(session, rows.after_patients())
