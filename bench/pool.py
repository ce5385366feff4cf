"""Connection pool fairness (issue 17): how long checkouts wait with SQLAlchemy's asyncio pool
and with ``app.db.FairQueuePool``, when more clients than connections each hold one over a
stretch of CPU-bound work (as a match's scoring does inside a request).

``--clients`` tasks each check out a connection ``--rounds`` times on one PostgreSQL engine
(``--pool-size`` + as many overflow, the application's shape), run ``SELECT 1``, busy the CPU
for ``--work-ms``, run ``SELECT 1`` again and return it. Both pools in turn, twice; prints the
wait p50/p99/max and the checkouts that hit the pool's timeout.

    .venv/bin/python bench/pool.py
    .venv/bin/python bench/pool.py --clients 32 --pool-size 10 --work-ms 10
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import exc, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, Pool

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.db import FairQueuePool

URL = os.environ.get(
    "ASSETLINK_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


async def trial(pool: type[Pool], args: argparse.Namespace) -> str:
    engine = create_async_engine(
        URL.replace("postgresql://", "postgresql+asyncpg://", 1),
        poolclass=pool,
        pool_size=args.pool_size,
        max_overflow=args.pool_size,
        pool_timeout=args.timeout,
    )
    waits: list[float] = []
    timeouts = 0

    async def client() -> None:
        nonlocal timeouts
        for _ in range(args.rounds):
            started = time.perf_counter()
            try:
                async with engine.connect() as connection:
                    waits.append(time.perf_counter() - started)
                    await connection.execute(text("SELECT 1"))
                    busy_until = time.perf_counter() + args.work_ms / 1000
                    while time.perf_counter() < busy_until:
                        pass
                    await connection.execute(text("SELECT 1"))
            except exc.TimeoutError:
                timeouts += 1

    started = time.perf_counter()
    try:
        await asyncio.gather(*(client() for _ in range(args.clients)))
    finally:
        await engine.dispose()
    elapsed = time.perf_counter() - started
    waits.sort()
    n = len(waits)
    return (
        f"| {pool.__name__} | {n} | {n / elapsed:.0f} | {waits[n // 2] * 1000:.0f} "
        f"| {waits[min(n - 1, int(n * 0.99))] * 1000:.0f} | {waits[-1] * 1000:.0f} | {timeouts} |"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--pool-size", type=int, default=5, help="and as many overflow")
    parser.add_argument("--work-ms", type=float, default=8.0, help="CPU per checkout")
    parser.add_argument("--rounds", type=int, default=60, help="checkouts per client")
    parser.add_argument("--timeout", type=float, default=5.0, help="the pool's timeout, s")
    args = parser.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.2f}, {args}")
    print("| pool | checkouts | per second | wait p50 ms | p99 ms | max ms | timeouts |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for pool in (AsyncAdaptedQueuePool, FairQueuePool) * 2:
        print(asyncio.run(trial(pool, args)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
