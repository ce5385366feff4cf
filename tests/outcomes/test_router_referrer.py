"""The referrer reads the outcomes of the referrals it requested (DESIGN.md 4, the message back
to the GP): the Observations its completed Task lists and their QuestionnaireResponses, each
read audited; another practice finds nothing and its attempt is audited as refused."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.audit.models import AuditEvent
from app.auth.principal import Role
from tests.conftest import TokenFactory
from tests.outcomes.conftest import (
    Completed,
    completed_with_outcomes,
    outcome,
    questionnaire_response,
)

QR = "/fhir/QuestionnaireResponse"


def observation_paths(done: Completed) -> list[str]:
    return [
        f"/fhir/{o['valueReference']['reference']}"
        for o in done.task["output"]
        if "reference" in o["valueReference"]
    ]


async def read_all(
    client: httpx.AsyncClient, done: Completed, headers: dict[str, str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The Observations of the Task's output and the QuestionnaireResponses they derive from."""
    observations, responses = [], []
    for path in observation_paths(done):
        read = await client.get(path, headers=headers)
        assert read.status_code == 200, read.text
        observations.append(read.json())
        for source in read.json().get("derivedFrom", []):
            response = await client.get(f"/fhir/{source['reference']}", headers=headers)
            assert response.status_code == 200, response.text
            responses.append(response.json())
    return observations, responses


async def test_the_referrer_reads_what_its_completed_task_lists(
    client: httpx.AsyncClient,
    auth: TokenFactory,
    gp: dict[str, str],
    session: AsyncSession,
) -> None:
    done = await completed_with_outcomes(client, auth)
    task = (await client.get(f"/fhir/Task/{done.task['id']}", headers=gp)).json()
    assert task["output"] == done.task["output"]
    observations, responses = await read_all(client, done, gp)
    assert [o["code"]["text"] for o in observations] == [
        "SWEMWBS metric score (Rasch-converted)",
        "SWEMWBS metric score (Rasch-converted)",
        "UCLA3 total score",
    ]
    assert {o["basedOn"][0]["reference"] for o in observations} == {
        f"ServiceRequest/{done.case.referral_id}"
    }
    # the two SWEMWBS records that came as QuestionnaireResponses; UCLA3 came as JSON
    assert len(responses) == 2
    search = await client.get(
        f"/fhir/Observation?based-on=ServiceRequest/{done.case.referral_id}&_count=100",
        headers=gp,
    )
    assert search.json()["total"] == sum(len(o["scores"]) for o in done.outcomes)

    rows = await session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.actor_role == "referrer",
            AuditEvent.entity_type.in_(["Observation", "QuestionnaireResponse"]),
        )
        .order_by(AuditEvent.recorded_at)
    )
    audited = [
        (r.operation, r.entity_type, r.entity_id, r.actor_org, r.outcome, str(r.patient_id))
        for r in rows
    ]
    expected = [("read", "Observation", o["id"]) for o in observations]
    expected += [("read", "QuestionnaireResponse", r["id"]) for r in responses]
    expected += [("search", "Observation", e["resource"]["id"]) for e in search.json()["entry"]]
    assert sorted(audited) == sorted((*e, "A81001", "0", done.case.patient_id) for e in expected)


async def test_another_practice_finds_nothing_and_is_audited(
    committed_client: httpx.AsyncClient, auth: TokenFactory, engine: AsyncEngine
) -> None:
    done = await completed_with_outcomes(committed_client, auth)
    observations, responses = await read_all(committed_client, done, auth(Role.ADMIN, "X26"))
    other = auth(Role.REFERRER, "A81002")
    refused = [f"/fhir/Observation/{o['id']}" for o in observations]
    refused += [f"{QR}/{r['id']}" for r in responses]
    for path in refused:
        response = await committed_client.get(path, headers=other)
        assert response.status_code == 404, response.text
        assert response.json()["resourceType"] == "OperationOutcome"
    search = await committed_client.get(
        f"/fhir/Observation?based-on=ServiceRequest/{done.case.referral_id}", headers=other
    )
    assert search.json()["total"] == 0
    task = await committed_client.get(f"/fhir/Task/{done.task['id']}", headers=other)
    assert task.status_code == 404
    async with AsyncSession(engine) as session:
        denied = await session.scalars(
            select(AuditEvent).where(AuditEvent.actor_org == "A81002", AuditEvent.outcome == "4")
        )
        assert sorted(
            (e.operation, f"{e.entity_type}/{e.entity_id}", str(e.patient_id)) for e in denied
        ) == sorted(
            [("read", p.removeprefix("/fhir/"), done.case.patient_id) for p in refused]
            + [("read", f"Task/{done.task['id']}", done.case.patient_id)]
        )


async def test_the_referrer_reads_but_never_records(
    client: httpx.AsyncClient, auth: TokenFactory, gp: dict[str, str]
) -> None:
    """Reading is the referrer's; recording outcomes and the JSON list (with its changes) stay
    the link-worker service's."""
    done = await completed_with_outcomes(client, auth)
    rid = done.case.referral_id
    url = f"/api/v1/referrals/{rid}/outcomes"
    assert (await client.get(url, headers=gp)).status_code == 403
    assert (await client.post(url, json=outcome("ONS4"), headers=gp)).status_code == 403
    response = questionnaire_response(rid, "UCLA3")
    assert (await client.post(QR, json=response, headers=gp)).status_code == 403
    for role, org in ((Role.PROVIDER, "P12345"), (Role.COMMISSIONER, "QWO")):
        headers = auth(role, org)
        for path in observation_paths(done):
            assert (await client.get(path, headers=headers)).status_code == 403
        assert (await client.get("/fhir/Observation", headers=headers)).status_code == 403
