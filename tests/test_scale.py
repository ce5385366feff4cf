"""Two API processes and two workers on one PostgreSQL database (docs/deploy.md "How it
scales"): bookings for the last places never overbook, a directory change made through one API
is in the other's next match, each Task change is delivered once, and an API stopped with
SIGTERM under load loses no request it accepted.

Every process is ``python -m app.cli serve|worker`` (what ``assetlink`` runs) on loopback, on a
fresh database of its own; SQLite serves one process, so its half is skipped.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from app import migrations
from app.auth.principal import Role
from app.fhir.examples import example
from tests.conftest import (
    ROOT,
    TEST_SECRET,
    FhirCapture,
    TokenFactory,
    in_thread,
    postgres_database,
    validate_fhir,
)
from tests.directory.conftest import activity_body
from tests.notifications.receiver import Receiver, running
from tests.notifications.test_worker_process import free_port
from tests.referrals import factories

REMOTE = "ZE3 9JZ"  # a postcode no area knows: the person matches remote activities only


@dataclass
class Cluster:
    database_url: str
    logs: Path
    apis: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        values = {k: v for k, v in os.environ.items() if not k.startswith("ASSETLINK_")}
        return {
            **values,
            "PYTHONPATH": str(ROOT),
            "ASSETLINK_ENVIRONMENT": "test",
            "ASSETLINK_DATABASE_URL": self.database_url,
            "ASSETLINK_DATABASE_POOL_SIZE": "4",
            "ASSETLINK_JWT_SECRET": TEST_SECRET,
            "ASSETLINK_DEFAULT_PERFORMER_ODS": "Y02718",
            "ASSETLINK_WORKER_POLL_S": "0.05",
            "ASSETLINK_RATE_LIMIT_PER_S": "0",
        }

    def spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        with (self.logs / f"{name}.log").open("ab") as out:
            return subprocess.Popen(
                [sys.executable, "-m", "app.cli", *args],
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )

    def start_api(self, index: int) -> None:
        """API ``index`` (a new process in place of a stopped one), once it answers /readyz."""
        port = free_port()
        process = self.spawn(f"api{index}", "serve", "--host", "127.0.0.1", "--port", str(port))
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, self.log(f"api{index}")
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, self.log(f"api{index}")
            time.sleep(0.1)
        if index < len(self.apis):
            self.apis[index] = (url, process)
        else:
            self.apis.append((url, process))

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")[-5000:]

    def stop(self) -> None:
        processes = [p for _, p in self.apis] + self.workers
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(40)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def cluster(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Two ``assetlink serve`` and two ``assetlink worker`` processes on a fresh database."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite serves one process (docs/deploy.md)")
    with postgres_database() as url:
        in_thread(lambda: migrations.upgrade(url))
        found = Cluster(url, tmp_path_factory.mktemp("scale"))
        try:
            for index in range(2):
                found.start_api(index)
            found.workers = [found.spawn(f"worker{i}", "worker") for i in range(2)]
            yield found
        finally:
            found.stop()


@pytest.fixture
async def apis(
    cluster: Cluster, fhir_capture: FhirCapture
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """A client of each API; the FHIR resources they receive are validated."""
    hooks = {"response": [fhir_capture.hook]}
    [one, two] = [
        httpx.AsyncClient(base_url=url, timeout=60, event_hooks=hooks) for url, _ in cluster.apis
    ]
    async with one, two:
        yield one, two


@pytest.fixture
def lw(auth: TokenFactory) -> dict[str, str]:
    return auth(Role.LINK_WORKER, "Y02718")


@pytest.fixture
def gp(auth: TokenFactory) -> dict[str, str]:
    return auth(Role.REFERRER, "A81001")


@pytest.fixture
def admin(auth: TokenFactory) -> dict[str, str]:
    return auth(Role.ADMIN, "X26")


async def refer(client: httpx.AsyncClient, gp: dict[str, str], **overrides: Any) -> str:
    person = factories.patient(address=[{"postalCode": REMOTE}])
    payload = factories.service_request(person=person, **overrides)
    created = await client.post("/fhir/ServiceRequest", json=payload, headers=gp)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def task_of(client: httpx.AsyncClient, headers: dict[str, str], referral: str) -> Any:
    found = await client.get(f"/fhir/Task?focus={referral}", headers=headers)
    assert found.status_code == 200, found.text
    return found.json()["entry"][0]["resource"]


async def accept(client: httpx.AsyncClient, lw: dict[str, str], referral: str) -> None:
    task = await task_of(client, lw, referral)
    moved = await client.put(
        f"/fhir/Task/{task['id']}", json={**task, "status": "accepted"}, headers=lw
    )
    assert moved.status_code == 200, moved.text


async def test_bookings_for_the_last_places_over_both_apis_never_overbook(
    apis: tuple[httpx.AsyncClient, httpx.AsyncClient],
    gp: dict[str, str],
    lw: dict[str, str],
    admin: dict[str, str],
) -> None:
    body = activity_body(capacity={"maximum": 3, "available": 3})
    created = await apis[0].post("/api/v1/directory/services", json=body, headers=admin)
    assert created.status_code == 201, created.text
    activity = created.json()["id"]
    referrals = [await refer(apis[i % 2], gp) for i in range(20)]
    for i, referral in enumerate(referrals):
        await accept(apis[i % 2], lw, referral)

    responses = await asyncio.gather(
        *(
            apis[i % 2].post(
                f"/api/v1/referrals/{referral}/bookings", json={"activity_id": activity}, headers=lw
            )
            for i, referral in enumerate(referrals)
        )
    )

    codes = sorted(r.status_code for r in responses)
    assert codes == [201] * 3 + [409] * 17, [r.text for r in responses if r.status_code >= 500]
    for client in apis:
        read = await client.get(f"/api/v1/directory/services/{activity}", headers=lw)
        assert read.json()["capacity"]["available"] == 0


async def matched(client: httpx.AsyncClient, lw: dict[str, str], referral: str) -> list[str]:
    found = await client.get(f"/api/v1/referrals/{referral}/matches?limit=50", headers=lw)
    assert found.status_code == 200, found.text
    return [m["activity"]["name"] for m in found.json()["matches"]]


async def test_a_directory_change_through_one_api_is_in_the_next_match_of_the_other(
    apis: tuple[httpx.AsyncClient, httpx.AsyncClient],
    gp: dict[str, str],
    lw: dict[str, str],
    admin: dict[str, str],
) -> None:
    """No waiting between the change and the match: the bound is "the next match"."""
    one, two = apis
    referral = await refer(one, gp)
    online = {"attending_type": "online", "locations": []}
    before = set(await matched(two, lw, referral))  # API 2's snapshot is built before the change
    created = await one.post(
        "/api/v1/directory/services",
        json=activity_body(name="Phone choir", **online),
        headers=admin,
    )
    assert created.status_code == 201, created.text
    choir = created.json()

    assert set(await matched(two, lw, referral)) == before | {"Phone choir"}

    renamed = activity_body(name="Phone singers", **online)
    assert (
        await one.put(f"/api/v1/directory/services/{choir['id']}", json=renamed, headers=admin)
    ).status_code == 200
    assert set(await matched(two, lw, referral)) == before | {"Phone singers"}

    closed = activity_body(name="Phone singers", status="inactive", **online)
    assert (
        await two.put(f"/api/v1/directory/services/{choir['id']}", json=closed, headers=admin)
    ).status_code == 200
    assert set(await matched(one, lw, referral)) == before
    assert set(await matched(two, lw, referral)) == before


async def deliveries(database_url: str) -> list[tuple[str, str]]:
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch("SELECT event_id::text, status FROM delivery")
    finally:
        await connection.close()
    return [(row["event_id"], row["status"]) for row in rows]


async def test_task_changes_through_either_api_are_delivered_once_by_the_workers(
    cluster: Cluster,
    apis: tuple[httpx.AsyncClient, httpx.AsyncClient],
    gp: dict[str, str],
    lw: dict[str, str],
) -> None:
    with running(Receiver()) as receiver:
        resource = example("subscription")
        resource["channel"] = {**resource["channel"], "endpoint": receiver.url}
        resource["criteria"] = "Task"
        subscribed = await apis[0].post("/fhir/Subscription", json=resource, headers=gp)
        assert subscribed.status_code == 201, subscribed.text
        try:
            referrals = [await refer(apis[i % 2], gp) for i in range(10)]  # 10 Tasks created
            for i, referral in enumerate(referrals):
                await accept(apis[(i + 1) % 2], lw, referral)  # and accepted through the other
            await asyncio.to_thread(receiver.wait_until, lambda: len(receiver.delivered()) >= 20)
            deadline, rows = time.monotonic() + 30, []
            while {status for _, status in rows} != {"delivered"}:
                assert time.monotonic() < deadline, rows
                await asyncio.sleep(0.05)
                rows = await deliveries(cluster.database_url)
        finally:
            sid = subscribed.json()["id"]
            gone = await apis[1].delete(f"/fhir/Subscription/{sid}", headers=gp)
            assert gone.status_code == 204, gone.text

    events = [r.event_id for r in receiver.received]
    assert len(events) == len(set(events)) == 20
    assert sorted(events) == sorted(event for event, _ in rows)
    assert len({r.json()["entry"][0]["resource"]["id"] for r in receiver.received}) == 10
    result = validate_fhir([r.json() for r in receiver.received])
    assert result.returncode == 0, result.stdout + result.stderr


@dataclass
class Outcome:
    identifier: str
    status: int | None = None  # None: the request failed at the connection
    sent_after_sigterm: bool = False
    answered_after_sigterm: bool = False


@dataclass
class Load:
    """Clients posting referrals to one API until it refuses or drops their connection."""

    client: httpx.AsyncClient
    headers: dict[str, str]
    outcomes: list[Outcome] = field(default_factory=list)
    under_way: asyncio.Event = field(default_factory=asyncio.Event)  # 40 answered 201
    stopped: asyncio.Event = field(default_factory=asyncio.Event)  # SIGTERM sent

    async def post_until_refused(self, prefix: str) -> None:
        for n in range(10_000):
            outcome = Outcome(f"{prefix}{n}", sent_after_sigterm=self.stopped.is_set())
            self.outcomes.append(outcome)
            person = factories.patient(address=[{"postalCode": REMOTE}])
            payload = factories.service_request(identifier_value=outcome.identifier, person=person)
            try:
                answer = await self.client.post(
                    "/fhir/ServiceRequest", json=payload, headers=self.headers
                )
            except httpx.TransportError:
                return
            outcome.status, outcome.answered_after_sigterm = (
                answer.status_code,
                self.stopped.is_set(),
            )
            if sum(o.status == 201 for o in self.outcomes) >= 40:
                self.under_way.set()
        raise AssertionError("the stopped API went on answering")


async def stored_identifiers(database_url: str, prefix: str) -> set[str]:
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT value FROM referral_identifier WHERE value LIKE $1", f"{prefix}%"
        )
    finally:
        await connection.close()
    return {row["value"] for row in rows}


async def test_an_api_stopped_with_sigterm_under_load_loses_no_accepted_request(
    cluster: Cluster, gp: dict[str, str]
) -> None:
    """Requests under way at SIGTERM are answered (201); later ones fail at the connection."""
    url, process = cluster.apis[1]
    limits = httpx.Limits(max_connections=8, max_keepalive_connections=8)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
            load = Load(client, gp)
            clients = [
                asyncio.create_task(load.post_until_refused(f"SIGTERM-{c}-")) for c in range(8)
            ]
            await asyncio.wait_for(load.under_way.wait(), 60)
            process.send_signal(signal.SIGTERM)
            load.stopped.set()
            await asyncio.gather(*clients)
        # uvicorn finishes, then re-raises the signal: the exit status is SIGTERM's
        assert process.wait(40) == -signal.SIGTERM, cluster.log("api1")
        assert "Application shutdown complete." in cluster.log("api1")

        outcomes = load.outcomes
        assert {o.status for o in outcomes} <= {201, None}, cluster.log("api1")
        accepted = {o.identifier for o in outcomes if o.status == 201}
        assert await stored_identifiers(cluster.database_url, "SIGTERM-") == accepted
        in_flight = [o for o in outcomes if not o.sent_after_sigterm and o.answered_after_sigterm]
        assert in_flight, "no request was under way at SIGTERM"
    finally:
        cluster.start_api(1)  # the next test has two APIs again
