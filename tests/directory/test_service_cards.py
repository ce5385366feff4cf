"""A match page's cards (``directory_service.get_cards``): the same values as the activities
read in full (``get_many``), read from the stored rows without validating them again."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.directory import schedules
from app.directory import service as directory_service
from app.directory.models import Activity, ActivityCategoryLink
from app.directory.schemas import ActivityCard, ActivityRead, CardLocation, CardSchedule
from tests.directory.conftest import CreateActivity

TODAY = dt.date(2026, 12, 7)


def card_of(activity: ActivityRead) -> ActivityCard:
    return ActivityCard(
        id=activity.id,
        name=activity.name,
        organisation=activity.organization.name if activity.organization else None,
        attending_type=activity.attending_type.value,
        categories=tuple(sorted(c.value for c in activity.categories)),
        locations=tuple(
            CardLocation(
                loc.name, loc.address_1, loc.city, loc.postcode, loc.latitude, loc.longitude
            )
            for loc in activity.locations
        ),
        schedules=tuple(
            CardSchedule(
                s.freq, s.interval, s.byday, s.opens_at, s.closes_at, s.valid_from, s.valid_to
            )
            for s in activity.schedules
        ),
    )


async def test_cards_are_the_activities_as_read_in_full(
    session: AsyncSession, create_activity: CreateActivity
) -> None:
    places = await create_activity(
        categories=["walking", "arts-creative", "gardening"],
        locations=[
            {"name": "Clissold Park", "postcode": "N16 9HJ", "latitude": 51.56, "longitude": -0.09},
            {"name": "Hall", "address_1": "1 Road", "city": "London"},  # no coordinates
            {"name": "Library", "postcode": "E8 1GQ", "latitude": 51.54, "longitude": -0.07},
        ],
        schedules=[
            {"freq": "MONTHLY", "byday": "2MO", "interval": 2, "valid_from": "2026-11-01"},
            {"byday": "FR", "opens_at": "18:30", "closes_at": "20:00", "valid_to": "2027-03-01"},
            {"byday": "SA"},
        ],
    )
    online = await create_activity(
        name="Phone friends",
        locations=[],
        schedules=[],
        attending_type="phone",
    )
    # an imported activity without an organisation
    await session.execute(
        update(Activity).where(Activity.id == online["id"]).values(organisation_id=None)
    )
    # imported terms: one mapping to a category already there, one mapping to none
    await session.execute(
        insert(ActivityCategoryLink),
        [
            {"activity_id": places["id"], "term_id": "oruk-walk", "code": "walking"},
            {"activity_id": places["id"], "term_id": "oruk-other", "code": None},
            {"activity_id": online["id"], "term_id": "oruk-unmapped", "code": None},
        ],
    )
    ids = [places["id"], online["id"], "no-such-activity"]

    cards = await directory_service.get_cards(session, ids)
    full = await directory_service.get_many(session, ids)

    assert set(cards) == set(full) == {places["id"], online["id"]}
    for activity_id, activity in full.items():
        assert cards[activity_id] == card_of(activity)
        assert schedules.next_sessions(cards[activity_id].schedules, TODAY, 5) == (
            schedules.next_sessions(activity.schedules, TODAY, 5)
        )
    assert cards[places["id"]].categories == ("arts-creative", "gardening", "walking")
    assert [loc.name for loc in cards[places["id"]].locations] == [
        "Clissold Park",
        "Hall",
        "Library",
    ]
    assert cards[online["id"]].organisation is None
    assert await directory_service.get_cards(session, []) == {}
