"""A self-referral as the FHIR ServiceRequest a GP system would send (pure), so that the
referral intake (``app/referrals/intake.py``, ``self_referral=True``) checks and stores it like
any other: the Patient and the Consent contained, the Patient as requester, the person's words
as ``reasonCode.text`` (mapped to needs like a GP's free text), their preferences as the
referral-preferences extension (DESIGN.md 5.3), their language as ``Patient.communication`` and
their practice as ``Patient.generalPractitioner``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.auth.principal import ODS_CODE
from app.fhir import CANONICAL_BASE
from app.person import rules
from app.person.schemas import Preferences, SelfReferralCreate
from app.referrals import fhir as referral_fhir
from app.referrals import nhs_number
from app.referrals.intake import ODS_SYSTEM, PREFERENCES_URL
from app.terminology.codesystems import ACTIVITY_CATEGORY_SYSTEM

REFERENCE_SYSTEM = f"{CANONICAL_BASE}/sid/self-referral"  # the person's reference
PATIENT, CONSENT = "#patient", "#consent"
AUTHOR = "the person (self-referral)"


def service_request(
    data: SelfReferralCreate,
    reference: str,
    performer: str | None,
    now: dt.datetime,
    *,
    person_known: bool = False,
) -> dict[str, Any]:
    """The ServiceRequest of a checked self-referral (``rules.problems`` found nothing).
    ``person_known``: their NHS number is a stored person's, whose record the self-referral
    leaves as it is; what they gave goes in a note for the link worker."""
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "contained": [patient(data), referral_fhir.opt_in_consent(now)],
        "identifier": [{"system": REFERENCE_SYSTEM, "value": reference}],
        "status": "active",
        "intent": "order",
        "code": referral_fhir.social_prescribing_code(),
        "subject": {"reference": PATIENT},
        "requester": {"reference": PATIENT},
        "authoredOn": now.isoformat(),
        "reasonCode": [{"text": data.about.strip()}],
        "supportingInfo": [{"reference": CONSENT}],
    }
    if performer is not None:
        resource["performer"] = [
            {"type": "Organization", "identifier": {"system": ODS_SYSTEM, "value": performer}}
        ]
    if person_known:
        resource["note"] = [{"authorString": AUTHOR, "time": now.isoformat(), "text": given(data)}]
    parts = preference_parts(data.preferences)
    if parts:
        resource["extension"] = [{"url": PREFERENCES_URL, "extension": parts}]
    return resource


def patient(data: SelfReferralCreate) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": PATIENT[1:],
        "name": [{"given": [data.given_name.strip()], "family": data.family_name.strip()}],
        "birthDate": data.birth_date.isoformat(),
        "address": [{"postalCode": rules.postcode(data.postcode)}],
    }
    if data.nhs_number and data.nhs_number.strip():
        resource["identifier"] = [
            {"system": nhs_number.SYSTEM, "value": nhs_number.normalise(data.nhs_number.strip())}
        ]
    telecom = []
    if data.mobile and data.mobile.strip():
        telecom.append({"system": "phone", "value": rules.mobile(data.mobile), "use": "mobile"})
    if data.email and data.email.strip():
        telecom.append({"system": "email", "value": data.email.strip()})
    resource["telecom"] = telecom
    if data.preferences.language:
        coding = {"system": "urn:ietf:bcp:47", "code": data.preferences.language}
        resource["communication"] = [{"language": {"coding": [coding]}, "preferred": True}]
    practice = (data.gp_practice or "").strip()
    if practice and ODS_CODE.match(practice.upper()) and any(c.isdigit() for c in practice):
        identifier = {"system": ODS_SYSTEM, "value": practice.upper()}
        resource["generalPractitioner"] = [{"type": "Organization", "identifier": identifier}]
    elif practice:
        resource["generalPractitioner"] = [{"type": "Organization", "display": practice}]
    return resource


def given(data: SelfReferralCreate) -> str:
    """The details a person gave, in words (for a note when their record is not changed)."""
    contact = patient(data)
    said = [
        f"Name: {data.given_name.strip()} {data.family_name.strip()}",
        f"Postcode: {contact['address'][0]['postalCode']}",
        *(f"{t['system'].capitalize()}: {t['value']}" for t in contact["telecom"]),
    ]
    return "Details given with this self-referral. " + "; ".join(said)


def preference_parts(preferences: Preferences) -> list[dict[str, Any]]:
    """The sub-extensions of the referral-preferences extension (DESIGN.md 5.3)."""
    parts: list[dict[str, Any]] = [
        {"url": "interest", "valueCoding": {"system": ACTIVITY_CATEGORY_SYSTEM, "code": code}}
        for code in preferences.interests
    ]
    if preferences.attendance_mode:
        parts.append({"url": "attendanceMode", "valueCode": preferences.attendance_mode})
    if preferences.digital_access:
        parts.append({"url": "digitalAccess", "valueCode": preferences.digital_access})
    if preferences.max_travel_km is not None:
        parts.append({"url": "maxTravelKm", "valueDecimal": preferences.max_travel_km})
    coded = (
        ("accessibilityNeed", preferences.accessibility_needs),
        ("availableDay", preferences.available_days),
        ("groupPreference", preferences.group_preferences),
    )
    parts += [{"url": url, "valueCode": code} for url, codes in coded for code in codes]
    if preferences.free_only:
        parts.append({"url": "freeOnly", "valueBoolean": True})
    return parts
