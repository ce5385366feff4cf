"""Referral rows as FHIR R4 resources (the wire boundary for this domain)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.referrals.intake import ODS_SYSTEM, REFERRAL_CODE, SELF_REQUESTER, SNOMED
from app.referrals.models import Consent, Patient, Referral, Task
from app.terminology.codesystems import REFERRAL_STAGE, REFERRAL_STAGE_SYSTEM, load

STAGE_SYSTEM = REFERRAL_STAGE_SYSTEM
STAGES = {c.code: c.display for c in load(REFERRAL_STAGE).concepts}


def _meta(version_id: int, updated_at: Any) -> dict[str, str]:
    return {"versionId": str(version_id), "lastUpdated": updated_at.isoformat()}


def organization(ods: str) -> dict[str, Any]:
    return {"type": "Organization", "identifier": {"system": ODS_SYSTEM, "value": ods}}


def patient_resource(patient: Patient) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": str(patient.id),
        "meta": _meta(patient.version_id, patient.updated_at),
        **{k: v for k, v in patient.resource.items() if k != "resourceType"},
    }


def service_request_resource(referral: Referral) -> dict[str, Any]:
    body = {k: v for k, v in referral.resource.items() if k != "resourceType"}
    body.update(
        status=referral.status,
        subject={"reference": f"Patient/{referral.patient_id}"},
        performer=[organization(referral.performer_ods)],
    )
    return {
        "resourceType": "ServiceRequest",
        "id": str(referral.id),
        "meta": _meta(referral.version_id, referral.updated_at),
        **body,
    }


def consent_resource(consent: Consent) -> dict[str, Any]:
    body = {k: v for k, v in consent.resource.items() if k not in ("resourceType", "patient")}
    return {
        "resourceType": "Consent",
        "id": str(consent.id),
        "meta": _meta(consent.version_id, consent.updated_at),
        **body,
        "patient": {"reference": f"Patient/{consent.patient_id}"},
    }


def task_resource(task: Task) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Task",
        "id": str(task.id),
        "meta": _meta(task.version_id, task.updated_at),
        "focus": {"reference": f"ServiceRequest/{task.referral_id}"},
        "for": {"reference": f"Patient/{task.patient_id}"},
        "status": task.status,
        "intent": "order",
        "code": {
            "coding": [
                {
                    "system": "http://hl7.org/fhir/CodeSystem/task-code",
                    "code": "fulfill",
                    "display": "Fulfill the focal request",
                }
            ]
        },
        "authoredOn": task.authored_on.isoformat(),
        "lastModified": task.updated_at.isoformat(),
        "requester": (
            {"reference": f"Patient/{task.patient_id}"}  # the person referred themselves
            if task.requester_ods == SELF_REQUESTER
            else organization(task.requester_ods)
        ),
        "owner": organization(task.owner_ods),
    }
    if task.status_reason:
        resource["statusReason"] = task.status_reason
    if task.business_status:
        resource["businessStatus"] = {
            "coding": [
                {
                    "system": STAGE_SYSTEM,
                    "code": task.business_status,
                    "display": STAGES[task.business_status],
                }
            ]
        }
    if task.output:
        resource["output"] = task.output
    return resource


def opt_in_consent(at: dt.datetime) -> dict[str, Any]:
    """A contained Consent (``#consent``) of the contained Patient (``#patient``), given at
    ``at``: they agreed to the referral and to sharing their details (an opt-in)."""
    return {
        "resourceType": "Consent",
        "id": "consent",
        "status": "active",
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy",
                }
            ]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": "#patient"},
        "dateTime": at.isoformat(),
        "policyRule": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}
            ]
        },
    }


def social_prescribing_code() -> dict[str, Any]:
    """``ServiceRequest.code`` of a referral: SNOMED CT Referral to social prescribing service."""
    return {
        "coding": [
            {
                "system": SNOMED,
                "code": REFERRAL_CODE,
                "display": "Referral to social prescribing service",
            }
        ]
    }
