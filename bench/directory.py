"""Benchmark: directory search by postcode + proximity at 1 000, 10 000 and 100 000 activities.

Seeds the demo directory (``assetlink seed-demo``) into a fresh PostgreSQL database
(``assetlink_bench_directory`` at ``ASSETLINK_BENCH_POSTGRES_URL``, default
``postgresql://postgres@127.0.0.1:5432/postgres``; created and dropped here) and into a
temporary SQLite file, then times ``GET /api/v1/directory/services?postcode=...&proximity=1000``
through the real application (in-process, httpx ASGITransport: routing, auth, validation,
database, JSON). Prints p50/p95/p99 per database and size.

    .venv/bin/python bench/directory.py [--sizes 1000,10000,100000] [--requests 300]
                                        [--area borough|region]

``--area region`` seeds the region layout (``seed-demo --area region``): the borough's postcode
pattern repeated on a 10 x 10 grid of borough-sized tiles, a borough's density at 100 000.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from app import migrations
from app.auth.principal import Role
from app.auth.tokens import mint_hs256
from app.config import Settings
from app.db import create_engine, create_sessionmaker
from app.demo import directory as demo_directory
from app.demo.seed import DemoOptions, seed_demo
from app.main import create_app

ADMIN_URL = os.environ.get(
    "ASSETLINK_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
DATABASE = "assetlink_bench_directory"
SECRET = "assetlink-bench-secret-0123456789abcdef"  # noqa: S105 (a throwaway HS256 key)
PROXIMITY = 1000


async def _admin(*statements: str) -> None:
    connection = await asyncpg.connect(ADMIN_URL, timeout=5)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def _percentile(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[q - 1]
        if len(values) > 1
        else values[0]
    )


async def _measure(url: str, size: int, requests: int, area: str) -> dict[str, Any]:
    settings = Settings(database_url=url, jwt_secret=SECRET, log_level="WARNING")
    engine = create_engine(settings, pooled=False)
    started = time.perf_counter()
    await seed_demo(create_sessionmaker(engine), DemoOptions(activities=size, seed=1, area=area))
    seeded = time.perf_counter() - started
    await engine.dispose()
    if url.startswith("postgresql"):  # after a bulk load, as an operator would (index-only scans)
        connection = await asyncpg.connect(url, timeout=5)
        try:
            await connection.execute("VACUUM ANALYZE location")
        finally:
            await connection.close()

    app = create_app(settings)
    token = mint_hs256(settings, role=Role.LINK_WORKER, org="Y02718", sub="bench")
    headers = {"Authorization": f"Bearer {token}"}
    from app.areas.importer import FIXTURE_POSTCODES

    places = demo_directory.fixture_places(FIXTURE_POSTCODES)
    latencies, found = [], []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench"
    ) as client:
        for i in range(requests + 20):
            place = places[(i * 37) % len(places)]
            params = {"postcode": place.postcode, "proximity": PROXIMITY, "per_page": 20}
            t0 = time.perf_counter()
            response = await client.get(
                "/api/v1/directory/services", params=params, headers=headers
            )
            elapsed = (time.perf_counter() - t0) * 1000
            assert response.status_code == 200, response.text
            if i >= 20:  # warm-up excluded
                latencies.append(elapsed)
                found.append(response.json()["total_items"])
    await app.state.engine.dispose()
    return {
        "size": size,
        "seed_s": seeded,
        "p50": _percentile(latencies, 50),
        "p95": _percentile(latencies, 95),
        "p99": _percentile(latencies, 99),
        "matches": statistics.mean(found),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--databases", default="postgresql,sqlite")
    parser.add_argument("--area", choices=("borough", "region"), default="borough")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    for database in args.databases.split(","):
        if database == "postgresql":
            await _admin(
                f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)',
                f'CREATE DATABASE "{DATABASE}"',
            )
            url = ADMIN_URL.rpartition("/")[0] + f"/{DATABASE}"
            cleanup: Any = lambda: _admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')  # noqa: E731
        else:
            folder = tempfile.TemporaryDirectory()
            url = f"sqlite:///{Path(folder.name) / 'bench.db'}"
            cleanup = None
        try:
            await asyncio.to_thread(migrations.upgrade, url)
            for size in sizes:
                result = await _measure(url, size, args.requests, args.area)
                rows.append({"database": database, **result})
                print(
                    f"{database:10} {size:>7} activities: p50 {result['p50']:6.1f} ms  "
                    f"p95 {result['p95']:6.1f} ms  p99 {result['p99']:6.1f} ms  "
                    f"(~{result['matches']:.0f} within {PROXIMITY} m; seeded in "
                    f"{result['seed_s']:.1f} s)",
                    flush=True,
                )
        finally:
            if cleanup is not None:
                await cleanup()
    print(f"\nlayout: {args.area}")
    print("\n| database | activities | p50 ms | p95 ms | p99 ms | matches within 1 km | seed s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['database']} | {r['size']:,} | {r['p50']:.1f} | {r['p95']:.1f} | "
            f"{r['p99']:.1f} | {r['matches']:.0f} | {r['seed_s']:.1f} |"
        )


if __name__ == "__main__":
    asyncio.run(main())
