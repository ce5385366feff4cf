"""Complete requests of the FHIR API, one JSON file each: the examples of the OpenAPI contract
and of docs/fhir.md (tests/fhir/test_examples.py posts each one and checks that the page shows
the same JSON). Fictitious people: NHS numbers of the 999 test range."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SUMMARIES = {
    "service-request": "A referral with its contained Patient and Consent (routed by the practice)",
    "transaction": "The same kind of referral as a transaction: Patient, ServiceRequest, Consent",
    "questionnaire-response": "A SWEMWBS baseline (basedOn: the id a referral's 201 returned)",
    "subscription": "A practice system's rest-hook Subscription to its referrals' Task changes",
}


def example(name: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((Path(__file__).parent / f"{name}.json").read_text())
    return value
