"""Referral intake benchmark (issue 3): ``POST /fhir/ServiceRequest`` against a running server.

For each database (a fresh PostgreSQL database, created and dropped here, and a fresh SQLite
file in a temporary folder) it migrates the schema, starts uvicorn in a subprocess, and posts
distinct valid referrals (unique identifiers and NHS numbers, generated and encoded before the
clock starts) at each concurrency, after a warm-up. In the same run it serves
bench/baseline_app.py (parse + validate the same body with fhir.resources, 201, no database)
with the same uvicorn flags and worker count, and reports intake throughput as a ratio of it.

The load generator is this process: one asyncio task per concurrent client, each on its own
keep-alive HTTP/1.1 connection, writing pre-encoded requests (``--client httpx`` uses an
``httpx.AsyncClient`` pool instead, heavier on the CPU the server shares).

Targets (issue 3): on PostgreSQL at concurrency 32, throughput >= 0.4 of the baseline and
p99 < 100 ms.

    .venv/bin/python bench/intake.py                      # both databases, 1 worker
    .venv/bin/python bench/intake.py --database postgresql --requests 2000 --workers 1,2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
JWT_SECRET = "bench-intake-secret-0123456789abcdef"  # noqa: S105 (a local throwaway key)
REQUESTER_ODS = "A81001"
PERFORMER_ODS = "Y02718"
PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DATABASE = "assetlink_bench_intake"
PATH = "/fhir/ServiceRequest"
TARGET_RATIO = 0.4
TARGET_P99_MS = 100.0
TARGET_CONCURRENCY = 32


# --- payloads ----------------------------------------------------------------------------------


def referral_bodies(count: int, seed: int, postcodes: Sequence[str] = ()) -> list[bytes]:
    """``count`` distinct valid referrals (tests/referrals/factories.py), JSON-encoded; the
    people live at ``postcodes`` in turn when given (the factories' Camden address otherwise,
    outside the demo directory's area)."""
    sys.path.insert(0, str(ROOT))
    from tests.referrals import factories  # the same payloads the intake tests send

    rng = random.Random(seed)
    numbers: set[str] = set()
    bodies = []
    for index in range(count):
        number = factories.nhs_number(rng)
        while number in numbers:
            number = factories.nhs_number(rng)
        numbers.add(number)
        resource = factories.service_request(
            identifier_value=f"BENCH-{seed}-{index}",
            person=factories.patient(number, **_address(postcodes, index)),
            requester_ods=REQUESTER_ODS,
        )
        bodies.append(json.dumps(resource, separators=(",", ":")).encode())
    return bodies


def _address(postcodes: Sequence[str], index: int) -> dict[str, Any]:
    if not postcodes:
        return {}
    postcode = postcodes[index % len(postcodes)]
    return {"address": [{"line": ["1 High Street"], "city": "London", "postalCode": postcode}]}


def referrer_token() -> str:
    from app.auth.principal import Role
    from app.auth.tokens import mint_hs256
    from app.config import Settings

    settings = Settings(jwt_secret=JWT_SECRET, environment="test")
    return mint_hs256(settings, role=Role.REFERRER, org=REQUESTER_ODS, sub="bench-referrer")


# --- servers -----------------------------------------------------------------------------------


def free_port(start: int = 8200, stop: int = 8300) -> int:
    for port in range(start, stop):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {start}-{stop - 1}")


def server_env(database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSETLINK_")}
    env.update(
        ASSETLINK_ENVIRONMENT="test",
        ASSETLINK_JWT_SECRET=JWT_SECRET,
        ASSETLINK_DEFAULT_PERFORMER_ODS=PERFORMER_ODS,
        ASSETLINK_LOG_LEVEL="WARNING",
        ASSETLINK_RATE_LIMIT_PER_S="0",  # the bench is one client at full speed
    )
    if database_url is not None:
        env["ASSETLINK_DATABASE_URL"] = database_url
    return env


@contextmanager
def uvicorn_server(
    app_args: Sequence[str], env: dict[str, str], workers: int
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """uvicorn in a subprocess, the same flags for the service and the baseline."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", *app_args,
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    with tempfile.TemporaryFile() as log:  # the server's output, summarised when it stops
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_until_live(process, port)
            yield port, process
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.seek(0)
            lines = Counter(log.read().decode("utf-8", "replace").splitlines())
            for line, count in lines.most_common(5):
                print(f"  server log ({count}x): {line[:200]}", flush=True)


def _wait_until_live(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 60
    while process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/livez", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not start within 60 s")
        time.sleep(0.2)
    raise RuntimeError(f"the server exited with {process.returncode}")


def migrate(env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "app.cli", "migrate"], cwd=ROOT, env=env, check=True)


async def _pg_execute(*statements: str) -> None:
    connection = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def postgresql_database() -> Iterator[str]:
    asyncio.run(
        _pg_execute(
            f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)", f"CREATE DATABASE {PG_DATABASE}"
        )
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{PG_DATABASE}"
    finally:
        asyncio.run(_pg_execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)"))


@contextmanager
def sqlite_database() -> Iterator[str]:
    folder = tempfile.mkdtemp(prefix="assetlink-bench-")
    try:
        yield f"sqlite:///{folder}/assetlink.db"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- CPU accounting (Linux /proc; zero elsewhere) ----------------------------------------------

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_of(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(child) for child in task.read_text().split()]
        except OSError:
            continue
    return found


def server_cpu(pid: int) -> float:
    """CPU seconds of the server and its worker processes."""
    pending, total = [pid], 0.0
    while pending:
        current = pending.pop()
        total += _cpu_of(current)
        pending += _children(current)
    return total


def database_cpu(marker: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving ``marker`` (the bench database)."""
    found = {}
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if marker.encode() in cmdline.read_bytes():
                pid = int(cmdline.parent.name)
                found[pid] = _cpu_of(pid)
        except OSError:
            continue
    return found


# --- load --------------------------------------------------------------------------------------


@dataclass
class Phase:
    latencies: list[float] = field(default_factory=list)  # seconds
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)  # distinct failure answers
    elapsed: float = 0.0
    cpu: float = 0.0  # the load generator's CPU time
    server_cpu: float = 0.0  # the server's, all workers
    database_cpu: float = 0.0  # the PostgreSQL backends' (approximate: pooled connections)

    def record(self, status: int, latency: float, body: bytes) -> None:
        self.latencies.append(latency)
        self.statuses[status] += 1
        if status != 201:
            self.errors[f"{status}: {body[:300].decode('utf-8', 'replace')}"] += 1

    @property
    def error_count(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != 201)

    @property
    def throughput(self) -> float:
        """Referrals created (201) per second: fast failures do not count as throughput."""
        return self.statuses[201] / self.elapsed

    def per_request_ms(self, seconds: float) -> float:
        return seconds / len(self.latencies) * 1000

    def percentile_ms(self, q: float) -> float:
        ordered = sorted(self.latencies)
        rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
        return ordered[rank] * 1000


def raw_request(port: int, token: str, body: bytes) -> bytes:
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/fhir+json\r\nAccept: application/fhir+json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        return status, await reader.readexactly(int(headers["content-length"]))
    if headers.get("transfer-encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return status, b"".join(chunks)
            chunks.append(chunk[:-2])
    return status, b""


async def _raw_load(port: int, requests: Sequence[bytes], concurrency: int, phase: Phase) -> None:
    queue = iter(requests)

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for request in queue:
                started = time.perf_counter()
                writer.write(request)
                status, body = await _read_response(reader)
                phase.record(status, time.perf_counter() - started, body)
        finally:
            writer.close()
            await writer.wait_closed()

    await asyncio.gather(*(client() for _ in range(concurrency)))


async def _httpx_load(
    port: int, token: str, bodies: Sequence[bytes], concurrency: int, phase: Phase
) -> None:
    queue = iter(bodies)
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/fhir+json",
        "Accept": "application/fhir+json",
    }
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60
    ) as http:

        async def client() -> None:
            for body in queue:
                started = time.perf_counter()
                response = await http.post(PATH, content=body, headers=headers)
                phase.record(response.status_code, time.perf_counter() - started, response.content)

        await asyncio.gather(*(client() for _ in range(concurrency)))


def run_phase(
    port: int,
    token: str,
    bodies: Sequence[bytes],
    concurrency: int,
    client: str,
    server_pid: int | None = None,
) -> Phase:
    phase = Phase()
    if client == "raw":
        requests = [raw_request(port, token, body) for body in bodies]
        load = _raw_load(port, requests, concurrency, phase)
    else:
        load = _httpx_load(port, token, bodies, concurrency, phase)
    server_before = server_cpu(server_pid) if server_pid else 0.0
    database_before = database_cpu(PG_DATABASE)
    cpu, started = time.process_time(), time.perf_counter()
    asyncio.run(load)
    phase.elapsed = time.perf_counter() - started
    phase.cpu = time.process_time() - cpu
    phase.server_cpu = (server_cpu(server_pid) if server_pid else 0.0) - server_before
    phase.database_cpu = sum(
        cpu - database_before.get(pid, 0.0) for pid, cpu in database_cpu(PG_DATABASE).items()
    )
    return phase


# --- the run -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    target: str
    workers: int
    concurrency: int
    phase: Phase


def measure(
    target: str,
    server: tuple[int, subprocess.Popen[bytes]],
    workers: int,
    bodies: Sequence[bytes],
    args: argparse.Namespace,
) -> list[Row]:
    port, process = server
    rows = []
    offset = 0
    for concurrency in args.concurrency:
        warmup = bodies[offset : offset + args.warmup]
        offset += args.warmup
        measured = bodies[offset : offset + args.requests]
        offset += args.requests
        run_phase(port, args.token, warmup, concurrency, args.client)
        phase = run_phase(port, args.token, measured, concurrency, args.client, process.pid)
        rows.append(Row(target, workers, concurrency, phase))
        print(
            f"  {target:<10} workers={workers} c={concurrency:<3} {phase.throughput:7.1f}/s  "
            f"p50 {phase.percentile_ms(50):7.1f} ms  p99 {phase.percentile_ms(99):7.1f} ms  "
            f"errors {phase.error_count}  CPU ms/request: server "
            f"{phase.per_request_ms(phase.server_cpu):.1f}, database "
            f"{phase.per_request_ms(phase.database_cpu):.1f}, generator "
            f"{phase.per_request_ms(phase.cpu):.2f}",
            flush=True,
        )
        for error, count in phase.errors.most_common(5):
            print(f"    {count}x {error}", flush=True)
    return rows


def bench_baseline(workers: int, bodies: Sequence[bytes], args: argparse.Namespace) -> list[Row]:
    app_args = ["baseline_app:app", "--app-dir", str(BENCH)]
    with uvicorn_server(app_args, server_env(None), workers) as server:
        return measure("baseline", server, workers, bodies, args)


def bench_database(
    name: str, workers: int, bodies: Sequence[bytes], args: argparse.Namespace
) -> list[Row]:
    database = postgresql_database() if name == "postgresql" else sqlite_database()
    with database as url:
        env = server_env(url)
        migrate(env)
        with uvicorn_server(["app.main:create_app", "--factory"], env, workers) as server:
            return measure(name, server, workers, bodies, args)


def report(rows: list[Row]) -> bool:
    baseline = {
        (r.workers, r.concurrency): r.phase.throughput for r in rows if r.target == "baseline"
    }
    print()
    print(
        "| database | workers | concurrency | created/s | p50 ms | p95 ms | p99 ms | errors "
        "| ratio to baseline | server CPU ms/req | PostgreSQL CPU ms/req |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        phase = row.phase
        base = baseline.get((row.workers, row.concurrency))
        ratio = f"{phase.throughput / base:.2f}" if base and row.target != "baseline" else "-"
        database_ms = (
            f"{phase.per_request_ms(phase.database_cpu):.1f}" if row.target == "postgresql" else "-"
        )
        print(
            f"| {row.target} | {row.workers} | {row.concurrency} | {phase.throughput:.1f} "
            f"| {phase.percentile_ms(50):.1f} | {phase.percentile_ms(95):.1f} "
            f"| {phase.percentile_ms(99):.1f} | {phase.error_count} | {ratio} "
            f"| {phase.per_request_ms(phase.server_cpu):.1f} "
            f"| {database_ms} |"
        )
    print()
    all_met = True
    judged = [r for r in rows if r.target == "postgresql" and r.concurrency == TARGET_CONCURRENCY]
    if not judged:
        print(f"Targets not judged: they concern PostgreSQL at concurrency {TARGET_CONCURRENCY}")
    for row in judged:
        base = baseline.get((row.workers, row.concurrency))
        ratio = row.phase.throughput / base if base else float("nan")
        p99 = row.phase.percentile_ms(99)
        ratio_met, p99_met = ratio >= TARGET_RATIO, p99 < TARGET_P99_MS
        all_met = all_met and ratio_met and p99_met and row.phase.error_count == 0
        print(
            f"PostgreSQL, {row.workers} worker(s), concurrency {TARGET_CONCURRENCY}: "
            f"ratio {ratio:.2f} (target >= {TARGET_RATIO}: {'met' if ratio_met else 'NOT met'}), "
            f"p99 {p99:.1f} ms (target < {TARGET_P99_MS:.0f} ms: "
            f"{'met' if p99_met else 'NOT met'})"
        )
    return all_met


def _ints(text: str) -> list[int]:
    values = [int(part) for part in text.split(",") if part.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("give positive integers separated by commas")
    return values


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database", choices=["sqlite", "postgresql", "both"], default="both", help="default both"
    )
    parser.add_argument("--requests", type=int, default=600, help="timed requests per level")
    parser.add_argument("--warmup", type=int, default=60, help="untimed requests before each")
    parser.add_argument("--concurrency", type=_ints, default=[1, 8, 32], help="e.g. 1,8,32")
    parser.add_argument("--workers", type=_ints, default=[1], help="uvicorn workers, e.g. 1,2")
    parser.add_argument("--client", choices=["raw", "httpx"], default="raw")
    parser.add_argument("--no-baseline", action="store_true", help="skip the baseline server")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when a request fails or a target is missed"
    )
    parser.add_argument("--seed", type=int, default=None, help="payload seed (default: random)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(1_000_000)
    databases = ["postgresql", "sqlite"] if args.database == "both" else [args.database]
    args.token = referrer_token()
    per_level = args.warmup + args.requests
    bodies = referral_bodies(per_level * len(args.concurrency), seed)
    print(
        f"intake benchmark: {os.cpu_count()} CPUs, {args.requests} requests per level after "
        f"{args.warmup} warm-up, concurrency {args.concurrency}, workers {args.workers}, "
        f"client {args.client}, body {statistics.mean(map(len, bodies)):.0f} bytes, seed {seed}",
        flush=True,
    )
    rows: list[Row] = []
    for workers in args.workers:
        if not args.no_baseline:
            rows += bench_baseline(workers, bodies, args)
        for name in databases:
            rows += bench_database(name, workers, bodies, args)
    met = report(rows)
    failed = sum(r.phase.error_count for r in rows)
    if failed:
        print(f"WARNING: {failed} requests were not answered 201 (see above)")
    return 1 if args.check and (failed or not met) else 0


if __name__ == "__main__":
    sys.exit(main())
