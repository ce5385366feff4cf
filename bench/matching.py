"""Benchmark: matching a referral at 1 000, 10 000 and 100 000 activities (DESIGN 7).

For each database (a fresh PostgreSQL database ``assetlink_bench_matching_<size>_<layout>`` at
``ASSETLINK_BENCH_POSTGRES_URL``, default ``postgresql://postgres@127.0.0.1:5432/postgres``,
and a temporary SQLite file; both created and dropped here) and each layout (``borough``: every
located activity in the five Hackney postcode districts, dense; ``region``: the same activities
spread over 100 borough-sized tiles), seeds the demo directory and a few hundred demo referrals
(``assetlink seed-demo --activities N --referrals M --area L``), then times
``GET /api/v1/referrals/{id}/matches`` (default limit 10) through the real application
(in-process, httpx ASGITransport: routing, auth, audit, database, engine, JSON) as a link worker
of the referral's performer, cycling over the referrals. Prints p50/p95 per match for each
size, database and layout, the first request's time (it builds the process's snapshot of the
directory, app/matching/snapshot.py), the mean number of candidates the snapshot gave the
engine and of those eligible, and the share of time spent checking the snapshot's freshness
and in the engine — measured here by wrapping ``snapshot.Snapshots.directory``,
``snapshot.Directory.candidates`` and ``engine.match`` in this process; the API response is
unchanged.

    .venv/bin/python bench/matching.py [--sizes 1000,10000,100000] [--databases postgresql,sqlite]
        [--layouts borough,region] [--requests 200] [--referrals 300] [--max-seconds 90]
        [--keep] [--reuse]

``--keep`` leaves the PostgreSQL databases in place at the end; ``--reuse`` does not seed a
PostgreSQL database that already holds the directory and referrals of its size and layout
(seeded by an earlier run with ``--keep``), so one seeding serves several measurements, and
never drops a database it found (only one it created).
``--max-seconds`` caps the timed requests of one configuration (at least 20 are always made), so
a slow configuration still finishes; the number of requests is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import func, select

from app import migrations
from app.auth.principal import Role
from app.auth.tokens import mint_hs256
from app.config import Settings
from app.db import create_engine, create_sessionmaker
from app.demo.referrals import LINK_WORKER_ODS
from app.demo.seed import DemoOptions, seed_demo
from app.directory.models import Activity
from app.main import create_app
from app.matching import engine as matching_engine
from app.matching import snapshot
from app.referrals.models import Referral

ADMIN_URL = os.environ.get(
    "ASSETLINK_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
DATABASE = "assetlink_bench_matching_{size}_{layout}"
SECRET = "assetlink-bench-secret-0123456789abcdef"  # noqa: S105 (a throwaway HS256 key)
WARMUP = 10
MIN_REQUESTS = 20


@dataclass
class Probe:
    """Time of the snapshot refresh and the engine, and the candidates, per request (bench
    only)."""

    refresh_ms: list[float] = field(default_factory=list)
    candidates: list[int] = field(default_factory=list)
    engine_ms: list[float] = field(default_factory=list)

    def install(self) -> Callable[[], None]:
        directory, candidates, match = (
            snapshot.Snapshots.directory,
            snapshot.Directory.candidates,
            matching_engine.match,
        )

        async def timed_directory(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            found = await directory(*args, **kwargs)
            self.refresh_ms.append((time.perf_counter() - t0) * 1000)
            return found

        def counted_candidates(*args: Any, **kwargs: Any) -> Any:
            screened = candidates(*args, **kwargs)
            self.candidates.append(screened.count)
            return screened

        def timed_match(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            result = match(*args, **kwargs)
            self.engine_ms.append((time.perf_counter() - t0) * 1000)
            return result

        snapshot.Snapshots.directory = timed_directory  # type: ignore[method-assign]
        snapshot.Directory.candidates = counted_candidates  # type: ignore[method-assign]
        matching_engine.match = timed_match

        def uninstall() -> None:
            snapshot.Snapshots.directory = directory  # type: ignore[method-assign]
            snapshot.Directory.candidates = candidates  # type: ignore[method-assign]
            matching_engine.match = match

        return uninstall

    def clear(self) -> None:
        self.refresh_ms.clear()
        self.candidates.clear()
        self.engine_ms.clear()


async def _admin(*statements: str) -> None:
    connection = await asyncpg.connect(ADMIN_URL, timeout=5)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def _percentile(values: list[float], q: int) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else values[0]
    )


async def _seed(
    url: str, size: int, referrals: int, layout: str, seed: int, reuse: bool
) -> tuple[float, list]:
    settings = Settings(database_url=url, jwt_secret=SECRET, log_level="WARNING")
    engine = create_engine(settings, pooled=False)
    sessionmaker = create_sessionmaker(engine)

    async def referral_ids() -> list:
        async with sessionmaker() as session:
            return list(
                await session.scalars(
                    select(Referral.id)
                    .where(Referral.performer_ods == LINK_WORKER_ODS)
                    .order_by(Referral.id)
                )
            )

    if reuse:
        async with sessionmaker() as session:
            present = await session.scalar(
                select(func.count()).select_from(Activity).where(Activity.source == "demo")
            )
        ids = await referral_ids()
        if present == size and ids:
            await engine.dispose()
            return 0.0, ids
    started = time.perf_counter()
    options = DemoOptions(activities=size, referrals=referrals, seed=seed, area=layout)
    await seed_demo(sessionmaker, options)
    seeded = time.perf_counter() - started
    ids = await referral_ids()
    await engine.dispose()
    if url.startswith("postgresql"):  # after a bulk load, as an operator would
        connection = await asyncpg.connect(url, timeout=5)
        try:
            await connection.execute("VACUUM ANALYZE")
        finally:
            await connection.close()
    return seeded, ids


async def _measure(
    url: str, size: int, layout: str, args: argparse.Namespace, probe: Probe
) -> dict[str, Any]:
    seeded, referral_ids = await _seed(url, size, args.referrals, layout, args.seed, args.reuse)
    assert referral_ids, "no demo referral for the link-worker service"
    settings = Settings(database_url=url, jwt_secret=SECRET, log_level="WARNING")
    app = create_app(settings)
    token = mint_hs256(settings, role=Role.LINK_WORKER, org=LINK_WORKER_ODS, sub="bench")
    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    eligible: list[int] = []
    probe.clear()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench"
    ) as client:
        budget_end = None
        for i in range(args.requests + WARMUP):
            if i == WARMUP:
                probe.clear()
                budget_end = time.perf_counter() + args.max_seconds
            elif (
                budget_end is not None
                and len(latencies) >= MIN_REQUESTS
                and time.perf_counter() > budget_end
            ):
                break
            referral_id = referral_ids[(i * 7) % len(referral_ids)]
            t0 = time.perf_counter()
            response = await client.get(f"/api/v1/referrals/{referral_id}/matches", headers=headers)
            elapsed = (time.perf_counter() - t0) * 1000
            assert response.status_code == 200, response.text
            if i == 0:
                first = elapsed
            if i >= WARMUP:
                latencies.append(elapsed)
                eligible.append(response.json()["eligible"])
    await app.state.engine.dispose()
    total = sum(latencies)
    return {
        "size": size,
        "layout": layout,
        "seed_s": seeded,
        "requests": len(latencies),
        "p50": _percentile(latencies, 50),
        "p95": _percentile(latencies, 95),
        "candidates": statistics.mean(probe.candidates),
        "eligible": statistics.mean(eligible),
        "first_ms": first,
        "refresh_share": sum(probe.refresh_ms) / total,
        "engine_share": sum(probe.engine_ms) / total,
    }


async def _database(
    database: str, size: int, layout: str, args: argparse.Namespace
) -> tuple[str, Callable[[], Awaitable[None]]]:
    """A migrated database (fresh unless ``--reuse`` finds it) and how to remove it (nothing
    for PostgreSQL with ``--keep``, nor for one ``--reuse`` found)."""
    if database == "postgresql":
        name = DATABASE.format(size=size, layout=layout)
        exists = await _exists(name)
        if not (args.reuse and exists):
            await _admin(
                f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'
            )
        url = ADMIN_URL.rpartition("/")[0] + f"/{name}"

        async def drop() -> None:
            if not (args.keep or (args.reuse and exists)):
                await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    elif database == "sqlite":
        folder = tempfile.TemporaryDirectory()
        url = f"sqlite:///{Path(folder.name) / 'bench.db'}"

        async def drop() -> None:
            folder.cleanup()

    else:
        raise SystemExit(f"unknown database {database!r} (postgresql, sqlite)")
    await asyncio.to_thread(migrations.upgrade, url)
    return url, drop


async def _exists(name: str) -> bool:
    connection = await asyncpg.connect(ADMIN_URL, timeout=5)
    try:
        return bool(await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await connection.close()


def _growth(rows: list[dict[str, Any]]) -> list[str]:
    """p50 ratio between consecutive sizes, per database and layout."""
    lines = []
    keys = dict.fromkeys((r["database"], r["layout"]) for r in rows)
    for database, layout in keys:
        series = [r for r in rows if r["database"] == database and r["layout"] == layout]
        steps = [
            f"{a['size']:,} -> {b['size']:,}: p50 x{b['p50'] / a['p50']:.1f}, "
            f"candidates x{b['candidates'] / max(a['candidates'], 1):.1f}"
            for a, b in itertools.pairwise(series)
        ]
        if steps:
            lines.append(f"{database} {layout}: " + "; ".join(steps))
    return lines


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--databases", default="postgresql,sqlite")
    parser.add_argument("--layouts", default="borough,region")
    parser.add_argument("--requests", type=int, default=200, help="timed match requests")
    parser.add_argument("--referrals", type=int, default=300, help="demo referrals to seed")
    parser.add_argument("--max-seconds", type=float, default=90, help="time cap per configuration")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL databases")
    parser.add_argument(
        "--reuse", action="store_true", help="skip seeding a PostgreSQL database already seeded"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    probe = Probe()
    uninstall = probe.install()
    rows = []
    try:
        for database in args.databases.split(","):
            for layout in args.layouts.split(","):
                for size in sizes:
                    url, drop = await _database(database, size, layout, args)
                    try:
                        result = await _measure(url, size, layout, args, probe)
                        rows.append({"database": database, **result})
                        print(
                            f"{database:10} {layout:7} {size:>7} activities: "
                            f"p50 {result['p50']:7.1f} ms  p95 {result['p95']:7.1f} ms  "
                            f"({result['requests']} requests; ~{result['candidates']:.0f} "
                            f"candidates, ~{result['eligible']:.0f} eligible; "
                            f"freshness {result['refresh_share']:.0%}, engine "
                            f"{result['engine_share']:.0%}; first request "
                            f"{result['first_ms'] / 1000:.1f} s; "
                            f"seeded in {result['seed_s']:.1f} s)",
                            flush=True,
                        )
                    finally:
                        await drop()
    finally:
        uninstall()
    print(
        "\n| database | layout | activities | requests | p50 ms | p95 ms | candidates "
        "| eligible | freshness share | engine share | first request s |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['database']} | {r['layout']} | {r['size']:,} | {r['requests']} | "
            f"{r['p50']:.1f} | {r['p95']:.1f} | {r['candidates']:,.0f} | {r['eligible']:,.0f} | "
            f"{r['refresh_share']:.0%} | {r['engine_share']:.0%} | {r['first_ms'] / 1000:.1f} |"
        )
    print("\nGrowth with the directory size:")
    for line in _growth(rows):
        print("  " + line)
    targets = {"postgresql": 50.0, "sqlite": 150.0}
    for r in rows:
        if r["size"] == 100_000 and r["database"] in targets:
            verdict = "met" if r["p95"] < targets[r["database"]] else "MISSED"
            print(
                f"target p95 < {targets[r['database']]:.0f} ms, {r['database']} {r['layout']} "
                f"100,000: {r['p95']:.1f} ms, {verdict}"
            )


if __name__ == "__main__":
    asyncio.run(main())
