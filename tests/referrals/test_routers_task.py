"""The closed-loop Task: the status graph, reasons, business status, history, mirrors."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.auth.principal import Role
from app.referrals.fhir import STAGE_SYSTEM
from app.referrals.lifecycle import TERMINAL, TRANSITIONS
from app.referrals.service import ACTIVITY_SYSTEM
from tests.conftest import TokenFactory
from tests.outcomes.conftest import Completed, completed_with_outcomes, outcome
from tests.referrals import factories

STATUSES = [
    "requested",
    "accepted",
    "in-progress",
    "on-hold",
    "completed",
    "cancelled",
    "rejected",
    "failed",
]


@pytest.fixture
def gp(auth: TokenFactory) -> dict[str, str]:
    return auth(Role.REFERRER, "A81001")


@pytest.fixture
def lw(auth: TokenFactory) -> dict[str, str]:
    return auth(Role.LINK_WORKER, "Y02718")


async def new_task(client: httpx.AsyncClient, gp: dict[str, str]) -> dict[str, Any]:
    referral = (
        await client.post("/fhir/ServiceRequest", json=factories.service_request(), headers=gp)
    ).json()
    bundle = (await client.get(f"/fhir/Task?focus={referral['id']}", headers=gp)).json()
    return dict(bundle["entry"][0]["resource"])


async def move(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    task: dict[str, Any],
    status: str,
    **changes: Any,
) -> httpx.Response:
    body = {k: v for k, v in task.items() if k not in ("statusReason", "businessStatus")}
    body.update(status=status, **changes)
    if status in ("rejected", "cancelled", "failed", "on-hold") and "statusReason" not in changes:
        body["statusReason"] = {"text": f"moved to {status} in a test"}
    return await client.put(f"/fhir/Task/{task['id']}", json=body, headers=headers)


def stage(code: str) -> dict[str, Any]:
    return {"coding": [{"system": STAGE_SYSTEM, "code": code}]}


PATHS = {  # a way to reach each status from requested
    "requested": [],
    "accepted": ["accepted"],
    "in-progress": ["accepted", "in-progress"],
    "on-hold": ["accepted", "on-hold"],
    "completed": ["accepted", "in-progress", "completed"],
    "cancelled": ["cancelled"],
    "rejected": ["rejected"],
    "failed": ["accepted", "failed"],
}


@pytest.mark.parametrize("start", STATUSES)
@pytest.mark.parametrize("target", STATUSES)
async def test_status_graph(
    client: httpx.AsyncClient, gp: dict[str, str], lw: dict[str, str], start: str, target: str
) -> None:
    task = await new_task(client, gp)
    for step in PATHS[start]:
        response = await move(client, lw, task, step)
        assert response.status_code == 200, response.text
        task = response.json()
    response = await move(client, lw, task, target)
    if target == start:
        assert response.status_code == 200
    elif target in TRANSITIONS.get(start, frozenset()):
        assert response.status_code == 200, response.text
        assert response.json()["status"] == target
    else:
        assert response.status_code == 409, response.text
        assert response.json()["issue"][0]["expression"] == ["Task.status"]
    assert start not in TERMINAL or response.status_code in (200, 409)


@pytest.mark.parametrize("status", ["rejected", "cancelled"])
async def test_reason_text_required(
    client: httpx.AsyncClient, gp: dict[str, str], lw: dict[str, str], status: str
) -> None:
    task = await new_task(client, gp)
    response = await move(
        client,
        lw,
        task,
        status,
        statusReason={"coding": [{"system": "http://snomed.info/sct", "code": "871711000000103"}]},
    )
    assert response.status_code == 422
    assert response.json()["issue"][0]["expression"] == ["Task.statusReason.text"]


async def test_declined(client: httpx.AsyncClient, gp: dict[str, str], lw: dict[str, str]) -> None:
    task = await new_task(client, gp)
    reason = {
        "coding": [
            {
                "system": "http://snomed.info/sct",
                "code": "871711000000103",
                "display": "Social prescribing declined",
            }
        ],
        "text": "Person declined at first contact",
    }
    response = await move(client, lw, task, "cancelled", statusReason=reason)
    assert response.status_code == 200
    assert response.json()["statusReason"] == reason


async def test_business_status_and_completion_mirror(
    client: httpx.AsyncClient, gp: dict[str, str], lw: dict[str, str]
) -> None:
    task = await new_task(client, gp)
    task = (await move(client, lw, task, "accepted", businessStatus=stage("first-contact"))).json()
    assert task["businessStatus"]["coding"][0]["display"] == "First contact made"
    task = (await move(client, lw, task, "in-progress", businessStatus=stage("plan-agreed"))).json()
    bad = await move(client, lw, task, "in-progress", businessStatus=stage("teleported"))
    assert bad.status_code == 422
    done = await move(client, lw, task, "completed")
    assert done.status_code == 200
    assert "output" not in done.json()  # nothing attended, no outcome recorded
    referral = (await client.get(f"/fhir/{done.json()['focus']['reference']}", headers=gp)).json()
    assert referral["status"] == "completed"
    history = (await client.get(f"/fhir/Task/{task['id']}/_history", headers=gp)).json()
    assert [e["resource"]["status"] for e in history["entry"]] == [
        "completed",
        "in-progress",
        "accepted",
        "requested",
    ]
    revoke = await client.put(
        f"/fhir/{referral['resourceType']}/{referral['id']}",
        json={**referral, "status": "revoked"},
        headers=gp,
    )
    assert revoke.status_code == 409


async def test_fixed_elements_cannot_change(
    client: httpx.AsyncClient, gp: dict[str, str], lw: dict[str, str]
) -> None:
    task = await new_task(client, gp)
    owner = {
        "type": "Organization",
        "identifier": {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "Y99999"},
    }
    response = await move(client, lw, task, "accepted", owner=owner)
    assert response.status_code == 422
    assert response.json()["issue"][0]["expression"] == ["Task.owner"]


async def test_if_match(client: httpx.AsyncClient, gp: dict[str, str], lw: dict[str, str]) -> None:
    task = await new_task(client, gp)
    stale = await move(client, {**lw, "If-Match": 'W/"3"'}, task, "accepted")
    assert stale.status_code == 412
    fresh = await move(client, {**lw, "If-Match": 'W/"1"'}, task, "accepted")
    assert fresh.status_code == 200
    assert fresh.headers["ETag"] == 'W/"2"'


async def test_only_the_owner_moves_the_task(
    client: httpx.AsyncClient, gp: dict[str, str], auth: TokenFactory
) -> None:
    task = await new_task(client, gp)
    assert (await move(client, gp, task, "accepted")).status_code == 403  # referrers may not
    other_service = auth(Role.LINK_WORKER, "Y99999")
    assert (await move(client, other_service, task, "accepted")).status_code == 404
    admin = auth(Role.ADMIN, "X26")
    assert (await move(client, admin, task, "accepted")).status_code == 200


async def test_a_time_without_a_time_zone_is_refused_saying_so(
    client: httpx.AsyncClient, gp: dict[str, str], lw: dict[str, str]
) -> None:
    task = await new_task(client, gp)
    response = await move(
        client, lw, task, "accepted", executionPeriod={"start": "2026-11-02T09:00:00"}
    )
    assert response.status_code == 400, response.text
    issue = response.json()["issue"][0]
    assert issue["expression"] == ["Task.executionPeriod.start"]
    assert "a time zone is required" in issue["details"]["text"]


def observation(done: Completed, instrument: str, day: str, measure: str) -> str:
    """``Observation/<id>`` of one score of the ``instrument`` record collected on ``day``."""
    [record] = [
        o
        for o in done.outcomes
        if o["instrument"] == instrument and o["collected_at"].startswith(day)
    ]
    [score] = [s for s in record["scores"] if s["measure"] == measure]
    return f"Observation/{score['observation_id']}"


async def test_completion_lists_the_activities_and_outcomes(
    client: httpx.AsyncClient, auth: TokenFactory, gp: dict[str, str], lw: dict[str, str]
) -> None:
    """The message back to the GP: the activity attended, then per instrument the headline
    Observations of the baseline and of the latest follow-up (not the earlier one)."""
    done = await completed_with_outcomes(client, auth)
    assert done.task["status"] == "completed"
    activity = {
        "type": {"text": "Activity attended"},
        "valueReference": {
            "type": "HealthcareService",
            "identifier": {"system": ACTIVITY_SYSTEM, "value": done.activity["id"]},
            "display": "Walking group",
        },
    }
    outcomes = [
        {
            "type": {"text": "Baseline: SWEMWBS"},
            "valueReference": {
                "reference": observation(done, "SWEMWBS", "2026-11-05", "metric"),
                "display": "SWEMWBS metric score (Rasch-converted) 15.32 on 2026-11-05",
            },
        },
        {
            "type": {"text": "Latest follow-up: SWEMWBS"},
            "valueReference": {
                "reference": observation(done, "SWEMWBS", "2026-12-03", "metric"),
                "display": "SWEMWBS metric score (Rasch-converted) 25.03 on 2026-12-03",
            },
        },
        {
            "type": {"text": "Baseline: UCLA3"},
            "valueReference": {
                "reference": observation(done, "UCLA3", "2026-11-05", "total"),
                "display": "UCLA3 total score 7 on 2026-11-05",
            },
        },
    ]
    assert done.task["output"] == [activity, *outcomes]
    tid = done.task["id"]
    read = (await client.get(f"/fhir/Task/{tid}", headers=gp)).json()
    assert read["output"] == done.task["output"]
    history = (await client.get(f"/fhir/Task/{tid}/_history", headers=gp)).json()
    assert history["entry"][0]["resource"]["output"] == done.task["output"]

    # attendance corrected after completion: the activities follow, the outcomes stay
    url = f"/api/v1/bookings/{done.booking_id}"
    await client.patch(url, json={"status": "did-not-attend"}, headers=lw)
    assert (await client.get(f"/fhir/Task/{tid}", headers=gp)).json()["output"] == outcomes
    await client.patch(url, json={"status": "attended"}, headers=lw)
    assert (await client.get(f"/fhir/Task/{tid}", headers=gp)).json()["output"] == [
        activity,
        *outcomes,
    ]

    # an exit questionnaire entered after the end is the latest follow-up from then on
    best = {str(n): 5 for n in range(1, 8)}
    exit_at = "2026-12-05T10:00:00+00:00"
    recorded = await client.post(
        f"/api/v1/referrals/{done.case.referral_id}/outcomes",
        json=outcome("SWEMWBS", best, timepoint="exit", collected_at=exit_at),
        headers=lw,
    )
    assert recorded.status_code == 201, recorded.text
    [metric] = [s for s in recorded.json()["scores"] if s["measure"] == "metric"]
    outcomes[1]["valueReference"] = {
        "reference": f"Observation/{metric['observation_id']}",
        "display": "SWEMWBS metric score (Rasch-converted) 35 on 2026-12-05",
    }
    task = (await client.get(f"/fhir/Task/{tid}", headers=gp)).json()
    assert (task["status"], task["output"]) == ("completed", [activity, *outcomes])
