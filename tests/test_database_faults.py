"""PostgreSQL stopped hard, and connections killed, under concurrent writers: 201 or 503.

Each test runs its own cluster (``tests/cluster.py``): ``pg_ctl stop -m immediate`` in the
middle of a run of referral POSTs from several clients. Every answer is 201 or 503 with
``Retry-After`` (never 500); ``/readyz`` fails and ``/livez`` answers while it is down; once it
is started again the same app answers 201 again; every referral answered 201 is stored whole
(its Task, their versions, the Task's outbox event) and nothing is half-written.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import pytest

from app import migrations
from app.auth.principal import Role
from app.main import create_app
from tests.cluster import Cluster, own_cluster
from tests.conftest import TokenFactory, _admin, _with_database, in_thread, make_settings
from tests.directory.conftest import activity_body
from tests.referrals import factories

CLIENTS = 4  # posting referrals; two more book places
PLACES = 1000
BOOKINGS = 60  # referrals accepted before the run, one booking each


@dataclass
class Run:
    """The answers of the clients' POSTs so far, referrals and bookings."""

    created: list[str] = field(default_factory=list)  # referral ids answered 201
    booked: list[str] = field(default_factory=list)  # booking ids answered 201
    statuses: list[int] = field(default_factory=list)
    refused: list[httpx.Response] = field(default_factory=list)  # anything but 201
    done: bool = False

    async def until(self, condition: Callable[[], bool]) -> None:
        for _ in range(3000):
            if condition():
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"never reached: {self.statuses[-20:]}")

    async def post(self, http: httpx.AsyncClient, path: str, **kwargs: Any) -> str | None:
        answer = await http.post(path, **kwargs)
        self.statuses.append(answer.status_code)
        if answer.status_code == 201:
            return str(answer.json()["id"])
        self.refused.append(answer)
        await asyncio.sleep(0.01)
        return None

    async def refer(self, http: httpx.AsyncClient, gp: dict[str, str]) -> None:
        while not self.done:
            body = factories.service_request()
            created = await self.post(http, "/fhir/ServiceRequest", json=body, headers=gp)
            if created:
                self.created.append(created)

    async def book(
        self, http: httpx.AsyncClient, lw: dict[str, str], activity: str, referrals: list[str]
    ) -> None:
        while not self.done and referrals:
            referral = referrals.pop()
            booked = await self.post(
                http,
                f"/api/v1/referrals/{referral}/bookings",
                json={"activity_id": activity},
                headers=lw,
            )
            if booked:
                self.booked.append(booked)


@pytest.fixture
async def cluster_url() -> AsyncIterator[tuple[Cluster, str]]:
    with own_cluster() as cluster:
        await _admin(cluster.url, "CREATE DATABASE assetlink")
        url = _with_database(cluster.url, "assetlink")
        in_thread(lambda: migrations.upgrade(url))
        yield cluster, url


def _assert_unavailable(answers: list[httpx.Response]) -> None:
    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"] == "5"
        body = answer.json()
        if answer.url.path.startswith("/fhir/"):
            assert body["issue"][0]["code"] == "transient"
            assert "database is unavailable" in body["issue"][0]["diagnostics"]
        else:
            assert "database is unavailable" in body["detail"]


async def _assert_whole(url: str, created: list[str]) -> None:
    """Every referral answered 201 is stored with its Task, versions and outbox event; no
    referral, Task or Patient anywhere lacks its parts."""
    connection = await asyncpg.connect(url)
    try:
        ids = [uuid.UUID(i) for i in created]
        stored = await connection.fetchval(
            "SELECT count(*) FROM referral r JOIN task t ON t.referral_id = r.id "
            "JOIN resource_version sv ON sv.resource_id = r.id AND sv.resource_type = "
            "'ServiceRequest' JOIN resource_version tv ON tv.resource_id = t.id AND "
            "tv.resource_type = 'Task' JOIN outbox_event o ON o.task_id = t.id "
            "WHERE r.id = ANY($1::uuid[])",
            ids,
        )
        assert stored == len(set(ids))
        broken = await connection.fetchval(
            "SELECT (SELECT count(*) FROM referral r WHERE NOT EXISTS "
            "(SELECT 1 FROM task t WHERE t.referral_id = r.id)) + "
            "(SELECT count(*) FROM task t WHERE NOT EXISTS "
            "(SELECT 1 FROM outbox_event o WHERE o.task_id = t.id)) + "
            "(SELECT count(*) FROM patient p WHERE NOT EXISTS "
            "(SELECT 1 FROM referral r WHERE r.patient_id = p.id)) + "
            "(SELECT count(*) FROM referral r WHERE NOT EXISTS (SELECT 1 FROM resource_version"
            " v WHERE v.resource_id = r.id AND v.resource_type = 'ServiceRequest'))"
        )
        assert broken == 0
    finally:
        await connection.close()


async def _accepted_referrals(http: httpx.AsyncClient, auth: TokenFactory, count: int) -> list[str]:
    gp, lw = auth(Role.REFERRER, "A81001"), auth(Role.LINK_WORKER, "Y02718")
    ids = []
    for _ in range(count):
        referral = await http.post(
            "/fhir/ServiceRequest", json=factories.service_request(), headers=gp
        )
        ids.append(referral.json()["id"])
        bundle = (await http.get(f"/fhir/Task?focus={ids[-1]}", headers=lw)).json()
        task = bundle["entry"][0]["resource"]
        moved = await http.put(
            f"/fhir/Task/{task['id']}", json={**task, "status": "accepted"}, headers=lw
        )
        assert moved.status_code == 200, moved.text
    return ids


async def _activity(http: httpx.AsyncClient, auth: TokenFactory) -> str:
    created = await http.post(
        "/api/v1/directory/services",
        json=activity_body(capacity={"maximum": PLACES, "available": PLACES}),
        headers=auth(Role.ADMIN, "X26"),
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def _assert_places(url: str, activity: str, booked: list[str]) -> None:
    """Every booking answered 201 is stored and holds a place; no place is lost."""
    connection = await asyncpg.connect(url)
    try:
        stored = await connection.fetch(
            "SELECT id, status FROM booking WHERE activity_id = $1", activity
        )
        available = await connection.fetchval(
            "SELECT capacity_available FROM activity WHERE id = $1", activity
        )
    finally:
        await connection.close()
    assert {str(row["id"]) for row in stored} >= set(booked)
    assert all(row["status"] == "booked" for row in stored)
    assert available == PLACES - len(stored)


async def _under_load(
    url: str, auth: TokenFactory, fault: Callable[[httpx.AsyncClient, Run], Awaitable[None]]
) -> Run:
    """Referral and booking POSTs from several clients while ``fault`` runs; then every answer
    is checked (201 or 503), and what the database holds."""
    app = create_app(make_settings(url, database_timeout_s=2))
    run = Run()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        activity = await _activity(http, auth)
        referrals = await _accepted_referrals(http, auth, BOOKINGS)
        gp, lw = auth(Role.REFERRER, "A81001"), auth(Role.LINK_WORKER, "Y02718")
        clients = [asyncio.create_task(run.refer(http, gp)) for _ in range(CLIENTS)]
        clients += [asyncio.create_task(run.book(http, lw, activity, referrals)) for _ in range(2)]
        try:
            await run.until(lambda: len(run.created) >= 20 and len(run.booked) >= 5)
            await fault(http, run)
            before = len(run.created)
            await run.until(lambda: len(run.created) >= before + 20)
        finally:
            run.done = True
            await asyncio.gather(*clients)
        assert (await http.get("/readyz")).status_code == 200
    await app.state.engine.dispose()
    assert set(run.statuses) <= {201, 503}, sorted(set(run.statuses))
    _assert_unavailable(run.refused)
    await _assert_whole(url, run.created)
    await _assert_places(url, activity, run.booked)
    return run


async def test_postgresql_stopped_hard_and_started_again(
    cluster_url: tuple[Cluster, str], auth: TokenFactory
) -> None:
    """``pg_ctl stop -m immediate`` mid-run: 503s, /readyz fails, /livez answers; started again,
    the same app answers 201 again."""
    cluster, url = cluster_url

    async def stop_and_start(http: httpx.AsyncClient, run: Run) -> None:
        await asyncio.to_thread(cluster.stop, "immediate")
        answered = len(run.statuses)
        await run.until(lambda: len(run.statuses) >= answered + 3 * CLIENTS)
        assert (await http.get("/readyz")).status_code == 503
        assert (await http.get("/livez")).status_code == 200
        await asyncio.to_thread(cluster.start)

    run = await _under_load(url, auth, stop_and_start)
    assert run.refused, "the clients never met the database down"


async def test_connections_terminated_mid_request(
    cluster_url: tuple[Cluster, str], auth: TokenFactory
) -> None:
    """The app's connections killed from the server side (``pg_terminate_backend``), again and
    again mid-run: each request is answered 201 or 503."""
    _, url = cluster_url
    killed = 0

    async def terminate(http: httpx.AsyncClient, run: Run) -> None:
        nonlocal killed
        admin = await asyncpg.connect(url)
        try:
            for _ in range(10):
                killed += await admin.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = 'assetlink' AND pid <> pg_backend_pid()"
                )
                await asyncio.sleep(0.02)
        finally:
            await admin.close()

    await _under_load(url, auth, terminate)
    assert killed >= 10
