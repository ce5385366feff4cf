from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.areas.models import Postcode
from app.demo import directory as demo_directory
from app.demo.seed import DemoOptions, seed_directory, seed_routing
from app.directory.models import Activity, ActivityCategoryLink, Location, Organisation
from app.routing.repository import routing_rules
from app.routing.service import put_routing


async def snapshot(session: AsyncSession) -> list[tuple[str, str, str, bool]]:
    rows = await session.execute(
        select(Activity.id, Activity.name, Activity.status, Activity.has_free_option).order_by(
            Activity.id
        )
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_the_demo_directory_is_deterministic_and_idempotent(session: AsyncSession) -> None:
    summary = await seed_directory(session, DemoOptions(activities=200, seed=7))
    assert "loaded the Hackney area fixture" in summary
    assert await session.scalar(select(func.count()).select_from(Postcode)) == 401
    first = await snapshot(session)
    assert len(first) == 200
    assert first[0][0] in {demo_directory.activity_id(7, i) for i in range(200)}
    again = await seed_directory(session, DemoOptions(activities=200, seed=7))
    assert again == "demo directory already has 200 activities"
    assert await snapshot(session) == first
    other = await seed_directory(session, DemoOptions(activities=50, seed=8))
    assert "50 activities" in other
    assert await session.scalar(select(func.count()).select_from(Activity)) == 50
    back = await seed_directory(session, DemoOptions(activities=200, seed=7))
    assert "200 activities" in back
    assert [r[:3] for r in await snapshot(session)] == [r[:3] for r in first]


async def test_the_demo_directory_looks_like_a_borough(session: AsyncSession) -> None:
    await seed_directory(session, DemoOptions(activities=400, seed=1))
    by_mode = select(Activity.attending_type, func.count()).group_by(Activity.attending_type)
    modes: dict[str, int] = dict(list((await session.execute(by_mode)).all()))  # type: ignore[arg-type]
    assert set(modes) == {"in-person", "hybrid", "online", "phone"}
    full = await session.scalar(
        select(func.count()).select_from(Activity).where(Activity.capacity_available == 0)
    )
    assert full is not None
    assert 0 < full < 100
    located = await session.scalar(select(func.count()).select_from(Location))
    assert located == modes["in-person"] + modes["hybrid"]
    bounds = (
        await session.execute(
            select(
                func.min(Location.latitude),
                func.max(Location.latitude),
                func.min(Location.longitude),
                func.max(Location.longitude),
            )
        )
    ).one()
    south, north, west, east = bounds
    assert south > 51.52  # inside the borough
    assert north < 51.58
    assert west > -0.11
    assert east < -0.02
    demo_provider = await session.scalar(
        select(Organisation).where(Organisation.identifier == "DEMOPROV1")
    )
    assert demo_provider is not None


async def test_every_demo_activity_is_run_by_an_organisation_of_its_kind(
    session: AsyncSession,
) -> None:
    """No 'Singing for Breathing' at a men's shed: an organisation runs the categories of its
    kind (a general community organisation runs any)."""
    await seed_directory(session, DemoOptions(activities=400, seed=1))
    kinds = demo_directory.ORG_KINDS
    rows = await session.execute(
        select(Activity.id, Activity.name, Organisation.name)
        .join(Organisation, Organisation.id == Activity.organisation_id)
        .order_by(Activity.id)
    )
    categories: dict[object, set[str]] = {}
    for activity_id, code in await session.execute(
        select(ActivityCategoryLink.activity_id, ActivityCategoryLink.code)
    ):
        categories.setdefault(activity_id, set()).add(code)
    checked = 0
    for activity_id, activity, organisation in rows:
        if organisation == "Hackney Demo Provider":
            continue
        kind = next(k for k in kinds if organisation.endswith(f" {k}"))
        runs = kinds[kind]
        assert runs is None or categories[activity_id] & set(runs), (activity, organisation)
        checked += 1
    assert checked > 300


async def test_the_demo_practices_are_routed_and_an_admins_rule_stays(
    session: AsyncSession,
) -> None:
    await put_routing(session, "A81003", "Y09999", by="admin-1")
    summary = await seed_routing(session, DemoOptions())
    assert summary == "demo routing: A81001, A81002, A81004, A81005 -> Y02718"
    rules = {r.practice_ods: r.performer_ods for r in await routing_rules(session)}
    assert rules == {
        "A81001": "Y02718",
        "A81002": "Y02718",
        "A81003": "Y09999",
        "A81004": "Y02718",
        "A81005": "Y02718",
    }
    assert await seed_routing(session, DemoOptions()) == "demo routing rules already there"
