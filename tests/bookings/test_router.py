"""Bookings: atomic places, attendance, cancellation, the Task following, the provider's view."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from app.auth.principal import Role
from tests.conftest import TokenFactory
from tests.directory.conftest import PROVIDER_ODS, CreateActivity, activity_body
from tests.referrals import factories


async def new_referral(
    client: httpx.AsyncClient, auth: TokenFactory, *, accept: bool = True
) -> dict[str, Any]:
    referral = (
        await client.post(
            "/fhir/ServiceRequest",
            json=factories.service_request(),
            headers=auth(Role.REFERRER, "A81001"),
        )
    ).json()
    if accept:
        lw = auth(Role.LINK_WORKER, "Y02718")
        task = (await client.get(f"/fhir/Task?focus={referral['id']}", headers=lw)).json()["entry"][
            0
        ]["resource"]
        moved = await client.put(
            f"/fhir/Task/{task['id']}", json={**task, "status": "accepted"}, headers=lw
        )
        assert moved.status_code == 200
    return dict(referral)


async def task_of(
    client: httpx.AsyncClient, auth: TokenFactory, referral: dict[str, Any]
) -> dict[str, Any]:
    bundle = (
        await client.get(f"/fhir/Task?focus={referral['id']}", headers=auth(Role.ADMIN, "X26"))
    ).json()
    return dict(bundle["entry"][0]["resource"])


@pytest.fixture
def lw(auth: TokenFactory) -> dict[str, str]:
    return auth(Role.LINK_WORKER, "Y02718")


async def available(client: httpx.AsyncClient, activity_id: str, headers: dict[str, str]) -> int:
    body = (await client.get(f"/api/v1/directory/services/{activity_id}", headers=headers)).json()
    return int(body["capacity"]["available"])


async def test_booking_takes_a_place_and_moves_the_task(
    client: httpx.AsyncClient,
    auth: TokenFactory,
    lw: dict[str, str],
    create_activity: CreateActivity,
) -> None:
    referral = await new_referral(client, auth)
    activity = await create_activity(capacity={"maximum": 10, "available": 2})
    response = await client.post(
        f"/api/v1/referrals/{referral['id']}/bookings",
        json={"activity_id": activity["id"]},
        headers=lw,
    )
    assert response.status_code == 201, response.text
    booking = response.json()
    assert booking["status"] == "booked"
    assert booking["person"] == {"display_name": "Grace O.", "age": booking["person"]["age"]}
    assert await available(client, activity["id"], lw) == 1
    task = await task_of(client, auth, referral)
    assert task["status"] == "in-progress"
    assert task["businessStatus"]["coding"][0]["code"] == "activity-booked"

    again = await client.post(
        f"/api/v1/referrals/{referral['id']}/bookings",
        json={"activity_id": activity["id"]},
        headers=lw,
    )
    assert again.status_code == 409

    attended = await client.patch(
        f"/api/v1/bookings/{booking['id']}", json={"status": "attended"}, headers=lw
    )
    assert attended.status_code == 200
    task = await task_of(client, auth, referral)
    assert task["businessStatus"]["coding"][0]["code"] == "attending"
    assert task["output"][0]["valueReference"]["identifier"]["value"] == activity["id"]
    assert (
        await client.patch(
            f"/api/v1/bookings/{booking['id']}", json={"status": "cancelled"}, headers=lw
        )
    ).status_code == 409


async def test_cancelling_gives_the_place_back(
    client: httpx.AsyncClient,
    auth: TokenFactory,
    lw: dict[str, str],
    create_activity: CreateActivity,
) -> None:
    referral = await new_referral(client, auth)
    activity = await create_activity(capacity={"maximum": 1, "available": 1})
    booking = (
        await client.post(
            f"/api/v1/referrals/{referral['id']}/bookings",
            json={"activity_id": activity["id"]},
            headers=lw,
        )
    ).json()
    assert await available(client, activity["id"], lw) == 0
    other = await new_referral(client, auth)
    full = await client.post(
        f"/api/v1/referrals/{other['id']}/bookings",
        json={"activity_id": activity["id"]},
        headers=lw,
    )
    assert full.status_code == 409
    assert "no place" in full.json()["detail"]
    cancelled = await client.patch(
        f"/api/v1/bookings/{booking['id']}", json={"status": "cancelled"}, headers=lw
    )
    assert cancelled.json()["status"] == "cancelled"
    assert await available(client, activity["id"], lw) == 1
    rebooked = await client.post(
        f"/api/v1/referrals/{referral['id']}/bookings",
        json={"activity_id": activity["id"]},
        headers=lw,
    )
    assert rebooked.status_code == 201
    assert rebooked.json()["id"] == booking["id"]
    assert await available(client, activity["id"], lw) == 0


async def test_rules_before_booking(
    client: httpx.AsyncClient,
    auth: TokenFactory,
    lw: dict[str, str],
    create_activity: CreateActivity,
) -> None:
    unaccepted = await new_referral(client, auth, accept=False)
    activity = await create_activity()
    url = f"/api/v1/referrals/{unaccepted['id']}/bookings"
    assert (
        await client.post(url, json={"activity_id": activity["id"]}, headers=lw)
    ).status_code == 409
    referral = await new_referral(client, auth)
    url = f"/api/v1/referrals/{referral['id']}/bookings"
    assert (await client.post(url, json={"activity_id": "nope"}, headers=lw)).status_code == 422
    assert (await client.post(url, json={}, headers=lw)).status_code == 422
    assert (
        await client.post(url, json={"activity_id": activity["id"], "x": 1}, headers=lw)
    ).status_code == 422
    closed = await create_activity(status="inactive")
    assert (
        await client.post(url, json={"activity_id": closed["id"]}, headers=lw)
    ).status_code == 409
    assert (
        await client.post(
            url, json={"activity_id": activity["id"]}, headers=auth(Role.LINK_WORKER, "Y99999")
        )
    ).status_code == 404
    assert (
        await client.post(
            url, json={"activity_id": activity["id"]}, headers=auth(Role.PROVIDER, PROVIDER_ODS)
        )
    ).status_code == 403


async def test_provider_view_without_nhs_numbers(
    client: httpx.AsyncClient,
    auth: TokenFactory,
    lw: dict[str, str],
    create_activity: CreateActivity,
) -> None:
    referral = await new_referral(client, auth)
    mine = await create_activity()
    theirs = await create_activity(**{"organization": {"name": "Other", "identifier": "OTHERORG1"}})
    for activity in (mine, theirs):
        response = await client.post(
            f"/api/v1/referrals/{referral['id']}/bookings",
            json={"activity_id": activity["id"]},
            headers=lw,
        )
        assert response.status_code == 201
    provider = auth(Role.PROVIDER, PROVIDER_ODS)
    page = (await client.get("/api/v1/bookings", headers=provider)).json()
    assert page["total"] == 1
    item = page["items"][0]
    assert item["activity_id"] == mine["id"]
    patient = (await client.get(f"/fhir/{referral['subject']['reference']}", headers=lw)).json()
    nhs_number = patient["identifier"][0]["value"]
    assert nhs_number not in str(page)
    assert patient["name"][0]["family"] not in str(page)
    marked = await client.patch(
        f"/api/v1/bookings/{item['id']}", json={"status": "did-not-attend"}, headers=provider
    )
    assert marked.status_code == 200
    other_booking = (await client.get("/api/v1/bookings", headers=lw)).json()["items"]
    foreign = next(b for b in other_booking if b["activity_id"] == theirs["id"])
    assert (
        await client.patch(
            f"/api/v1/bookings/{foreign['id']}", json={"status": "attended"}, headers=provider
        )
    ).status_code == 404
    assert (
        await client.get(f"/api/v1/bookings/{foreign['id']}", headers=provider)
    ).status_code == 404
    assert (
        await client.get("/api/v1/bookings", headers=auth(Role.COMMISSIONER, "15N"))
    ).status_code == 403


async def test_concurrent_bookings_for_the_last_places(
    committed_client: httpx.AsyncClient, auth: TokenFactory, lw: dict[str, str]
) -> None:
    """20 people, 3 places: exactly 3 bookings succeed, the rest are 409, available ends at 0."""
    client = committed_client
    admin = auth(Role.ADMIN, "X26")
    activity = (
        await client.post(
            "/api/v1/directory/services",
            json=activity_body(capacity={"maximum": 3, "available": 3}),
            headers=admin,
        )
    ).json()
    referrals = [await new_referral(client, auth) for _ in range(20)]
    responses = await asyncio.gather(
        *(
            client.post(
                f"/api/v1/referrals/{r['id']}/bookings",
                json={"activity_id": activity["id"]},
                headers=lw,
            )
            for r in referrals
        )
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] * 3 + [409] * 17, [
        r.text for r in responses if r.status_code not in (201, 409)
    ]
    assert await available(client, activity["id"], lw) == 0


async def test_retries_of_one_booking_take_one_place(
    committed_client: httpx.AsyncClient, auth: TokenFactory, lw: dict[str, str]
) -> None:
    """The same booking sent five times at once (a client retrying after timeouts), then once
    more: one 201, the others 409 (already booked); one place taken."""
    client = committed_client
    activity = (
        await client.post(
            "/api/v1/directory/services",
            json=activity_body(capacity={"maximum": 5, "available": 5}),
            headers=auth(Role.ADMIN, "X26"),
        )
    ).json()
    referral = await new_referral(client, auth)
    path = f"/api/v1/referrals/{referral['id']}/bookings"
    body = {"activity_id": activity["id"]}
    responses = await asyncio.gather(*(client.post(path, json=body, headers=lw) for _ in range(5)))
    responses.append(await client.post(path, json=body, headers=lw))
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 5, [r.text for r in responses]
    assert await available(client, activity["id"], lw) == 4
    listed = (await client.get(f"{path}", headers=lw)).json()
    assert [b["status"] for b in listed["items"]] == ["booked"]
    assert all("already has a place" in r.text for r in responses if r.status_code == 409)


async def test_page_beyond_any_result_is_400(client: httpx.AsyncClient, lw: dict[str, str]) -> None:
    assert (
        await client.get("/api/v1/bookings?page=99999999999999999999", headers=lw)
    ).status_code == 400


async def move_task(
    client: httpx.AsyncClient, headers: dict[str, str], task: dict[str, Any], status: str
) -> dict[str, Any]:
    body = {k: v for k, v in task.items() if k not in ("statusReason", "businessStatus")}
    body["status"] = status
    if status in ("rejected", "cancelled", "failed", "on-hold"):
        body["statusReason"] = {"text": f"moved to {status} in a test"}
    response = await client.put(f"/fhir/Task/{task['id']}", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def book(
    client: httpx.AsyncClient, lw: dict[str, str], referral: dict[str, Any], activity_id: str
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/referrals/{referral['id']}/bookings",
        json={"activity_id": activity_id},
        headers=lw,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def revoke(client: httpx.AsyncClient, auth: TokenFactory, referral: dict[str, Any]) -> None:
    gp = auth(Role.REFERRER, "A81001")
    current = (await client.get(f"/fhir/ServiceRequest/{referral['id']}", headers=gp)).json()
    response = await client.put(
        f"/fhir/ServiceRequest/{referral['id']}", json={**current, "status": "revoked"}, headers=gp
    )
    assert response.status_code == 200, response.text


def end_task(status: str) -> Any:
    """Moves the referral's Task to ``status`` (through in-progress for completed)."""

    async def end(client: httpx.AsyncClient, auth: TokenFactory, referral: dict[str, Any]) -> None:
        lw = auth(Role.LINK_WORKER, "Y02718")
        task = await task_of(client, auth, referral)
        if status == "completed" and task["status"] == "accepted":
            task = await move_task(client, lw, task, "in-progress")
        await move_task(client, lw, task, status)

    return end


@pytest.mark.parametrize(
    ("end", "reason"),
    [
        (revoke, "referral-revoked"),
        (end_task("cancelled"), "task-cancelled"),
        (end_task("completed"), "task-completed"),
        (end_task("failed"), "task-failed"),
    ],
)
async def test_the_end_of_a_referral_gives_its_places_back(
    client: httpx.AsyncClient,
    auth: TokenFactory,
    lw: dict[str, str],
    create_activity: CreateActivity,
    end: Any,
    reason: str,
) -> None:
    referral = await new_referral(client, auth)
    choir = await create_activity(capacity={"maximum": 5, "available": 1})
    walk = await create_activity(capacity={"maximum": 5, "available": 3})
    garden = await create_activity(capacity={"maximum": 5, "available": 3})
    open_booking = await book(client, lw, referral, choir["id"])
    attended = await book(client, lw, referral, walk["id"])
    marked = await client.patch(
        f"/api/v1/bookings/{attended['id']}", json={"status": "attended"}, headers=lw
    )
    assert marked.status_code == 200
    dropped = await book(client, lw, referral, garden["id"])
    cancelled = await client.patch(
        f"/api/v1/bookings/{dropped['id']}", json={"status": "cancelled"}, headers=lw
    )
    assert cancelled.json()["cancelled_reason"] == "booking-cancelled"
    assert await available(client, choir["id"], lw) == 0

    await end(client, auth, referral)

    admin = auth(Role.ADMIN, "X26")
    after = (await client.get(f"/api/v1/bookings/{open_booking['id']}", headers=admin)).json()
    assert (after["status"], after["cancelled_reason"]) == ("cancelled", reason)
    assert await available(client, choir["id"], lw) == 1
    kept = (await client.get(f"/api/v1/bookings/{attended['id']}", headers=admin)).json()
    assert (kept["status"], kept["cancelled_reason"]) == ("attended", None)
    assert await available(client, walk["id"], lw) == 2
    gone = (await client.get(f"/api/v1/bookings/{dropped['id']}", headers=admin)).json()
    assert gone["cancelled_reason"] == "booking-cancelled"
    assert await available(client, garden["id"], lw) == 3  # not given back twice


async def test_each_409_says_what_the_task_is_and_what_would_help(
    client: httpx.AsyncClient,
    auth: TokenFactory,
    lw: dict[str, str],
    create_activity: CreateActivity,
) -> None:
    activity = await create_activity()

    async def refused(referral: dict[str, Any]) -> str:
        response = await client.post(
            f"/api/v1/referrals/{referral['id']}/bookings",
            json={"activity_id": activity["id"]},
            headers=lw,
        )
        assert response.status_code == 409
        assert response.headers["content-type"].startswith("application/problem+json")
        return str(response.json()["detail"])

    requested = await new_referral(client, auth, accept=False)
    detail = await refused(requested)
    assert "requested" in detail
    assert "accepted" in detail

    completed = await new_referral(client, auth)
    await end_task("completed")(client, auth, completed)
    detail = await refused(completed)
    assert "completed" in detail
    assert "final" in detail
    assert "accept" not in detail

    paused = await new_referral(client, auth)
    await move_task(client, lw, await task_of(client, auth, paused), "on-hold")
    detail = await refused(paused)
    assert "on-hold" in detail
    assert "in-progress" in detail

    skipping = await new_referral(client, auth)
    task = await task_of(client, auth, skipping)
    body = {k: v for k, v in task.items() if k not in ("statusReason", "businessStatus")}
    response = await client.put(
        f"/fhir/Task/{task['id']}", json={**body, "status": "completed"}, headers=lw
    )
    assert response.status_code == 409
    message = response.json()["issue"][0]["diagnostics"]
    assert "in-progress first" in message, message
