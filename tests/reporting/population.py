"""A seeded population for the report tests, and plain-Python figures computed from its rows.

The population: seed-demo's directory and referrals (app/demo), then bookings and outcome
records added here (outcome records scored and stored by the outcomes domain's own scorer and
repository). ``Facts`` reads the raw rows back and computes every figure without SQL
aggregation, to check the reports against.

Seeding is most of a report test's cost, so a module seeds once: ``seeded_connection`` holds
the population in a transaction rolled back when the module ends, and the module's
``connection`` (imported from here) puts each test in a SAVEPOINT of its own inside it, rolled
back after the test, so the tests stay independent of each other and of their order.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from app.areas.models import LsoaDeprivation, Postcode
from app.bookings.models import Booking
from app.demo.seed import DemoOptions, seed_directory, seed_referrals
from app.directory.models import Activity, ActivityCategoryLink
from app.outcomes import instruments
from app.outcomes import repository as outcomes_repository
from app.outcomes import service as outcomes_service
from app.outcomes.models import OutcomeRecord, OutcomeScore
from app.referrals import lifecycle
from app.referrals.models import Patient, Referral, ReferralNeed, Task
from app.reporting import summary

AS_OF = dt.date(2026, 6, 30)
FROM = dt.date(2025, 7, 1)
BOOKING_STATUSES = ("booked", "attended", "did-not-attend", "cancelled", "attended")
TAKEN_ON = ("accepted", "in-progress", "on-hold", "completed", "failed")


def _answers(rng: random.Random, code: str, shift: int = 0) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for item in instruments.INSTRUMENTS[code].items:
        values = list(item.values)
        k = min(max(rng.randrange(len(values)) + shift, 0), len(values) - 1)
        answers[item.id] = values[k]
    return answers


async def _record(
    session: AsyncSession,
    referral: Referral,
    code: str,
    timepoint: str,
    at: dt.datetime,
    answers: dict[str, Any],
) -> None:
    scored = instruments.score(code, answers)
    record = OutcomeRecord(
        id=uuid.uuid4(),
        referral_id=referral.id,
        patient_id=referral.patient_id,
        instrument=code,
        timepoint=timepoint,
        collected_at=at,
        mode="assisted",
        answers=dict(scored.answers),
        source="json",
        recorded_by="test",
    )
    await outcomes_repository.add_record(
        session, record, outcomes_service.score_rows(record, scored)
    )


async def seed(session: AsyncSession, referrals: int = 240, seed_value: int = 5) -> None:
    await seed_directory(session, DemoOptions(activities=40, seed=seed_value))
    await seed_referrals(
        session,
        DemoOptions(activities=0, referrals=referrals, seed=seed_value, as_of=AS_OF, history=False),
    )
    rng = random.Random(seed_value)
    categorised = sorted(
        (
            await session.scalars(
                select(ActivityCategoryLink.activity_id).where(
                    ActivityCategoryLink.code.is_not(None)
                )
            )
        ).unique()
    )
    activities = sorted(await session.scalars(select(Activity.id)))
    pairs = (
        await session.execute(
            select(Referral, Task.status).join(Task, Task.referral_id == Referral.id)
        )
    ).all()
    for k, (referral, status) in enumerate(sorted(pairs, key=lambda p: str(p[0].id))):
        if status not in TAKEN_ON:
            continue
        if k % 3 != 2:
            for j in range(1 + (k % 5 == 0)):
                pool = categorised if j == 0 else activities
                session.add(
                    Booking(
                        referral_id=referral.id,
                        activity_id=pool[(k * 7 + j) % len(pool)],
                        patient_id=referral.patient_id,
                        status=BOOKING_STATUSES[(k + j) % len(BOOKING_STATUSES)],
                        booked_by="test",
                    )
                )
        start = referral.authored_on + dt.timedelta(days=3 + k % 11)
        for code in ("SWEMWBS", "ONS4", "WEMWBS", "UCLA3"):
            if code != "SWEMWBS" and rng.random() < 0.4:
                continue
            await _record(session, referral, code, "baseline", start, _answers(rng, code))
            if rng.random() < 0.8:
                timepoint = "exit" if rng.random() < 0.3 else "follow-up"
                later = start + dt.timedelta(days=60 + k % 40)
                shift = rng.choice((-1, 0, 1, 2))
                await _record(session, referral, code, timepoint, later, _answers(rng, code, shift))
                if rng.random() < 0.2:  # a second baseline, later: the earliest one counts
                    await _record(session, referral, code, "baseline", later, _answers(rng, code))
    await session.flush()


# One seeded population per test module ---------------------------------------------------------


def _sessionmaker(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(
        bind=connection,
        expire_on_commit=False,
        autoflush=False,
        join_transaction_mode="create_savepoint",
    )


@pytest.fixture(scope="module")
async def seeded_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection whose open transaction holds the seeded population and its summary rows
    (refreshed as a report request refreshes them), rolled back at the end of the module."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        maker = _sessionmaker(connection)
        async with maker() as session:
            await seed(session)
            await session.commit()  # releases the session's savepoint: the rows stay
        await summary.refresh(maker)
        yield connection
        if transaction.is_active:
            await transaction.rollback()


@pytest.fixture
async def connection(seeded_connection: AsyncConnection) -> AsyncIterator[AsyncConnection]:
    """The test's transaction: a SAVEPOINT in the seeded one, rolled back after the test."""
    savepoint = await seeded_connection.begin_nested()
    yield seeded_connection
    if savepoint.is_active:
        await savepoint.rollback()


@pytest.fixture(scope="module")
async def facts_of_the_year(seeded_connection: AsyncConnection) -> Facts:
    """``facts`` over the report window ``FROM``-``AS_OF``, computed once per module."""
    async with _sessionmaker(seeded_connection)() as session:
        return await facts(session, FROM, AS_OF)


# Plain-Python figures -------------------------------------------------------------------------

ALL = "all"


def sort_key(label: str) -> tuple[int, int, str]:
    rank = 3 if label == ALL else 2 if label in ("unknown", "none") else 1
    return (rank, int(label) if label.isdigit() else 0, label)


def age_band(age: int) -> str:
    for high, label in ((17, "0-17"), (24, "18-24"), (34, "25-34"), (44, "35-44")):
        if age <= high:
            return label
    for high, label in ((54, "45-54"), (64, "55-64"), (74, "65-74")):
        if age <= high:
            return label
    return "75+"


@dataclass
class Person:
    referral: Referral
    labels: dict[str, list[str]]
    flags: dict[str, bool]
    days: float | None
    # (instrument, measure) -> (baseline, follow-up, reliably improved or None)
    changes: dict[tuple[str, str], tuple[float, float, bool | None]] = field(default_factory=dict)


@dataclass
class Facts:
    people: list[Person]
    patients: list[Patient]
    referrals: list[Referral]
    tasks: list[Task]

    def keys(self, person: Person, dims: Sequence[str]) -> list[tuple[str, ...]]:
        return list(itertools.product(*(person.labels[d] for d in dims)))


def _age(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


async def facts(session: AsyncSession, start: dt.date, end: dt.date) -> Facts:
    patients = {p.id: p for p in await session.scalars(select(Patient))}
    referrals = list(await session.scalars(select(Referral)))
    tasks = {t.referral_id: t for t in await session.scalars(select(Task))}
    needs: dict[uuid.UUID, list[str]] = defaultdict(list)
    for n in await session.scalars(select(ReferralNeed)):
        needs[n.referral_id].append(n.need)
    bookings: dict[uuid.UUID, list[Booking]] = defaultdict(list)
    for b in await session.scalars(select(Booking)):
        bookings[b.referral_id].append(b)
    categories: dict[str, set[str]] = defaultdict(set)
    for c in await session.scalars(select(ActivityCategoryLink)):
        if c.code is not None:
            categories[c.activity_id].add(c.code)
    lsoa = {p.postcode: p.lsoa_code for p in await session.scalars(select(Postcode))}
    decile = {d.lsoa_code: d.imd_decile for d in await session.scalars(select(LsoaDeprivation))}
    scores: dict[uuid.UUID, list[OutcomeScore]] = defaultdict(list)
    for s in await session.scalars(select(OutcomeScore)):
        scores[s.referral_id].append(s)
    records = {r.id: r for r in await session.scalars(select(OutcomeRecord))}

    people = []
    low = dt.datetime.combine(start, dt.time(), dt.UTC)
    high = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), dt.UTC)
    for r in referrals:
        if not low <= r.authored_on < high:
            continue
        p = patients[r.patient_id]
        t = tasks[r.id]
        at = r.authored_on.astimezone(dt.UTC)
        d = decile.get(lsoa.get(p.postcode) or "")
        live = [b for b in bookings[r.id] if b.status != "cancelled"]
        cats = sorted({c for b in live for c in categories[b.activity_id]})
        labels = {
            "month": [at.strftime("%Y-%m")],
            "quarter": [f"{at.year}-Q{(at.month + 2) // 3}"],
            "practice": [r.requester_ods],
            "performer": [r.performer_ods],
            "need": sorted(needs[r.id]) or ["none"],
            "activity_category": cats or ["none"],
            "imd_decile": [str(d) if d is not None else "unknown"],
            "imd_quintile": [str((d + 1) // 2) if d is not None else "unknown"],
            "age_band": [age_band(_age(p.birth_date, at.date()))],
            "sex": [p.gender or "unknown"],
        }
        flags = {
            "received": True,
            "accepted": t.status in TAKEN_ON,
            "rejected": t.status == "rejected",
            "declined": lifecycle.is_declined(t.status, t.status_reason),
            "booked": bool(live),
            "attended": any(b.status == "attended" for b in bookings[r.id]),
            "completed": t.status == "completed",
        }
        flags["engaged"] = t.first_contact_at is not None or flags["booked"]
        flags["first_contact"] = t.first_contact_at is not None
        days = (
            (t.first_contact_at - r.authored_on).total_seconds() / 86400
            if t.first_contact_at is not None
            else None
        )
        person = Person(r, labels, flags, days)
        for code, spec in instruments.INSTRUMENTS.items():
            mine = sorted(
                (s for s in scores[r.id] if s.instrument == code),
                key=lambda s: (s.collected_at, str(s.id)),
            )
            for key in spec.change_measures:
                of = [s for s in mine if s.measure == key and s.value is not None]
                base = [s for s in of if s.timepoint == "baseline"]
                if not base:
                    continue
                after = [
                    s
                    for s in of
                    if s.timepoint in ("follow-up", "exit")
                    and s.collected_at >= base[0].collected_at
                ]
                if not after:
                    continue
                first, last = base[0], after[-1]
                change = instruments.change(
                    instruments.score(code, records[first.record_id].answers),
                    instruments.score(code, records[last.record_id].answers),
                )
                measured = next(m for m in change.measures if m.key == key)
                assert (measured.baseline, measured.follow_up) == (first.value, last.value)
                person.changes[(code, key)] = (
                    measured.baseline,
                    measured.follow_up,
                    measured.reliable_improvement,
                )
        people.append(person)
    return Facts(people, list(patients.values()), referrals, list(tasks.values()))


def rollups(key: tuple[str, ...]) -> Iterable[tuple[str, ...]]:
    if len(key) == 0:
        return [()]
    if len(key) == 1:
        return [key, (ALL,)]
    return [key, (key[0], ALL), (ALL, key[1]), (ALL, ALL)]
