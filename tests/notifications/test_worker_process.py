"""``assetlink worker`` as a process of its own: killed mid-delivery, stopped with SIGTERM, and
two at once on PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import utcnow
from app.notifications import outbox
from app.notifications.models import OutboxEvent
from tests.conftest import ROOT
from tests.notifications import factories
from tests.notifications.receiver import Receiver, running

SHORT = {"ASSETLINK_NOTIFY_LEASE_S": "2", "ASSETLINK_NOTIFY_TIMEOUT_S": "1"}


def start_worker(database_url: str, log: Path, *args: str, **env: str) -> subprocess.Popen[bytes]:
    values = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ASSETLINK_DATABASE_URL": database_url,
        "ASSETLINK_ENVIRONMENT": "test",
        "ASSETLINK_WORKER_POLL_S": "0.05",
        "ASSETLINK_NOTIFY_BACKOFF_S": "0.01",
        **env,
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker", *args],
            env=values,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )


def results(log: Path) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("logger") == "assetlink.worker" and "status" in line]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_a_worker_killed_mid_delivery_is_replaced_and_the_event_delivered(
    database_url: str,
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    gp: dict[str, str],
    tmp_path: Path,
) -> None:
    with running(Receiver(hang_first=1, hang_s=30)) as receiver:
        await factories.subscription(committed, receiver.url)
        event = await factories.event_of(
            committed, await factories.referral_task(committed_client, gp)
        )
        first = start_worker(database_url, tmp_path / "first.log", **SHORT)
        try:
            assert receiver.hanging.wait(30), (tmp_path / "first.log").read_text()
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        metrics_port = free_port()
        second = start_worker(
            database_url, tmp_path / "second.log", "--metrics-port", str(metrics_port), **SHORT
        )
        try:
            receiver.wait_until(lambda: bool(receiver.delivered()))
            async with httpx.AsyncClient() as http:
                scraped = (await http.get(f"http://127.0.0.1:{metrics_port}/metrics")).text
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(15) == 0, (tmp_path / "second.log").read_text()

    assert [r.event_id for r in receiver.received] == [str(event), str(event)]
    [row] = await factories.deliveries(committed)
    assert (row.status, row.attempts) == ("delivered", 1)  # the killed attempt left no trace
    assert 'assetlink_notification_deliveries_total{result="delivered"} 1.0' in scraped
    [logged] = results(tmp_path / "second.log")
    assert (logged["event_id"], logged["status"], logged["attempt"]) == (str(event), "delivered", 1)


async def test_sigterm_stops_gracefully_and_the_claimed_event_is_delivered_later(
    database_url: str,
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    gp: dict[str, str],
    tmp_path: Path,
) -> None:
    log = tmp_path / "worker.log"
    with running(Receiver(hang_first=1, hang_s=3)) as receiver:
        await factories.subscription(committed, receiver.url)
        event = await factories.event_of(
            committed, await factories.referral_task(committed_client, gp)
        )
        worker = start_worker(database_url, log, **SHORT)
        assert receiver.hanging.wait(30), log.read_text()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(15) == 0, log.read_text()  # in flight: finished (timed out) first

        [row] = await factories.deliveries(committed)
        assert (row.status, row.attempts, row.last_error) == ("pending", 1, "no answer within 1 s")
        assert not receiver.delivered()

        again = start_worker(database_url, log, "--once", **SHORT)
        assert again.wait(30) == 0, log.read_text()

    # The receiver did answer the first request, after the worker had given up on it: delivery
    # is at least once, and the event id is what it de-duplicates with.
    assert [r.event_id for r in receiver.received] == [str(event), str(event)]
    [row] = await factories.deliveries(committed)
    assert (row.status, row.attempts) == ("delivered", 2)
    assert [(r["status"], r["attempt"]) for r in results(log)] == [("retry", 1), ("delivered", 2)]


async def test_two_workers_on_postgresql_never_deliver_one_event_twice_at_once(
    database_url: str,
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    gp: dict[str, str],
    tmp_path: Path,
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite runs one worker (docs/notifications.md)")
    task = await factories.referral_task(committed_client, gp)
    first = await factories.event_of(committed, task)
    now = utcnow()
    events = 400  # enough for both workers to claim batches side by side, many times
    async with committed() as session:  # more events, each of the same Task version
        await session.execute(
            insert(OutboxEvent), [outbox.event_row(task, "A81001", now) for _ in range(events - 1)]
        )
        await session.commit()
    with running(Receiver(delay_s=0.002)) as receiver:
        await factories.subscription(committed, receiver.url, created_at=now.replace(year=2000))
        logs = [tmp_path / "a.log", tmp_path / "b.log"]
        workers = [start_worker(database_url, log, "--once", "--concurrency", "8") for log in logs]
        for worker, log in zip(workers, logs, strict=True):
            assert worker.wait(120) == 0, log.read_text()

    delivered = receiver.delivered()
    assert len({r.event_id for r in delivered}) == events
    assert str(first) in {r.event_id for r in delivered}
    by_event: dict[str, list[tuple[float, float]]] = {}
    for request in receiver.received:
        by_event.setdefault(request.event_id, []).append((request.started, request.ended))
    overlapping = [
        event_id
        for event_id, spans in by_event.items()
        if any(a[1] > b[0] for a, b in zip(sorted(spans), sorted(spans)[1:], strict=False))
    ]
    assert overlapping == []
    assert len(receiver.received) == events  # and, here, none delivered twice at all
    per_worker = [len(results(log)) for log in logs]
    assert sum(per_worker) == events
    assert {d.status for d in await factories.deliveries(committed)} == {"delivered"}
