"""Marking a match not suitable, through the API: idempotent, audited, authorised, left out of
the referral's matches; and the outcome prior reaching a match list from recorded bookings."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.auth.principal import Role
from app.matching.models import UnsuitableMark
from tests.conftest import TokenFactory
from tests.directory.conftest import CreateActivity
from tests.matching.test_learning import booked_for_low_mood
from tests.matching.test_router import HOME, _location, _refer
from tests.referrals import factories

LOW_MOOD = [{"coding": [{"system": factories.NEED_SYSTEM, "code": "low-mood"}]}]


@pytest.fixture
def lw(auth: TokenFactory) -> dict[str, str]:
    return auth(Role.LINK_WORKER, "Y02718")


@pytest.fixture
async def referral(client: httpx.AsyncClient, auth: TokenFactory, areas: None) -> dict[str, Any]:
    return await _refer(client, auth, HOME)


def _url(referral: dict[str, Any], activity_id: str) -> str:
    return f"/api/v1/referrals/{referral['id']}/matches/{activity_id}/unsuitable"


async def _marks(session: AsyncSession) -> list[tuple[str, str, str | None]]:
    rows = await session.execute(
        select(UnsuitableMark.activity_id, UnsuitableMark.reason, UnsuitableMark.note)
    )
    return sorted(rows)


async def _audited(session: AsyncSession) -> list[tuple[str, str, str]]:
    rows = await session.execute(
        select(AuditEvent.operation, AuditEvent.outcome, AuditEvent.actor_role)
        .where(AuditEvent.entity_type == "UnsuitableMark")
        .order_by(AuditEvent.recorded_at)
    )
    return list(rows)


async def _names(client: httpx.AsyncClient, referral: dict[str, Any], lw: dict[str, str]) -> Any:
    response = await client.get(f"/api/v1/referrals/{referral['id']}/matches", headers=lw)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_marked_activity_is_left_out_of_the_referrals_matches_until_unmarked(
    client: httpx.AsyncClient,
    session: AsyncSession,
    lw: dict[str, str],
    referral: dict[str, Any],
    create_activity: CreateActivity,
) -> None:
    choir = await create_activity(name="Choir", locations=_location())
    await create_activity(name="Online choir", attending_type="online", locations=[])
    before = await _names(client, referral, lw)
    assert [m["activity"]["name"] for m in before["matches"]] == ["Choir", "Online choir"]
    assert before["unsuitable"] == []

    marked = await client.put(_url(referral, choir["id"]), json={"reason": "too-far"}, headers=lw)
    assert marked.status_code == 201, marked.text
    assert marked.json()["reason"] == "too-far"
    again = await client.put(
        _url(referral, choir["id"]),
        json={"reason": "wrong-time", "note": "works Tuesdays now"},
        headers=lw,
    )
    assert again.status_code == 200, again.text
    assert await _marks(session) == [(choir["id"], "wrong-time", "works Tuesdays now")]

    after = await _names(client, referral, lw)
    assert [m["activity"]["name"] for m in after["matches"]] == ["Online choir"]
    assert after["eligible"] == 2  # it still passes every hard rule
    assert [(u["activity_name"], u["reason"]) for u in after["unsuitable"]] == [
        ("Choir", "wrong-time")
    ]
    assert "1 activity marked not suitable for this referral is left out." in after["warnings"]
    fhir = await client.get(f"/fhir/ServiceRequest/{referral['id']}/$match", headers=lw)
    ids = [e["resource"]["id"] for e in fhir.json()["entry"] if e["search"]["mode"] == "match"]
    assert choir["id"] not in ids

    gone = await client.delete(_url(referral, choir["id"]), headers=lw)
    assert gone.status_code == 204, gone.text
    assert (await client.delete(_url(referral, choir["id"]), headers=lw)).status_code == 404
    back = await _names(client, referral, lw)
    assert [m["activity"]["name"] for m in back["matches"]] == ["Choir", "Online choir"]
    assert await _marks(session) == []
    assert await _audited(session) == [
        ("create", "0", "link_worker"),
        ("update", "0", "link_worker"),
        ("delete", "0", "link_worker"),
    ]


async def test_only_the_referrals_link_workers_and_admins_may_mark(
    client: httpx.AsyncClient,
    session: AsyncSession,
    auth: TokenFactory,
    referral: dict[str, Any],
    create_activity: CreateActivity,
) -> None:
    choir = await create_activity(name="Choir", locations=_location())
    url, body = _url(referral, choir["id"]), {"reason": "cost"}
    other_service = await client.put(url, json=body, headers=auth(Role.LINK_WORKER, "Y99999"))
    assert other_service.status_code == 404
    denied = await session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.entity_type == "ServiceRequest", AuditEvent.outcome == "4")
    )
    assert denied == 1
    for role, org in (
        (Role.PROVIDER, "DEMOPROV1"),
        (Role.COMMISSIONER, "X24"),
        (Role.REFERRER, "A81001"),
    ):
        assert (await client.put(url, json=body, headers=auth(role, org))).status_code == 403
    assert await _marks(session) == []
    by_admin = await client.put(url, json=body, headers=auth(Role.ADMIN, "X26"))
    assert by_admin.status_code == 201
    assert await _audited(session) == [("create", "0", "admin")]


@pytest.mark.parametrize(
    ("body", "activity", "status"),
    [
        ({"reason": "boring"}, None, 422),
        ({}, None, 422),
        ({"reason": "cost", "note": "x" * 501}, None, 422),
        ({"reason": "cost", "extra": 1}, None, 422),
        ({"reason": "cost"}, "no-such-activity", 422),
        ({"reason": "cost"}, "x" * 65, 400),  # a path parameter
    ],
)
async def test_bad_input_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient,
    session: AsyncSession,
    lw: dict[str, str],
    referral: dict[str, Any],
    create_activity: CreateActivity,
    body: dict[str, Any],
    activity: str | None,
    status: int,
) -> None:
    choir = await create_activity(name="Choir", locations=_location())
    response = await client.put(_url(referral, activity or choir["id"]), json=body, headers=lw)
    assert response.status_code == status, response.text
    assert await _marks(session) == []
    assert await _audited(session) == []
    unknown = {**referral, "id": "00000000-0000-4000-8000-000000000000"}
    missing = await client.put(_url(unknown, choir["id"]), json={"reason": "cost"}, headers=lw)
    assert missing.status_code == 404
    assert await _marks(session) == []


# The outcome prior through the API ----------------------------------------------------------


async def _history(
    client: httpx.AsyncClient,
    auth: TokenFactory,
    lw: dict[str, str],
    activity_id: str,
    people: int,
    attended: int,
) -> None:
    """``people`` referred for low mood booked on the activity, ``attended`` of them attended,
    the others did not."""
    for k in range(people):
        status = "attended" if k < attended else "did-not-attend"
        await booked_for_low_mood(client, auth, lw, activity_id, status)


async def test_attendance_of_people_with_the_same_need_moves_an_activity_up(
    client: httpx.AsyncClient,
    auth: TokenFactory,
    lw: dict[str, str],
    areas: None,
    create_activity: CreateActivity,
) -> None:
    same = {
        "locations": _location(),
        "capacity": {"maximum": 1000, "available": 1000},
        "target_needs": ["low-mood"],
    }
    first = await create_activity(name="Choir A", **same)
    kept = await create_activity(name="Choir B", **same)
    left = await create_activity(name="Choir C", **same)
    await _history(client, auth, lw, kept["id"], 8, 8)
    await _history(client, auth, lw, left["id"], 8, 0)
    await _history(client, auth, lw, first["id"], 7, 7)  # one short of the minimum

    referral = await _refer(client, auth, HOME, reasonCode=LOW_MOOD)
    found = await _names(client, referral, lw)
    ranked = [(m["activity"]["name"], m["components"]["outcome"]) for m in found["matches"]]
    assert [name for name, _ in ranked] == ["Choir B", "Choir A", "Choir C"], ranked
    assert ranked[1][1] == 0.5  # seven people: neutral
    assert ranked[0][1] > 0.5 > ranked[2][1]
    reasons = {m["activity"]["name"]: m["reasons"] for m in found["matches"]}
    said = "100% of about 10 people referred for low mood and booked here attended"
    assert said in reasons["Choir B"]
    assert (
        "0% of about 10 people referred for low mood and booked here attended"
        in (reasons["Choir C"])
    )
    assert not any("booked here" in r for r in reasons["Choir A"])
