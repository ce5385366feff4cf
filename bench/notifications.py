"""Notification benchmark (issue 15): Task changes delivered per second, and the time from a
change to its receipt, with one and with two ``assetlink worker`` processes on PostgreSQL.

For each worker count: a fresh PostgreSQL database (bench/intake.py's helpers), the API in a
uvicorn subprocess, the workers as subprocesses (``--concurrency`` each), one subscription of
the requesting practice pointing at a receiver in this process (a minimal HTTP/1.1 server on
loopback that answers 200 at once). Then ``--changes`` referrals are posted at ``--concurrency``
(each makes a Task, version 1, and its outbox event) and the receiver waits for every event.

Two phases of ``--changes``/2 each. "live": the workers run while the referrals are posted;
its figures are the time from each change (the Bundle's ``timestamp``, the event's
``occurred_at``) to its receipt, p50/p95/max, and events / (last receipt - first change), which
the posting rate bounds. "backlog": the referrals are posted with no worker running, then the
workers start; its rate, events / (last receipt - first receipt), is what the workers
deliver when work is waiting (its latencies include the wait, so read only the rate).

    .venv/bin/python bench/notifications.py
    .venv/bin/python bench/notifications.py --changes 2000 --workers 1,2 --worker-concurrency 16
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

import intake  # noqa: E402 (bench/intake.py: databases, the server, payloads)


@dataclass
class Receipts:
    expected: int
    latencies: list[float] = field(default_factory=list)  # seconds, change -> receipt
    first_change: float = float("inf")
    first_receipt: float = float("inf")
    last_receipt: float = 0.0
    seen: set[str] = field(default_factory=set)
    duplicates: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def record(self, body: bytes) -> None:
        now = time.time()
        bundle = json.loads(body)
        if bundle["id"] in self.seen:
            self.duplicates += 1
            return
        self.seen.add(bundle["id"])
        changed = dt.datetime.fromisoformat(bundle["timestamp"]).timestamp()
        self.first_change = min(self.first_change, changed)
        self.first_receipt = min(self.first_receipt, now)
        self.last_receipt = max(self.last_receipt, now)
        self.latencies.append(now - changed)
        if len(self.seen) >= self.expected:
            self.done.set()


async def _serve_receiver(
    receipts: Receipts, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            receipts.record(await reader.readexactly(length))
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def _subscribe(database_url: str, endpoint: str) -> None:
    from app.config import Settings
    from app.db import create_engine, create_sessionmaker, utcnow
    from app.notifications.models import Subscription

    engine = create_engine(Settings(database_url=database_url), pooled=False)
    resource = {
        "resourceType": "Subscription",
        "status": "active",
        "reason": "benchmark",
        "criteria": "Task",
        "channel": {"type": "rest-hook", "endpoint": endpoint, "payload": "application/fhir+json"},
    }
    try:
        async with create_sessionmaker(engine)() as session:
            session.add(
                Subscription(
                    owner_ods=intake.REQUESTER_ODS,
                    status="active",
                    statuses=None,
                    endpoint=endpoint,
                    secret=secrets.token_hex(32),
                    resource=resource,
                    created_at=utcnow() - dt.timedelta(minutes=1),
                )
            )
            await session.commit()
    finally:
        await engine.dispose()


@contextmanager
def workers(count: int, env: dict[str, str], concurrency: int) -> Iterator[None]:
    command = [sys.executable, "-m", "app.cli", "worker", "--concurrency", str(concurrency)]
    processes = [
        subprocess.Popen(command, cwd=BENCH.parent, env=env, stdout=subprocess.DEVNULL)
        for _ in range(count)
    ]
    try:
        yield
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


async def _post_all(port: int, token: str, bodies: Sequence[bytes], concurrency: int) -> int:
    queue = list(reversed(bodies))
    failed = 0
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}

    async def client() -> None:
        nonlocal failed
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            while queue:
                answer = await http.post(intake.PATH, content=queue.pop(), headers=headers)
                failed += answer.status_code != 201

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return failed


@dataclass(frozen=True)
class Row:
    phase: str
    workers: int
    events: int
    per_second: float
    p50_ms: float
    p95_ms: float
    max_ms: float
    duplicates: int
    failed_posts: int


async def _measure(
    port: int,
    receiver_port: int,
    bodies: Sequence[bytes],
    args: argparse.Namespace,
    start_workers: Callable[[], AbstractContextManager[None]],
) -> tuple[Row, Row]:
    """Two phases: "live" (workers running while the changes are made: the latency) and
    "backlog" (changes made first, then the workers start: the rate they drain it at)."""
    half = len(bodies) // 2
    live, backlog = Receipts(expected=half), Receipts(expected=len(bodies) - half)
    current = [live]
    server = await asyncio.start_server(
        lambda r, w: _serve_receiver(current[0], r, w), "127.0.0.1", receiver_port
    )
    async with server:
        with start_workers():
            failed = await _post_all(port, args.token, bodies[:half], args.concurrency)
            await _all_received(live, half - failed, args.max_seconds)
        current[0] = backlog
        failed_backlog = await _post_all(port, args.token, bodies[half:], args.concurrency)
        with start_workers():
            await _all_received(backlog, len(bodies) - half - failed_backlog, args.max_seconds)
        backlog.first_change = backlog.first_receipt  # the rate counts from the first delivery
    n = args.n
    return _row("live", n, live, failed), _row("backlog", n, backlog, failed_backlog)


async def _all_received(receipts: Receipts, expected: int, max_seconds: float) -> None:
    receipts.expected = expected
    if len(receipts.seen) < expected:
        await asyncio.wait_for(receipts.done.wait(), timeout=max_seconds)
    await asyncio.sleep(0.5)  # any duplicate still on its way


def _row(phase: str, n: int, receipts: Receipts, failed: int) -> Row:
    ms = sorted(x * 1000 for x in receipts.latencies)
    return Row(
        phase=phase,
        workers=n,
        events=len(ms),
        per_second=len(ms) / (receipts.last_receipt - receipts.first_change),
        p50_ms=statistics.median(ms),
        p95_ms=ms[int(0.95 * (len(ms) - 1))],
        max_ms=ms[-1],
        duplicates=receipts.duplicates,
        failed_posts=failed,
    )


def bench(n: int, bodies: Sequence[bytes], args: argparse.Namespace) -> tuple[Row, Row]:
    args.n = n
    with intake.postgresql_database() as url:
        env = intake.server_env(url)
        env["ASSETLINK_WORKER_POLL_S"] = str(args.poll)
        intake.migrate(env)
        receiver_port = intake.free_port(8300, 8400)
        endpoint = f"http://127.0.0.1:{receiver_port}/hook"
        asyncio.run(_subscribe(url, endpoint))
        with intake.uvicorn_server(["app.main:create_app", "--factory"], env, 1) as (port, _):
            return asyncio.run(
                _measure(
                    port,
                    receiver_port,
                    bodies,
                    args,
                    lambda: workers(n, env, args.worker_concurrency),
                )
            )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=1000, help="Task changes (referrals)")
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    parser.add_argument("--worker-concurrency", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=8, help="clients posting referrals")
    parser.add_argument("--poll", type=float, default=1.0, help="ASSETLINK_WORKER_POLL_S")
    parser.add_argument("--max-seconds", type=float, default=120.0)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    args.token = intake.referrer_token()
    counts = [int(x) for x in args.workers.split(",")]
    print(
        f"notification benchmark: {os.cpu_count()} CPUs, {args.changes} Task changes posted at "
        f"concurrency {args.concurrency}, workers {counts} x --concurrency "
        f"{args.worker_concurrency}, poll {args.poll:g} s, PostgreSQL",
        flush=True,
    )
    rows: list[Row] = []
    for n in counts:
        bodies = intake.referral_bodies(args.changes, seed=n)
        rows += bench(n, bodies, args)
    print("| phase | workers | events | delivered/s | p50 ms | p95 ms | max ms | duplicates |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r.phase} | {r.workers} | {r.events} | {r.per_second:.0f} | {r.p50_ms:.0f} | "
            f"{r.p95_ms:.0f} | {r.max_ms:.0f} | {r.duplicates} |"
        )
        if r.failed_posts:
            print(f"WARNING: {r.failed_posts} referrals were not created")
    return 0


if __name__ == "__main__":
    sys.exit(main())
