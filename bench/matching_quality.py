"""Benchmark: are the first five matches the ones a link worker would choose? (issue 19)

Runs the labelled personas of ``bench/matching_quality/`` (``personas.py``, over the directory
of ``directory.py``) through intake and the matching service on a fixed run date, and prints
per persona and overall nDCG@5, ideal recall@5 and violations (a ``never`` in the first five)
for the service's ranking and three reference rankers on the same eligible set (random, seeded;
distance only; need fit then distance). The definitions are in ``bench/matching_quality/run.py``.
Exits 1 when a label breaks the checker (an unknown activity, an ``ideal`` that breaks a hard
rule on the run date).

    .venv/bin/python bench/matching_quality.py [--date 2026-12-07]
        [--personas id,id] [--postgres] [--verbose]

SQLite (a temporary file) by default; ``--postgres`` uses a fresh database
``assetlink_bench_quality`` at ``ASSETLINK_BENCH_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``), created and dropped here.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
import tempfile
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout, for `bench.`

from bench.matching_quality import run
from bench.matching_quality.personas import PERSONAS

ADMIN_URL = os.environ.get(
    "ASSETLINK_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
DATABASE = "assetlink_bench_quality"


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(ADMIN_URL, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _main(args: argparse.Namespace) -> int:
    today = dt.date.fromisoformat(args.date)
    wanted = set(args.personas.split(",")) if args.personas else None
    personas = [p for p in PERSONAS if wanted is None or p.id in wanted]
    if wanted and len(personas) != len(wanted):
        print(f"unknown personas: {sorted(wanted - {p.id for p in personas})}", file=sys.stderr)
        return 2
    if args.postgres:
        await _admin(f"DROP DATABASE IF EXISTS {DATABASE}")
        await _admin(f"CREATE DATABASE {DATABASE}")
        base = ADMIN_URL.rsplit("/", 1)[0]
        try:
            report = await run.run(f"{base}/{DATABASE}", personas, today)
        finally:
            await _admin(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    else:
        with tempfile.TemporaryDirectory(prefix="assetlink-quality-") as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'quality.db'}"
            report = await run.run(url, personas, today)
    print(run.render(report, verbose=args.verbose))
    return 1 if report.problems else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--date", default=run.RUN_DATE.isoformat(), help="the run date")
    parser.add_argument("--personas", help="comma-separated persona ids (default: all)")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--verbose", action="store_true", help="print each first five")
    sys.exit(asyncio.run(_main(parser.parse_args())))


if __name__ == "__main__":
    main()
