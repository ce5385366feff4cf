"""Referral payloads as a GP system would send them, with overrides for each test."""

from __future__ import annotations

import copy
import itertools
import random
import uuid
from typing import Any

from app.referrals.intake import ODS_SYSTEM, PREFERENCES_URL, REFERRAL_CODE, SNOMED
from app.referrals.nhs_number import is_valid
from app.terminology.codesystems import ACTIVITY_CATEGORY_SYSTEM, NEED_SYSTEM

GP_SYSTEM = "https://fhir.example-gp.nhs.uk/Id/referral"
_counter = itertools.count(1)


def nhs_number(rng: random.Random | None = None) -> str:
    """A random NHS number that passes the Modulus 11 check (999 range: never a real person)."""
    rng = rng or random.Random()
    while True:
        candidate = "999" + "".join(str(rng.randrange(10)) for _ in range(6))
        for digit in "0123456789":
            if is_valid(candidate + digit):
                return candidate + digit


def patient(number: str | None = None, **overrides: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": "patient",
        "identifier": [
            {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": number or nhs_number()}
        ],
        "name": [{"family": "Okafor", "given": ["Grace"]}],
        "gender": "female",
        "birthDate": "1948-05-17",
        "address": [{"line": ["12 Mill Lane"], "city": "Camden", "postalCode": "NW1 7HS"}],
        "telecom": [{"system": "phone", "value": "020 7946 0000"}],
        "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "en"}]}}],
    }
    resource.update(overrides)
    return resource


def consent(**overrides: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
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
        "dateTime": "2026-11-01T09:55:00+00:00",
        "policyRule": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}
            ]
        },
    }
    resource.update(overrides)
    return resource


def preferences(**parts: Any) -> dict[str, Any]:
    extension = []
    for url, value in parts.items():
        for item in value if isinstance(value, list) else [value]:
            extension.append({"url": url, **item})
    return {"url": PREFERENCES_URL, "extension": extension}


def service_request(
    *,
    requester_ods: str = "A81001",
    identifier_value: str | None = None,
    person: dict[str, Any] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A valid referral (contained Patient, Consent); ``overrides`` replace top-level elements."""
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "contained": [person or patient(), consent()],
        "identifier": [
            {
                "system": GP_SYSTEM,
                "value": identifier_value or f"REF-{next(_counter)}-{uuid.uuid4().hex[:8]}",
            }
        ],
        "status": "active",
        "intent": "order",
        "category": [
            {
                "coding": [
                    {"system": SNOMED, "code": "410606002", "display": "Social service procedure"}
                ]
            }
        ],
        "code": {
            "coding": [
                {
                    "system": SNOMED,
                    "code": REFERRAL_CODE,
                    "display": "Referral to social prescribing service",
                }
            ]
        },
        "subject": {"reference": "#patient"},
        "requester": {"identifier": {"system": ODS_SYSTEM, "value": requester_ods}},
        "authoredOn": "2026-11-01T10:00:00+00:00",
        "reasonCode": [
            {
                "coding": [{"system": NEED_SYSTEM, "code": "loneliness-isolation"}],
                "text": "Lives alone since bereavement",
            }
        ],
        "supportingInfo": [{"reference": "#consent"}],
        "extension": [
            preferences(
                interest=[
                    {
                        "valueCoding": {
                            "system": ACTIVITY_CATEGORY_SYSTEM,
                            "code": "music-singing",
                        }
                    }
                ],
                attendanceMode={"valueCode": "in-person"},
                digitalAccess={"valueCode": "limited"},
                maxTravelKm={"valueDecimal": 5},
                availableDay=[{"valueCode": "tue"}, {"valueCode": "thu"}],
                freeOnly={"valueBoolean": True},
            )
        ],
    }
    resource.update(overrides)
    return resource


def transaction(sr: dict[str, Any] | None = None) -> dict[str, Any]:
    """The same referral as a transaction Bundle (Patient, ServiceRequest, Consent as entries)."""
    sr = copy.deepcopy(sr or service_request())
    contained = {c["id"]: c for c in sr.pop("contained")}
    p_url, c_url, s_url = (f"urn:uuid:{uuid.uuid4()}" for _ in range(3))
    person = {k: v for k, v in contained["patient"].items() if k != "id"}
    agreement = {k: v for k, v in contained["consent"].items() if k != "id"}
    agreement["patient"] = {"reference": p_url}
    sr["subject"] = {"reference": p_url}
    sr["supportingInfo"] = [{"reference": c_url}]
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": p_url, "resource": person, "request": {"method": "POST", "url": "Patient"}},
            {
                "fullUrl": s_url,
                "resource": sr,
                "request": {"method": "POST", "url": "ServiceRequest"},
            },
            {
                "fullUrl": c_url,
                "resource": agreement,
                "request": {"method": "POST", "url": "Consent"},
            },
        ],
    }
