"""The demo's bookings and outcomes (app/demo/history.py) against the Task walks and the rules
of the service they pretend to have gone through, and the reports they give."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter, defaultdict
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Role
from app.bookings.models import Booking
from app.config import Settings
from app.demo import history
from app.demo.seed import (
    DemoOptions,
    planned_referrals,
    seed_directory,
    seed_referrals,
    seed_routing,
)
from app.matching import engine
from app.matching import repository as matching_repository
from app.matching import service as matching_service
from app.outcomes import instruments
from app.outcomes.models import OutcomeRecord, OutcomeScore
from app.referrals import lifecycle
from app.referrals import service as referrals_service
from app.referrals.fhir import STAGE_SYSTEM
from app.referrals.models import Patient, Referral, ResourceVersion, Task
from app.terminology.suitability import need_category_suitability
from tests.conftest import TokenFactory

AS_OF = dt.date(2026, 11, 1)
END = dt.datetime.combine(AS_OF, dt.time(), dt.UTC)
OPTIONS = DemoOptions(activities=300, referrals=250, seed=11, as_of=AS_OF)


async def seeded(session: AsyncSession, options: DemoOptions = OPTIONS) -> None:
    await seed_directory(session, options)
    await seed_routing(session, options)
    await seed_referrals(session, options)
    await session.flush()


async def task_steps(session: AsyncSession) -> dict[uuid.UUID, list[tuple[dt.datetime, str, str]]]:
    """Per referral, its Task's versions in order: (time, status, stage)."""
    tasks = {t.id: t.referral_id for t in await session.scalars(select(Task))}
    steps: dict[uuid.UUID, list[tuple[dt.datetime, str, str]]] = defaultdict(list)
    versions = await session.scalars(
        select(ResourceVersion)
        .where(ResourceVersion.resource_type == "Task")
        .order_by(ResourceVersion.resource_id, ResourceVersion.version_id)
    )
    for v in versions:
        codings = v.resource.get("businessStatus", {}).get("coding", [])
        stage = next((c["code"] for c in codings if c["system"] == STAGE_SYSTEM), "")
        steps[tasks[v.resource_id]].append((v.recorded_at, v.resource["status"], stage))
    return steps


def at_stage(steps: list[tuple[dt.datetime, str, str]], stage: str) -> dt.datetime:
    return next(at for at, _, s in steps if s == stage)


async def test_bookings_and_outcomes_follow_the_walks(
    session: AsyncSession, settings: Settings
) -> None:
    await seeded(session)
    await check_bookings(session, settings)
    await check_outcomes(session)


async def check_bookings(session: AsyncSession, settings: Settings) -> None:
    """Booked after acceptance, at the walk's ``activity-booked``; attended at ``attending``;
    cancelled only by the end of the referral; each one the matching service would offer."""
    steps = await task_steps(session)
    tasks = {t.referral_id: t for t in await session.scalars(select(Task))}
    bookings = list(await session.scalars(select(Booking)))
    assert Counter(b.status for b in bookings).keys() == {
        "booked",
        "attended",
        "did-not-attend",
        "cancelled",
    }
    suitability = need_category_suitability()
    directory = {a.id: a for a in await matching_repository.activities(session, None)}
    for booking in bookings:
        walk = steps[booking.referral_id]
        statuses = [status for _, status, _ in walk]
        assert "accepted" in statuses  # every booking's referral was accepted first
        booked_at = at_stage(walk, "activity-booked")
        assert booking.created_at == booked_at
        assert booked_at <= booking.updated_at <= END
        task = tasks[booking.referral_id]
        if booking.status == "attended":
            assert booking.updated_at == at_stage(walk, "attending")
        if booking.status == "did-not-attend":
            assert task.status in ("failed", "in-progress", "on-hold", "completed")
        if booking.status == "cancelled":  # only because the referral ended
            assert booking.cancelled_reason == f"task-{task.status}"
            assert task.status in lifecycle.TERMINAL
        if booking.status == "booked":
            assert task.status in ("in-progress", "on-hold")
        # the service would have offered it: the person as matching sees them, on the day
        referral = await session.get(Referral, booking.referral_id)
        patient = await session.get(Patient, booking.patient_id)
        assert referral is not None
        assert patient is not None
        needs = await referrals_service.needs_of(session, referral)
        person, _ = await matching_service.person_for(
            session, referral, patient, needs, settings, booked_at.date()
        )
        found = engine.match(
            person, [directory[booking.activity_id]], today=AS_OF, suitability=suitability
        )
        assert [m.activity_id for m in found.matches] == [booking.activity_id]
    # completed Tasks list the activities attended and the outcome Observations
    score_ids = {str(i) for i in await session.scalars(select(OutcomeScore.id))}
    attended = {(b.referral_id, b.activity_id) for b in bookings if b.status == "attended"}
    reported = 0
    for task in tasks.values():
        if task.status != "completed":
            continue
        listed = set()
        for output in task.output:
            reference = output["valueReference"]
            if output["type"]["text"] == "Activity attended":
                listed.add((task.referral_id, reference["identifier"]["value"]))
            else:
                kind, score_id = reference["reference"].split("/")
                assert kind == "Observation"
                assert score_id in score_ids
                reported += 1
        assert listed == {a for a in attended if a[0] == task.referral_id}
    assert reported > 0


async def check_outcomes(session: AsyncSession) -> None:
    """Scored as the instruments score; a baseline at first contact, a follow-up 6 to 13 weeks
    later, after the review fell due; SWEMWBS improves about 2 points, more after attending."""
    steps = await task_steps(session)
    tasks = {t.referral_id: t for t in await session.scalars(select(Task))}
    records = list(
        await session.scalars(select(OutcomeRecord).order_by(OutcomeRecord.collected_at))
    )
    scores: dict[uuid.UUID, dict[str, OutcomeScore]] = defaultdict(dict)
    for score in await session.scalars(select(OutcomeScore)):
        scores[score.record_id][score.measure] = score
    assert Counter(r.instrument for r in records).most_common(1)[0][0] == "SWEMWBS"
    assert {r.instrument for r in records} == {"SWEMWBS", "ONS4", "UCLA3"}
    baselines: dict[tuple[uuid.UUID, str], dt.datetime] = {}
    for record in records:
        task = tasks[record.referral_id]
        assert task.first_contact_at is not None
        assert task.first_contact_at <= record.collected_at <= END
        scored = instruments.score(record.instrument, record.answers)
        assert {m.key: m.value for m in scored.measures} == {
            k: s.value for k, s in scores[record.id].items()
        }
        key = (record.referral_id, record.instrument)
        if record.timepoint == "baseline":
            assert key not in baselines
            baselines[key] = record.collected_at
        else:
            assert record.timepoint == "follow-up"
            assert baselines[key] < record.collected_at  # after the baseline
            weeks = (record.collected_at - task.first_contact_at).days / 7
            assert 6 <= weeks <= 13
            due = at_stage(steps[record.referral_id], "follow-up-due")
            assert due < record.collected_at
    follow_ups = [r for r in records if r.timepoint == "follow-up"]
    assert len(follow_ups) > len(records) / 4
    # SWEMWBS improves by about 2 metric points, more for people who attended
    attended = set(
        await session.scalars(select(Booking.referral_id).where(Booking.status == "attended"))
    )
    changes: dict[bool, list[float]] = {True: [], False: []}
    for r in follow_ups:
        if r.instrument == "SWEMWBS":
            base = next(
                b
                for b in records
                if (b.referral_id, b.instrument, b.timepoint)
                == (r.referral_id, r.instrument, "baseline")
            )
            change = scores[r.id]["metric"].value - scores[base.id]["metric"].value  # type: ignore[operator]
            changes[r.referral_id in attended].append(change)
    every = changes[True] + changes[False]
    assert 1.0 < sum(every) / len(every) < 3.0
    mean = {k: sum(v) / len(v) for k, v in changes.items()}
    assert mean[True] > 1.5
    assert mean[True] > mean[False]
    assert min(every) < 0 < max(every)


def test_engagement_falls_with_deprivation() -> None:
    """The illustrative rates move one way across the quintiles (1 = most deprived)."""
    for rates in (history.DID_NOT_ATTEND, history.NOT_CONTACTED, history.DECLINED):
        values = [rates[q] for q in range(1, 6)]
        assert values == sorted(values, reverse=True)
    assert [history.quintile(d) for d in (1, 2, 3, 9, 10, None)] == [1, 1, 2, 5, 5, 3]


async def snapshot(session: AsyncSession) -> list[Any]:
    bookings = await session.execute(
        select(Booking.id, Booking.activity_id, Booking.status, Booking.updated_at).order_by(
            Booking.id
        )
    )
    scores = await session.execute(
        select(OutcomeScore.id, OutcomeScore.measure, OutcomeScore.value).order_by(OutcomeScore.id)
    )
    return [*map(tuple, bookings), *map(tuple, scores)]


async def test_the_history_is_deterministic_and_idempotent(session: AsyncSession) -> None:
    small = DemoOptions(activities=150, referrals=80, seed=12, as_of=AS_OF)
    await seeded(session, small)
    first = await snapshot(session)
    assert len(first) > 100
    assert await seed_referrals(session, small) == "demo referrals already there: 80"
    assert await snapshot(session) == first
    await seed_referrals(session, DemoOptions(activities=150, referrals=30, seed=13, as_of=AS_OF))
    await seed_referrals(session, small)  # removed and written again: the same rows
    await session.flush()
    assert await snapshot(session) == first
    # a new directory: the referrals booked on the old one go with it
    summary = await seed_directory(session, DemoOptions(activities=100, seed=12))
    assert "removed 80 demo referrals" in summary
    assert await session.scalar(select(func.count()).select_from(Booking)) == 0
    assert await session.scalar(select(func.count()).select_from(OutcomeRecord)) == 0


# `make run`'s demo, seeded as on 16 November 2026: planned once, loaded into each database.
MAKE_RUN = DemoOptions(activities=300, referrals=3000, seed=1, as_of=dt.date(2026, 11, 16))
PLANNED: dict[DemoOptions, list[Any]] = {}
# Twelve whole months up to the seeding day's month (that month so far is still thin).
WINDOW = {"from": "2025-11-01", "to": "2026-10-31"}
FUNNEL = ("received", "accepted", "declined", "booked", "attended")
OUTCOME_FIGURES = (
    "people",
    "mean_baseline",
    "mean_follow_up",
    "mean_change",
    "ci_lower",
    "ci_upper",
)


def withheld(rows: list[dict[str, Any]], figures: tuple[str, ...]) -> list[tuple[Any, str]]:
    return [
        (row["group"], name)
        for row in rows
        for name in figures
        if row["figures"][name]["suppressed"] or row["figures"][name]["value"] is None
    ]


async def test_the_make_run_demo_publishes_the_main_figures(
    client: httpx.AsyncClient, session: AsyncSession, auth: TokenFactory, database_url: str
) -> None:
    """What a commissioner sees first: the funnel by month, IMD quintile and activity category,
    the SWEMWBS change overall, by quarter and by sex, and the equity view, with no main figure
    withheld. Completions lag referral by two to three months, so the newest month's handful
    of completions is withheld, with one other month's to protect it (complementary
    suppression): at most two of twelve; so, by category, are the few completions of a
    specialist category (carers' support: matching offers it to carers, few in the demo).

    On SQLite only, the database `make run` loads it into: 3 000 referrals take a while, and the
    reports' figures on PostgreSQL are checked against an independent computation in
    tests/reporting/test_router.py."""
    if not database_url.startswith("sqlite"):
        pytest.skip("make run's database is SQLite")
    await seed_directory(session, MAKE_RUN)
    await seed_routing(session, MAKE_RUN)
    if MAKE_RUN not in PLANNED:
        PLANNED[MAKE_RUN] = await planned_referrals(session, MAKE_RUN)
    await seed_referrals(session, MAKE_RUN, planned=PLANNED[MAKE_RUN])
    await session.flush()
    headers = auth(Role.COMMISSIONER, "Y10001")

    async def rows(report: str, *group_by: str) -> list[dict[str, Any]]:
        params = {**WINDOW, "group_by": ",".join(group_by)} if group_by else WINDOW
        response = await client.get(f"/api/v1/reports/{report}", params=params, headers=headers)
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()["rows"]
        return found

    by_month = await rows("referrals", "month")
    assert len(by_month) == 13
    assert withheld(by_month, FUNNEL) == []
    assert len(withheld(by_month, ("completed",))) <= 2
    counts = (*FUNNEL, "completed")
    by_quintile = await rows("referrals", "imd_quintile")
    assert withheld(by_quintile, counts) == []
    received = [r["figures"]["received"]["value"] for r in by_quintile]
    assert [r["group"]["imd_quintile"] for r in by_quintile] == ["1", "2", "3", "4", "5", "all"]
    assert received[:5] == sorted(received[:5], reverse=True)  # more where more deprived
    assert min(received) >= 200  # every quintile in volume
    by_category = await rows("referrals", "activity_category")
    assert len(by_category) == 21  # every category, none and all
    assert withheld(by_category, ("received", "booked", "attended")) == []
    # a specialist category (carers' support) completes few: withheld, with one other to protect it
    assert len(withheld(by_category, ("completed",))) <= 2
    for grouping in ((), ("quarter",), ("sex",)):
        swemwbs = [r for r in await rows("outcomes", *grouping) if r["instrument"] == "SWEMWBS"]
        assert withheld(swemwbs, OUTCOME_FIGURES) == [], grouping
        assert swemwbs[-1]["figures"]["people"]["value"] >= 500
    equity = await rows("equity")
    assert [r["group"]["imd_quintile"] for r in equity] == [
        "1",
        "2",
        "3",
        "4",
        "5",
        "all",
        "gap_1_minus_5",
    ]
    assert withheld(equity[:-1], tuple(equity[0]["figures"])) == []
    assert withheld(equity[-1:], tuple(equity[-1]["figures"])) == []
    gap = equity[-1]["figures"]
    assert gap["engagement_rate"]["value"] < 0  # the most deprived engage less
    assert gap["completion_rate"]["value"] < 0
