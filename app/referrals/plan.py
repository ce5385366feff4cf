"""The rows a new referral is stored as, planned once for both ways referrals are written.

``add_referral`` plans the rows of one new referral from its checked draft, its performer
(``performer``: the one given, else the practice's routing rule, else the default), the
person's stored row (or None), the actor and the clock: plain dicts per table (the person
inserted or updated, the referral, its identifiers, codings and needs, its Task, its Consent,
the first version of each resource kept, the audit rows), and the transient objects the answer
is rendered from. No session: ``service.store_new`` stores the plans of one referral (the
one-by-one path) or of a batch (the intake writer) with ``repository.insert_planned``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import configure_mappers

from app.audit import service as audit
from app.errors import Issue, Unprocessable
from app.notifications import outbox
from app.referrals import fhir
from app.referrals.intake import SELF_REQUESTER, PatientDraft, ReferralDraft, stored_referral
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

M = TypeVar("M", Patient, Referral, Task, Consent)


@dataclass(frozen=True)
class Intake:
    """A referral accepted: stored now (``created``) or found stored."""

    referral: Referral
    task: Task
    patient: Patient
    consent: Consent | None
    created: bool
    patient_changed: bool = False


@dataclass
class Rows:
    """The rows of one or more new referrals, table by table."""

    patients: list[dict[str, Any]] = field(default_factory=list)
    patient_updates: list[tuple[dict[str, Any], int]] = field(default_factory=list)
    referrals: list[dict[str, Any]] = field(default_factory=list)
    identifiers: list[dict[str, Any]] = field(default_factory=list)
    codings: list[dict[str, Any]] = field(default_factory=list)
    needs: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    consents: list[dict[str, Any]] = field(default_factory=list)
    versions: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
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
            (outbox.table(), self.events),
            (audit.table(), self.audit),
        ]


def version_row(resource: dict[str, Any], recorded_at: dt.datetime) -> dict[str, Any]:
    """The ``resource_version`` row keeping a rendered resource's current version."""
    return {
        "resource_type": resource["resourceType"],
        "resource_id": uuid.UUID(resource["id"]),
        "version_id": int(resource["meta"]["versionId"]),
        "recorded_at": recorded_at,
        "resource": resource,
    }


# --- routing -----------------------------------------------------------------------------------


def unrouted(drafts: Iterable[ReferralDraft]) -> list[str]:
    """The practices whose routing rules decide the performer of some of ``drafts``."""
    return sorted({d.requester_ods for d in drafts if not d.performer_ods})


def performer(draft: ReferralDraft, routed: Mapping[str, str], default: str | None) -> str:
    """The referral's performer: the one it names, else its practice's rule (``routed``: the
    rules of the ``unrouted`` practices), else ``default``; 422 when there is none."""
    chosen = draft.performer_ods or routed.get(draft.requester_ods) or default
    if not chosen:
        raise no_performer()
    return chosen


def no_performer() -> Unprocessable:
    return Unprocessable(
        "No link-worker service for this referral: give a performer, or ask an administrator "
        "to add a routing rule for the practice or set ASSETLINK_DEFAULT_PERFORMER_ODS",
        [Issue("no performer could be decided", "ServiceRequest.performer", code="business-rule")],
    )


# --- the rows ----------------------------------------------------------------------------------


def intake_accesses(intake: Intake) -> list[audit.Access]:
    """The audit entries of a stored referral."""
    pid = intake.patient.id
    entries = [
        audit.Access("create", "ServiceRequest", str(intake.referral.id), pid),
        audit.Access("create", "Task", str(intake.task.id), pid),
    ]
    if intake.patient_changed:
        entries.append(audit.Access("update", "Patient", str(pid), pid))
    if intake.consent is not None:
        entries.append(audit.Access("create", "Consent", str(intake.consent.id), pid))
    return entries


def add_referral(
    rows: Rows,
    draft: ReferralDraft,
    performer: str,
    person: Mapping[str, Any] | None,
    actor: audit.Actor,
    now: dt.datetime,
) -> Intake:
    """Add the rows of one new referral to ``rows``; ``person``: the stored patient row of
    its NHS number (one Patient per person: a new referral brings the latest demographics,
    but a self-referral never changes a stored person: anyone can send one)."""
    if person is not None and draft.requester_ods == SELF_REQUESTER:
        patient, patient_changed = _detached(Patient, dict(person)), False
    else:
        patient, patient_changed = _add_patient(rows, draft.patient, person, now)
    referral_id = uuid.uuid4()
    consent = _add_consent(rows, draft.consent, referral_id, patient.id, now)
    consent_id = consent.id if consent is not None else None
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
    task_values = new_task(
        uuid.uuid4(), referral_id, patient.id, draft.requester_ods, performer, now
    )
    rows.referrals.append(referral_values)
    rows.tasks.append(task_values)
    _add_coded_rows(rows, draft, referral_id)
    referral, task = _detached(Referral, referral_values), _detached(Task, task_values)
    rows.versions.append(version_row(fhir.service_request_resource(referral), now))
    task_resource = fhir.task_resource(task)
    rows.versions.append(version_row(task_resource, now))
    rows.events.append(outbox.event_row(task_resource, draft.requester_ods, now))
    if consent is not None:
        rows.versions.append(version_row(fhir.consent_resource(consent), now))
    intake = Intake(referral, task, patient, consent, created=True, patient_changed=patient_changed)
    rows.audit += audit.success_rows(actor, intake_accesses(intake), recorded_at=now)
    return intake


def new_task(
    task_id: uuid.UUID,
    referral_id: uuid.UUID,
    patient_id: uuid.UUID,
    requester_ods: str,
    owner_ods: str,
    now: dt.datetime,
) -> dict[str, Any]:
    """The columns of a referral's Task as created at intake (``requested``)."""
    return {
        "id": task_id,
        "version_id": 1,
        "referral_id": referral_id,
        "patient_id": patient_id,
        "status": "requested",
        "status_reason": None,
        "business_status": None,
        "requester_ods": requester_ods,
        "owner_ods": owner_ods,
        "authored_on": now,
        "output": [],
        "first_contact_at": None,
        "created_at": now,
        "updated_at": now,
    }


def _add_patient(
    rows: Rows, given: PatientDraft, person: Mapping[str, Any] | None, now: dt.datetime
) -> tuple[Patient, bool]:
    """The referral's Patient: new, ``person`` brought up to date, or ``person`` unchanged
    (then False: no row and no version added)."""
    demographics = {
        "birth_date": given.birth_date,
        "gender": given.gender,
        "postcode": given.postcode,
        "resource": given.resource,
        "updated_at": now,
    }
    if person is None:
        values = {
            "id": uuid.uuid4(),
            "version_id": 1,
            "nhs_number": given.nhs_number,
            "created_at": now,
            **demographics,
        }
        rows.patients.append(values)
    elif person["resource"] != given.resource:
        values = {**person, **demographics, "version_id": person["version_id"] + 1}
        rows.patient_updates.append((values, person["version_id"]))
    else:
        return _detached(Patient, dict(person)), False
    patient = _detached(Patient, values)
    rows.versions.append(version_row(fhir.patient_resource(patient), now))
    return patient, True


def _add_consent(
    rows: Rows,
    given: dict[str, Any] | None,
    referral_id: uuid.UUID,
    patient_id: uuid.UUID,
    now: dt.datetime,
) -> Consent | None:
    """The Consent sent as a Bundle entry (None: none, or contained in the referral)."""
    if given is None:
        return None
    values = {
        "id": uuid.uuid4(),
        "version_id": 1,
        "referral_id": referral_id,
        "patient_id": patient_id,
        "status": str(given["status"]),
        "resource": {k: v for k, v in given.items() if k not in ("id", "meta", "text")},
        "created_at": now,
        "updated_at": now,
    }
    rows.consents.append(values)
    return _detached(Consent, values)


def _add_coded_rows(rows: Rows, draft: ReferralDraft, referral_id: uuid.UUID) -> None:
    """The referral's identifiers, codings and needs, kept for search."""
    rows.identifiers += [
        {"referral_id": referral_id, "system": s, "value": v} for s, v in draft.identifiers
    ]
    rows.codings += [
        {"referral_id": referral_id, "element": element, "system": s, "code": c}
        for element, codings in (("code", draft.codes), ("category", draft.categories))
        for s, c in codings
    ]
    rows.needs += draft.need_rows(referral_id)


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
