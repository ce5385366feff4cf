"""Mixed load benchmark and soak (issue 17): the whole service under a realistic mix of clients.

A fresh PostgreSQL database (``assetlink_bench_load``, created and dropped here, or
``--database-url`` of an existing empty one) is migrated and seeded with ``seed-demo``. Then one
``assetlink serve`` process (bench/scale.py), one ``assetlink worker`` and a receiver on
loopback with a subscription to every Task change of the GP practice (bench/notifications.py)
run while this process plays the clients, each on its own keep-alive HTTP/1.1 connection,
repeating scenarios.

Each client takes one of each scenario first, then picks them by weight:

- GP (4): ``POST /fhir/ServiceRequest`` (intake), then a ``GET /fhir/Task?focus=`` (task-read);
- link worker (3): the caseload; then the next referral to accept (the seeded backlog, then
  the GP's new ones) through its journey: its Task (task-read), accepted (task-accept),
  matches, a booking of one of the first three (book; a 409 when another client has just
  taken the last place is counted apart, not as an error), attended (attendance), a SWEMWBS
  baseline (outcome);
- provider (1): a ``PUT`` of one of its own activities (directory-edit: new description and
  places), then the directory's first page (directory-read);
- commissioner (1): one of the three reports with a ``group_by`` (report).

Rising concurrency (``--concurrency 4,16,32``): each level runs ``--seconds`` or ``--requests``,
whichever ends first; a table of throughput, p50/p95/p99 and errors per operation, 503s
counted apart. ``--soak SECONDS``: ``--soak-concurrency`` clients at a steady ``--rate``
(scenarios per second); the resident memory (RSS, /proc) of the API and of the worker every
``--sample-s`` (10 s) and the least-squares slope in MB/min. Exit status 1 on any error
response (4xx or 5xx) or a failed connection.

    .venv/bin/python bench/load.py                         # 4, 16, 32 clients, 30 s each
    .venv/bin/python bench/load.py --soak 600              # the 10-minute soak
    .venv/bin/python bench/load.py --soak 600 --trace-memory var/memtrace   # and what grows
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import json
import os
import random
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

import intake  # noqa: E402 (payloads, ports, the server's environment, HTTP/1.1 reading)
import notifications  # noqa: E402 (the receiver and the subscription)
import scale  # noqa: E402 (the API process)

from app.areas import importer as areas_importer  # noqa: E402
from app.auth.principal import Role  # noqa: E402
from app.auth.tokens import mint_hs256  # noqa: E402
from app.config import Settings  # noqa: E402
from app.demo import referrals as demo_referrals  # noqa: E402
from app.demo.directory import DEMO_PROVIDER_IDENTIFIER  # noqa: E402
from app.demo.referrals import LINK_WORKER_ODS  # noqa: E402

DATABASE = "assetlink_bench_load"
FHIR_JSON = "application/fhir+json"
JSON = "application/json"
PROVIDER_ACTIVITY: dict[str, Any] = {
    "name": "Load Choir",
    "description": "Sing together every week; no experience needed.",
    "organization": {"name": "Hackney Demo Provider", "identifier": DEMO_PROVIDER_IDENTIFIER},
    "categories": ["music-singing"],
    "target_needs": ["loneliness-isolation"],
    "minimum_age": 18,
    "locations": [
        {
            "name": "Dalston Library",
            "address_1": "Dalston Square",
            "city": "London",
            "postcode": "E5 1AU",
            "latitude": 51.554725,
            "longitude": -0.047379,
        }
    ],
    "attending_type": "in-person",
    "schedules": [{"freq": "WEEKLY", "byday": "TU,TH", "opens_at": "10:00", "closes_at": "12:00"}],
    "cost_options": [{"amount": 0}],
    "languages": ["en"],
    "capacity": {"maximum": 40, "available": 40},
}
SWEMWBS = {str(item): 3 for item in range(1, 8)}
REPORTS = ("referrals", "outcomes", "equity")
# A booking of a place another client has just taken: the contract's answer, not an error.
EXPECTED = {("book", 409)}
GROUPS = ("month", "practice", "need", "imd_quintile", "age_band", "sex")


# --- measuring ---------------------------------------------------------------------------------


@dataclass
class Stats:
    """Latencies and answers per operation over one level (or the soak)."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: collections.defaultdict(list))
    statuses: dict[str, Counter[int]] = field(
        default_factory=lambda: collections.defaultdict(Counter)
    )
    errors: Counter[str] = field(default_factory=Counter)  # "op status: body", distinct
    elapsed: float = 0.0

    def record(self, operation: str, status: int, latency: float, body: bytes) -> None:
        self.latencies[operation].append(latency)
        self.statuses[operation][status] += 1
        if not 200 <= status < 400 and (operation, status) not in EXPECTED:
            self.errors[f"{operation} {status}: {body[:160].decode('utf-8', 'replace')}"] += 1

    @property
    def requests(self) -> int:
        return sum(len(values) for values in self.latencies.values())

    def failed(self, operation: str | None = None, *, low: int = 400, high: int = 1000) -> int:
        """Answers with a status in [low, high) but the expected ones (0: the connection failed,
        always counted)."""
        names = [operation] if operation else list(self.statuses)
        return sum(
            n
            for name in names
            for s, n in self.statuses[name].items()
            if (s == 0 or low <= s < high) and (name, s) not in EXPECTED
        )

    def conflicts(self, operation: str | None = None) -> int:
        names = [operation] if operation else list(self.statuses)
        return sum(self.statuses[name][s] for name in names for (o, s) in EXPECTED if o == name)


def percentile_ms(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank] * 1000


class Connection:
    """One client's keep-alive HTTP/1.1 connection; reopened when the server closes it."""

    def __init__(self, port: int, stats: Stats) -> None:
        self.port, self.stats = port, stats
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def call(
        self,
        operation: str,
        method: str,
        path: str,
        token: str,
        body: Any = None,
        content_type: str = JSON,
    ) -> tuple[int, Any]:
        """The status and the decoded JSON answer (None when there is none or it failed)."""
        raw = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Authorization: Bearer {token}\r\nAccept: {content_type}\r\n"
        )
        if raw is not None:
            head += f"Content-Type: {content_type}\r\nContent-Length: {len(raw)}\r\n"
        request = (head + "\r\n").encode() + (raw or b"")
        started = time.perf_counter()
        try:
            if self.streams is None:
                self.streams = await asyncio.open_connection("127.0.0.1", self.port)
            reader, writer = self.streams
            writer.write(request)
            status, answer = await intake._read_response(reader)
        except (OSError, asyncio.IncompleteReadError) as exc:
            await self.close()
            status, answer = 0, repr(exc).encode()
        self.stats.record(operation, status, time.perf_counter() - started, answer)
        if not 200 <= status < 300 or not answer:
            return status, None
        return status, json.loads(answer)

    async def close(self) -> None:
        if self.streams is not None:
            writer = self.streams[1]
            self.streams = None
            writer.close()
            with suppress(OSError):
                await writer.wait_closed()


# --- the clients -------------------------------------------------------------------------------


@dataclass
class World:
    """What the clients share: tokens, payloads, and the referrals made so far."""

    tokens: dict[Role, str]
    bodies: Iterator[bytes]
    gp_referrals: list[str]  # the practice's referrals: Task reads pick one
    activities: list[str]  # the provider's own
    new: collections.deque[str]  # referrals to accept: the seeded backlog, then the GP's new ones
    edits: int = 0


async def gp(c: Connection, w: World, rng: random.Random) -> None:
    status, created = await c.call(
        "intake", "POST", intake.PATH, w.tokens[Role.REFERRER], next(w.bodies), FHIR_JSON
    )
    if status == 201:
        w.gp_referrals.append(created["id"])
        w.new.append(created["id"])
    referral = rng.choice(w.gp_referrals)
    path = f"/fhir/Task?focus={referral}"
    await c.call("task-read", "GET", path, w.tokens[Role.REFERRER], content_type=FHIR_JSON)


async def link_worker(c: Connection, w: World, rng: random.Random) -> None:
    token = w.tokens[Role.LINK_WORKER]
    await c.call("caseload", "GET", "/api/v1/caseload?per_page=20", token)
    if not w.new:
        return
    referral = w.new.popleft()
    status, bundle = await c.call(
        "task-read", "GET", f"/fhir/Task?focus={referral}", token, content_type=FHIR_JSON
    )
    if status != 200 or not bundle.get("entry"):
        return
    task = {**bundle["entry"][0]["resource"], "status": "accepted"}
    status, _ = await c.call(
        "task-accept", "PUT", f"/fhir/Task/{task['id']}", token, task, FHIR_JSON
    )
    if status != 200:
        return
    _, found = await c.call("match", "GET", f"/api/v1/referrals/{referral}/matches", token)
    if not found or not found["matches"]:
        return
    choice = rng.choice(found["matches"][:3])["activity"]["id"]
    status, booking = await c.call(
        "book", "POST", f"/api/v1/referrals/{referral}/bookings", token, {"activity_id": choice}
    )
    if status != 201:
        return
    path = f"/api/v1/bookings/{booking['id']}"
    await c.call("attendance", "PATCH", path, token, {"status": "attended"})
    outcome = {
        "instrument": "SWEMWBS",
        "timepoint": "baseline",
        "collected_at": dt.datetime.now(dt.UTC).isoformat(),
        "mode": "assisted",
        "answers": SWEMWBS,
    }
    await c.call("outcome", "POST", f"/api/v1/referrals/{referral}/outcomes", token, outcome)


async def provider(c: Connection, w: World, rng: random.Random) -> None:
    token = w.tokens[Role.PROVIDER]
    w.edits += 1
    body = {
        **PROVIDER_ACTIVITY,
        "description": f"Sing together every week (edit {w.edits}).",
        "capacity": {"maximum": 40, "available": rng.randint(20, 40)},
    }
    path = f"/api/v1/directory/services/{rng.choice(w.activities)}"
    await c.call("directory-edit", "PUT", path, token, body)
    await c.call("directory-read", "GET", "/api/v1/directory/services?per_page=20", token)


async def commissioner(c: Connection, w: World, rng: random.Random) -> None:
    path = f"/api/v1/reports/{rng.choice(REPORTS)}?group_by={rng.choice(GROUPS)}"
    await c.call("report", "GET", path, w.tokens[Role.COMMISSIONER])


Scenario = Callable[[Connection, World, random.Random], Awaitable[None]]
SCENARIOS: tuple[tuple[Scenario, int], ...] = (
    (gp, 4),
    (link_worker, 3),
    (provider, 1),
    (commissioner, 1),
)


async def drive(
    port: int, world: World, concurrency: int, seconds: float, args: argparse.Namespace
) -> Stats:
    """``concurrency`` clients for ``seconds`` (at most ``--requests`` requests): back to back,
    or paced to ``--rate`` scenarios per second altogether (the soak)."""
    stats = Stats()
    scenarios, weights = zip(*SCENARIOS, strict=True)
    started = time.monotonic()
    deadline = started + seconds
    interval = concurrency / args.rate if args.rate else 0.0

    async def client(index: int) -> None:
        rng = random.Random(args.seed * 1000 + index)
        connection = Connection(port, stats)
        try:
            for turn in range(10**9):
                if interval:
                    await asyncio.sleep(max(0.0, started + (turn + rng.random()) * interval
                                            - time.monotonic()))  # fmt: skip
                if time.monotonic() >= deadline or stats.requests >= args.requests:
                    return
                if turn < len(scenarios):  # one of each first, then by weight
                    scenario = scenarios[(index + turn) % len(scenarios)]
                else:
                    scenario = rng.choices(scenarios, weights)[0]
                await scenario(connection, world, rng)
        finally:
            await connection.close()

    await asyncio.gather(*(client(i) for i in range(concurrency)))
    stats.elapsed = time.monotonic() - started
    return stats


# --- memory ------------------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, MB (0 when it is gone)."""
    pending, total = [pid], 0
    while pending:
        current = pending.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
        pending += intake._children(current)
    return total / 1024


def slope_per_minute(samples: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) samples, in MB per minute."""
    if len(samples) < 2:
        return 0.0
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_m = sum(m for _, m in samples) / n
    spread = sum((t - mean_t) ** 2 for t, _ in samples)
    return sum((t - mean_t) * (m - mean_m) for t, m in samples) / spread * 60 if spread else 0.0


async def sample_memory(
    pids: dict[str, int], every: float, samples: dict[str, list[tuple[float, float]]]
) -> None:
    started = time.monotonic()
    while True:
        for name, pid in pids.items():
            samples[name].append((time.monotonic() - started, rss_mb(pid)))
        await asyncio.sleep(every)


# --- the run -----------------------------------------------------------------------------------


def tokens() -> dict[Role, str]:
    settings = Settings(jwt_secret=intake.JWT_SECRET, environment="test")
    orgs = {
        Role.REFERRER: intake.REQUESTER_ODS,
        Role.LINK_WORKER: LINK_WORKER_ODS,
        Role.PROVIDER: DEMO_PROVIDER_IDENTIFIER,
        Role.COMMISSIONER: "X24",
    }
    return {
        role: mint_hs256(settings, role=role, org=org, sub="load") for role, org in orgs.items()
    }


@contextmanager
def database(url: str | None) -> Iterator[str]:
    """The given (empty) database, or a fresh ``assetlink_bench_load``, dropped afterwards."""
    if url is not None:
        yield url
        return
    drop = f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'
    asyncio.run(scale._admin(drop, f'CREATE DATABASE "{DATABASE}"'))
    try:
        yield scale.ADMIN_URL.rpartition("/")[0] + f"/{DATABASE}"
    finally:
        asyncio.run(scale._admin(drop))


def seed(url: str, env: dict[str, str], args: argparse.Namespace) -> tuple[list[str], list[str]]:
    """Migrate, seed the demo, ``VACUUM ANALYZE``: the ids of the GP practice's referrals, and
    of the link-worker service's referrals still to accept (its backlog)."""
    seed_demo = ["seed-demo", "--activities", str(args.activities), "--referrals",
                 str(args.referrals), "--seed", "1", "--no-history"]  # fmt: skip
    both = f"from app.cli import main; main(['migrate']); main({seed_demo!r})"  # one start-up
    subprocess.run(
        [sys.executable, "-c", both],
        cwd=BENCH.parent,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )

    async def ids() -> tuple[list[str], list[str]]:
        connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
        try:
            await connection.execute("VACUUM ANALYZE")
            gp = await connection.fetch(
                "SELECT id::text FROM referral WHERE requester_ods = $1", intake.REQUESTER_ODS
            )
            backlog = await connection.fetch(
                "SELECT referral_id::text AS id FROM task WHERE owner_ods = $1 "
                "AND status = 'requested' ORDER BY authored_on",
                LINK_WORKER_ODS,
            )
        finally:
            await connection.close()
        return [row["id"] for row in gp], [row["id"] for row in backlog]

    return asyncio.run(ids())


def demo_postcodes() -> list[str]:
    """The demo area's postcodes: the GP's new referrals live where the directory is, so the
    link workers' journeys go on past the seeded backlog (matches, bookings)."""
    places = areas_importer.FIXTURE_POSTCODES
    return [home.postcode for home in demo_referrals.homes(places, areas_importer.FIXTURE_IMD)]


@contextmanager
def worker(env: dict[str, str]) -> Iterator[int]:
    command = [sys.executable, "-m", "app.cli", "worker"]
    process = subprocess.Popen(command, cwd=BENCH.parent, env=env, stdout=subprocess.DEVNULL)
    try:
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Result:
    warmup: Stats = field(default_factory=Stats)  # one of each scenario, before any level
    levels: list[tuple[int, Stats]] = field(default_factory=list)  # (clients, stats)
    soak: Stats | None = None
    memory: dict[str, list[tuple[float, float]]] = field(
        default_factory=lambda: collections.defaultdict(list)
    )
    delivered: int = 0
    duplicates: int = 0


async def play(
    port: int, pids: dict[str, int], receiver_port: int, world: World, args: argparse.Namespace
) -> Result:
    """The provider's activities, a warm-up, each level, then the soak, with the receiver
    running."""
    result = Result()
    receipts = notifications.Receipts(expected=10**9)
    server = await asyncio.start_server(
        lambda r, w: notifications._serve_receiver(receipts, r, w), "127.0.0.1", receiver_port
    )
    async with server:
        setup = Connection(port, Stats())
        for n in range(args.provider_activities):
            body = {**PROVIDER_ACTIVITY, "name": f"Load Choir {n}"}
            status, created = await setup.call(
                "setup", "POST", "/api/v1/directory/services", world.tokens[Role.PROVIDER], body
            )
            assert status == 201, f"the provider's activity: {status}"
            world.activities.append(created["id"])
        for (
            scenario,
            _,
        ) in SCENARIOS:  # once each, untimed: every process warm, every snapshot built
            await scenario(setup, world, random.Random(args.seed))
        await setup.close()
        result.warmup = setup.stats
        for clients in args.concurrency:
            stats = await drive(port, world, clients, args.seconds, args)
            result.levels.append((clients, stats))
            print_level(clients, stats)
        if args.soak:
            sampler = asyncio.create_task(sample_memory(pids, args.sample_s, result.memory))
            rate, args.rate = args.rate, args.rate or 1.0
            result.soak = await drive(port, world, args.soak_concurrency, args.soak, args)
            args.rate = rate
            await asyncio.sleep(0)  # the last sample
            sampler.cancel()
            print_level(args.soak_concurrency, result.soak)
            print_memory(result.memory)
        await asyncio.sleep(args.drain_s)  # deliveries of the last changes
        result.delivered, result.duplicates = len(receipts.seen), receipts.duplicates
    return result


def print_level(clients: int, stats: Stats) -> None:
    print(f"\n{clients} clients, {stats.elapsed:.1f} s, load average {os.getloadavg()[0]:.2f}")
    print(
        "| operation | requests | per second | p50 ms | p95 ms | p99 ms | errors | of them 503 "
        "| 409 place taken |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    everything = [x for values in stats.latencies.values() for x in values]
    for operation, latencies in [*sorted(stats.latencies.items()), ("all", everything)]:
        name = None if operation == "all" else operation
        print(
            f"| {operation} | {len(latencies)} | {len(latencies) / stats.elapsed:.1f} "
            f"| {percentile_ms(latencies, 50):.1f} | {percentile_ms(latencies, 95):.1f} "
            f"| {percentile_ms(latencies, 99):.1f} | {stats.failed(name)} "
            f"| {stats.failed(name, low=503, high=504)} | {stats.conflicts(name)} |"
        )
    for error, count in stats.errors.most_common(5):
        print(f"  {count}x {error}")
    sys.stdout.flush()


def print_memory(memory: dict[str, list[tuple[float, float]]]) -> None:
    print("\n| process | RSS MB at each sample | slope MB/min | in the second half |")
    print("|---|---|---:|---:|")
    for name, samples in memory.items():
        values = " ".join(f"{mb:.1f}" for _, mb in samples)
        later = samples[len(samples) // 2 :]
        print(
            f"| {name} | {values} | {slope_per_minute(samples):+.3f} "
            f"| {slope_per_minute(later):+.3f} |"
        )
    sys.stdout.flush()


def run(args: argparse.Namespace) -> Result:
    with database(args.database_url) as url:
        env = {**intake.server_env(url), "PYTHONPATH": str(BENCH.parent)}
        gp_referrals, backlog = seed(url, env, args)
        if args.trace_memory:
            args.trace_memory.mkdir(parents=True, exist_ok=True)
            env["PYTHONPATH"] = f"{BENCH / 'memtrace'}{os.pathsep}{env['PYTHONPATH']}"
            env["BENCH_TRACE_MEMORY"] = str(args.trace_memory)
        receiver_port = intake.free_port(8300, 8400)
        asyncio.run(notifications._subscribe(url, f"http://127.0.0.1:{receiver_port}/hook"))
        bodies = iter(intake.referral_bodies(args.bodies, args.seed, demo_postcodes()))
        world = World(tokens(), bodies, gp_referrals, [], collections.deque(backlog))
        with scale.api_processes(1, env) as [(port, api)], worker(env) as worker_pid:
            pids = {"api": api, "worker": worker_pid}
            result = asyncio.run(play(port, pids, receiver_port, world, args))
    print(f"\ndeliveries received: {result.delivered}, duplicates {result.duplicates}")
    if args.trace_memory:
        print_traced(args.trace_memory)
    return result


def print_traced(directory: Path) -> None:
    """The API's live Python allocations, first traced snapshot against the last: the total and
    the ten places that grew most (bench/memtrace)."""
    found = sorted(directory.glob("snapshot-*.pickle"))
    if len(found) < 2:
        print(f"\nfewer than two memory snapshots in {directory}: run the soak longer")
        return
    first, last = (tracemalloc.Snapshot.load(str(path)) for path in (found[0], found[-1]))
    size = [sum(s.size for s in snapshot.statistics("filename")) for snapshot in (first, last)]
    print(
        f"\nlive Python allocations traced in the API ({len(found)} snapshots, "
        f"{found[0].name} -> {found[-1].name}): {size[0] / 1e6:.2f} -> {size[1] / 1e6:.2f} MB"
    )
    for stat in last.compare_to(first, "lineno")[:10]:
        print(f"  {stat}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--concurrency", type=intake._ints, default=None, help="default 4,16,32")
    parser.add_argument("--seconds", type=float, default=30.0, help="per level (default 30)")
    parser.add_argument("--requests", type=int, default=20_000, help="at most, per level")
    parser.add_argument("--soak", type=float, default=0.0, help="soak seconds (e.g. 600)")
    parser.add_argument("--soak-concurrency", type=int, default=8)
    parser.add_argument("--rate", type=float, default=0.0, help="scenarios/s (soak default 4)")
    parser.add_argument("--sample-s", type=float, default=10.0, help="RSS sampling interval")
    parser.add_argument("--drain-s", type=float, default=3.0, help="wait for deliveries")
    parser.add_argument("--activities", type=int, default=1000, help="demo activities")
    parser.add_argument("--referrals", type=int, default=300, help="demo referrals")
    parser.add_argument("--provider-activities", type=int, default=5)
    parser.add_argument("--database-url", help="an existing empty database (default: made here)")
    parser.add_argument("--seed", type=int, default=None, help="payload seed (default: random)")
    parser.add_argument(
        "--trace-memory",
        type=Path,
        help="a directory: trace the API's Python allocations (bench/memtrace), snapshots there",
    )
    args = parser.parse_args(argv)
    if args.concurrency is None:
        args.concurrency = [] if args.soak else [4, 16, 32]
    if args.soak and not args.rate:
        args.rate = 4.0
    args.seed = args.seed if args.seed is not None else random.randrange(1_000_000)
    # one referral per GP scenario at most: 4/9 of the scenarios, a few requests each
    total = len(args.concurrency) * min(args.requests, 400 * args.seconds) + args.rate * args.soak
    args.bodies = int(total) + 100
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print(
        f"mixed load: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, levels "
        f"{args.concurrency} x {args.seconds:g} s, soak {args.soak:g} s at {args.rate:g}/s "
        f"({args.soak_concurrency} clients), {args.activities} activities, seed {args.seed}",
        flush=True,
    )
    result = run(args)
    runs = [stats for _, stats in result.levels] + ([result.soak] if result.soak else [])
    failed = sum(stats.failed() for stats in runs)
    if failed:
        print(f"WARNING: {failed} error responses (see above)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
