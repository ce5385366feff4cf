"""``assetlink seed-demo``: run the demo generators, each idempotent, in one transaction each.

A generator is an async function ``(session, options) -> str`` (a one-line summary). The
directory's comes first (it also loads the area fixture when no postcodes are loaded), then the
demo practices' routing rules, then the referrals with their bookings and outcomes. Last, the
reports' summary tables are brought up to date, so that the first report is fast.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.areas import importer as areas_importer
from app.areas import repository as areas_repository
from app.areas import service as areas_service
from app.bookings import repository as bookings_repository
from app.db import transaction, utcnow
from app.demo import directory as demo_directory
from app.demo import history as demo_history
from app.demo import referrals as demo_referrals
from app.directory import repository
from app.matching import snapshot
from app.outcomes import repository as outcomes_repository
from app.referrals import repository as referrals_repository
from app.reporting import summary
from app.routing import service as routing_service
from app.terminology.suitability import need_category_suitability


@dataclass(frozen=True)
class DemoOptions:
    activities: int = 300
    seed: int = 1
    area: str = "borough"  # demo_directory.LAYOUTS
    referrals: int = 0
    as_of: dt.date | None = None  # referrals are authored up to this day (default: today)
    history: bool = True  # the referrals' bookings and outcomes (False: the Task walks only)


async def seed_directory(session: AsyncSession, options: DemoOptions) -> str:
    """The demo directory: unchanged when it is already there with the same size and seed."""
    notes = []
    if await areas_repository.count_postcodes(session) == 0:
        await areas_importer.import_areas(
            session,
            postcodes_file=areas_importer.FIXTURE_POSTCODES,
            imd_file=areas_importer.FIXTURE_IMD,
        )
        notes.append("loaded the Hackney area fixture")
    count = options.activities
    present = await repository.count_activities(session, source="demo")
    if count and present == count:
        expected = {
            demo_directory.activity_id(options.seed, i, options.area) for i in (0, count - 1)
        }
        if await repository.existing_activity_ids(session, expected) == expected:
            return "; ".join([*notes, f"demo directory already has {count} activities"])
    if removed := await _remove_referrals(session):  # booked on the directory replaced
        notes.append(f"removed {removed} demo referrals booked on the previous directory")
    await repository.delete_source(session, "demo")
    now = utcnow()
    org_rows = demo_directory.organisations(options.seed, count, now)
    await repository.delete_organisations_without_activities(session, [o["id"] for o in org_rows])
    existing = await repository.existing_organisation_ids(session, [o["id"] for o in org_rows])
    await repository.insert_organisations(session, [o for o in org_rows if o["id"] not in existing])
    places = demo_directory.fixture_places(areas_importer.FIXTURE_POSTCODES)
    for rows in demo_directory.activities(options.seed, count, places, now, layout=options.area):
        await repository.insert_activities(session, rows)
    await repository.analyze(session)
    notes.append(
        f"demo directory: {count} activities of {len(org_rows)} organisations"
        + (f" ({options.area} layout)" if options.area != "borough" else "")
    )
    return "; ".join(notes)


async def seed_routing(session: AsyncSession, options: DemoOptions) -> str:
    """A routing rule to the demo link-worker service for each demo practice that has none, so
    the demo's referrers can refer without naming a ``performer``; an admin's rules stay."""
    ruled = {rule.practice_ods for rule in await routing_service.list_routing(session)}
    added = [ods for ods, _ in demo_referrals.PRACTICES if ods not in ruled]
    for ods in added:
        await routing_service.put_routing(
            session, ods, demo_referrals.LINK_WORKER_ODS, by="seed-demo"
        )
    if not added:
        return "demo routing rules already there"
    return f"demo routing: {', '.join(added)} -> {demo_referrals.LINK_WORKER_ODS}"


async def _matcher(
    session: AsyncSession, homes: list[demo_referrals.Home], today: dt.date
) -> demo_history.Matcher:
    """The directory as the matching service sees it, and each home located as it locates."""
    places = {h.postcode: await areas_service.locate(session, h.postcode) for h in homes}
    directory = snapshot.Directory()
    await directory.refresh(session)
    directory.prepare(today)
    return demo_history.Matcher(directory, need_category_suitability(), today, places)


async def _remove_referrals(session: AsyncSession) -> int:
    """The previous demo referrals, with their bookings and outcomes."""
    system = demo_referrals.IDENTIFIER_SYSTEM
    ids = await referrals_repository.referral_ids_with_identifier_system(session, system)
    await bookings_repository.delete_for_referrals(session, ids)
    await outcomes_repository.delete_for_referrals(session, ids)
    return await referrals_repository.delete_referrals_with_identifier_system(session, system)


async def planned_referrals(
    session: AsyncSession, options: DemoOptions
) -> list[demo_referrals.ReferralRows]:
    """The rows of the demo referrals, their bookings and outcomes, in batches: the same for
    the same options, routing rules and directory."""
    routing = {r.practice_ods: r.performer_ods for r in await routing_service.list_routing(session)}
    homes = demo_referrals.homes(areas_importer.FIXTURE_POSTCODES, areas_importer.FIXTURE_IMD)
    as_of = options.as_of or utcnow().date()
    matcher = await _matcher(session, homes, as_of) if options.history else None
    return list(
        demo_referrals.referrals(
            options.seed, options.referrals, as_of, homes, routing, matcher=matcher
        )
    )


async def seed_referrals(
    session: AsyncSession,
    options: DemoOptions,
    *,
    planned: Sequence[demo_referrals.ReferralRows] | None = None,
) -> str:
    """Demo referrals (app/demo/referrals.py) with their bookings and outcomes (history.py):
    unchanged when there with the same count and seed; otherwise the previous demo referrals
    (and their people) go first. Bookings are made on the activities the matching engine
    returns for the person from the directory as it is (so every hard rule holds); they take
    no places (the directory's places are the providers' current figures). No audit events:
    nobody reads or changes a person's record here, the rows are fictitious and loaded in
    bulk. ``planned``: the rows ``planned_referrals`` gave for the same options (to load
    several databases alike without planning again)."""
    count = options.referrals
    system = demo_referrals.IDENTIFIER_SYSTEM
    if count and await referrals_repository.count_identifiers(session, system) == count:
        expected = [demo_referrals.referral_value(options.seed, i) for i in (0, count - 1)]
        if await referrals_repository.identifier_values(session, system, expected) == set(expected):
            return f"demo referrals already there: {count}"
    removed = await _remove_referrals(session)
    if not count:
        return f"demo referrals: none (removed {removed})" if removed else "demo referrals: none"
    numbers = demo_referrals.nhs_numbers(options.seed, demo_referrals.patient_count(count))
    taken = await referrals_repository.existing_nhs_numbers(session, numbers)
    if taken:
        raise ValueError(
            f"{len(taken)} demo NHS numbers belong to people already stored (e.g. "
            f"{sorted(taken)[0]}); seed-demo does not write over them: use another --seed"
        )
    as_of = options.as_of or utcnow().date()
    booked = recorded = 0
    for rows in planned if planned is not None else await planned_referrals(session, options):
        for table in referrals_repository.BULK_TABLES:
            await referrals_repository.insert_bulk(session, table, getattr(rows, table))
        done = rows.history
        await bookings_repository.insert_bulk(session, done.bookings)
        await outcomes_repository.insert_bulk(session, done.outcome_records, done.outcome_scores)
        booked += len(done.bookings)
        recorded += len(done.outcome_records)
    people = demo_referrals.patient_count(count)
    return (
        f"demo referrals: {count} for {people} people, authored up to {as_of.isoformat()}, "
        f"{booked} bookings, {recorded} questionnaires"
    )


Generator = Callable[[AsyncSession, DemoOptions], Awaitable[str]]
GENERATORS: list[Generator] = [seed_directory, seed_routing, seed_referrals]


async def seed_demo(
    sessionmaker: async_sessionmaker[AsyncSession], options: DemoOptions
) -> list[str]:
    summaries = []
    for generator in GENERATORS:
        async with transaction(sessionmaker, write=True) as session:
            summaries.append(await generator(session, options))
    if (await summary.refresh(sessionmaker)).referrals:
        summaries.append("reports' summary tables brought up to date")
    return summaries
