"""Referral use cases: intake, reads, searches, the GP revoking, link workers moving the Task.

Every function takes the ``Caller`` (principal + reach for the action) and applies the reach:
a referral outside it is "not found", and the attempt is audited as refused.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from app.audit import service as audit
from app.auth.context import Context
from app.auth.policy import Reach
from app.bookings import service as bookings_service
from app.db import utcnow
from app.errors import Conflict, Forbidden, Issue, NotFound, PreconditionFailed, Unprocessable
from app.fhir import CANONICAL_BASE
from app.notifications import outbox
from app.referrals import fhir, lifecycle, people, plan, repository
from app.referrals.intake import SELF_REQUESTER, ReferralDraft
from app.referrals.models import Consent, Patient, Referral, ResourceVersion, Task
from app.referrals.plan import Intake as Intake
from app.routing import service as routing_service

if TYPE_CHECKING:
    from app.referrals.writer import IntakeWriter

ACTIVITY_SYSTEM = f"{CANONICAL_BASE}/sid/activity"  # directory activity ids
CONTACT_STAGES = frozenset(
    {"first-contact", "plan-agreed", "activity-booked", "attending", "follow-up-due"}
)
ACTIVITY_ATTENDED = "Activity attended"  # Task.output type text of an attended activity
# What a completed Task's ``output`` lists beyond the activities: the referral's outcome
# Observations, from the outcomes domain (which imports this module, so it is passed in).
OutcomeOutputs = Callable[[AsyncSession, uuid.UUID], Awaitable[list[dict[str, Any]]]]


# --- helpers ---------------------------------------------------------------------------------


def _keep_version(session: AsyncSession, resource: dict[str, Any], recorded_at: Any) -> None:
    session.add(ResourceVersion(**plan.version_row(resource, recorded_at)))


def _keep_task_version(session: AsyncSession, task: Task, recorded_at: dt.datetime) -> None:
    """Keep the Task's new version and write its change to the outbox, in this transaction."""
    resource = fhir.task_resource(task)
    _keep_version(session, resource, recorded_at)
    outbox.record(session, resource, task.requester_ods, recorded_at)


def _check_if_match(if_match: str | None, current: int, resource_type: str) -> None:
    if if_match is None:
        return
    expected = if_match.strip().removeprefix("W/").strip('"')
    if expected != str(current):
        raise PreconditionFailed(
            f'If-Match {if_match} does not match the current version W/"{current}" of the '
            f"{resource_type}",
            [Issue("version conflict", "If-Match", code="conflict")],
        )


async def _denied(ctx: Context, access: audit.Access, reason: str) -> NotFound:
    await audit.record_denied(ctx.sessionmaker, ctx.actor, access, reason)
    return NotFound(f"{access.entity_type}/{access.entity_id} is not known")


def visible(referral: Referral, ctx: Context) -> bool:
    match ctx.reach:
        case Reach.ALL:
            return True
        case Reach.REQUESTED:
            return referral.requester_ods == ctx.org
        case Reach.PERFORMED:
            return referral.performer_ods == ctx.org
        case _:
            return False


# --- intake ------------------------------------------------------------------------------------


async def _existing(
    session: AsyncSession, ctx: Context, identifiers: Sequence[tuple[str, str]]
) -> Referral | None:
    matches = await repository.referrals_by_identifiers(session, identifiers)
    if not matches:
        return None
    if len(matches) > 1:
        raise PreconditionFailed(
            "The identifiers match more than one referral",
            [Issue("ambiguous identifiers", "ServiceRequest.identifier", code="duplicate")],
        )
    if not visible(matches[0], ctx):
        raise Conflict(
            "This referral identifier is already used by another organisation's referral",
            [Issue("identifier in use", "ServiceRequest.identifier", code="duplicate")],
        )
    return matches[0]


def check_requester(ctx: Context, draft: ReferralDraft) -> None:
    """A referrer refers as its own organisation (else 403)."""
    if ctx.reach is Reach.REQUESTED and draft.requester_ods != ctx.org:
        raise Forbidden(
            f"A referrer may only refer as its own organisation ({ctx.org}), "
            f"not {draft.requester_ods}",
            [
                Issue(
                    "requester is not the caller's organisation",
                    "ServiceRequest.requester",
                    code="forbidden",
                )
            ],
        )


async def submit(
    writer: IntakeWriter,
    ctx: Context,
    draft: ReferralDraft,
    *,
    default_performer: str | None,
    if_none_exist: tuple[str, str] | None = None,
) -> Intake:
    """Accept a referral sent on its own: what ``create_referral`` answers, stored by the
    process's intake ``writer`` with the referrals sent alongside, in a transaction of theirs
    committed before this returns."""
    check_requester(ctx, draft)
    return await writer.create(
        ctx, draft, default_performer=default_performer, if_none_exist=if_none_exist
    )


async def create_referral(
    session: AsyncSession,
    ctx: Context,
    draft: ReferralDraft,
    *,
    default_performer: str | None,
    if_none_exist: tuple[str, str] | None = None,
) -> Intake:
    """Accept a checked referral in the caller's transaction: routing, one Patient per NHS
    number, the Task, the audit.

    Idempotent: a referral whose identifier is already stored (or that matches
    ``If-None-Exist``) returns the existing one, ``created=False``.
    """
    check_requester(ctx, draft)
    criteria = [if_none_exist] if if_none_exist else draft.identifiers
    for attempt in range(2):
        existing = await _existing(session, ctx, criteria)
        if existing is not None:
            return await _intake_of(session, ctx, existing)
        try:
            async with session.begin_nested():
                [stored] = await store_new(session, [(ctx.actor, draft, default_performer)])
        except (IntegrityError, repository.PatientMoved):
            # A concurrent request stored the same person or identifier first: look again.
            if attempt:
                raise
            continue
        if isinstance(stored, Unprocessable):
            raise stored
        return stored
    raise AssertionError("unreachable")


NewReferral = tuple[audit.Actor, ReferralDraft, str | None]  # who, what, the default performer


async def store_new(
    session: AsyncSession, referrals: Sequence[NewReferral]
) -> list[Intake | Unprocessable]:
    """Store referrals known to be new (no identifier of theirs stored, no two for one person),
    with their Tasks, people, kept versions and audit: the routing rules and the people read
    once for all of them, their rows planned (app/referrals/plan.py) and inserted together.
    A referral no performer can be decided for is not stored; its answer is that 422."""
    routed = await routing_service.performers(session, plan.unrouted(d for _, d, _ in referrals))
    people = await repository.patient_rows(
        session, sorted({n for _, d, _ in referrals if (n := d.patient.nhs_number)})
    )
    rows = plan.Rows()
    answers: list[Intake | Unprocessable] = []
    for actor, draft, default_performer in referrals:
        try:
            performer = plan.performer(draft, routed, default_performer)
        except Unprocessable as refused:
            answers.append(refused)
            continue
        number = draft.patient.nhs_number
        person = people.get(number) if number else None
        answers.append(plan.add_referral(rows, draft, performer, person, actor, utcnow()))
    await repository.insert_planned(session, rows)
    return answers


async def _intake_of(session: AsyncSession, ctx: Context, referral: Referral) -> Intake:
    task = await repository.task_for_referral(session, referral.id)
    patient = await repository.get_patient(session, referral.patient_id)
    assert task is not None
    assert patient is not None
    audit.record(
        session,
        ctx.actor,
        audit.Access("read", "ServiceRequest", str(referral.id), referral.patient_id),
    )
    consent = await repository.consent_for_referral(session, referral.id)
    return Intake(referral, task, patient, consent, created=False)


# --- reads -----------------------------------------------------------------------------------


async def read_referral(
    session: AsyncSession, ctx: Context, referral_id: uuid.UUID, operation: str = "read"
) -> Referral:
    return await _readable(
        session, ctx, referral_id, operation, await repository.get_referral(session, referral_id)
    )


async def read_referral_patient_and_needs(
    session: AsyncSession, ctx: Context, referral_id: uuid.UUID, operation: str = "read"
) -> tuple[Referral, Patient, list[tuple[str, str | None]]]:
    """`read_referral`, the referral's person and its needs (as `needs_of` gives them), read
    in one query."""
    found = await repository.get_referral_patient_and_needs(session, referral_id)
    referral = await _readable(
        session, ctx, referral_id, operation, None if found is None else found[0]
    )
    assert found is not None
    return referral, found[1], found[2]


async def _readable(
    session: AsyncSession,
    ctx: Context,
    referral_id: uuid.UUID,
    operation: str,
    referral: Referral | None,
) -> Referral:
    """The referral read, once the caller may see it (audited); NotFound otherwise."""
    access = audit.Access(
        operation, "ServiceRequest", str(referral_id), referral.patient_id if referral else None
    )
    if referral is None:
        raise NotFound(f"ServiceRequest/{referral_id} is not known")
    if not visible(referral, ctx):
        raise await _denied(ctx, access, "outside the caller's organisation")
    audit.record(session, ctx.actor, access)
    return referral


async def read_task(
    session: AsyncSession, ctx: Context, task_id: uuid.UUID, operation: str = "read"
) -> Task:
    task = await repository.get_task(session, task_id)
    if task is None:
        raise NotFound(f"Task/{task_id} is not known")
    access = audit.Access(operation, "Task", str(task_id), task.patient_id)
    referral = await repository.get_referral(session, task.referral_id)
    assert referral is not None
    if not visible(referral, ctx):
        raise await _denied(ctx, access, "outside the caller's organisation")
    audit.record(session, ctx.actor, access)
    return task


async def read_patient(
    session: AsyncSession, ctx: Context, patient_id: uuid.UUID, operation: str = "read"
) -> Patient:
    patient = await repository.get_patient(session, patient_id)
    if patient is None:
        raise NotFound(f"Patient/{patient_id} is not known")
    access = audit.Access(operation, "Patient", str(patient_id), patient_id)
    if not await repository.is_patient_visible(session, patient_id, ctx.reach, ctx.org):
        raise await _denied(ctx, access, "no referral of the caller's organisation")
    audit.record(session, ctx.actor, access)
    return patient


async def read_consent(session: AsyncSession, ctx: Context, consent_id: uuid.UUID) -> Consent:
    consent = await repository.get_consent(session, consent_id)
    if consent is None:
        raise NotFound(f"Consent/{consent_id} is not known")
    await read_referral(session, ctx, consent.referral_id)
    return consent


async def history(
    session: AsyncSession, ctx: Context, resource_type: str, resource_id: uuid.UUID
) -> list[ResourceVersion]:
    readers = {"ServiceRequest": read_referral, "Task": read_task, "Patient": read_patient}
    await readers[resource_type](session, ctx, resource_id, "history")
    return await repository.versions(session, resource_type, resource_id)


async def vread(
    session: AsyncSession, ctx: Context, resource_type: str, resource_id: uuid.UUID, version_id: int
) -> ResourceVersion:
    readers = {"ServiceRequest": read_referral, "Task": read_task, "Patient": read_patient}
    await readers[resource_type](session, ctx, resource_id, "vread")
    found = await repository.version(session, resource_type, resource_id, version_id)
    if found is None:
        raise NotFound(f"{resource_type}/{resource_id} has no version {version_id}")
    return found


def audit_search(
    session: AsyncSession, ctx: Context, resource_type: str, rows: Sequence[Any]
) -> None:
    for row in rows:
        patient_id = row.id if resource_type == "Patient" else row.patient_id
        audit.record(
            session, ctx.actor, audit.Access("search", resource_type, str(row.id), patient_id)
        )


# --- writes ----------------------------------------------------------------------------------


_FIXED_SR = ("status", "meta", "id", "text")


async def update_referral(
    session: AsyncSession,
    ctx: Context,
    referral_id: uuid.UUID,
    body: dict[str, Any],
    if_match: str | None,
) -> Referral:
    """The referrer's only change: ``status`` to ``revoked``, which cancels the Task."""
    referral = await read_referral(session, ctx, referral_id, "update")
    _check_if_match(if_match, referral.version_id, "ServiceRequest")
    current = fhir.service_request_resource(referral)
    changed = sorted(
        key
        for key in set(current) | set(body)
        if key not in _FIXED_SR and current.get(key) != body.get(key)
    )
    if changed:
        raise Unprocessable(
            "Only ServiceRequest.status may change (to 'revoked')",
            [
                Issue("may not change", f"ServiceRequest.{key}", code="business-rule")
                for key in changed
            ],
        )
    new_status = body.get("status")
    if new_status == referral.status:
        return referral
    if new_status != "revoked":
        raise Unprocessable(
            "A referral may only be revoked by update",
            [
                Issue(
                    "status may only become 'revoked'",
                    "ServiceRequest.status",
                    code="business-rule",
                )
            ],
        )
    if referral.status not in lifecycle.REVOCABLE:
        raise Conflict(
            f"Cannot revoke the referral: it is {referral.status}, which is final; only "
            f"{', '.join(lifecycle.REVOCABLE)} referrals can be revoked",
            [Issue(f"status is {referral.status}", "ServiceRequest.status", code="business-rule")],
        )
    now = utcnow()
    referral.status = "revoked"
    referral.updated_at = now
    task = await repository.task_for_referral(session, referral.id)
    assert task is not None
    await _flush(session, if_match)
    _keep_version(session, fhir.service_request_resource(referral), now)
    if task.status not in lifecycle.TERMINAL:
        task.status = "cancelled"
        task.status_reason = {"text": "The referrer revoked the referral"}
        task.updated_at = now
        await _flush(session, if_match)
        _keep_task_version(session, task, now)
        audit.record(
            session, ctx.actor, audit.Access("update", "Task", str(task.id), task.patient_id)
        )
    await bookings_service.end_bookings(session, ctx, task.referral_id, "referral-revoked")
    return referral


async def _flush(session: AsyncSession, if_match: str | None) -> None:
    try:
        await session.flush()
    except StaleDataError:
        if if_match is not None:
            raise PreconditionFailed(
                "The resource was changed by another request (If-Match)"
            ) from None
        raise Conflict(
            "The resource was changed by another request; read it again and retry"
        ) from None


_FIXED_TASK = ("focus", "for", "intent", "code", "requester", "owner", "authoredOn", "output")


async def update_task(
    session: AsyncSession,
    ctx: Context,
    task_id: uuid.UUID,
    body: dict[str, Any],
    if_match: str | None,
    *,
    outcome_outputs: OutcomeOutputs,
) -> Task:
    """Move a Task through the status graph; the referral mirrors completion. A completed
    Task's ``output`` lists the activities attended and ``outcome_outputs`` of the referral."""
    task = await read_task(session, ctx, task_id, "update")
    _check_if_match(if_match, task.version_id, "Task")
    current = fhir.task_resource(task)
    changed = [k for k in _FIXED_TASK if current.get(k) != body.get(k)]
    if changed:
        raise Unprocessable(
            "Only Task.status, statusReason and businessStatus may change",
            [Issue("may not change", f"Task.{key}", code="business-rule") for key in changed],
        )
    new_status = body.get("status")
    status_reason = body.get("statusReason")
    lifecycle.check_transition(task.status, str(new_status), status_reason)
    stage = _business_status(body.get("businessStatus"))
    if (
        new_status == task.status
        and stage == task.business_status
        and status_reason == task.status_reason
    ):
        return task
    now = utcnow()
    task.status, task.status_reason, task.business_status = str(new_status), status_reason, stage
    if task.status == "completed":
        outcomes = await outcome_outputs(session, task.referral_id)
        task.output = [*_attended(task.output), *outcomes]
    if stage in CONTACT_STAGES and task.first_contact_at is None:
        task.first_contact_at = now
    task.updated_at = now
    await _flush(session, if_match)
    _keep_task_version(session, task, now)
    if task.status in lifecycle.TERMINAL:
        await bookings_service.end_bookings(session, ctx, task.referral_id, f"task-{task.status}")
    if task.status == "completed":
        referral = await repository.get_referral(session, task.referral_id)
        assert referral is not None
        referral.status, referral.updated_at = "completed", now
        await _flush(session, None)
        _keep_version(session, fhir.service_request_resource(referral), now)
        audit.record(
            session,
            ctx.actor,
            audit.Access("update", "ServiceRequest", str(referral.id), referral.patient_id),
        )
    return task


def _business_status(concept: Any) -> str | None:
    if concept is None:
        return None
    codings = [c for c in concept.get("coding", []) if c.get("system") == fhir.STAGE_SYSTEM]
    if len(codings) != 1 or codings[0].get("code") not in fhir.STAGES:
        raise Unprocessable(
            f"businessStatus needs one coding from {fhir.STAGE_SYSTEM}: {', '.join(fhir.STAGES)}",
            [Issue("unknown referral stage", "Task.businessStatus", code="code-invalid")],
        )
    return str(codings[0]["code"])


# --- for other domains (bookings, matching, outcomes) ---------------------------------------------


Route = Literal["gp", "self"]  # how a referral came: from a GP system, or the person themselves


def route_of(requester_ods: str) -> Route:
    """How a referral with this requester came."""
    return "self" if requester_ods == SELF_REQUESTER else "gp"


async def peek_referral(session: AsyncSession, referral_id: uuid.UUID) -> Referral:
    """A referral by id, without authorisation or audit: for callers that check both."""
    referral = await repository.get_referral(session, referral_id)
    if referral is None:
        raise NotFound(f"ServiceRequest/{referral_id} is not known")
    return referral


async def task_of(session: AsyncSession, referral_id: uuid.UUID) -> Task:
    task = await repository.task_for_referral(session, referral_id)
    if task is None:
        raise NotFound(f"ServiceRequest/{referral_id} has no Task")
    return task


async def patient_of(session: AsyncSession, referral: Referral) -> Patient:
    """The person of a referral the caller has read (``read_referral``)."""
    patient = await repository.get_patient(session, referral.patient_id)
    assert patient is not None
    return patient


async def needs_of(session: AsyncSession, referral: Referral) -> list[tuple[str, str | None]]:
    """The needs of a referral the caller has read, each with the element whose words gave it
    (``found_in``)."""
    return await repository.needs_of(session, referral.id)


async def earlier_stages(session: AsyncSession, task: Task) -> list[str]:
    """The Task's ``businessStatus`` codes in its kept history, newest version first."""
    stages = []
    for version in await repository.versions(session, "Task", task.id):
        codings = version.resource.get("businessStatus", {}).get("coding", [])
        stages += [c["code"] for c in codings if c.get("system") == fhir.STAGE_SYSTEM]
    return stages


def activity_output(activity_id: str, name: str) -> dict[str, Any]:
    """A ``Task.output`` entry for an activity the person attended."""
    return {
        "type": {"text": ACTIVITY_ATTENDED},
        "valueReference": {
            "type": "HealthcareService",
            "identifier": {"system": ACTIVITY_SYSTEM, "value": activity_id},
            "display": name,
        },
    }


def _attended(output: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in output if o.get("type", {}).get("text") == ACTIVITY_ATTENDED]


def _outcomes(output: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in output if o.get("type", {}).get("text") != ACTIVITY_ATTENDED]


async def advance_task(
    session: AsyncSession,
    ctx: Context,
    task: Task,
    *,
    stage: str | None = None,
    start: bool = False,
    outputs: Sequence[tuple[str, str]] | None = None,
    outcomes: Sequence[dict[str, Any]] | None = None,
    contact_at: dt.datetime | None = None,
) -> None:
    """Move a Task on from another domain's event: a stage (``businessStatus``), ``accepted``
    -> ``in-progress`` when work starts, the attended activities as ``output`` and, on a
    completed Task, the outcome entries after them (each part kept when not given).

    ``contact_at`` is when the event put the person in contact (default now): it becomes the
    time of first contact when ``stage`` is a contact stage and none is recorded yet."""
    changed = False
    if start and task.status == "accepted":
        task.status, changed = "in-progress", True
    if (
        stage is not None
        and stage != task.business_status
        and task.status not in lifecycle.TERMINAL
    ):
        task.business_status, changed = stage, True
        if stage in CONTACT_STAGES and task.first_contact_at is None:
            task.first_contact_at = min(contact_at or utcnow(), utcnow())
    if outputs is not None or outcomes is not None:
        attended = [activity_output(i, n) for i, n in outputs or []]
        rendered = [
            *(_attended(task.output) if outputs is None else attended),
            *(_outcomes(task.output) if outcomes is None else outcomes),
        ]
        if rendered != task.output:
            task.output, changed = rendered, True
    if not changed:
        return
    now = utcnow()
    task.updated_at = now
    await _flush(session, None)
    _keep_task_version(session, task, now)
    audit.record(session, ctx.actor, audit.Access("update", "Task", str(task.id), task.patient_id))


# --- self-referrals (app/person) ------------------------------------------------------------------

MAX_NOTES = 10  # notes a repeated self-referral may add to the first: enough, and bounded


async def person_known(session: AsyncSession, nhs_number: str) -> bool:
    """Whether a person with this NHS number is stored (a self-referral then leaves their
    record as it is: ``plan.add_referral``)."""
    return bool(await repository.patient_rows(session, [nhs_number]))


async def earlier_self_referral(
    session: AsyncSession, ctx: Context, draft: ReferralDraft, *, since: dt.datetime
) -> Referral | None:
    """The same person's open self-referral made since ``since`` (same NHS number, or same
    name, birth date and postcode), its read audited; None when there is none."""
    person = draft.patient
    candidates = await repository.open_self_referrals(
        session,
        requester=SELF_REQUESTER,
        since=since,
        nhs_number=person.nhs_number,
        birth_date=person.birth_date,
        postcode=person.postcode,
        closed=sorted(lifecycle.TERMINAL),
    )
    for referral, resource, number in candidates:
        same_number = person.nhs_number is not None and number == person.nhs_number
        if same_number or people.name_key(resource) == people.name_key(person.resource):
            access = audit.Access("read", "ServiceRequest", str(referral.id), referral.patient_id)
            audit.record(session, ctx.actor, access)
            return referral
    return None


async def add_note(session: AsyncSession, ctx: Context, referral: Referral, text: str) -> bool:
    """Add the person's new words to their referral's ``note`` (a new version), unless the
    referral already holds them or ``MAX_NOTES`` notes; whether it did."""
    resource = referral.resource
    notes = list(resource.get("note", []))
    said = {r.get("text") for r in resource.get("reasonCode", [])} | {n.get("text") for n in notes}
    if text in said or len(notes) >= MAX_NOTES:
        return False
    now = utcnow()
    notes.append(
        {"authorString": "the person (self-referral)", "time": now.isoformat(), "text": text}
    )
    referral.resource = {**resource, "note": notes}
    referral.updated_at = now
    await _flush(session, None)
    _keep_version(session, fhir.service_request_resource(referral), now)
    audit.record(
        session,
        ctx.actor,
        audit.Access("update", "ServiceRequest", str(referral.id), referral.patient_id),
    )
    return True
