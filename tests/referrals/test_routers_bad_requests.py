"""Table-driven: every bad payload or request gets its documented status, an OperationOutcome
naming the problem, never a 5xx, and nothing is written."""

from __future__ import annotations

import copy
import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Role
from app.models import Base
from tests.conftest import TEST_SECRET, TokenFactory
from tests.referrals import factories

Payload = dict[str, Any]


def _sr(**overrides: Any) -> Payload:
    return factories.service_request(**overrides)


def _patient(**overrides: Any) -> Payload:
    sr = factories.service_request()
    sr["contained"][0].update(overrides)
    return sr


def _without_patient_field(name: str) -> Payload:
    sr = factories.service_request()
    del sr["contained"][0][name]
    return sr


def _consent(**overrides: Any) -> Payload:
    sr = factories.service_request()
    sr["contained"][1].update(overrides)
    return sr


def _without_consent_field(name: str) -> Payload:
    sr = factories.service_request()
    del sr["contained"][1][name]
    return sr


def _without_consent() -> Payload:
    sr = factories.service_request()
    del sr["supportingInfo"]
    sr["contained"] = sr["contained"][:1]
    return sr


def _without(name: str) -> Payload:
    sr = factories.service_request()
    del sr[name]
    return sr


def _preference(url: str, value: dict[str, Any]) -> Payload:
    return _sr(extension=[factories.preferences(**{url: value})])


def _from_now(**delta: float) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(**delta)).isoformat()


def _nested(depth: int) -> bytes:
    return b'{"resourceType": "ServiceRequest", "note": ' + b"[" * depth + b"]" * depth + b"}"


def _expired_token() -> dict[str, str]:
    claims = {
        "sub": "gp",
        "role": "referrer",
        "org": "A81001",
        "aud": "assetlink",
        "exp": int(time.time()) - 3600,
    }
    return {"Authorization": f"Bearer {jwt.encode(claims, TEST_SECRET, algorithm='HS256')}"}


@dataclass
class Case:
    name: str
    status: int
    body: Payload | bytes | None = None
    expression: str | None = None  # an issue's expression must contain this
    message: str | None = None  # an issue's details.text or diagnostics must contain this
    headers: dict[str, str] = field(default_factory=dict)
    role: tuple[Role, str] | None = (Role.REFERRER, "A81001")
    token: Callable[[], dict[str, str]] | None = None


CASES = [
    Case("unparseable JSON", 400, b'{"resourceType": "ServiceRequest",'),
    Case("not UTF-8", 400, b"\xff\xfe{}"),
    Case(
        "duplicate keys",
        400,
        b'{"resourceType": "ServiceRequest", "status": "active", "status": "active"}',
    ),
    Case("JSON array", 400, b"[]"),
    Case("wrong resourceType", 400, {"resourceType": "Patient"}, "resourceType"),
    Case(
        "unknown contained resource type",
        400,
        _sr(contained=[{"resourceType": "Nope"}]),
        "resourceType",
    ),
    Case("unknown element", 400, _sr(colour="blue"), "ServiceRequest.colour"),
    Case(
        "unknown element in contained Patient", 400, _patient(favouriteFood="cake"), "favouriteFood"
    ),
    Case("malformed authoredOn", 400, _sr(authoredOn="yesterday"), "authoredOn"),
    Case("status not active", 422, _sr(status="draft"), "ServiceRequest.status"),
    Case("status not a code", 422, _sr(status="bogus"), "ServiceRequest.status"),
    Case("intent not allowed", 422, _sr(intent="filler-order"), "ServiceRequest.intent"),
    Case("no identifier", 422, _without("identifier"), "ServiceRequest.identifier"),
    Case(
        "identifier without system",
        422,
        _sr(identifier=[{"value": "x"}]),
        "ServiceRequest.identifier[0]",
    ),
    Case(
        "wrong SNOMED code",
        422,
        _sr(code={"coding": [{"system": "http://snomed.info/sct", "code": "183524004"}]}),
        "ServiceRequest.code",
    ),
    Case("no code", 422, _without("code"), "ServiceRequest.code"),
    Case(
        "subject not resolvable",
        422,
        _sr(subject={"reference": "#nobody"}),
        "ServiceRequest.subject",
    ),
    Case(
        "no NHS number", 422, _patient(identifier=[{"system": "urn:x", "value": "1"}]), "identifier"
    ),
    Case(
        "NHS number fails Modulus 11",
        422,
        _patient(
            identifier=[{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "4857773456"}]
        ),
        "identifier",
    ),
    Case("no name", 422, _without_patient_field("name"), "name"),
    Case("no birthDate", 422, _without_patient_field("birthDate"), "birthDate"),
    Case("birthDate in the future", 422, _patient(birthDate="2999-01-01"), "birthDate"),
    Case("no postcode", 422, _patient(address=[{"city": "Camden"}]), "address"),
    Case("not a UK postcode", 422, _patient(address=[{"postalCode": "90210"}]), "postalCode"),
    Case("no requester ODS", 422, _sr(requester={"display": "Dr Who"}), "ServiceRequest.requester"),
    Case(
        "performer with wrong system",
        422,
        _sr(performer=[{"identifier": {"system": "urn:x", "value": "Y1"}}]),
        "ServiceRequest.performer",
    ),
    Case("no reasonCode", 422, _without("reasonCode"), "ServiceRequest.reasonCode"),
    Case("no authoredOn", 422, _without("authoredOn"), "ServiceRequest.authoredOn"),
    Case(
        "authoredOn without time zone",
        400,
        _sr(authoredOn="2026-11-01T10:00:00"),
        "ServiceRequest.authoredOn",
        "a time zone is required",
    ),
    Case(
        "authoredOn without seconds or time zone",
        400,
        _sr(authoredOn="2026-11-01T10:00"),
        "ServiceRequest.authoredOn",
        "a time zone is required",
    ),
    Case(
        "Consent dateTime without time zone",
        400,
        _consent(dateTime="2026-11-01T09:55:00"),
        "ServiceRequest.contained[1].dateTime",
        "a time zone is required",
    ),
    Case(
        "authoredOn tomorrow",
        422,
        _sr(authoredOn=_from_now(days=1)),
        "ServiceRequest.authoredOn",
        "in the future",
    ),
    Case(
        "authoredOn in 2031",
        422,
        _sr(authoredOn="2031-01-01T09:00:00Z"),
        "ServiceRequest.authoredOn",
        "in the future",
    ),
    Case(
        "nested 50 000 deep",
        400,
        _nested(50_000),
        message="nested more than 64 levels deep",
    ),
    Case("nested 65 deep", 400, _nested(64), message="nested more than 64 levels deep"),
    Case("no consent", 422, _without_consent(), "supportingInfo"),
    Case("consent not active", 422, _consent(status="rejected"), "status"),
    Case("consent with an empty category", 400, _consent(category=[]), "contained[1].category"),
    Case("consent without category (1..*)", 400, _without_consent_field("category"), "category"),
    Case("empty string", 400, _sr(intent=" "), "ServiceRequest.intent"),
    Case("null value", 400, _sr(authoredOn=None), "ServiceRequest.authoredOn"),
    Case(
        "bad attendance mode",
        422,
        _preference("attendanceMode", {"valueCode": "teleport"}),
        "valueCode",
    ),
    Case(
        "bad travel distance", 422, _preference("maxTravelKm", {"valueDecimal": -3}), "valueDecimal"
    ),
    Case(
        "bad group preference",
        422,
        _preference("groupPreference", {"valueCode": "adults-only"}),
        "valueCode",
    ),
    Case("unknown preference", 422, _preference("favouriteColour", {"valueCode": "red"}), "url"),
    Case(
        "foreign requester",
        403,
        _sr(
            requester={
                "identifier": {
                    "system": "https://fhir.nhs.uk/Id/ods-organization-code",
                    "value": "B99999",
                }
            }
        ),
        "requester",
    ),
    Case("wrong media type", 415, _sr(), headers={"Content-Type": "text/plain"}),
    Case("oversized body", 413, _sr(note=[{"text": "x" * 1_100_000}])),
    Case("missing token", 401, _sr(), role=None),
    Case("expired token", 401, _sr(), role=None, token=_expired_token),
    Case("link worker may not create", 403, _sr(), role=(Role.LINK_WORKER, "Y02718")),
    Case("commissioner may not create", 403, _sr(), role=(Role.COMMISSIONER, "15N")),
    Case(
        "If-None-Exist with an unsupported criterion",
        400,
        _sr(),
        headers={"If-None-Exist": "status=active"},
    ),
]


async def _row_counts(session: AsyncSession) -> dict[str, int]:
    counts = {}
    for table in Base.metadata.sorted_tables:
        if table.name == "audit_event":
            continue  # refused accesses are audited on purpose
        counts[table.name] = await session.scalar(select(func.count()).select_from(table)) or 0
    return counts


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_bad_referral(
    client: httpx.AsyncClient, session: AsyncSession, auth: TokenFactory, case: Case
) -> None:
    before = await _row_counts(session)
    headers = {"Content-Type": "application/fhir+json"}
    if case.role:
        headers.update(auth(*case.role))
    if case.token:
        headers.update(case.token())
    headers.update(case.headers)
    body = case.body if isinstance(case.body, bytes) else json.dumps(case.body).encode()
    response = await client.post("/fhir/ServiceRequest", content=body, headers=headers)

    assert response.status_code == case.status, response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["severity"] == "error"
    if case.expression:
        expressions = [e for issue in outcome["issue"] for e in issue.get("expression", [])]
        assert any(case.expression in e for e in expressions), outcome
    if case.message:
        texts = [
            text
            for issue in outcome["issue"]
            for text in (issue.get("diagnostics", ""), issue.get("details", {}).get("text", ""))
        ]
        assert any(case.message in text for text in texts), outcome
    assert await _row_counts(session) == before


def test_there_are_at_least_25_cases() -> None:
    assert len(CASES) >= 25


BAD_TRANSACTIONS = {
    "batch, not transaction": lambda b: b.update(type="batch"),
    "an entry that is not a create": lambda b: b["entry"][0]["request"].update(method="PUT"),
    "a fullUrl that is not urn:uuid": lambda b: b["entry"][0].update(fullUrl="Patient/1"),
    "an unexpected resource": lambda b: b["entry"].append(
        {
            "fullUrl": "urn:uuid:0b4c6f5e-2d6a-4a0b-9a53-6f0f0b0b0b0b",
            "resource": {"resourceType": "Observation", "status": "final", "code": {"text": "x"}},
            "request": {"method": "POST", "url": "Observation"},
        }
    ),
    "subject pointing nowhere": lambda b: b["entry"][1]["resource"].update(
        subject={"reference": "urn:uuid:00000000-0000-0000-0000-000000000000"}
    ),
    "authoredOn tomorrow": lambda b: b["entry"][1]["resource"].update(authoredOn=_from_now(days=1)),
}


@pytest.mark.parametrize("mutate", BAD_TRANSACTIONS.values(), ids=list(BAD_TRANSACTIONS))
async def test_bad_transaction(
    client: httpx.AsyncClient,
    session: AsyncSession,
    auth: TokenFactory,
    mutate: Callable[[Payload], None],
) -> None:
    before = await _row_counts(session)
    bundle = copy.deepcopy(factories.transaction())
    mutate(bundle)
    response = await client.post("/fhir", json=bundle, headers=auth(Role.REFERRER, "A81001"))
    assert response.status_code in (400, 422), response.text
    assert response.json()["resourceType"] == "OperationOutcome"
    assert await _row_counts(session) == before
