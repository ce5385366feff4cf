"""``assetlink purge``: the personal data of referrals closed before the cut-off goes, all of it;
the report aggregates and the audit trail stay; the purge is audited and idempotent."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import retention
from app.audit.models import AuditEvent
from app.auth.principal import Role
from app.bookings.models import Booking
from app.cli import build_parser
from app.db import create_sessionmaker, utcnow
from app.matching.models import UnsuitableMark
from app.notifications.models import OutboxEvent
from app.outcomes.models import OutcomeRecord, OutcomeScore
from app.questionnaires.models import QuestionnaireLink, QuestionnaireLinkToken
from app.referrals.models import (
    Consent,
    Patient,
    Referral,
    ReferralIdentifier,
    ResourceVersion,
    Task,
)
from app.reporting import summary
from app.reporting.models import ReportChange, ReportPurged, ReportReferral
from tests.conftest import TokenFactory, make_settings
from tests.outcomes.conftest import completed_with_outcomes, new_referral

TOMORROW = dt.timedelta(days=1)


async def _count(sm: async_sessionmaker[AsyncSession], model: Any, *where: Any) -> int:
    async with sm() as session:
        found = await session.scalar(select(func.count()).select_from(model).where(*where))
    return int(found or 0)


async def _reports(client: httpx.AsyncClient, auth: TokenFactory) -> list[Any]:
    commissioner = auth(Role.COMMISSIONER, "15N")
    found = []
    for report in ("referrals", "outcomes", "equity"):
        response = await client.get(f"/api/v1/reports/{report}", headers=commissioner)
        assert response.status_code == 200, response.text
        found.append(response.json())
    return found


async def test_purge_removes_the_closed_referrals_personal_data_and_keeps_the_aggregates(
    committed_app: Any, committed_client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    client, sm = committed_client, create_sessionmaker(committed_app.state.engine)
    gp, lw, admin = (
        auth(Role.REFERRER, "A81001"),
        auth(Role.LINK_WORKER, "Y02718"),
        auth(Role.ADMIN, "X26"),
    )
    done = await completed_with_outcomes(client, auth)
    closed, person = uuid.UUID(done.case.referral_id), uuid.UUID(done.case.patient_id)
    task_id = uuid.UUID(done.task["id"])
    still_open = await new_referral(client, gp, lw)
    bookings = await client.get(f"/api/v1/referrals/{closed}/bookings", headers=lw)
    activity_id = bookings.json()["items"][0]["activity_id"]
    marked = await client.put(
        f"/api/v1/referrals/{closed}/matches/{activity_id}/unsuitable",
        json={"reason": "person-declined", "note": "moved away"},
        headers=lw,
    )
    assert marked.status_code == 201, marked.text
    link = QuestionnaireLink(
        id=uuid.uuid4(),
        referral_id=closed,
        instrument="SWEMWBS",
        sent_by="lw",
        expires_at=utcnow() + TOMORROW,
    )
    async with sm() as session, session.begin():
        session.add(link)
        await session.flush()
        session.add(QuestionnaireLinkToken(token_hash="0" * 64, link_id=link.id))
    reports = await _reports(client, auth)
    audit_before = await _count(sm, AuditEvent)
    by_purge = AuditEvent.actor_sub == retention.PURGER.sub

    assert await retention.purge(sm, utcnow() - TOMORROW) == retention.Purged(0, 0)
    assert await retention.purge(sm, utcnow() + TOMORROW) == retention.Purged(1, 1)

    for model, where in (
        (Referral, Referral.id == closed),
        (ReferralIdentifier, ReferralIdentifier.referral_id == closed),
        (Task, Task.referral_id == closed),
        (Consent, Consent.referral_id == closed),
        (Booking, Booking.referral_id == closed),
        (OutcomeRecord, OutcomeRecord.referral_id == closed),
        (OutcomeScore, OutcomeScore.referral_id == closed),
        (Patient, Patient.id == person),
        (ResourceVersion, ResourceVersion.resource_id.in_([closed, person, task_id])),
        (OutboxEvent, OutboxEvent.task_id == task_id),
        (UnsuitableMark, UnsuitableMark.referral_id == closed),
        (QuestionnaireLink, QuestionnaireLink.referral_id == closed),
        (QuestionnaireLinkToken, QuestionnaireLinkToken.link_id == link.id),
    ):
        assert await _count(sm, model, where) == 0, model.__name__
    open_id = uuid.UUID(still_open.referral_id)
    assert await _count(sm, Referral, Referral.id == open_id) == 1
    assert await _count(sm, ResourceVersion, ResourceVersion.resource_id == open_id) == 1
    assert await _count(sm, OutboxEvent) > 0  # the open referral's Task changes
    assert await _count(sm, ReportReferral, ReportReferral.referral_id == closed) == 1
    assert await _count(sm, ReportChange, ReportChange.referral_id == closed) > 0
    assert await _count(sm, ReportPurged) == 1

    # The aggregates count the referral as before, even after every summary is recomputed.
    assert await _reports(client, auth) == reports
    await summary.refresh(sm, everything=True)
    assert await _reports(client, auth) == reports

    # The audit trail stays, with one event for the purge; the referral is gone from the API.
    assert await _count(sm, AuditEvent) > audit_before  # nothing removed from the trail
    assert await _count(sm, AuditEvent, by_purge) == 1
    trail = await client.get(f"/fhir/AuditEvent?entity=ServiceRequest/{closed}", headers=admin)
    purges = [
        e["resource"]
        for e in trail.json()["entry"]
        if e["resource"]["agent"][0]["who"]["identifier"]["value"] == retention.PURGER.sub
    ]
    assert [p["action"] for p in purges] == ["D"]
    assert (await client.get(f"/fhir/ServiceRequest/{closed}", headers=lw)).status_code == 404

    # Idempotent: nothing left to remove, nothing written.
    assert await retention.purge(sm, utcnow() + TOMORROW) == retention.Purged(0, 0)
    assert await _count(sm, AuditEvent, by_purge) == 1


async def test_a_person_with_an_open_referral_is_kept(
    committed_app: Any, committed_client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    client, sm = committed_client, create_sessionmaker(committed_app.state.engine)
    done = await completed_with_outcomes(client, auth)
    from tests.referrals import factories

    patient = (
        await client.get(
            f"/fhir/Patient/{done.case.patient_id}", headers=auth(Role.LINK_WORKER, "Y02718")
        )
    ).json()
    again = await client.post(
        "/fhir/ServiceRequest",
        json=factories.service_request(person=factories.patient(patient["identifier"][0]["value"])),
        headers=auth(Role.REFERRER, "A81001"),
    )
    assert again.status_code == 201, again.text
    assert await retention.purge(sm, utcnow() + TOMORROW) == retention.Purged(1, 0)
    person = uuid.UUID(done.case.patient_id)
    assert await _count(sm, Patient, Patient.id == person) == 1
    assert await _count(sm, ResourceVersion, ResourceVersion.resource_id == person) >= 1


def test_the_command_refuses_a_cut_off_inside_the_retention_period(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = build_parser().parse_args(["purge", "--before", dt.date.today().isoformat()])
    assert args.run(args, make_settings("sqlite://", retention_years=8)) == 2
    assert "inside the retention period" in capsys.readouterr().err
