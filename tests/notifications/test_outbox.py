"""The transactional outbox: every Task change writes one event, in the change's transaction.

The invariant checked after each journey: the events are exactly the kept Task versions (one
per version, with that version's status and the referral's requester), so a change that is
refused or rolled back leaves neither a version nor an event.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.principal import Role
from app.notifications.models import OutboxEvent
from app.referrals.models import ResourceVersion
from tests.conftest import TokenFactory
from tests.directory.conftest import CreateActivity, admin, areas, create_activity
from tests.referrals import factories

__all__ = ["admin", "areas", "create_activity"]  # fixtures

GP, PERFORMER = "A81001", "Y02718"


@pytest.fixture
def gp(auth: TokenFactory) -> dict[str, str]:
    return auth(Role.REFERRER, GP)


@pytest.fixture
def lw(auth: TokenFactory) -> dict[str, str]:
    return auth(Role.LINK_WORKER, PERFORMER)


async def events_and_versions(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> tuple[list[tuple[str, int, str, str]], list[tuple[str, int, str, str]]]:
    async with sessionmaker() as session:
        events = [
            (str(e.task_id), e.task_version, e.task_status, e.requester_ods)
            for e in await session.scalars(select(OutboxEvent))
        ]
        versions = [
            (str(v.resource_id), v.version_id, v.resource["status"], GP)
            for v in await session.scalars(
                select(ResourceVersion).where(ResourceVersion.resource_type == "Task")
            )
        ]
    return sorted(events), sorted(versions)


async def the_task(
    client: httpx.AsyncClient, headers: dict[str, str], referral_id: str
) -> dict[str, Any]:
    bundle = (await client.get(f"/fhir/Task?focus={referral_id}", headers=headers)).json()
    return dict(bundle["entry"][0]["resource"])


async def put_task(
    client: httpx.AsyncClient, lw: dict[str, str], task: dict[str, Any], **changes: Any
) -> httpx.Response:
    body = {k: v for k, v in task.items() if k not in ("meta", "statusReason")}
    return await client.put(f"/fhir/Task/{task['id']}", json={**body, **changes}, headers=lw)


async def test_a_whole_journey_writes_one_event_per_task_version(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    gp: dict[str, str],
    lw: dict[str, str],
    create_activity: CreateActivity,
) -> None:
    referral = (
        await client.post("/fhir/ServiceRequest", json=factories.service_request(), headers=gp)
    ).json()
    task = await the_task(client, lw, referral["id"])
    events, versions = await events_and_versions(sessionmaker)
    assert events == versions == [(task["id"], 1, "requested", GP)]

    task = (await put_task(client, lw, task, status="accepted")).json()
    activity = await create_activity(capacity={"maximum": 10, "available": 5})
    booked = await client.post(
        f"/api/v1/referrals/{referral['id']}/bookings",
        json={"activity_id": activity["id"]},
        headers=lw,
    )
    assert booked.status_code == 201, booked.text
    attended = await client.patch(
        f"/api/v1/bookings/{booked.json()['id']}", json={"status": "attended"}, headers=lw
    )
    assert attended.status_code == 200, attended.text
    task = await the_task(client, lw, referral["id"])
    assert (await put_task(client, lw, task, status="completed")).status_code == 200

    events, versions = await events_and_versions(sessionmaker)
    assert events == versions
    assert [status for _, _, status, _ in events] == [
        "requested",
        "accepted",
        "in-progress",  # booked: started, activity-booked
        "in-progress",  # attended: attending, the activity as output
        "completed",
    ]


async def test_a_transaction_bundle_and_a_revocation_write_their_events(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    gp: dict[str, str],
) -> None:
    response = await client.post("/fhir", json=factories.transaction(), headers=gp)
    assert response.status_code == 200, response.text
    referral = next(
        e["resource"]
        for e in response.json()["entry"]
        if e["resource"]["resourceType"] == "ServiceRequest"
    )
    revoked = await client.put(
        f"/fhir/ServiceRequest/{referral['id']}", json={**referral, "status": "revoked"}, headers=gp
    )
    assert revoked.status_code == 200, revoked.text
    events, versions = await events_and_versions(sessionmaker)
    assert events == versions
    assert [status for _, _, status, _ in events] == ["requested", "cancelled"]


async def test_a_refused_or_unchanged_move_writes_no_event(
    client: httpx.AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    gp: dict[str, str],
    lw: dict[str, str],
) -> None:
    referral = (
        await client.post("/fhir/ServiceRequest", json=factories.service_request(), headers=gp)
    ).json()
    task = await the_task(client, lw, referral["id"])
    refused = [
        await put_task(client, lw, task, status="completed"),  # 409: not from requested
        await put_task(client, lw, task, status="rejected"),  # 422: no statusReason
        await put_task(client, lw, task, status="accepted", intent="plan"),  # 422: fixed
        await client.put(
            f"/fhir/Task/{task['id']}",
            json={**task, "status": "accepted"},
            headers={**lw, "If-Match": 'W/"7"'},
        ),  # 412
        await put_task(client, lw, task, status="requested"),  # unchanged: 200, no new version
    ]
    assert [r.status_code for r in refused] == [409, 422, 422, 412, 200]
    events, versions = await events_and_versions(sessionmaker)
    assert events == versions == [(task["id"], 1, "requested", GP)]
