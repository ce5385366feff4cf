"""``/api/v1/referrals/{id}/outcomes``: validation, scores, changes, the Task, access, audit."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.audit.models import AuditEvent
from app.auth.principal import Role
from app.outcomes.instruments import INSTRUMENTS, SWEMWBS_METRIC
from app.outcomes.models import OutcomeRecord, OutcomeScore
from app.referrals.models import Task
from tests.conftest import TokenFactory
from tests.outcomes.conftest import VALID, Case, new_referral, outcome, put_task


def url(case: Case) -> str:
    return f"/api/v1/referrals/{case.referral_id}/outcomes"


async def stored_count(session: AsyncSession) -> tuple[int, int]:
    records = await session.scalar(select(func.count()).select_from(OutcomeRecord))
    scores = await session.scalar(select(func.count()).select_from(OutcomeScore))
    return int(records or 0), int(scores or 0)


def fields(response: httpx.Response) -> list[str]:
    return [e["field"] for e in response.json().get("errors", [])]


# --- validation: every item of every instrument ------------------------------------------------


@pytest.mark.parametrize("instrument", list(INSTRUMENTS))
async def test_each_missing_or_out_of_range_item_is_named_and_nothing_stored(
    client: httpx.AsyncClient,
    lw: dict[str, str],
    case: Case,
    session: AsyncSession,
    instrument: str,
) -> None:
    spec = INSTRUMENTS[instrument]
    for item in spec.items:
        missing = {k: v for k, v in VALID[instrument].items() if k != item.id}
        response = await client.post(url(case), json=outcome(instrument, missing), headers=lw)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert fields(response) == [f"answers.{item.id}"]
        assert item.id in response.json()["detail"]

        if item.is_numeric:
            numbers = [v for v in item.values if isinstance(v, int)]
            bad_values: list[Any] = [max(numbers) + 1, min(numbers) - 1, "3", 2.5, True, None]
        else:
            bad_values = ["sometimes", "", 3, None]
        for bad in bad_values:
            answers = {**VALID[instrument], item.id: bad}
            response = await client.post(url(case), json=outcome(instrument, answers), headers=lw)
            assert response.status_code == 422, (item.id, bad, response.text)
            assert fields(response) == [f"answers.{item.id}"], (item.id, bad)
    # an extra item is named too
    extra = {**VALID[instrument], "99": 1}
    response = await client.post(url(case), json=outcome(instrument, extra), headers=lw)
    assert response.status_code == 422
    assert fields(response) == ["answers.99"]
    assert await stored_count(session) == (0, 0)
    listed = (await client.get(url(case), headers=lw)).json()
    assert listed["outcomes"] == []


async def test_every_fault_is_reported_together(
    client: httpx.AsyncClient, lw: dict[str, str], case: Case
) -> None:
    response = await client.post(
        url(case), json=outcome("UCLA3", {"lack_companionship": 4, "left_out": 0}), headers=lw
    )
    assert response.status_code == 422
    assert fields(response) == [
        "answers.lack_companionship",
        "answers.left_out",
        "answers.isolated",
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"instrument": "PHQ9"}, "instrument"),
        ({"timepoint": "midway"}, "timepoint"),
        ({"mode": "telepathy"}, "mode"),
        ({"collected_at": "2026-11-05T14:30:00"}, "collected_at"),  # no time zone
        ({"collected_at": "2099-01-01T00:00:00+00:00"}, "collected_at"),  # the future
        ({"collected_at": "2026-10-31T23:59:00+00:00"}, "collected_at"),  # before the referral
        ({"answers": [1, 2, 3]}, "answers"),
        ({"colour": "blue"}, "colour"),
    ],
)
async def test_bad_fields_are_named(
    client: httpx.AsyncClient,
    lw: dict[str, str],
    case: Case,
    session: AsyncSession,
    change: dict[str, Any],
    field: str,
) -> None:
    body = {**outcome("SWEMWBS"), **change}
    response = await client.post(url(case), json=body, headers=lw)
    assert response.status_code == 422, response.text
    assert fields(response)[0] == field
    assert await stored_count(session) == (0, 0)


@pytest.mark.parametrize("collected_at", ["2026-11-05T14:30:00", "2026-11-05T14:30"])
async def test_a_time_without_a_time_zone_is_refused_saying_so(
    client: httpx.AsyncClient, lw: dict[str, str], case: Case, collected_at: str
) -> None:
    body = {**outcome("SWEMWBS"), "collected_at": collected_at}
    response = await client.post(url(case), json=body, headers=lw)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "collected_at"
    assert "a time zone is required" in response.json()["errors"][0]["message"]


async def test_follow_up_cannot_precede_its_baseline(
    client: httpx.AsyncClient, lw: dict[str, str], case: Case, session: AsyncSession
) -> None:
    first = await client.post(
        url(case), json=outcome("WEMWBS", collected_at="2026-11-10T10:00:00Z"), headers=lw
    )
    assert first.status_code == 201
    early = outcome("WEMWBS", timepoint="follow-up", collected_at="2026-11-09T10:00:00Z")
    response = await client.post(url(case), json=early, headers=lw)
    assert response.status_code == 422
    assert fields(response) == ["collected_at"]
    later = await client.post(
        url(case),
        json=outcome("WEMWBS", timepoint="exit", collected_at="2026-11-20T10:00:00Z"),
        headers=lw,
    )
    assert later.status_code == 201
    late_baseline = outcome("WEMWBS", collected_at="2026-11-21T10:00:00Z")
    response = await client.post(url(case), json=late_baseline, headers=lw)
    assert response.status_code == 422
    # another instrument is not constrained by WEMWBS's dates
    other = await client.post(
        url(case), json=outcome("ONS4", collected_at="2026-11-21T10:00:00Z"), headers=lw
    )
    assert other.status_code == 201
    assert await stored_count(session) == (3, 1 + 1 + 4)


# --- scores ------------------------------------------------------------------------------------


async def test_stored_record_and_scores(
    client: httpx.AsyncClient, lw: dict[str, str], case: Case
) -> None:
    response = await client.post(url(case), json=outcome("SWEMWBS"), headers=lw)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["referral_id"] == case.referral_id
    assert body["patient_id"] == case.patient_id
    assert (body["instrument"], body["timepoint"], body["mode"]) == (
        "SWEMWBS",
        "baseline",
        "assisted",
    )
    assert body["collected_at"].startswith("2026-11-05T14:30:00")
    assert body["answers"] == VALID["SWEMWBS"]
    assert body["source"] == "json"
    assert body["questionnaire_response_id"] is None
    assert body["recorded_by"]
    assert [(s["measure"], s["value"]) for s in body["scores"]] == [
        ("total", 14),
        ("metric", SWEMWBS_METRIC[14]),
    ]


async def test_scores_of_each_instrument(
    client: httpx.AsyncClient, lw: dict[str, str], case: Case
) -> None:
    got = {}
    for instrument in INSTRUMENTS:
        response = await client.post(url(case), json=outcome(instrument), headers=lw)
        assert response.status_code == 201, response.text
        got[instrument] = {
            s["measure"]: (s["value"], s["band"], s["category"], s["lonely"])
            for s in response.json()["scores"]
        }
    assert got["ONS4"] == {
        "life_satisfaction": (7, "high", None, None),
        "worthwhile": (8, "high", None, None),
        "happy": (6, "medium", None, None),
        "anxious": (3, "low", None, None),
    }
    assert got["WEMWBS"] == {"total": (42, None, None, None)}
    assert got["UCLA3"] == {"total": (7, None, None, True)}
    assert got["ONS_LONELINESS"] == {"how_often": (None, None, "often-always", True)}


# --- change from baseline to the latest follow-up ----------------------------------------------


def swemwbs(raw: int) -> dict[str, int]:
    """Seven answers summing to ``raw``."""
    answers, left = {}, raw
    for n in range(1, 8):
        value = min(5, left - (7 - n))
        answers[str(n)] = value
        left -= value
    assert sum(answers.values()) == raw
    return answers


async def test_change_from_baseline_to_latest_follow_up(
    client: httpx.AsyncClient, lw: dict[str, str], case: Case
) -> None:
    posts = [
        outcome("SWEMWBS", swemwbs(14), collected_at="2026-11-05T10:00:00Z"),
        outcome("SWEMWBS", swemwbs(17), timepoint="follow-up", collected_at="2026-11-12T10:00Z"),
        outcome("SWEMWBS", swemwbs(20), timepoint="follow-up", collected_at="2026-11-19T10:00Z"),
        outcome(
            "UCLA3",
            {"lack_companionship": 3, "left_out": 3, "isolated": 2},
            collected_at="2026-11-05T10:00:00Z",
        ),
        outcome(
            "UCLA3",
            {"lack_companionship": 1, "left_out": 2, "isolated": 1},
            timepoint="exit",
            collected_at="2026-11-20T10:00:00Z",
        ),
        outcome("ONS_LONELINESS", {"how_often": "never"}, collected_at="2026-11-05T10:00Z"),
        outcome("ONS4", collected_at="2026-11-05T10:00:00Z"),  # no follow-up: no change
    ]
    ids = []
    for body in posts:
        response = await client.post(url(case), json=body, headers=lw)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    listed = await client.get(url(case), headers=lw)
    assert listed.status_code == 200
    body = listed.json()
    assert sorted(o["id"] for o in body["outcomes"]) == sorted(ids)
    collected = [o["collected_at"] for o in body["outcomes"]]
    assert collected == sorted(collected)  # oldest collection first
    changes = {c["instrument"]: c for c in body["changes"]}
    assert set(changes) == {"SWEMWBS", "UCLA3"}
    sw = changes["SWEMWBS"]
    assert (sw["baseline_id"], sw["follow_up_id"]) == (ids[0], ids[2])
    [metric] = sw["measures"]
    assert metric["measure"] == "metric"
    assert (metric["baseline"], metric["follow_up"]) == (SWEMWBS_METRIC[14], SWEMWBS_METRIC[20])
    assert metric["change"] == round(SWEMWBS_METRIC[20] - SWEMWBS_METRIC[14], 2)  # 3.27
    assert metric["reliable_improvement"] is True
    assert metric["reliable_change_threshold"] == 3
    uc = changes["UCLA3"]
    assert (uc["baseline_id"], uc["follow_up_id"]) == (ids[3], ids[4])
    [total] = uc["measures"]
    assert (total["baseline"], total["follow_up"], total["change"]) == (8, 4, -4)
    assert total["direction"] == "lower-is-better"
    assert total["improved"] is True
    assert total["reliable_improvement"] is None
    assert uc["lonely_transition"] == "no-longer-lonely"


# --- the Task moves on ---------------------------------------------------------------------------


def stage(task: dict[str, Any]) -> str | None:
    codings = task.get("businessStatus", {}).get("coding", [])
    return codings[0]["code"] if codings else None


def stage_concept(code: str) -> dict[str, Any]:
    from app.referrals.fhir import STAGE_SYSTEM

    return {"coding": [{"system": STAGE_SYSTEM, "code": code}]}


async def read_task(client: httpx.AsyncClient, lw: dict[str, str], case: Case) -> dict[str, Any]:
    response = await client.get(f"/fhir/Task/{case.task['id']}", headers=lw)
    return dict(response.json())


async def test_baseline_marks_first_contact(
    client: httpx.AsyncClient, lw: dict[str, str], case: Case, session: AsyncSession
) -> None:
    before = await read_task(client, lw, case)
    assert stage(before) is None
    response = await client.post(url(case), json=outcome("ONS4"), headers=lw)
    assert response.status_code == 201
    after = await read_task(client, lw, case)
    assert stage(after) == "first-contact"
    assert after["status"] == before["status"] == "accepted"
    assert int(after["meta"]["versionId"]) == int(before["meta"]["versionId"]) + 1
    first_contact = await session.scalar(
        select(Task.first_contact_at).where(Task.id == uuid.UUID(case.task["id"]))
    )
    assert first_contact == dt.datetime(2026, 11, 5, 14, 30, tzinfo=dt.UTC)  # collected_at
    history = (await client.get(f"/fhir/Task/{case.task['id']}/_history", headers=lw)).json()
    assert [stage(e["resource"]) for e in history["entry"]][:2] == ["first-contact", None]
    # a second baseline changes nothing more
    await client.post(url(case), json=outcome("UCLA3"), headers=lw)
    again = await read_task(client, lw, case)
    assert again["meta"]["versionId"] == after["meta"]["versionId"]


async def test_follow_up_clears_follow_up_due_back_to_attending(
    client: httpx.AsyncClient, lw: dict[str, str], case: Case
) -> None:
    await client.post(url(case), json=outcome("SWEMWBS"), headers=lw)
    task = await read_task(client, lw, case)
    task = await put_task(
        client, lw, task, status="in-progress", businessStatus=stage_concept("attending")
    )
    task = await put_task(client, lw, task, businessStatus=stage_concept("follow-up-due"))
    # a baseline of another instrument does not clear the review
    await client.post(url(case), json=outcome("ONS4"), headers=lw)
    assert stage(await read_task(client, lw, case)) == "follow-up-due"
    follow_up = outcome("SWEMWBS", timepoint="follow-up", collected_at="2026-11-20T10:00Z")
    response = await client.post(url(case), json=follow_up, headers=lw)
    assert response.status_code == 201
    after = await read_task(client, lw, case)
    assert stage(after) == "attending"
    assert after["status"] == "in-progress"
    assert int(after["meta"]["versionId"]) == int(task["meta"]["versionId"]) + 1


async def test_exit_on_a_finished_task_leaves_its_status(
    client: httpx.AsyncClient, gp: dict[str, str], lw: dict[str, str], case: Case
) -> None:
    """A completed Task's output gains the exit's Observations (the message back to the GP);
    nothing else about a finished Task changes."""
    task = await put_task(client, lw, case.task, status="in-progress")
    task = await put_task(client, lw, task, status="completed")
    response = await client.post(url(case), json=outcome("ONS4", timepoint="exit"), headers=lw)
    assert response.status_code == 201
    after = await read_task(client, lw, case)
    assert (after["status"], stage(after)) == ("completed", None)
    assert int(after["meta"]["versionId"]) == int(task["meta"]["versionId"]) + 1
    assert [o["valueReference"]["reference"] for o in after["output"]] == [
        f"Observation/{s['observation_id']}" for s in response.json()["scores"]
    ]
    assert {o["type"]["text"] for o in after["output"]} == {"Latest follow-up: ONS4"}

    cancelled = await new_referral(client, gp, lw)
    task = await put_task(
        client, lw, cancelled.task, status="cancelled", statusReason={"text": "moved away"}
    )
    response = await client.post(url(cancelled), json=outcome("ONS4", timepoint="exit"), headers=lw)
    assert response.status_code == 201
    assert (await read_task(client, lw, cancelled))["meta"] == task["meta"]


async def test_not_before_the_referral_is_accepted(
    client: httpx.AsyncClient, gp: dict[str, str], lw: dict[str, str], session: AsyncSession
) -> None:
    fresh = await new_referral(client, gp, lw, accept=False)
    response = await client.post(url(fresh), json=outcome("ONS4"), headers=lw)
    assert response.status_code == 409
    assert fields(response) == ["Task.status"]
    assert "move the Task to accepted first" in response.json()["detail"]
    assert await stored_count(session) == (0, 0)


async def test_a_rejected_referral_is_not_told_to_accept(
    client: httpx.AsyncClient, gp: dict[str, str], lw: dict[str, str]
) -> None:
    fresh = await new_referral(client, gp, lw, accept=False)
    await put_task(client, lw, fresh.task, status="rejected", statusReason={"text": "not local"})
    response = await client.post(url(fresh), json=outcome("ONS4"), headers=lw)
    assert response.status_code == 409
    detail = response.json()["detail"]
    assert "rejected is a final status" in detail
    assert "accept" not in detail


# --- who may ----------------------------------------------------------------------------------


async def test_admin_may_record_and_read(
    client: httpx.AsyncClient, auth: TokenFactory, case: Case
) -> None:
    admin = auth(Role.ADMIN, "X26")
    assert (await client.post(url(case), json=outcome("ONS4"), headers=admin)).status_code == 201
    listed = await client.get(url(case), headers=admin)
    assert listed.status_code == 200
    assert len(listed.json()["outcomes"]) == 1


async def test_another_link_worker_service_gets_404(
    client: httpx.AsyncClient,
    auth: TokenFactory,
    lw: dict[str, str],
    case: Case,
    session: AsyncSession,
) -> None:
    await client.post(url(case), json=outcome("ONS4"), headers=lw)
    other = auth(Role.LINK_WORKER, "Y09999")
    assert (await client.get(url(case), headers=other)).status_code == 404
    posted = await client.post(url(case), json=outcome("UCLA3"), headers=other)
    assert posted.status_code == 404
    assert await stored_count(session) == (1, 4)
    unknown = "/api/v1/referrals/8a0d8f4e-4a4b-4a3c-9d3e-2f1b0c9d8e7f/outcomes"
    assert (await client.get(unknown, headers=lw)).status_code == 404


async def test_refusals_are_audited(
    committed_client: httpx.AsyncClient,
    gp: dict[str, str],
    lw: dict[str, str],
    auth: TokenFactory,
    engine: AsyncEngine,
) -> None:
    """The refused attempt is kept although the request's own transaction is rolled back."""
    case = await new_referral(committed_client, gp, lw)
    other = auth(Role.LINK_WORKER, "Y09999")
    assert (await committed_client.get(url(case), headers=other)).status_code == 404
    async with AsyncSession(engine) as session:
        denied = await session.scalars(
            select(AuditEvent).where(AuditEvent.actor_org == "Y09999", AuditEvent.outcome == "4")
        )
        assert [(e.entity_type, e.entity_id) for e in denied] == [
            ("ServiceRequest", case.referral_id)
        ]


@pytest.mark.parametrize(
    ("role", "org"),
    [(Role.REFERRER, "A81001"), (Role.PROVIDER, "P12345"), (Role.COMMISSIONER, "QWO")],
)
async def test_other_roles_are_forbidden(
    client: httpx.AsyncClient, auth: TokenFactory, case: Case, role: Role, org: str
) -> None:
    headers = auth(role, org)
    assert (await client.get(url(case), headers=headers)).status_code == 403
    posted = await client.post(url(case), json=outcome("ONS4"), headers=headers)
    assert posted.status_code == 403


async def test_no_token_is_401(client: httpx.AsyncClient, case: Case) -> None:
    assert (await client.get(url(case))).status_code == 401


# --- audit -------------------------------------------------------------------------------------


async def test_reads_and_writes_are_audited(
    client: httpx.AsyncClient, lw: dict[str, str], case: Case, session: AsyncSession
) -> None:
    created = (await client.post(url(case), json=outcome("WEMWBS"), headers=lw)).json()
    await client.get(url(case), headers=lw)
    rows = list(
        await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity_type == "OutcomeRecord")
            .order_by(AuditEvent.recorded_at)
        )
    )
    assert [(r.operation, r.action, r.entity_id, str(r.patient_id)) for r in rows] == [
        ("create", "C", created["id"], case.patient_id),
        ("read", "R", created["id"], case.patient_id),
    ]
    assert {(r.actor_role, r.actor_org, r.outcome) for r in rows} == {
        ("link_worker", "Y02718", "0")
    }
