"""Fixtures for outcomes: a referral routed to Y02718 and accepted by its link workers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from app.auth.principal import Role
from app.outcomes.fhir import MODE_URL, TIMEPOINT_URL, questionnaire_url
from tests.conftest import TokenFactory
from tests.directory.conftest import activity_body
from tests.referrals import factories

PERFORMER = "Y02718"  # the default performer in the test settings

VALID: dict[str, dict[str, Any]] = {
    "ONS4": {"life_satisfaction": 7, "worthwhile": 8, "happy": 6, "anxious": 3},
    "SWEMWBS": {"1": 2, "2": 2, "3": 2, "4": 2, "5": 2, "6": 2, "7": 2},  # raw 14
    "WEMWBS": {str(n): 3 for n in range(1, 15)},  # total 42
    "UCLA3": {"lack_companionship": 2, "left_out": 2, "isolated": 3},  # 7: lonely
    "ONS_LONELINESS": {"how_often": "often-always"},
}


@dataclass
class Case:
    referral_id: str
    patient_id: str
    task: dict[str, Any]


@pytest.fixture
def gp(auth: TokenFactory) -> dict[str, str]:
    return auth(Role.REFERRER, "A81001")


@pytest.fixture
def lw(auth: TokenFactory) -> dict[str, str]:
    return auth(Role.LINK_WORKER, PERFORMER)


async def new_referral(
    client: httpx.AsyncClient, gp: dict[str, str], lw: dict[str, str], *, accept: bool = True
) -> Case:
    created = await client.post(
        "/fhir/ServiceRequest", json=factories.service_request(), headers=gp
    )
    assert created.status_code == 201, created.text
    referral = created.json()
    bundle = (await client.get(f"/fhir/Task?focus={referral['id']}", headers=lw)).json()
    task = dict(bundle["entry"][0]["resource"])
    if accept:
        task = await put_task(client, lw, task, status="accepted")
    return Case(referral["id"], referral["subject"]["reference"].split("/")[1], task)


async def put_task(
    client: httpx.AsyncClient, lw: dict[str, str], task: dict[str, Any], **changes: Any
) -> dict[str, Any]:
    body = {k: v for k, v in task.items() if k not in ("meta", "lastModified")}
    body.update(changes)
    moved = await client.put(f"/fhir/Task/{task['id']}", json=body, headers=lw)
    assert moved.status_code == 200, moved.text
    return dict(moved.json())


@pytest.fixture
async def case(client: httpx.AsyncClient, gp: dict[str, str], lw: dict[str, str]) -> Case:
    return await new_referral(client, gp, lw)


@dataclass
class Completed:
    """A referral taken to completion: one activity attended, SWEMWBS at baseline (as a
    QuestionnaireResponse) and at two follow-ups (JSON, then a QuestionnaireResponse), UCLA3 at
    baseline only (JSON)."""

    case: Case
    task: dict[str, Any]  # the completed Task as the link worker's PUT returned it
    activity: dict[str, Any]
    booking_id: str
    outcomes: list[dict[str, Any]]  # the JSON list's records, oldest collection first


async def completed_with_outcomes(client: httpx.AsyncClient, auth: TokenFactory) -> Completed:
    gp, lw = auth(Role.REFERRER, "A81001"), auth(Role.LINK_WORKER, PERFORMER)
    case = await new_referral(client, gp, lw)
    rid = case.referral_id
    activity = await client.post(
        "/api/v1/directory/services",
        json=activity_body(name="Walking group"),
        headers=auth(Role.ADMIN, "X26"),
    )
    assert activity.status_code == 201, activity.text
    booked = await client.post(
        f"/api/v1/referrals/{rid}/bookings", json={"activity_id": activity.json()["id"]}, headers=lw
    )
    assert booked.status_code == 201, booked.text
    attended = await client.patch(
        f"/api/v1/bookings/{booked.json()['id']}", json={"status": "attended"}, headers=lw
    )
    assert attended.status_code == 200, attended.text
    swemwbs = {str(n): 3 for n in range(1, 8)}  # raw 21, metric 19.25
    better = {str(n): 4 for n in range(1, 8)}  # raw 28, metric 25.03
    for posted in (
        await client.post(
            "/fhir/QuestionnaireResponse", json=questionnaire_response(rid, "SWEMWBS"), headers=lw
        ),
        await client.post(
            f"/api/v1/referrals/{rid}/outcomes",
            json=outcome(
                "SWEMWBS", swemwbs, timepoint="follow-up", collected_at="2026-11-19T10:00:00+00:00"
            ),
            headers=lw,
        ),
        await client.post(
            "/fhir/QuestionnaireResponse",
            json=questionnaire_response(
                rid, "SWEMWBS", better, timepoint="follow-up", authored="2026-12-03T10:00:00+00:00"
            ),
            headers=lw,
        ),
        await client.post(f"/api/v1/referrals/{rid}/outcomes", json=outcome("UCLA3"), headers=lw),
    ):
        assert posted.status_code == 201, posted.text
    bundle = (await client.get(f"/fhir/Task?focus={rid}", headers=lw)).json()
    task = await put_task(client, lw, bundle["entry"][0]["resource"], status="completed")
    listed = await client.get(f"/api/v1/referrals/{rid}/outcomes", headers=lw)
    return Completed(case, task, activity.json(), booked.json()["id"], listed.json()["outcomes"])


def outcome(
    instrument: str,
    answers: dict[str, Any] | None = None,
    *,
    timepoint: str = "baseline",
    collected_at: str = "2026-11-05T14:30:00+00:00",
    mode: str = "assisted",
) -> dict[str, Any]:
    return {
        "instrument": instrument,
        "timepoint": timepoint,
        "collected_at": collected_at,
        "mode": mode,
        "answers": VALID[instrument] if answers is None else answers,
    }


def questionnaire_response(
    referral_id: str,
    instrument: str,
    answers: dict[str, Any] | None = None,
    *,
    timepoint: str = "baseline",
    authored: str = "2026-11-05T14:30:00+00:00",
    mode: str = "assisted",
    patient_id: str | None = None,
) -> dict[str, Any]:
    given = VALID[instrument] if answers is None else answers
    items = []
    for link_id, value in given.items():
        key = "valueInteger" if isinstance(value, int) else "valueString"
        items.append({"linkId": link_id, "answer": [{key: value}]})
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "extension": [
            {"url": TIMEPOINT_URL, "valueCode": timepoint},
            {"url": MODE_URL, "valueCode": mode},
        ],
        "questionnaire": questionnaire_url(instrument),
        "status": "completed",
        "basedOn": [{"reference": f"ServiceRequest/{referral_id}"}],
        "authored": authored,
    }
    if patient_id:
        resource["subject"] = {"reference": f"Patient/{patient_id}"}
    if items:
        resource["item"] = items
    return resource
