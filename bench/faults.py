"""PostgreSQL stopped hard under a running server (issue 17): how every referral POST ends.

The issue's scenario at a larger size than the test (tests/test_database_faults.py): a cluster
of its own (``tests/cluster.py``: ``initdb`` + ``pg_ctl``), migrated, ``assetlink``'s app under
uvicorn in a subprocess, ``--clients`` clients posting distinct referrals; after ``--before``
seconds ``pg_ctl stop -m immediate``, ``--down`` seconds later ``pg_ctl start``, then
``--after`` seconds more. It prints the answers by status and phase and checks that there is no
500, that every 503 has ``Retry-After``, and that every referral answered 201 is stored with
its Task. Exit status 1 when a check fails.

    .venv/bin/python bench/faults.py
    .venv/bin/python bench/faults.py --clients 16 --workers 2 --down 5
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import asyncpg
import httpx

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

import intake  # noqa: E402 (bench/intake.py: payloads, token, the server subprocess)

from tests.cluster import own_cluster  # noqa: E402


async def _load(
    port: int, args: argparse.Namespace, stop: Callable[[], None], start: Callable[[], None]
) -> dict[str, Any]:
    bodies = iter(intake.referral_bodies(20_000, seed=int(time.time())))
    headers = {
        "Authorization": f"Bearer {intake.referrer_token()}",
        "Content-Type": "application/fhir+json",
    }
    phase = "up"
    answers: Counter[tuple[str, int]] = Counter()
    created: list[str] = []
    no_retry_after = 0
    done = False

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal no_retry_after
        while not done:
            sent_in = phase
            try:
                answer = await http.post("/fhir/ServiceRequest", content=next(bodies))
            except httpx.HTTPError:
                answers[(sent_in, 0)] += 1
                continue
            answers[(sent_in, answer.status_code)] += 1
            if answer.status_code == 201:
                created.append(answer.json()["id"])
            elif answer.status_code == 503:
                no_retry_after += "Retry-After" not in answer.headers
                await asyncio.sleep(0.05)

    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30
    ) as http:
        tasks = [asyncio.create_task(client(http)) for _ in range(args.clients)]
        await asyncio.sleep(args.before)
        phase = "down"
        await asyncio.to_thread(stop)
        await asyncio.sleep(args.down)
        ready = (await http.get("/readyz")).status_code
        live = (await http.get("/livez")).status_code
        await asyncio.to_thread(start)
        phase = "back"
        await asyncio.sleep(args.after)
        done = True
        await asyncio.gather(*tasks)
    return {
        "answers": answers,
        "created": created,
        "no_retry_after": no_retry_after,
        "down": (ready, live),
    }


async def _create_database(cluster_url: str) -> None:
    connection = await asyncpg.connect(cluster_url)
    try:
        await connection.execute("CREATE DATABASE assetlink")
    finally:
        await connection.close()


async def _stored(url: str, created: list[str]) -> int:
    connection = await asyncpg.connect(url)
    try:
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM referral r JOIN task t ON t.referral_id = r.id "
                "WHERE r.id = ANY($1::text[]::uuid[])",
                created,
            )
        )
    finally:
        await connection.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--before", type=float, default=3.0)
    parser.add_argument("--down", type=float, default=3.0)
    parser.add_argument("--after", type=float, default=5.0)
    args = parser.parse_args(argv)
    with own_cluster() as cluster:
        asyncio.run(_create_database(cluster.url))
        url = cluster.url.rpartition("/")[0] + "/assetlink"
        env = intake.server_env(url)
        env["ASSETLINK_DATABASE_TIMEOUT_S"] = "2"
        intake.migrate(env)
        app = ["app.main:create_app", "--factory"]
        with intake.uvicorn_server(app, env, args.workers) as (port, _):
            result = asyncio.run(
                _load(port, args, lambda: cluster.stop("immediate"), cluster.start)
            )
        stored = asyncio.run(_stored(url, result["created"]))
    for (phase, status), count in sorted(result["answers"].items()):
        print(f"{phase:5} {status}: {count}")
    print(f"while down: /readyz {result['down'][0]}, /livez {result['down'][1]}")
    print(f"201s stored with their Task: {stored} of {len(result['created'])}")
    failures = [
        f"{count} x {status}"
        for (_, status), count in result["answers"].items()
        if status not in (201, 503)
    ]
    if result["no_retry_after"]:
        failures.append(f"{result['no_retry_after']} 503s without Retry-After")
    if result["down"] != (503, 200):
        failures.append(f"while down /readyz, /livez answered {result['down']}")
    if stored != len(result["created"]):
        failures.append("a referral answered 201 is not stored")
    if not any(phase == "back" and s == 201 for phase, s in result["answers"]):
        failures.append("nothing was created once the database was back")
    print("FAIL: " + "; ".join(failures) if failures else "OK")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
