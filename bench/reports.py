"""Benchmark: the commissioner reports at 1 000 000 referrals and 3 000 000 outcome records.

Creates a fresh PostgreSQL database (``assetlink_bench_reports`` at
``ASSETLINK_BENCH_POSTGRES_URL``, default ``postgresql://postgres@127.0.0.1:5432/postgres``;
dropped at the end), migrates it, loads the demo directory and the Hackney area fixture
(``seed-demo --activities 300``), then bulk-loads the rows the reports read with
``INSERT ... SELECT generate_series`` in SQL (no request per row, no FHIR history): patients,
referrals (spread evenly over the four years up to today), their needs, Tasks (status mix of a
real caseload, first contact for the people reached, declines coded as such), bookings, and
outcome records with their scores (SWEMWBS, ONS4, WEMWBS, UCLA3 at baseline and follow-up).
The database triggers queue every loaded referral for the reports' summary tables; the
benchmark then runs the refresh (``assetlink refresh-reports``) and times it on its own.
It then times every report through the application (in-process, httpx ASGITransport: auth,
validation, SQL, disclosure control, JSON) with each single ``group_by`` and a set of pairs,
over the default window (the last 12 months) and over the whole four years.

    .venv/bin/python bench/reports.py                     # 1 000 000 referrals
    .venv/bin/python bench/reports.py --referrals 100000  # a quicker run
"""

# ruff: noqa: S608 (the statements are built from integers of the command line)
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import time
from typing import Any

import asyncpg
import httpx

from app import migrations
from app.auth.principal import Role
from app.auth.tokens import mint_hs256
from app.config import Settings
from app.db import create_engine, create_sessionmaker
from app.demo.seed import DemoOptions, seed_demo
from app.main import create_app
from app.reporting import summary

ADMIN_URL = os.environ.get(
    "ASSETLINK_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
DATABASE = "assetlink_bench_reports"
REPORTS = ("referrals", "outcomes", "equity")
SECRET = "assetlink-bench-secret-0123456789abcdef"  # noqa: S105 (a throwaway HS256 key)
YEARS = 4
SINGLE = (
    "month",
    "quarter",
    "practice",
    "performer",
    "need",
    "activity_category",
    "imd_quintile",
    "imd_decile",
    "age_band",
    "sex",
)
PAIRS = (
    ("month", "imd_quintile"),
    ("practice", "sex"),
    ("need", "age_band"),
    ("activity_category", "imd_decile"),
    ("quarter", "performer"),
)


def load_statements(referrals: int, people: int) -> list[tuple[str, str]]:
    """(what, SQL) in order; every row derived from the generate_series index ``i``."""
    span = YEARS * 365
    return [
        (
            "patients",
            f"""
            INSERT INTO patient (id, version_id, nhs_number, birth_date, gender, postcode,
                                 resource, created_at, updated_at)
            SELECT md5('p' || i)::uuid, 1, '9' || lpad(i::text, 9, '0'),
                   date '1930-01-01' + ((i::bigint * 7919) % 27000)::int,
                   CASE WHEN i % 100 < 58 THEN 'female' WHEN i % 100 < 99 THEN 'male'
                        ELSE 'other' END,
                   CASE WHEN i % 40 = 0 THEN 'ZZ9 9ZZ'
                        ELSE pc.codes[1 + (i * 31) % array_length(pc.codes, 1)] END,
                   '{{}}'::json, now(), now()
            FROM generate_series(0, {people - 1}) AS i,
                 (SELECT array_agg(postcode ORDER BY postcode) AS codes FROM postcode) pc
            """,
        ),
        (
            "referrals",
            f"""
            INSERT INTO referral (id, version_id, status, intent, patient_id, requester_ods,
                                  performer_ods, authored_on, preferences, resource,
                                  created_at, updated_at)
            SELECT md5('r' || i)::uuid, 1, 'active', 'order', md5('p' || (i % {people}))::uuid,
                   'P' || lpad((i % 250)::text, 5, '0'), 'Y0' || (2710 + i % 8),
                   now() - make_interval(secs => {span} * 86400.0 * i / {referrals}),
                   '{{}}'::json, '{{}}'::json, now(), now()
            FROM generate_series(0, {referrals - 1}) AS i
            """,
        ),
        (
            "needs",
            f"""
            INSERT INTO referral_need (referral_id, need)
            SELECT md5('r' || i)::uuid, n.needs[1 + (i * 13 + k) % array_length(n.needs, 1)]
            FROM generate_series(0, {referrals - 1}) AS i,
                 generate_series(0, 1) AS k,
                 (SELECT ARRAY['loneliness', 'anxiety-stress', 'low-mood', 'physical-activity',
                               'financial', 'housing', 'carer-support', 'bereavement'] AS needs) n
            WHERE k = 0 OR i % 10 < 3
            """,
        ),
        (
            "tasks",
            f"""
            INSERT INTO task (id, version_id, referral_id, patient_id, status, status_reason,
                              business_status, requester_ods, owner_ods, authored_on, output,
                              first_contact_at, created_at, updated_at)
            SELECT md5('t' || r.i)::uuid, 1, md5('r' || r.i)::uuid,
                   md5('p' || (r.i % {people}))::uuid, s.status,
                   CASE WHEN s.status = 'cancelled' AND r.i % 3 > 0 THEN
                        '{{"coding": [{{"system": "http://snomed.info/sct",
                           "code": "871711000000103"}}], "text": "declined"}}'::json
                        WHEN s.status IN ('cancelled', 'rejected') THEN
                        '{{"text": "closed"}}'::json END,
                   CASE WHEN s.reached THEN 'first-contact' END,
                   'P' || lpad((r.i % 250)::text, 5, '0'), 'Y0' || (2710 + r.i % 8),
                   now() - make_interval(secs => {span} * 86400.0 * r.i / {referrals}),
                   '[]'::json,
                   CASE WHEN s.reached THEN now() - make_interval(
                        secs => {span} * 86400.0 * r.i / {referrals} - 3600 * (12 + r.i % 700))
                   END,
                   now(), now()
            FROM generate_series(0, {referrals - 1}) AS r(i),
            LATERAL (SELECT CASE WHEN r.i % 20 = 0 THEN 'requested'
                                 WHEN r.i % 20 = 1 THEN 'rejected'
                                 WHEN r.i % 20 IN (2, 3) THEN 'cancelled'
                                 WHEN r.i % 20 < 8 THEN 'in-progress'
                                 WHEN r.i % 20 < 9 THEN 'accepted'
                                 ELSE 'completed' END AS status,
                            r.i % 20 >= 3 AS reached) s
            """,
        ),
        (
            "bookings",
            f"""
            INSERT INTO booking (id, referral_id, activity_id, patient_id, status, booked_by,
                                 created_at, updated_at)
            SELECT md5('b' || i)::uuid, md5('r' || i)::uuid,
                   a.ids[1 + (i * 17) % array_length(a.ids, 1)],
                   md5('p' || (i % {people}))::uuid,
                   (ARRAY['booked', 'attended', 'attended', 'did-not-attend', 'cancelled'])
                       [1 + i % 5],
                   'bench', now(), now()
            FROM generate_series(0, {referrals - 1}) AS i,
                 (SELECT array_agg(id ORDER BY id) AS ids FROM activity) a
            WHERE i % 20 >= 4 AND i % 5 < 3
            """,
        ),
        (
            "outcome records",
            f"""
            INSERT INTO outcome_record (id, referral_id, patient_id, instrument, timepoint,
                                        collected_at, mode, answers, source, recorded_at,
                                        recorded_by)
            SELECT md5('o' || i || '-' || k)::uuid, md5('r' || i)::uuid,
                   md5('p' || (i % {people}))::uuid, p.instrument, p.timepoint,
                   now() - make_interval(secs => {span} * 86400.0 * i / {referrals})
                       + make_interval(days => p.offset_days),
                   'assisted', '{{}}'::json, 'json', now(), 'bench'
            FROM generate_series(0, {referrals - 1}) AS i,
                 (VALUES (0, 'SWEMWBS', 'baseline', 2), (1, 'SWEMWBS', 'follow-up', 90),
                         (2, 'ONS4', 'baseline', 2), (3, 'ONS4', 'follow-up', 90),
                         (4, 'UCLA3', 'baseline', 2)) AS p(k, instrument, timepoint, offset_days)
            WHERE i % 20 BETWEEN 3 AND 14
            """,
        ),
        (
            "outcome scores",
            """
            INSERT INTO outcome_score (id, record_id, referral_id, instrument, measure,
                                       timepoint, collected_at, value)
            SELECT md5(o.id::text || m.measure)::uuid, o.id, o.referral_id, o.instrument,
                   m.measure, o.timepoint, o.collected_at,
                   m.low + ((('x' || substr(md5(o.id::text || m.measure), 1, 8))::bit(32)::int
                             & 2147483647) % (m.high - m.low + 1))
                       + CASE WHEN o.timepoint = 'follow-up' THEN m.lift ELSE 0 END
            FROM outcome_record o
            JOIN (VALUES ('SWEMWBS', 'metric', 7, 28, 2), ('SWEMWBS', 'total', 7, 30, 2),
                         ('ONS4', 'life_satisfaction', 0, 9, 1), ('ONS4', 'worthwhile', 0, 9, 1),
                         ('ONS4', 'happy', 0, 9, 1), ('ONS4', 'anxious', 0, 10, 0),
                         ('UCLA3', 'total', 3, 9, 0)) AS m(instrument, measure, low, high, lift)
              ON m.instrument = o.instrument
            """,
        ),
    ]


async def load(url: str, referrals: int, records: int) -> dict[str, float]:
    people = max(1, referrals * 9 // 10)
    settings = Settings(database_url=url, jwt_secret=SECRET, log_level="WARNING")
    engine = create_engine(settings, pooled=False)
    await seed_demo(create_sessionmaker(engine), DemoOptions(activities=300, seed=1))
    await engine.dispose()
    timings: dict[str, float] = {}
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        for what, statement in load_statements(referrals, people):
            started = time.perf_counter()
            status = await connection.execute(statement)
            timings[what] = time.perf_counter() - started
            print(f"loaded {what}: {status} in {timings[what]:.1f} s", flush=True)
        started = time.perf_counter()
        await connection.execute("VACUUM ANALYZE")
        timings["vacuum analyze"] = time.perf_counter() - started
        count = await connection.fetchval("SELECT count(*) FROM outcome_record")
        print(f"outcome records: {count} (asked for about {records})", flush=True)
        queued = await connection.fetchval("SELECT count(*) FROM report_dirty")
        print(f"queued by the triggers for the report summaries: {queued} rows", flush=True)
    finally:
        await connection.close()
    return timings


async def refresh_summaries(url: str) -> float:
    """``assetlink refresh-reports``: the summary rows of every referral the load queued."""
    settings = Settings(database_url=url, jwt_secret=SECRET, log_level="WARNING")
    engine = create_engine(settings, pooled=False)
    try:
        started = time.perf_counter()
        refreshed = await summary.refresh(create_sessionmaker(engine))
        took = time.perf_counter() - started
    finally:
        await engine.dispose()
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await connection.execute("VACUUM ANALYZE report_referral, report_category, report_change")
        changes = await connection.fetchval("SELECT count(*) FROM report_change")
    finally:
        await connection.close()
    print(
        f"refreshed the report summaries of {refreshed.referrals} referrals "
        f"({changes} outcome changes) in {took:.1f} s",
        flush=True,
    )
    return took


async def measure(
    url: str, repeats: int, reports: list[str], only: list[str]
) -> list[dict[str, Any]]:
    settings = Settings(database_url=url, jwt_secret=SECRET, log_level="WARNING")
    app = create_app(settings)
    token = mint_hs256(settings, role=Role.COMMISSIONER, org="15N", sub="bench")
    headers = {"Authorization": f"Bearer {token}"}
    today = dt.datetime.now(dt.UTC).date()
    windows = {
        "12 months": {},
        f"{YEARS} years": {"from": (today - dt.timedelta(days=YEARS * 365 + 1)).isoformat()},
    }
    rows = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=300
    ) as client:
        for report in reports:
            groupings: list[tuple[str, ...]] = [(d,) for d in SINGLE] + list(PAIRS)
            if report == "equity":
                groupings = [()] + [(d,) for d in SINGLE if d != "imd_quintile"]
            for window, extra in windows.items():
                if only and window not in only:
                    continue
                for dims in groupings:
                    params = [*extra.items(), *(("group_by", d) for d in dims)]
                    times = []
                    for _ in range(repeats):
                        t0 = time.perf_counter()
                        response = await client.get(
                            f"/api/v1/reports/{report}", params=params, headers=headers
                        )
                        times.append(time.perf_counter() - t0)
                        assert response.status_code == 200, response.text
                    row = {
                        "report": report,
                        "window": window,
                        "group_by": "+".join(dims) or "(none)",
                        "median_s": statistics.median(times),
                        "max_s": max(times),
                        "rows": len(response.json()["rows"]),
                    }
                    rows.append(row)
                    print(
                        f"{report:9} {window:9} {row['group_by']:30} "
                        f"median {row['median_s']:.3f} s  max {row['max_s']:.3f} s  "
                        f"({row['rows']} rows)",
                        flush=True,
                    )
    await app.state.engine.dispose()
    return rows


async def _admin(*statements: str) -> None:
    connection = await asyncpg.connect(ADMIN_URL, timeout=5)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--referrals", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="time an existing database")
    parser.add_argument(
        "--report",
        action="append",
        choices=REPORTS,
        help="time only this report (repeatable; default: all three)",
    )
    parser.add_argument(
        "--window",
        action="append",
        choices=("12 months", f"{YEARS} years"),
        help="time only this window (repeatable; default: both)",
    )
    args = parser.parse_args()
    url = ADMIN_URL.rpartition("/")[0] + f"/{DATABASE}"
    if not args.reuse:
        await _admin(
            f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)', f'CREATE DATABASE "{DATABASE}"'
        )
    try:
        await asyncio.to_thread(migrations.upgrade, url)  # a kept database: to the head too
        if not args.reuse:
            started = time.perf_counter()
            await load(url, args.referrals, args.referrals * 3)
            print(f"loaded in {time.perf_counter() - started:.0f} s", flush=True)
        await refresh_summaries(url)  # with --reuse: whatever is still queued
        rows = await measure(url, args.repeats, args.report or list(REPORTS), args.window or [])
    finally:
        if not args.keep:
            await _admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    print("\n| report | window | group_by | median s | max s | rows |")
    print("|---|---|---|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['report']} | {r['window']} | {r['group_by']} | {r['median_s']:.3f} | "
            f"{r['max_s']:.3f} | {r['rows']} |"
        )


if __name__ == "__main__":
    asyncio.run(main())
