"""Benchmark: ``assetlink sync-directory`` of a loopback ORUK feed, in services per second.

A feed of ``--services`` generated services (``tests/directory/feed_server.py``: pages of
``per_page`` with one-to-one fields, then ``GET /services/{id}`` for each) is served by a
separate process on 127.0.0.1, and synced into a fresh SQLite file and a fresh PostgreSQL
database (``assetlink_bench_oruk_sync`` at ``ASSETLINK_BENCH_POSTGRES_URL``, default
``postgresql://postgres@127.0.0.1:5432/postgres``; created and dropped here): a first sync (all
created), a second full one (all unchanged) and a third after every service changed (all
updated). Each line: database, step, seconds, services per second, HTTP requests.

    .venv/bin/python bench/oruk_sync.py [--services 10000] [--databases sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import migrations  # noqa: E402
from app.config import Settings  # noqa: E402
from app.db import create_engine, create_sessionmaker  # noqa: E402
from app.directory import sync  # noqa: E402

ADMIN_URL = os.environ.get(
    "ASSETLINK_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
DATABASE = "assetlink_bench_oruk_sync"


def _serve(services: int) -> None:
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
        [sys.executable, __file__, "--serve", "--services", str(services)],
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


def _measure(name: str, url: str, feed_url: str, feed: subprocess.Popen[str]) -> None:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(args.services)
        return
    print(f"sync of {args.services} services from a loopback feed (per_page 100, 4 in flight)")
    for name in args.databases.split(","):
        with _feed(args.services) as (feed_url, feed):
            if name == "sqlite":
                with tempfile.TemporaryDirectory() as folder:
                    _measure(name, f"sqlite:///{folder}/bench.db", feed_url, feed)
                continue
            asyncio.run(
                _admin(f'DROP DATABASE IF EXISTS "{DATABASE}"', f'CREATE DATABASE "{DATABASE}"')
            )
            try:
                base = ADMIN_URL.rsplit("/", 1)[0]
                _measure(name, f"{base}/{DATABASE}", feed_url, feed)
            finally:
                asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
