"""Scale benchmark (issue 16): intake and match throughput with one and with two API processes
on one PostgreSQL database.

A fresh PostgreSQL database ``assetlink_bench_scale`` (on the server of
``ASSETLINK_BENCH_POSTGRES_URL``; created and dropped here) is migrated and seeded once with the
demo directory and referrals (``assetlink seed-demo``, then ``VACUUM ANALYZE``). For each API
count, that many ``assetlink serve`` processes (one uvicorn process each, as in a pod) run on
ports of their own, and the load generator in this process opens ``--concurrency`` keep-alive
connections spread over them in turn, as a Service spreads connections over pods. Two cases,
each after an untimed warm-up (which also builds every process's matching snapshot):

- intake: ``POST /fhir/ServiceRequest`` of distinct valid referrals (bench/intake.py's payloads);
- match: ``GET /api/v1/referrals/{id}/matches`` as the link worker of the demo referrals'
  service, cycling over them.

Prints, per case, throughput, p50/p95/p99, the speed-up over one process, the CPU milliseconds
per request of the API processes, of PostgreSQL and of this generator, and the load average:
on a small machine the three share the same cores.

    .venv/bin/python bench/scale.py
    .venv/bin/python bench/scale.py --apis 1,2,3 --requests 2000 --activities 10000
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import asyncpg

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

import intake  # noqa: E402 (bench/intake.py: payloads, ports, CPU accounting, HTTP/1.1 reading)

from app.auth.principal import Role  # noqa: E402
from app.auth.tokens import mint_hs256  # noqa: E402
from app.config import Settings  # noqa: E402
from app.demo.referrals import LINK_WORKER_ODS  # noqa: E402

ADMIN_URL = os.environ.get("ASSETLINK_BENCH_POSTGRES_URL", intake.PG_ADMIN_DSN)
DATABASE = "assetlink_bench_scale"
URL = ADMIN_URL.rpartition("/")[0] + f"/{DATABASE}"


async def _admin(*statements: str) -> None:
    connection = await asyncpg.connect(ADMIN_URL, timeout=5)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def database() -> Iterator[str]:
    drop = f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'
    asyncio.run(_admin(drop, f'CREATE DATABASE "{DATABASE}"'))
    try:
        yield URL
    finally:
        asyncio.run(_admin(drop))


def seed(env: dict[str, str], args: argparse.Namespace) -> list[str]:
    """The demo directory and referrals; the ids of the referrals the link worker may match."""
    command = [
        sys.executable, "-m", "app.cli", "seed-demo", "--activities", str(args.activities),
        "--referrals", str(args.referrals), "--seed", str(args.seed), "--no-history",
    ]  # fmt: skip
    subprocess.run(command, cwd=BENCH.parent, env=env, check=True, stdout=subprocess.DEVNULL)

    async def ids() -> list[str]:
        connection = await asyncpg.connect(URL)
        try:
            await connection.execute("VACUUM ANALYZE")  # after a bulk load, as an operator would
            rows = await connection.fetch(
                "SELECT id::text FROM referral WHERE performer_ods = $1 ORDER BY id",
                LINK_WORKER_ODS,
            )
        finally:
            await connection.close()
        return [row["id"] for row in rows]

    return asyncio.run(ids())


@contextmanager
def api_processes(count: int, env: dict[str, str]) -> Iterator[list[tuple[int, int]]]:
    """``count`` ``assetlink serve`` processes: (port, pid) of each, once each is live."""
    with ExitStack() as stack:
        servers = []
        for _ in range(count):
            port = intake.free_port()  # the previous process holds its own by now
            log = stack.enter_context(tempfile.TemporaryFile())
            command = [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1"]
            process = subprocess.Popen(
                [*command, "--port", str(port)],
                cwd=BENCH.parent,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            stack.callback(_stop, process, log)
            intake._wait_until_live(process, port)
            servers.append((port, process.pid))
        yield servers


def _stop(process: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.seek(0)
    for line, count in Counter(log.read().decode("utf-8", "replace").splitlines()).most_common(3):
        print(f"  server log ({count}x): {line[:200]}", flush=True)


# --- load --------------------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    apis: int
    ok: int  # the status of a success
    latencies: list[float] = field(default_factory=list)  # seconds
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0
    api_cpu: float = 0.0
    database_cpu: float = 0.0
    generator_cpu: float = 0.0
    load_average: float = 0.0  # 1-minute, when the case ended

    def record(self, status: int, latency: float, body: bytes) -> None:
        self.latencies.append(latency)
        self.statuses[status] += 1
        if status != self.ok:
            self.errors[f"{status}: {body[:200].decode('utf-8', 'replace')}"] += 1

    @property
    def throughput(self) -> float:
        return self.statuses[self.ok] / self.elapsed

    @property
    def error_count(self) -> int:
        return len(self.latencies) - self.statuses[self.ok]

    def percentile_ms(self, q: float) -> float:
        ordered = sorted(self.latencies)
        rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
        return ordered[rank] * 1000

    def per_request_ms(self, seconds: float) -> float:
        return seconds / len(self.latencies) * 1000


async def _load(
    ports: Sequence[int], requests: Sequence[bytes], concurrency: int, case: Case
) -> None:
    """``concurrency`` keep-alive connections, to each port in turn, taking the next request."""
    queue = iter(requests)

    async def client(port: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for request in queue:
                started = time.perf_counter()
                writer.write(request)
                status, body = await intake._read_response(reader)
                case.record(status, time.perf_counter() - started, body)
        finally:
            writer.close()
            await writer.wait_closed()

    await asyncio.gather(
        *(client(port) for port, _ in zip(itertools.cycle(ports), range(concurrency)))
    )


def run(
    servers: list[tuple[int, int]], requests: Sequence[bytes], concurrency: int, case: Case
) -> Case:
    ports = [port for port, _ in servers]
    api_before = sum(intake.server_cpu(pid) for _, pid in servers)
    database_before = intake.database_cpu(DATABASE)
    cpu, started = time.process_time(), time.perf_counter()
    asyncio.run(_load(ports, requests, concurrency, case))
    case.elapsed = time.perf_counter() - started
    case.generator_cpu = time.process_time() - cpu
    case.api_cpu = sum(intake.server_cpu(pid) for _, pid in servers) - api_before
    case.database_cpu = sum(
        seconds - database_before.get(pid, 0.0)
        for pid, seconds in intake.database_cpu(DATABASE).items()
    )
    case.load_average = os.getloadavg()[0]
    return case


def match_request(port: int, token: str, referral: str) -> bytes:
    return (
        f"GET /api/v1/referrals/{referral}/matches HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nAccept: application/json\r\n\r\n"
    ).encode()


def measure(
    servers: list[tuple[int, int]],
    bodies: Iterator[bytes],
    referrals: list[str],
    args: argparse.Namespace,
) -> list[Case]:
    port = servers[0][0]  # the Host header; every process serves any
    settings = Settings(jwt_secret=intake.JWT_SECRET, environment="test")
    link_worker = mint_hs256(settings, role=Role.LINK_WORKER, org=LINK_WORKER_ODS, sub="bench")
    cases = []
    for name, ok in (("intake", 201), ("match", 200)):
        if name == "intake":
            make = [
                intake.raw_request(port, args.referrer, next(bodies))
                for _ in range(args.warmup + args.requests)
            ]
        else:
            cycle = itertools.cycle(referrals)
            make = [
                match_request(port, link_worker, next(cycle))
                for _ in range(args.warmup + args.requests)
            ]
        run(servers, make[: args.warmup], args.concurrency, Case(name, len(servers), ok))
        case = run(servers, make[args.warmup :], args.concurrency, Case(name, len(servers), ok))
        cases.append(case)
        print(
            f"  {name:<6} apis={case.apis} {case.throughput:7.1f}/s  p50 "
            f"{case.percentile_ms(50):6.1f} ms  p99 {case.percentile_ms(99):6.1f} ms  errors "
            f"{case.error_count}  load average {case.load_average:.2f}",
            flush=True,
        )
        for error, count in case.errors.most_common(3):
            print(f"    {count}x {error}", flush=True)
    return cases


def report(cases: list[Case]) -> None:
    single = {c.name: c.throughput for c in cases if c.apis == 1}
    print(
        "\n| case | API processes | per second | speed-up | p50 ms | p95 ms | p99 ms | errors "
        "| API CPU ms/req | PostgreSQL CPU ms/req | generator CPU ms/req | load average |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for c in sorted(cases, key=lambda c: (c.name, c.apis)):
        speed_up = f"{c.throughput / single[c.name]:.2f}" if c.name in single else "-"
        print(
            f"| {c.name} | {c.apis} | {c.throughput:.1f} | {speed_up} "
            f"| {c.percentile_ms(50):.1f} | {c.percentile_ms(95):.1f} | {c.percentile_ms(99):.1f} "
            f"| {c.error_count} | {c.per_request_ms(c.api_cpu):.1f} "
            f"| {c.per_request_ms(c.database_cpu):.1f} | {c.per_request_ms(c.generator_cpu):.2f} "
            f"| {c.load_average:.2f} |"
        )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apis", type=intake._ints, default=[1, 2], help="e.g. 1,2")
    parser.add_argument("--concurrency", type=int, default=32, help="connections (default 32)")
    parser.add_argument("--requests", type=int, default=1000, help="timed requests per case")
    parser.add_argument("--warmup", type=int, default=100, help="untimed requests before each")
    parser.add_argument("--activities", type=int, default=1000, help="demo activities")
    parser.add_argument("--referrals", type=int, default=300, help="demo referrals")
    parser.add_argument("--seed", type=int, default=None, help="payload seed (default: random)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    args.seed = args.seed if args.seed is not None else random.randrange(1_000_000)
    args.referrer = intake.referrer_token()
    bodies = iter(intake.referral_bodies((args.warmup + args.requests) * len(args.apis), args.seed))
    print(
        f"scale benchmark: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, "
        f"API processes {args.apis}, concurrency {args.concurrency}, {args.requests} requests "
        f"per case after {args.warmup} warm-up, {args.activities} activities, seed {args.seed}",
        flush=True,
    )
    cases: list[Case] = []
    with database() as url:
        env = {**intake.server_env(url), "PYTHONPATH": str(BENCH.parent)}
        intake.migrate(env)
        referrals = seed(env, args)
        assert referrals, "no demo referral for the link-worker service"
        for count in args.apis:
            with api_processes(count, env) as servers:
                cases += measure(servers, bodies, referrals, args)
    report(cases)
    failed = sum(c.error_count for c in cases)
    if failed:
        print(f"WARNING: {failed} requests failed (see above)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
