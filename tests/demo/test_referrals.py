from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.areas.importer import FIXTURE_IMD, FIXTURE_POSTCODES
from app.auth.principal import Role
from app.demo import referrals as demo
from app.demo.seed import DemoOptions, seed_referrals
from app.referrals import lifecycle
from app.referrals.intake import check_referral
from app.referrals.models import (
    Patient,
    Referral,
    ReferralIdentifier,
    ReferralNeed,
    ResourceVersion,
    Task,
)
from app.referrals.needs import resolver
from app.referrals.nhs_number import is_valid
from app.terminology.phrases import shipped_index
from app.terminology.service import NeedMaps
from tests.conftest import TokenFactory

AS_OF = dt.date(2026, 11, 1)
OPTIONS = DemoOptions(activities=0, referrals=30, seed=3, as_of=AS_OF)


async def snapshot(session: AsyncSession) -> list[tuple[object, ...]]:
    rows = await session.execute(
        select(
            Referral.id,
            Referral.status,
            Referral.authored_on,
            Referral.preferences,
            Task.status,
            Task.business_status,
            Task.version_id,
            Patient.nhs_number,
        )
        .join(Task, Task.referral_id == Referral.id)
        .join(Patient, Patient.id == Referral.patient_id)
        .order_by(Referral.id)
    )
    return [tuple(r) for r in rows]


def test_the_generator_stores_what_the_intake_would() -> None:
    """The payload a GP would send, through the real intake checks: same stored resource,
    patient, needs and preferences as the generator writes."""
    homes = demo.homes(FIXTURE_POSTCODES, FIXTURE_IMD)
    numbers = demo.nhs_numbers(1, 40)
    assert len(set(numbers)) == 40
    assert all(n.startswith("999") and is_valid(n) for n in numbers)
    for i in range(40):
        who = demo.person(1, i, numbers[i], homes, AS_OF)
        rng = random.Random(i)
        authored = dt.datetime(2026, 5, 4, 10, 30, tzinfo=dt.UTC)
        payload, needs = demo.service_request(rng, f"V-{i}", who, "A81001", authored)
        draft = check_referral(
            payload,
            resolve_needs=resolver(NeedMaps({}, shipped_index())),
            clock_skew=dt.timedelta(0),
        )
        assert draft.resource == demo.stored(payload)
        assert draft.patient.resource == demo.stored_patient(who.resource)
        assert (draft.patient.nhs_number, draft.patient.birth_date) == (
            who.nhs_number,
            who.birth_date,
        )
        assert draft.patient.postcode == who.postcode
        assert sorted(draft.needs) == sorted(needs)
        assert draft.preferences == demo.preferences_of(payload["extension"][0])
        assert draft.warnings == []


def test_the_mix_looks_like_a_caseload() -> None:
    homes = demo.homes(FIXTURE_POSTCODES, FIXTURE_IMD)
    rows = [r for batch in demo.referrals(5, 600, AS_OF, homes, {}) for r in batch.referrals]
    tasks = [t for batch in demo.referrals(5, 600, AS_OF, homes, {}) for t in batch.tasks]
    assert len(rows) == 600
    end = dt.datetime.combine(AS_OF, dt.time(), dt.UTC)
    assert all(end - dt.timedelta(days=550) < r["authored_on"] < end for r in rows)
    statuses = Counter(t["status"] for t in tasks)
    assert {"requested", "accepted", "in-progress", "completed", "cancelled", "failed"} <= set(
        statuses
    )
    assert statuses["completed"] > statuses["cancelled"] > statuses["rejected"]
    declined = [t for t in tasks if lifecycle.is_declined(t["status"], t["status_reason"])]
    assert declined
    contacted = [t for t in tasks if t["business_status"] in ("first-contact", "attending")]
    assert all(t["first_contact_at"] is not None for t in contacted)
    assert all(
        t["first_contact_at"] is None for t in tasks if t["business_status"] is None
    )  # never reached
    needs = Counter(
        n["need"] for batch in demo.referrals(5, 600, AS_OF, homes, {}) for n in batch.needs
    )
    assert [need for need, _ in needs.most_common(3)] == [
        "loneliness-isolation",
        "low-mood",
        "anxiety-stress",
    ]
    completed = {t["referral_id"] for t in tasks if t["status"] == "completed"}
    assert {r["id"] for r in rows if r["status"] == "completed"} == completed


async def test_seeding_is_deterministic_and_idempotent(session: AsyncSession) -> None:
    summary = await seed_referrals(session, OPTIONS)
    assert summary == (
        "demo referrals: 30 for 27 people, authored up to 2026-11-01, 0 bookings, 34 questionnaires"
    )  # no directory: nothing to book
    first = await snapshot(session)
    assert len(first) == 30
    assert await seed_referrals(session, OPTIONS) == "demo referrals already there: 30"
    assert await snapshot(session) == first
    other = DemoOptions(activities=0, referrals=12, seed=4, as_of=AS_OF)
    assert "12 for 11 people" in await seed_referrals(session, other)
    assert await session.scalar(select(func.count()).select_from(Patient)) == 11
    assert await seed_referrals(session, OPTIONS) == summary
    assert await snapshot(session) == first
    for table in (Referral, Task, ReferralIdentifier):
        assert await session.scalar(select(func.count()).select_from(table)) == 30
    versions = await session.scalar(
        select(func.count()).where(ResourceVersion.resource_type == "Task")
    )
    assert versions == sum(row[6] for row in first)  # every Task version is kept
    assert await session.scalar(select(func.count()).select_from(ReferralNeed)) >= 30
    none = DemoOptions(activities=0, referrals=0, seed=3, as_of=AS_OF)
    assert await seed_referrals(session, none) == "demo referrals: none (removed 30)"
    assert await session.scalar(select(func.count()).select_from(ResourceVersion)) == 0
    assert await session.scalar(select(func.count()).select_from(Patient)) == 0


async def test_seeded_referrals_read_like_real_ones(
    client: httpx.AsyncClient, session: AsyncSession, auth: TokenFactory
) -> None:
    await seed_referrals(session, OPTIONS)
    await session.flush()
    rows = (
        await session.execute(
            select(Referral.id, Referral.requester_ods, Referral.performer_ods, Task.id)
            .join(Task, Task.referral_id == Referral.id)
            .order_by(Referral.id)
        )
    ).all()
    link_worker = auth(Role.LINK_WORKER, demo.LINK_WORKER_ODS)
    for referral_id, requester, performer, task_id in rows[:6]:
        assert performer == demo.LINK_WORKER_ODS
        gp = auth(Role.REFERRER, requester)
        response = await client.get(f"/fhir/ServiceRequest/{referral_id}", headers=gp)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["identifier"][0]["system"] == demo.IDENTIFIER_SYSTEM
        assert body["performer"][0]["identifier"]["value"] == performer
        tasks = await client.get(
            "/fhir/Task", params={"focus": f"ServiceRequest/{referral_id}"}, headers=link_worker
        )
        assert tasks.status_code == 200, tasks.text
        assert [e["resource"]["id"] for e in tasks.json()["entry"]] == [str(task_id)]
        history = await client.get(f"/fhir/Task/{task_id}/_history", headers=link_worker)
        assert history.status_code == 200, history.text
        task = tasks.json()["entry"][0]["resource"]
        assert history.json()["total"] == int(task["meta"]["versionId"])
        patient = await client.get(body["subject"]["reference"].join(("/fhir/", "")), headers=gp)
        assert patient.status_code == 200, patient.text
        assert is_valid(patient.json()["identifier"][0]["value"])
    other_practice = next(r for r in rows if r[1] != "A81001")
    refused = await client.get(
        f"/fhir/ServiceRequest/{other_practice[0]}", headers=auth(Role.REFERRER, "A81001")
    )
    assert refused.status_code == 404
