"""A deterministic, borough-like demo directory over the shipped Hackney area fixture.

Everything here is fictitious: organisation names, charity numbers, phone numbers (Ofcom's
drama range 020 7946 0xxx) and the activities themselves. Same ``seed`` and ``count``, same
directory, row for row.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.areas import postcodes
from app.directory.repository import ActivityRows
from app.directory.vocabulary import ACCESSIBILITY_COLUMNS, WEEKDAYS, Accessibility

NAMESPACE = uuid.UUID("6f1c3c1e-5a7b-4d35-9a57-0d1a5e7c2b11")
DEMO_PROVIDER_IDENTIFIER = "DEMOPROV1"  # the provider of `assetlink token --demo`

PLACES = (
    "Dalston", "Clapton", "Homerton", "Hackney Wick", "Stoke Newington", "De Beauvoir",
    "Hoxton", "London Fields", "Shacklewell", "Lower Clapton", "Haggerston", "Stamford Hill",
    "Springfield", "Kingsland", "Victoria Park", "Mare Street",
)  # fmt: skip
# kind of organisation -> the categories of activity it runs (None: a general community
# organisation, which runs any); an activity goes to an organisation that runs its category.
ORG_KINDS: dict[str, tuple[str, ...] | None] = {
    "Community Association": None,
    "Arts Collective": ("arts-creative", "music-singing", "dance", "heritage-museums"),
    "Walking Club": ("walking", "nature-green"),
    "Community Trust": None,
    "Men's Shed": ("social-groups", "arts-creative", "gardening", "volunteering"),
    "Food Hub": ("food-cooking", "volunteering", "advice-welfare"),
    "Library": ("libraries-reading", "digital-skills", "learning-skills", "heritage-museums"),
    "Good Neighbours": ("befriending", "social-groups", "volunteering"),
    "Wellbeing Network": (
        "peer-support", "physical-activity", "music-singing", "dance", "bereavement-support",
    ),
    "Community Garden": ("gardening", "nature-green", "volunteering"),
    "Carers Centre": ("carers-support", "bereavement-support", "befriending"),
    "Advice Centre": ("advice-welfare", "learning-skills", "digital-skills"),
}  # fmt: skip
DEMO_PROVIDER_KIND = "Community Trust"  # runs any category: every category has an organisation
# category -> (activity names, needs it suits)
CATEGORIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "arts-creative": (
        ("Watercolour Painting Group", "Pottery Drop-in", "Community Art Studio", "Craft and Chat"),
        ("loneliness-isolation", "low-mood"),
    ),
    "music-singing": (
        ("Community Choir", "Singing for Breathing", "Ukulele for Beginners", "Drumming Circle"),
        ("loneliness-isolation", "low-mood", "long-term-condition"),
    ),
    "heritage-museums": (
        ("Museum Memories Tour", "Local History Society", "Object Handling Sessions"),
        ("loneliness-isolation",),
    ),
    "libraries-reading": (
        ("Reading Group", "Shared Reading", "Poetry Circle", "Library Coffee Morning"),
        ("loneliness-isolation", "low-mood"),
    ),
    "nature-green": (
        ("Park Conservation Volunteers", "Nature Walk and Talk", "Birdwatching Group"),
        ("low-mood", "anxiety-stress", "physical-inactivity"),
    ),
    "gardening": (
        ("Community Gardening", "Grow Your Own Allotment Club", "Therapeutic Gardening"),
        ("low-mood", "anxiety-stress", "loneliness-isolation"),
    ),
    "physical-activity": (
        ("Chair Yoga", "Gentle Exercise Class", "Table Tennis Social", "Tai Chi in the Park"),
        ("physical-inactivity", "long-term-condition"),
    ),
    "walking": (
        ("Health Walk", "Buggy Walk", "Canal Towpath Walk", "Nordic Walking"),
        ("physical-inactivity", "loneliness-isolation"),
    ),
    "dance": (
        ("Tea Dance", "Dance for Health", "Latin Dance Social"),
        ("physical-inactivity", "low-mood"),
    ),
    "social-groups": (
        ("Lunch Club", "Coffee Morning", "Knit and Natter", "Men's Shed Drop-in"),
        ("loneliness-isolation",),
    ),
    "befriending": (
        ("Telephone Befriending", "Home Visit Befriending", "Befriending Scheme"),
        ("loneliness-isolation", "low-mood"),
    ),
    "learning-skills": (
        ("English Conversation Club", "Adult Learning Course", "Budgeting Skills Workshop"),
        ("employment-learning",),
    ),
    "volunteering": (
        ("Volunteer Drop-in", "Community Fridge Volunteers", "Befriender Volunteering"),
        ("employment-learning", "loneliness-isolation"),
    ),
    "advice-welfare": (
        ("Benefits Advice Clinic", "Debt Advice Drop-in", "Housing Advice Surgery"),
        ("debt-finance", "housing"),
    ),
    "carers-support": (
        ("Carers Café", "Carers Support Group", "Young Carers Club"),
        ("carer-support",),
    ),
    "bereavement-support": (
        ("Bereavement Café", "Grief Support Group", "Walk and Talk for the Bereaved"),
        ("bereavement",),
    ),
    "peer-support": (
        ("Peer Support Group", "Mental Health Peer Circle", "Long Covid Peer Group"),
        ("low-mood", "anxiety-stress", "long-term-condition"),
    ),
    "digital-skills": (
        ("Digital Drop-in", "Tablet Tuition for Beginners", "Get Online Week"),
        ("employment-learning", "loneliness-isolation"),
    ),
    "food-cooking": (
        ("Community Kitchen", "Cook and Eat Together", "Healthy Eating on a Budget"),
        ("loneliness-isolation", "debt-finance"),
    ),
}
OTHER_LANGUAGES = ("tr", "pl", "bn", "yi", "so", "es", "ur", "pt")
STATUSES = (("active", 94), ("temporarily closed", 3), ("inactive", 2), ("defunct", 1))
MODES = (("in-person", 75), ("hybrid", 10), ("online", 10), ("phone", 5))


def _choose(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


LAYOUTS = ("borough", "region")
# The region layout repeats the borough's real postcode pattern on a grid of borough-sized tiles
# (10 x 10 around the real one, about 62 km by 67 km: Greater London and some), so a large
# directory has a borough's density rather than 100 000 activities in 19 km².
TILE_DEGREES = (0.06, 0.09)  # latitude, longitude span of the Hackney fixture's postcodes
TILES = tuple((i, j) for i in range(-5, 5) for j in range(-5, 5))


def activity_id(seed: int, index: int, layout: str = "borough") -> str:
    key = f"activity:{seed}:{index}" if layout == "borough" else f"activity:{seed}:{layout}:{index}"
    return str(uuid.uuid5(NAMESPACE, key))


def organisation_id(seed: int, index: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"organisation:{seed}:{index}"))


@dataclass(frozen=True)
class Place:
    postcode: str
    latitude: float
    longitude: float


def fixture_places(path: Path) -> list[Place]:
    """The located postcodes of an NSPL-shaped file (the shipped fixture)."""
    places = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            postcode = postcodes.normalise(row["pcds"])
            lat, lon = float(row["lat"]), float(row["long"])
            if postcode and -90 <= lat <= 90 and not row.get("doterm"):
                places.append(Place(postcode, lat, lon))
    return places


def organisation_count(count: int) -> int:
    return max(5, min(2000, count // 8))


def organisation_kinds(seed: int, count: int) -> list[tuple[str, str]]:
    """(place, kind) of each demo organisation; the first is the demo provider."""
    rng = random.Random(f"organisations:{seed}")  # noqa: S311 (demo data, not secrets)
    kinds = list(ORG_KINDS)
    drawn = [(rng.choice(PLACES), rng.choice(kinds)) for _ in range(organisation_count(count))]
    return [(drawn[0][0], DEMO_PROVIDER_KIND), *drawn[1:]]


def organisations_by_category(seed: int, count: int) -> dict[str, list[int]]:
    """For each category, the indexes of the demo organisations that run it."""
    kinds = [kind for _, kind in organisation_kinds(seed, count)]
    return {
        category: [i for i, kind in enumerate(kinds) if category in (ORG_KINDS[kind] or CATEGORIES)]
        for category in CATEGORIES
    }


def organisations(seed: int, count: int, now: dt.datetime) -> list[dict[str, Any]]:
    rows = []
    for i, (place, kind) in enumerate(organisation_kinds(seed, count)):
        is_demo_provider = i == 0
        rows.append(
            {
                "id": organisation_id(seed, i),
                "name": f"{place} {kind}" if not is_demo_provider else "Hackney Demo Provider",
                "description": f"A fictitious {kind.lower()} for the assetlink demo.",
                "identifier": DEMO_PROVIDER_IDENTIFIER if is_demo_provider else f"{1190000 + i}",
                "identifier_scheme": "ods" if is_demo_provider else "GB-CHC",
                "email": None,
                "url": None,
                "last_modified": now,
            }
        )
    return rows


def _schedule_rows(rng: random.Random, activity: str) -> list[dict[str, Any]]:
    rows = []
    for position in range(rng.choice((1, 1, 1, 2))):
        days = sorted(rng.sample(range(7), rng.choice((1, 1, 2))))
        start = rng.choice((9, 10, 10, 11, 13, 14, 18, 19))
        hours = rng.choice((1, 1, 2))
        expired = rng.random() < 0.03
        rows.append(
            {
                "id": uuid.UUID(int=rng.getrandbits(128), version=4),
                "activity_id": activity,
                "position": position,
                "freq": "WEEKLY" if rng.random() < 0.9 else "MONTHLY",
                "interval": 1,
                "byday": ",".join(WEEKDAYS[d] for d in days),
                "opens_at": f"{start:02d}:{rng.choice(('00', '30'))}:00",
                "closes_at": f"{start + hours:02d}:{rng.choice(('00', '30'))}:00",
                "valid_from": dt.date(2025, 9, 1),
                "valid_to": dt.date(2025, 12, 31) if expired else None,
                "description": None,
            }
        )
    return rows


def _accessibility(rng: random.Random) -> dict[str, bool]:
    wheelchair = rng.random() < 0.4
    codes = {
        Accessibility.WHEELCHAIR: wheelchair,
        Accessibility.STEP_FREE: wheelchair or rng.random() < 0.3,
        Accessibility.HEARING_LOOP: rng.random() < 0.25,
        Accessibility.LARGE_PRINT: rng.random() < 0.2,
        Accessibility.BSL: rng.random() < 0.05,
        Accessibility.QUIET_SPACE: rng.random() < 0.15,
    }
    return {ACCESSIBILITY_COLUMNS[code]: value for code, value in codes.items()}


def activities(
    seed: int,
    count: int,
    places: list[Place],
    now: dt.datetime,
    *,
    layout: str = "borough",
    batch: int = 5000,
) -> Iterator[ActivityRows]:
    """The demo activities in batches, ready for ``executemany``. ``layout="region"`` moves each
    located activity to a random tile of the region grid (outside the real tile the location
    keeps its coordinates but has no postcode)."""
    rng = random.Random(f"activities:{seed}")  # noqa: S311 (demo data, not secrets)
    tiles = random.Random(f"tiles:{seed}")  # noqa: S311 (a stream of its own: borough unchanged)
    org_rows = organisation_count(count)
    runners = {
        category: [organisation_id(seed, index) for index in indexes]
        for category, indexes in organisations_by_category(seed, count).items()
    }
    categories = list(CATEGORIES)
    rows = ActivityRows()
    # The helpers draw from ``rng`` in a fixed order: the same seed gives the same data.
    for i in range(count):
        aid = activity_id(seed, i, layout)
        main = rng.choice(categories)
        names, needs = CATEGORIES[main]
        cats = [main]
        if rng.random() < 0.3:
            cats.append(rng.choice([c for c in categories if c != main]))
        place = rng.choice(places)
        area = rng.choice(PLACES)
        mode = _choose(rng, MODES)
        activity = _activity_row(rng, aid, i, area, mode, names, runners[main], org_rows, now)
        rows.activities.append(activity)
        rows.categories.extend(
            {"activity_id": aid, "term_id": c, "code": c, "label": None, "taxonomy": None}
            for c in cats
        )
        rows.needs.extend({"activity_id": aid, "code": n} for n in needs)
        languages = ["en"] + ([rng.choice(OTHER_LANGUAGES)] if rng.random() < 0.15 else [])
        rows.languages.extend({"activity_id": aid, "code": code} for code in languages)
        if mode in ("in-person", "hybrid"):
            tile = tiles.choice(TILES) if layout == "region" else (0, 0)
            rows.locations.append(_location_row(rng, aid, area, place, tile))
        rows.schedules.extend(_schedule_rows(rng, aid))
        rows.cost_options.append(_cost_row(rng, aid, free=activity["has_free_option"]))
        if rng.random() < 0.1:
            rows.service_areas.append(
                {
                    "id": uuid.UUID(int=rng.getrandbits(128), version=4),
                    "activity_id": aid,
                    "position": 0,
                    "code": rng.choice(("E09000012", "E8", "E5", "N16")),
                    "name": None,
                }
            )
        if len(rows.activities) >= batch:
            yield rows
            rows = ActivityRows()
    if rows.activities:
        yield rows


def _activity_row(
    rng: random.Random,
    aid: str,
    index: int,
    area: str,
    mode: str,
    names: tuple[str, ...],
    runners: list[str],
    org_rows: int,
    now: dt.datetime,
) -> dict[str, Any]:
    """The ``activity`` row; ``runners``: the organisations that may run it."""
    title = rng.choice(names)
    maximum = rng.choice((8, 10, 12, 15, 20, 25, 30))
    available = 0 if rng.random() < 0.08 else rng.randint(1, maximum)
    free = rng.random() < 0.6
    gender = "male" if "Men's" in title else ("female" if rng.random() < 0.04 else None)
    minimum_age = rng.choice((18, 18, 18, 18, 16, 50, 60, 65))
    maximum_age = None if rng.random() < 0.9 else rng.choice((25, 64))
    if maximum_age is not None and maximum_age < minimum_age:
        maximum_age = None  # never below the minimum: the API (and a sync of /oruk) refuses it
    return {
        "id": aid,
        "organisation_id": runners[rng.randrange(org_rows) % len(runners)],
        "name": f"{title}, {area}",
        "description": (
            f"A friendly {title.lower()} in {area}. Everyone welcome; come along, "
            "meet people and try something new. No experience needed."
        ),
        "status": _choose(rng, STATUSES),
        "url": None,
        "email": None,
        "attending_type": mode,
        "minimum_age": minimum_age,
        "maximum_age": maximum_age,
        "eligibility_description": "Women only" if gender == "female" else None,
        "eligibility_gender": gender,
        "capacity_maximum": maximum,
        "capacity_available": available,
        "accepting_referrals": rng.random() < 0.92,
        "has_free_option": free,
        "fees_description": None if free else "Concessions available",
        "contact": {"name": "Activity coordinator", "phone": f"020 7946 0{index % 1000:03d}"},
        "source": "demo",
        "created_at": now,
        "last_modified": now,
    }


def _location_row(
    rng: random.Random, aid: str, area: str, place: Place, tile: tuple[int, int]
) -> dict[str, Any]:
    """The activity's one location, at ``place`` moved to ``tile`` of the region grid."""
    shift = (tile[0] * TILE_DEGREES[0], tile[1] * TILE_DEGREES[1])
    return {
        "id": uuid.UUID(int=rng.getrandbits(128), version=4),
        "activity_id": aid,
        "position": 0,
        "source_id": None,
        "name": f"{area} Community Centre",
        "address_1": f"{rng.randint(1, 250)} {rng.choice(PLACES)} Road",
        "city": "London",
        "postcode": place.postcode if tile == (0, 0) else None,
        "latitude": round(place.latitude + shift[0] + rng.uniform(-0.0008, 0.0008), 6),
        "longitude": round(place.longitude + shift[1] + rng.uniform(-0.0012, 0.0012), 6),
        "accessibility_description": None,
        **_accessibility(rng),
    }


def _cost_row(rng: random.Random, aid: str, *, free: bool) -> dict[str, Any]:
    return {
        "id": uuid.UUID(int=rng.getrandbits(128), version=4),
        "activity_id": aid,
        "position": 0,
        "option": None if free else "Standard",
        "amount": Decimal(0) if free else Decimal(rng.choice((2, 3, 4, 5, 6, 8))),
        "amount_description": "per session",
        "free": free,
        "valid_from": None,
        "valid_to": None,
    }
