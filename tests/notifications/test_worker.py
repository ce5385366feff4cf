"""The worker in this process against a real HTTP receiver on loopback: what arrives, signed;
retries; the retry budget; who hears what."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.principal import Role
from app.notifications.worker import Worker
from tests.conftest import TokenFactory, validate_fhir
from tests.notifications import factories
from tests.notifications.receiver import Receiver, running
from tests.referrals.test_routers_task import move


async def until_delivered(worker: Worker, done: Any, passes: int = 500) -> None:
    """Passes (``--once``) until ``done()``: retries fall due within milliseconds here."""
    for _ in range(passes):
        await worker.run(once=True)
        if done():
            return
    raise AssertionError("not delivered")


async def test_a_task_change_arrives_signed_with_its_version(
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    make_worker: Any,
    receiver: Receiver,
    gp: dict[str, str],
    lw: dict[str, str],
) -> None:
    sub = await factories.subscription(
        committed, receiver.url, headers=["Authorization: Bearer practice-token"]
    )
    task = await factories.referral_task(committed_client, gp)
    first = await factories.event_of(committed, task)
    accepted = await move(committed_client, lw, task, "accepted")
    assert accepted.status_code == 200, accepted.text
    second = await factories.event_of(committed, accepted.json())

    await make_worker().run(once=True)

    got = {r.event_id: r for r in receiver.delivered()}
    assert set(got) == {str(first), str(second)}
    for event_id, version, method in ((first, "1", "POST"), (second, "2", "PUT")):
        request = got[str(event_id)]
        expected = hmac.new(sub.secret.encode(), request.body, hashlib.sha256).hexdigest()
        assert request.headers["x-assetlink-signature"] == f"sha256={expected}"
        assert request.headers["x-assetlink-subscription"] == str(sub.id)
        assert request.headers["authorization"] == "Bearer practice-token"
        assert request.headers["content-type"] == "application/fhir+json"
        bundle = request.json()
        assert (bundle["resourceType"], bundle["type"], bundle["id"]) == (
            "Bundle",
            "history",
            str(event_id),
        )
        [entry] = bundle["entry"]
        assert entry["resource"]["id"] == task["id"]
        assert entry["resource"]["meta"]["versionId"] == version
        assert entry["request"] == {"method": method, "url": f"Task/{task['id']}"}
        assert entry["response"]["etag"] == f'W/"{version}"'
        assert entry["fullUrl"] == f"http://127.0.0.1:8000/fhir/Task/{task['id']}"
    assert got[str(second)].json()["entry"][0]["resource"]["status"] == "accepted"
    result = validate_fhir([r.json() for r in got.values()])
    assert result.returncode == 0, result.stdout + result.stderr
    [one, two] = await factories.deliveries(committed)
    assert {one.status, two.status} == {"delivered"}
    assert (one.attempts, two.attempts) == (1, 1)


async def test_a_receiver_failing_three_times_gets_the_event_once_it_succeeds(
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    make_worker: Any,
    gp: dict[str, str],
) -> None:
    with running(Receiver(fail_first=3)) as receiver:
        await factories.subscription(committed, receiver.url)
        event = await factories.event_of(
            committed, await factories.referral_task(committed_client, gp)
        )
        await until_delivered(make_worker(), lambda: receiver.delivered())

    assert [r.status for r in receiver.received] == [500, 500, 500, 200]
    assert {r.event_id for r in receiver.received} == {str(event)}
    assert len({r.body for r in receiver.received}) == 1  # the same Bundle, the same id
    [row] = await factories.deliveries(committed)
    assert (row.status, row.attempts, row.last_status) == ("delivered", 4, 200)


async def test_a_spent_retry_budget_fails_the_delivery_until_an_admin_requeues_it(
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    make_worker: Any,
    gp: dict[str, str],
    admin: dict[str, str],
) -> None:
    with running(Receiver(fail_first=1_000)) as receiver:
        sub = await factories.subscription(committed, receiver.url)
        event = await factories.event_of(
            committed, await factories.referral_task(committed_client, gp)
        )
        worker = make_worker(notify_max_attempts=3)
        await until_delivered(worker, lambda: len(receiver.received) == 3)
        await worker.run(once=True)
        assert len(receiver.received) == 3

        [row] = await factories.deliveries(committed)
        assert (row.status, row.attempts, row.last_status) == ("failed", 3, 500)
        assert row.last_error == "HTTP 500"
        errored = await factories.subscription_row(committed, sub.id)
        assert (errored.status, errored.version_id) == ("error", sub.version_id + 1)
        assert str(event) in (errored.error or "")
        read = await committed_client.get(f"/fhir/Subscription/{sub.id}", headers=gp)
        assert (read.json()["status"], read.json()["meta"]["versionId"]) == ("error", "2")
        assert str(event) in read.json()["error"]

        # Nothing of a subscription in error is sent; a later event waits for the re-queue.
        later = await factories.event_of(
            committed, await factories.referral_task(committed_client, gp)
        )
        await worker.run(once=True)
        assert len(receiver.received) == 3

        listed = await committed_client.get(
            "/api/v1/notifications/deliveries?status=failed", headers=admin
        )
        assert listed.status_code == 200
        [item] = listed.json()["items"]
        assert (item["event_id"], item["subscription_id"], item["attempts"]) == (
            str(event),
            str(sub.id),
            3,
        )
        assert (item["task_version"], item["last_status"]) == (1, 500)

        receiver.fail_first = 0
        requeued = await committed_client.post(
            f"/api/v1/notifications/deliveries/{row.id}/requeue", headers=admin
        )
        assert requeued.json() == {"subscription_id": str(sub.id), "requeued": 1}
        again = await committed_client.post(
            f"/api/v1/notifications/deliveries/{row.id}/requeue", headers=admin
        )
        assert again.status_code == 409
        assert again.headers["content-type"] == "application/problem+json"
        await worker.run(once=True)

    assert {r.event_id for r in receiver.delivered()} == {str(event), str(later)}
    assert {d.status for d in await factories.deliveries(committed)} == {"delivered"}
    active = await factories.subscription_row(committed, sub.id)
    assert (active.status, active.error, active.version_id) == ("active", None, sub.version_id + 2)


async def register(
    client: httpx.AsyncClient, headers: dict[str, str], endpoint: str, criteria: str, **more: Any
) -> str:
    """A rest-hook Subscription registered with ``POST /fhir/Subscription``; its id."""
    body = {
        "resourceType": "Subscription",
        "status": "requested",
        "reason": "Tell the practice how its referrals go",
        "criteria": criteria,
        "channel": {"type": "rest-hook", "endpoint": endpoint},
        **more,
    }
    created = await client.post("/fhir/Subscription", json=body, headers=headers)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def test_a_subscription_hears_only_its_own_organisations_tasks(
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    make_worker: Any,
    auth: TokenFactory,
    gp: dict[str, str],
    lw: dict[str, str],
) -> None:
    other_gp = auth(Role.REFERRER, "B82002")
    with (
        running(Receiver()) as ours,
        running(Receiver()) as theirs,
        running(Receiver()) as ours_completed,
    ):
        # Registered through the API, each by its own practice.
        await register(committed_client, gp, ours.url, "Task")
        await register(committed_client, other_gp, theirs.url, "Task")
        await register(committed_client, gp, ours_completed.url, "Task?status=completed")
        expired = await register(committed_client, gp, ours.url, "Task", end="2020-01-01T00:00:00Z")
        mine = await factories.referral_task(committed_client, gp)
        events = {await factories.event_of(committed, mine)}
        for status in ("accepted", "in-progress", "completed"):
            moved = await move(committed_client, lw, mine, status)
            assert moved.status_code == 200, moved.text
            mine = moved.json()
            events.add(await factories.event_of(committed, mine))
        other = await factories.referral_task(committed_client, other_gp, "B82002")
        other_event = await factories.event_of(committed, other)

        await make_worker().run(once=True)

    assert {r.event_id for r in ours.delivered()} == {str(e) for e in events}
    assert {r.json()["entry"][0]["resource"]["id"] for r in ours.delivered()} == {mine["id"]}
    assert [r.event_id for r in theirs.delivered()] == [str(other_event)]
    [completed] = ours_completed.delivered()
    assert completed.json()["entry"][0]["resource"]["status"] == "completed"
    assert expired not in {str(d.subscription_id) for d in await factories.deliveries(committed)}


async def test_metrics_show_the_outbox_and_the_workers_results(
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    make_worker: Any,
    receiver: Receiver,
    gp: dict[str, str],
) -> None:
    from prometheus_client import REGISTRY

    def counted() -> float:
        return (
            REGISTRY.get_sample_value(
                "assetlink_notification_deliveries_total", {"result": "delivered"}
            )
            or 0.0
        )

    await factories.subscription(committed, receiver.url)
    await factories.event_of(committed, await factories.referral_task(committed_client, gp))
    before = (await committed_client.get("/metrics")).text
    assert "assetlink_outbox_depth 1.0" in before
    age = next(
        line for line in before.splitlines() if line.startswith("assetlink_outbox_oldest_age")
    )
    assert float(age.split()[1]) >= 0
    delivered_before = counted()

    await make_worker().run(once=True)

    after = (await committed_client.get("/metrics")).text
    assert "assetlink_outbox_depth 0.0" in after
    assert "assetlink_outbox_oldest_age_seconds 0.0" in after
    assert 'assetlink_notification_deliveries{status="delivered"} 1.0' in after
    assert counted() == delivered_before + 1
    assert uuid.UUID(receiver.delivered()[0].event_id)


async def test_a_claim_is_a_lease_and_a_stopping_worker_gives_back_what_it_has_not_sent(
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    make_worker: Any,
    receiver: Receiver,
    gp: dict[str, str],
) -> None:
    await factories.subscription(committed, receiver.url)
    await factories.referral_task(committed_client, gp)
    worker = make_worker()
    await worker.fan_out()
    [job] = await worker.claim(4)
    assert await make_worker().claim(4) == []  # leased: no other worker takes it

    worker.stop()
    await worker._deliver(job, claimed_at=time.monotonic())

    assert receiver.received == []
    [again] = await make_worker().claim(4)  # given back: due now
    assert (again.delivery_id, again.attempts) == (job.delivery_id, 0)
