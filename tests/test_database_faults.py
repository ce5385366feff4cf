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
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import asyncpg
import httpx
import pytest

from app import migrations
from app.auth.principal import Role
from app.main import create_app
from tests.cluster import Cluster, own_cluster
from tests.conftest import TokenFactory, _admin, _with_database, in_thread, make_settings
from tests.referrals import factories

CLIENTS = 4


@dataclass
class Run:
    """The answers of the clients' referral POSTs so far."""

    created: list[str] = field(default_factory=list)  # ids answered 201
    statuses: list[int] = field(default_factory=list)
    refused: list[httpx.Response] = field(default_factory=list)  # anything but 201
    done: bool = False

    async def until(self, condition: Callable[[], bool]) -> None:
        for _ in range(3000):
            if condition():
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"never reached: {self.statuses[-20:]}")


async def _client(http: httpx.AsyncClient, headers: dict[str, str], run: Run) -> None:
    while not run.done:
        answer = await http.post(
            "/fhir/ServiceRequest", json=factories.service_request(), headers=headers
        )
        run.statuses.append(answer.status_code)
        if answer.status_code == 201:
            run.created.append(answer.json()["id"])
        else:
            run.refused.append(answer)
            await asyncio.sleep(0.01)


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
        issue = answer.json()["issue"][0]
        assert issue["code"] == "transient"
        assert "database is unavailable" in issue["diagnostics"]


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


async def test_referrals_while_postgresql_is_stopped_hard_and_started_again(
    cluster_url: tuple[Cluster, str], auth: TokenFactory
) -> None:
    cluster, url = cluster_url
    app = create_app(make_settings(url, database_timeout_s=2))
    gp = auth(Role.REFERRER, "A81001")
    run = Run()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        clients = [asyncio.create_task(_client(http, gp, run)) for _ in range(CLIENTS)]
        try:
            await run.until(lambda: len(run.created) >= 20)
            await asyncio.to_thread(cluster.stop, "immediate")
            answered = len(run.statuses)
            await run.until(lambda: len(run.statuses) >= answered + 3 * CLIENTS)
            assert (await http.get("/readyz")).status_code == 503
            assert (await http.get("/livez")).status_code == 200
            await asyncio.to_thread(cluster.start)
            before = len(run.created)
            await run.until(lambda: len(run.created) >= before + 20)
        finally:
            run.done = True
            await asyncio.gather(*clients)
        assert (await http.get("/readyz")).status_code == 200
    await app.state.engine.dispose()
    assert set(run.statuses) <= {201, 503}, sorted(set(run.statuses))
    assert run.refused, "the clients never met the database down"
    _assert_unavailable(run.refused)
    await _assert_whole(url, run.created)
