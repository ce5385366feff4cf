"""``POST /api/v1/self-referrals``: a person refers themselves and it becomes the same
ServiceRequest + Task as a GP referral (requester: the Patient), routed by postcode, marked as
a self-referral in the caseload; its rules (422, nothing stored), the repeat within the window
linked to the first, the honeypot, the rate limit and the body limit."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit.models import AuditEvent
from app.auth.principal import Role
from app.main import create_app
from app.person import fhir as person_fhir
from app.referrals.models import Patient, Referral, Task
from tests.conftest import FhirCapture, TokenFactory, _client, make_settings
from tests.person.conftest import API, NHS_NUMBER, adult_birth_date, refer, self_referral

DEFAULT = "Y02718"  # the tests' default performer


async def _count(session: AsyncSession, model: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _stored(session: AsyncSession, reference: str) -> Referral:
    referrals = (await session.scalars(select(Referral))).all()
    found = [
        r
        for r in referrals
        if {"system": person_fhir.REFERENCE_SYSTEM, "value": reference} in r.resource["identifier"]
    ]
    assert len(found) == 1
    return found[0]


async def test_a_self_referral_becomes_a_referral_and_task_requested_by_the_patient(
    client: httpx.AsyncClient, session: AsyncSession, auth: TokenFactory
) -> None:
    answer = await refer(client)
    assert answer.status_code == 202, answer.text
    reference = answer.json()["reference"]
    assert len(reference) == 11
    assert reference[5] == "-"
    referral = await _stored(session, reference)
    admin = auth(Role.ADMIN, "X26")

    sr = (await client.get(f"/fhir/ServiceRequest/{referral.id}", headers=admin)).json()
    patient_ref = f"Patient/{referral.patient_id}"
    assert sr["requester"] == {"reference": patient_ref}
    assert sr["subject"] == {"reference": patient_ref}
    assert sr["performer"][0]["identifier"]["value"] == DEFAULT
    assert sr["reasonCode"] == [{"text": self_referral()["about"]}]
    parts = {
        (p["url"], str(p.get("valueCode", p.get("valueCoding", {}).get("code"))))
        for p in sr["extension"][0]["extension"]
    }
    assert {
        ("attendanceMode", "in-person"),
        ("availableDay", "tue"),
        ("interest", "gardening"),
        ("accessibilityNeed", "step-free"),
        ("groupPreference", "small-group"),
    } <= parts
    task = (await client.get(f"/fhir/Task?focus={referral.id}", headers=admin)).json()
    task = task["entry"][0]["resource"]
    assert task["requester"] == {"reference": patient_ref}
    assert task["status"] == "requested"
    patient = (await client.get(f"/fhir/{patient_ref}", headers=admin)).json()
    assert "identifier" not in patient  # no NHS number given
    assert patient["telecom"] == [
        {"system": "phone", "value": "07700900982", "use": "mobile"},
        {"system": "email", "value": "amira@example.com"},
    ]
    assert patient["address"] == [{"postalCode": "LS6 3AB"}]
    assert patient["communication"][0]["language"]["coding"][0]["code"] == "ar"
    assert patient["generalPractitioner"] == [
        {"type": "Organization", "display": "Hyde Park Surgery"}
    ]
    # the person's words mapped to needs like a GP's free text
    needs = (await client.get("/api/v1/caseload", headers=auth(Role.LINK_WORKER, DEFAULT))).json()
    [case] = needs["items"]
    assert case["route"] == "self"
    assert case["referral_id"] == str(referral.id)
    assert "loneliness-isolation" in case["needs"]
    assert case["person"]["display_name"] == "Amira H."


async def test_the_creation_is_audited_as_self_with_ids_only(
    client: httpx.AsyncClient, session: AsyncSession, auth: TokenFactory
) -> None:
    answer = await refer(client, nhs_number="943 476 5919")
    referral = await _stored(session, answer.json()["reference"])
    events = (
        await session.scalars(
            select(AuditEvent).where(AuditEvent.patient_id == referral.patient_id)
        )
    ).all()
    assert {(e.operation, e.entity_type) for e in events} >= {
        ("create", "ServiceRequest"),
        ("create", "Task"),
    }
    for event in events:
        assert (event.actor_sub, event.actor_role, event.actor_org) == ("self", "self", "self")
        row = " ".join(str(v) for v in vars(event).values())
        for secret in ("Amira", "Haddad", "9434765919", "LS6", "lonely", "07700"):
            assert secret not in row
    trail = await client.get(
        f"/fhir/AuditEvent?patient=Patient/{referral.patient_id}", headers=auth(Role.ADMIN, "X26")
    )
    agents = [e["resource"]["agent"] for e in trail.json()["entry"]]
    created = [a for a in agents if a[0]["role"] == [{"text": "self"}]]
    assert created
    assert all(len(a) == 1 for a in created)  # no organisation acted


async def test_the_gp_referral_caseload_rows_say_gp(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    from tests.referrals import factories

    gp = auth(Role.REFERRER, "A81001")
    created = await client.post(
        "/fhir/ServiceRequest", json=factories.service_request(), headers=gp
    )
    assert created.status_code == 201, created.text
    await refer(client)
    rows = (await client.get("/api/v1/caseload", headers=auth(Role.LINK_WORKER, DEFAULT))).json()
    assert sorted(item["route"] for item in rows["items"]) == ["gp", "self"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"birth_date": adult_birth_date(15)}, "birth_date"),
        ({"birth_date": (dt.date.today() + dt.timedelta(days=1)).isoformat()}, "birth_date"),
        ({"nhs_number": "943 476 5918"}, "nhs_number"),
        ({"mobile": None, "email": None}, "contact"),
        ({"mobile": "", "email": "  "}, "contact"),
        ({"mobile": "0113 496 0000"}, "mobile"),
        ({"email": "amira.example.com"}, "email"),
        ({"consent": False}, "consent"),
        ({"postcode": "NOT A CODE"}, "postcode"),
        ({"about": "   "}, "about"),
    ],
)
async def test_a_broken_rule_is_422_naming_the_field_and_nothing_is_stored(
    client: httpx.AsyncClient, session: AsyncSession, overrides: dict[str, Any], field: str
) -> None:
    answer = await refer(client, **overrides)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert field in [i["field"] for i in answer.json()["errors"]], answer.text
    for model in (Referral, Task, Patient, AuditEvent):
        assert await _count(session, model) == 0


@pytest.mark.parametrize(
    "body",
    [
        {k: v for k, v in self_referral().items() if k != "consent"},
        self_referral(unknown="x"),
        self_referral(birth_date="31/12/1990"),
        self_referral(preferences={"attendance_mode": "teleport"}),
        self_referral(about="x" * 2001),
    ],
)
async def test_a_malformed_body_is_422_and_nothing_is_stored(
    client: httpx.AsyncClient, session: AsyncSession, body: dict[str, Any]
) -> None:
    answer = await client.post(API, json=body)
    assert answer.status_code == 422, answer.text
    assert await _count(session, Referral) == 0


async def test_routed_by_postcode_longest_prefix_then_practice_then_default(
    client: httpx.AsyncClient, session: AsyncSession, auth: TokenFactory
) -> None:
    admin = auth(Role.ADMIN, "X26")
    for prefix, service in (("LS", "RLS01"), ("LS6", "RLS06"), ("LS6 3", "RLS63")):
        put = await client.put(
            f"/api/v1/routing/postcodes/{prefix}", json={"performer_ods": service}, headers=admin
        )
        assert put.status_code == 201, put.text
    put = await client.put("/api/v1/routing/B86001", json={"performer_ods": "RPR01"}, headers=admin)
    assert put.status_code == 201
    cases = {
        "LS6 3AB": "RLS63",
        "LS6 2QF": "RLS06",
        "LS1 4AP": "RLS01",
        "M1 1AE": DEFAULT,
    }
    for postcode, service in cases.items():
        answer = await refer(
            client, postcode=postcode, given_name=f"P{postcode[:2]}{postcode[-3:]}"
        )
        referral = await _stored(session, answer.json()["reference"])
        assert referral.performer_ods == service, postcode
    by_practice = await refer(client, postcode="M1 1AE", given_name="Other", gp_practice="b86001")
    assert (await _stored(session, by_practice.json()["reference"])).performer_ods == "RPR01"
    listed = (await client.get("/api/v1/routing/postcodes", headers=admin)).json()
    assert [r["prefix"] for r in listed] == ["LS", "LS6", "LS6 3"]


async def test_no_service_for_the_postcode_is_422_saying_so(
    client: httpx.AsyncClient, session: AsyncSession, app: Any
) -> None:
    app.state.settings = make_settings("sqlite://", default_performer_ods=None)
    answer = await refer(client)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "postcode"
    assert await _count(session, Referral) == 0


async def test_a_repeat_within_30_days_is_linked_to_the_first_with_the_new_words_as_a_note(
    client: httpx.AsyncClient, session: AsyncSession, auth: TokenFactory
) -> None:
    first = (await refer(client)).json()["reference"]
    again = await refer(
        client,
        given_name=" amira ",
        family_name="HADDAD",
        postcode="LS63AB",
        about="I also look after my mum",
    )
    assert again.status_code == 202
    assert again.json()["reference"] == first
    assert await _count(session, Referral) == 1
    referral = await _stored(session, first)
    sr = (
        await client.get(f"/fhir/ServiceRequest/{referral.id}", headers=auth(Role.ADMIN, "X26"))
    ).json()
    assert sr["meta"]["versionId"] == "2"
    assert [n["text"] for n in sr["note"]] == ["I also look after my mum"]
    # the same words again add nothing
    await refer(client, about="I also look after my mum")
    await session.refresh(referral)
    assert len(referral.resource["note"]) == 1


async def test_a_repeat_with_the_same_nhs_number_is_linked_whatever_the_name(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    number = NHS_NUMBER()
    first = (await refer(client, nhs_number=number)).json()["reference"]
    again = await refer(client, nhs_number=number, given_name="Ami", postcode="M1 1AE")
    assert again.json()["reference"] == first
    other = await refer(client, nhs_number=NHS_NUMBER(), given_name="Someone", family_name="Else")
    assert other.json()["reference"] != first
    assert await _count(session, Referral) == 2


async def test_a_repeat_after_30_days_or_once_closed_is_a_new_referral(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    first = (await refer(client)).json()["reference"]
    referral = await _stored(session, first)
    await session.execute(
        update(Referral)
        .where(Referral.id == referral.id)
        .values(created_at=referral.created_at - dt.timedelta(days=31))
    )
    second = (await refer(client)).json()["reference"]
    assert second != first
    await session.execute(
        update(Task)
        .where(Task.referral_id == (await _stored(session, second)).id)
        .values(status="cancelled")
    )
    third = (await refer(client)).json()["reference"]
    assert third not in (first, second)
    assert await _count(session, Referral) == 3


async def test_a_filled_honeypot_looks_accepted_and_stores_nothing(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    answer = await refer(client, website="http://spam.example")
    assert answer.status_code == 202
    assert answer.json()["reference"]
    for model in (Referral, Task, Patient, AuditEvent):
        assert await _count(session, model) == 0


@pytest.fixture
async def limited(
    database_url: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    application = create_app(
        make_settings(database_url, self_referral_per_hour=2, self_referral_max_bytes=4096)
    )
    application.state.sessionmaker = sessionmaker
    async with _client(application, FhirCapture()) as http:
        yield http
    await application.state.engine.dispose()


async def test_posts_beyond_the_hourly_limit_are_429(
    limited: httpx.AsyncClient, session: AsyncSession
) -> None:
    assert (await refer(limited)).status_code == 202
    assert (await refer(limited, consent=False)).status_code == 422  # counted as well
    refused = await refer(limited, given_name="Third")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert (await limited.get("/refer")).status_code == 200  # only posts are limited
    assert await _count(session, Referral) == 1


async def test_a_body_over_the_limit_is_413(
    limited: httpx.AsyncClient, session: AsyncSession
) -> None:
    answer = await limited.post(API, json=self_referral(gp_practice="x" * 5000))
    assert answer.status_code == 413
    assert await _count(session, Referral) == 0


async def test_a_stored_person_is_not_changed_by_a_self_referral(
    client: httpx.AsyncClient, session: AsyncSession, auth: TokenFactory
) -> None:
    from tests.referrals import factories

    number = NHS_NUMBER()
    gp = auth(Role.REFERRER, "A81001")
    sent = factories.service_request(contained=[factories.patient(number), factories.consent()])
    created = await client.post("/fhir/ServiceRequest", json=sent, headers=gp)
    assert created.status_code == 201, created.text
    patient_ref = created.json()["subject"]["reference"]
    admin = auth(Role.ADMIN, "X26")
    before = (await client.get(f"/fhir/{patient_ref}", headers=admin)).json()

    answer = await refer(client, nhs_number=number, email="someone.else@example.com")
    assert answer.status_code == 202
    after = (await client.get(f"/fhir/{patient_ref}", headers=admin)).json()
    assert after == before  # same version, same address and contact details
    referral = await _stored(session, answer.json()["reference"])
    assert f"Patient/{referral.patient_id}" == patient_ref
    [note] = referral.resource["note"]
    assert "Email: someone.else@example.com" in note["text"]
    assert "Postcode: LS6 3AB" in note["text"]


async def test_reports_group_self_referrals_under_the_practice_self(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    for n in range(3):
        assert (await refer(client, given_name=f"Person{n}")).status_code == 202
    report = await client.get(
        "/api/v1/reports/referrals?group_by=practice", headers=auth(Role.COMMISSIONER, "15N")
    )
    assert report.status_code == 200, report.text
    groups = [row["group"] for row in report.json()["rows"]]
    assert groups == [{"practice": "self"}, {"practice": "all"}]
