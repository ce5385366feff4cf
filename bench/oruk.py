"""Benchmark of both halves of Open Referral UK (issue 20): ``--part publish``, ``sync`` or
``both`` (the default).

**publish**: the public feed as NDJSON (``GET /oruk/services?format=ndjson``) at several
directory sizes (``--sizes``): time to first byte, total time, services a second, and the peak
memory of the server process, which must not grow with the directory (the stream reads it a
chunk at a time). For each size: a fresh SQLite file, migrated and seeded with the demo
directory (``seed-demo --activities N``: locations, schedules, costs, categories...), then
``assetlink`` served by uvicorn in a subprocess (matching warm-up off: it would load the
directory into the process and hide what the stream costs). The server's resident memory
(``VmRSS``) is sampled every 20 ms from ``/proc`` before and during the download. Every line is
parsed and counted.

**sync**: ``assetlink sync-directory`` of a loopback ORUK feed, in services per second. A feed
of ``--services`` generated services (``tests/directory/feed_server.py``: pages of
``per_page`` with one-to-one fields, then ``GET /services/{id}`` for each) is served by a
separate process on 127.0.0.1, and synced into a fresh SQLite file and a fresh PostgreSQL
database (``assetlink_bench_oruk_sync`` at ``ASSETLINK_BENCH_POSTGRES_URL``, default
``postgresql://postgres@127.0.0.1:5432/postgres``; created and dropped here): a first sync (all
created), a second full one (all unchanged) and a third after every service changed (all
updated). Each line: database, step, seconds, services per second, HTTP requests.

    .venv/bin/python bench/oruk.py [--part publish|sync|both] [--sizes 1000,10000,100000]
        [--services 10000] [--databases sqlite,postgresql] [--port 8765]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import migrations  # noqa: E402
from app.config import Settings  # noqa: E402
from app.db import create_engine, create_sessionmaker  # noqa: E402
from app.demo.seed import DemoOptions, seed_demo  # noqa: E402
from app.directory import sync  # noqa: E402

ADMIN_URL = os.environ.get(
    "ASSETLINK_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
DATABASE = "assetlink_bench_oruk_sync"
SECRET = "assetlink-bench-secret-0123456789abcdef"  # noqa: S105 (a throwaway HS256 key)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class RssSampler(threading.Thread):
    """The peak resident memory of a process while it runs."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self._done = pid, 0, threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, _rss_kib(self.pid))
            time.sleep(0.02)

    def stop(self) -> int:
        self._done.set()
        self.join()
        return self.peak


async def _seed(url: str, size: int) -> float:
    engine = create_engine(Settings(database_url=url, jwt_secret=SECRET), pooled=False)
    started = time.perf_counter()
    await seed_demo(create_sessionmaker(engine), DemoOptions(activities=size, seed=1))
    await engine.dispose()
    return time.perf_counter() - started


def _serve_app(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ASSETLINK_DATABASE_URL": url,
        "ASSETLINK_JWT_SECRET": SECRET,
        "ASSETLINK_MATCH_WARMUP": "false",
        "ASSETLINK_LOG_LEVEL": "WARNING",
        "ASSETLINK_RATE_LIMIT_PER_S": "0",
        "PYTHONPATH": str(ROOT),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port), "--no-access-log"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/livez", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.kill()
    raise RuntimeError("the server did not start")


def _download(port: int, pid: int) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}"
    httpx.get(f"{base}/oruk/services", params={"per_page": 1}, timeout=60)  # warm: imports, pool
    before = _rss_kib(pid)
    sampler = RssSampler(pid)
    sampler.start()
    started = time.perf_counter()
    first_byte = None
    lines, size, pending = 0, 0, b""
    with httpx.stream(
        "GET", f"{base}/oruk/services", params={"format": "ndjson"}, timeout=600
    ) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes():
            if first_byte is None:
                first_byte = time.perf_counter() - started
            size += len(chunk)
            *complete, pending = (pending + chunk).split(b"\n")
            for line in complete:
                json.loads(line)
                lines += 1
    total = time.perf_counter() - started
    peak = sampler.stop()
    assert pending == b"", "the stream ended inside a line"
    return {
        "services": lines,
        "first_byte_s": first_byte or total,
        "total_s": total,
        "services_per_s": lines / total,
        "mb": size / 1e6,
        "rss_before_mib": before / 1024,
        "rss_peak_mib": peak / 1024,
    }


def measure(size: int, port: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'oruk.db'}"
        migrations.upgrade(url)
        seeded = asyncio.run(_seed(url, size))
        server = _serve_app(url, port)
        try:
            result = _download(port, server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)
    assert result["services"] == size, result
    return {"size": size, "seed_s": seeded, **result}


def _serve_feed(services: int) -> None:
    """The feed process: ``services`` generated services; a line "bump" on stdin renames them
    all (each then needs an update)."""
    from tests.directory.feed_server import Feed, generated, serve

    with serve(Feed()) as feed:
        feed.put(*generated(services))
        print(feed.port, flush=True)
        for line in sys.stdin:
            if line.strip() == "bump":
                feed.put(*[{**s, "name": s["name"] + "*"} for s in generated(services)])
                print("bumped", flush=True)


@contextmanager
def _feed(services: int) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    process = subprocess.Popen(
        [sys.executable, __file__, "--part", "sync", "--serve", "--services", str(services)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        yield f"http://127.0.0.1:{port}/oruk", process
    finally:
        process.terminate()
        process.wait()


async def _admin(*statements: str) -> None:
    connection = await asyncpg.connect(ADMIN_URL, timeout=5)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def _sync(url: str, feed_url: str) -> sync.SyncReport:
    settings = Settings(database_url=url, log_level="WARNING")
    engine = create_engine(settings, pooled=False)
    try:
        async with httpx.AsyncClient() as http:
            return await sync.sync_feed(
                create_sessionmaker(engine), http, feed_url, sync.fetch_options(settings), full=True
            )
    finally:
        await engine.dispose()


def _measure_sync(name: str, url: str, feed_url: str, feed: subprocess.Popen[str]) -> None:
    migrations.upgrade(url)
    for step in ("created", "unchanged", "updated"):
        if step == "updated":
            assert feed.stdin is not None
            assert feed.stdout is not None
            feed.stdin.write("bump\n")
            feed.stdin.flush()
            feed.stdout.readline()
        started = time.perf_counter()
        report = asyncio.run(_sync(url, feed_url))
        took = time.perf_counter() - started
        count = getattr(report, step)
        print(
            f"{name:<10} {step:<9} {took:7.1f} s {count / took:8.0f} services/s "
            f"({count} {step}, {report.requests} requests, {report.pages} pages)",
            flush=True,
        )


def publish(sizes: list[int], port: int) -> None:
    print("publish: GET /oruk/services?format=ndjson of the demo directory (SQLite)")
    print(
        f"{'services':>9} {'seed s':>7} {'1st byte s':>10} {'total s':>8} {'svc/s':>7} "
        f"{'MB':>7} {'RSS before MiB':>14} {'RSS peak MiB':>12} {'growth MiB':>10}"
    )
    for size in sizes:
        r = measure(size, port or _free_port())
        print(
            f"{r['size']:>9} {r['seed_s']:>7.1f} {r['first_byte_s']:>10.3f} {r['total_s']:>8.1f} "
            f"{r['services_per_s']:>7.0f} {r['mb']:>7.1f} {r['rss_before_mib']:>14.1f} "
            f"{r['rss_peak_mib']:>12.1f} {r['rss_peak_mib'] - r['rss_before_mib']:>10.1f}",
            flush=True,
        )


def sync_feeds(services: int, databases: list[str]) -> None:
    print(f"sync: {services} services from a loopback feed (per_page 100, 4 in flight)")
    for name in databases:
        with _feed(services) as (feed_url, feed):
            if name == "sqlite":
                with tempfile.TemporaryDirectory() as folder:
                    _measure_sync(name, f"sqlite:///{folder}/bench.db", feed_url, feed)
                continue
            asyncio.run(
                _admin(f'DROP DATABASE IF EXISTS "{DATABASE}"', f'CREATE DATABASE "{DATABASE}"')
            )
            try:
                base = ADMIN_URL.rsplit("/", 1)[0]
                _measure_sync(name, f"{base}/{DATABASE}", feed_url, feed)
            finally:
                asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("publish", "sync", "both"), default="both")
    parser.add_argument("--sizes", default="1000,10000", help="publish: directory sizes")
    parser.add_argument("--port", type=int, default=0, help="publish: default a free one")
    parser.add_argument("--services", type=int, default=10_000, help="sync: the feed's size")
    parser.add_argument("--databases", default="sqlite,postgresql", help="sync: into these")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:  # the sync part's feed process
        _serve_feed(args.services)
        return
    if args.part in ("publish", "both"):
        publish([int(s) for s in args.sizes.split(",")], args.port)
    if args.part in ("sync", "both"):
        sync_feeds(args.services, args.databases.split(","))


if __name__ == "__main__":
    main()
