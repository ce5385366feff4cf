"""The nine hard rules of matching (DESIGN.md section 7), each written once, here.

An activity that breaks a hard rule is never returned; `Rule` numbers them as DESIGN 7:

1. ``status`` is ``active``, ``accepting_referrals`` is true and, when the activity has schedules,
   at least one is valid today (``valid_from <= today <= valid_to``, either end open);
2. the person's age is within ``minimum_age..maximum_age``; ``eligibility_gender``, when set,
   equals the person's gender (case-insensitive; a person whose gender is unknown is not eligible
   for a gender-restricted activity);
3. ``capacity_available`` is None (not limited) or > 0; with ``include_full`` a full activity is
   returned with ``waitlist=True`` instead;
4. digital access ``none`` -> no activity the person would have to join online (an ``online``
   activity, or a ``hybrid`` one the person cannot attend in person);
5. in person, every accessibility need is met by the location attended (``wheelchair`` only by
   ``wheelchair``; ``step-free`` by ``step-free`` or ``wheelchair``; the others by themselves).
   Needs of the venue do not apply to online and phone attendance;
6. in person, a location with known coordinates that meets rule 5 lies within ``max_travel_km``
   (haversine great-circle distance). When the person's location is unknown no in-person
   attendance is possible, so only online and phone activities are matched;
7. when the activity has ``service_areas``, one of the person's area codes (postcode district,
   local-authority code) is among them (compared upper-case);
8. ``free_only`` -> the activity has a free option (a cost option flagged free or of amount 0;
   an activity without cost options is not known to be free);
9. when the person gave available days and the activity's days are known, a day in common.

Counting: an activity that breaks several rules is counted once, under the first broken rule in
the order above, so the counts add up to the number of activities excluded.

Modes: ``hybrid`` activities are attended in person when the person can reach one of their
locations (rules 5 and 6 hold for it) and otherwise online (rule 4 then applies; venue needs and
distance do not).

Days: the activity's days are the union of ``byday`` over its schedules valid today; a schedule
with no ``byday`` runs every day when ``freq`` is ``daily`` and on unknown days otherwise; if any
valid schedule has unknown days (or there are no schedules) the activity's days are unknown, so
rule 9 does not apply (and day fit is neutral).

Each rule is written once, here, over what it reads: the person as a `PersonView` (computed
once per match) and the parts of the activity the rule reads, so that the engine, which tests
activities, and its tables (`app.matching.columns`), which decide each distinct part once,
run the same code. Rules 1, 2, 3, 5 and 6 have a function each (`active`, `eligible`,
`has_place`, `accessible`, `within_reach`); rules 4 and 7-9, which always follow attendance and are
read together from the parts activities share, are `remote` and `after_attendance`, in counting
order. Pure: no I/O, no settings, no clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the values are defined with the engine, which imports this module
    from app.matching.engine import Activity, Person

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_DAYS = frozenset(DAYS)
ACCESSIBILITY = ("wheelchair", "step-free", "hearing-loop", "large-print", "bsl", "quiet-space")
EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius
RAD = math.pi / 180

# What each accessibility need accepts at a location (rule 5).
ACCEPTS: Mapping[str, frozenset[str]] = {
    "wheelchair": frozenset({"wheelchair"}),
    "step-free": frozenset({"step-free", "wheelchair"}),
    "hearing-loop": frozenset({"hearing-loop"}),
    "large-print": frozenset({"large-print"}),
    "bsl": frozenset({"bsl"}),
    "quiet-space": frozenset({"quiet-space"}),
}


class Rule(IntEnum):
    """The hard rules of DESIGN 7, numbered as there."""

    ACTIVE = 1
    ELIGIBILITY = 2
    CAPACITY = 3
    DIGITAL_ACCESS = 4
    ACCESSIBILITY = 5
    TRAVEL_DISTANCE = 6
    SERVICE_AREA = 7
    COST = 8
    AVAILABLE_DAYS = 9

    @property
    def description(self) -> str:
        return _RULE_DESCRIPTIONS[self]


_RULE_DESCRIPTIONS = {
    Rule.ACTIVE: "not active, not accepting referrals, or no schedule valid today",
    Rule.ELIGIBILITY: "the person's age or gender is outside the activity's eligibility",
    Rule.CAPACITY: "no places available",
    Rule.DIGITAL_ACCESS: "online only, and the person has no digital access",
    Rule.ACCESSIBILITY: "no location meets the person's accessibility needs",
    Rule.TRAVEL_DISTANCE: "no suitable location within the person's travel distance",
    Rule.SERVICE_AREA: "the person lives outside the activity's service area",
    Rule.COST: "no free option, and cost is a barrier for the person",
    Rule.AVAILABLE_DAYS: "runs on none of the days the person can attend",
}


@dataclass(frozen=True, slots=True)
class PersonView:
    """What the hard rules read of the person, computed once per match from `Person`."""

    age: int
    gender: str | None  # lower-case
    located: bool
    latitude: float  # 0.0 when not located
    longitude: float
    max_travel_km: float
    accessibility: tuple[frozenset[str], ...]  # per need (in `ACCESSIBILITY` order), what meets it
    areas: frozenset[str]  # the area codes, upper-case
    days: frozenset[str]  # the days the person can attend; empty = not stated
    digital: bool  # can join online (digital access is not ``none``)
    free_only: bool

    @classmethod
    def of(cls, person: Person) -> PersonView:
        latitude, longitude = person.location or (0.0, 0.0)
        return cls(
            age=person.age,
            gender=person.gender.lower() if person.gender else None,
            located=person.location is not None,
            latitude=latitude,
            longitude=longitude,
            max_travel_km=person.max_travel_km,
            accessibility=tuple(
                ACCEPTS[n] for n in ACCESSIBILITY if n in person.accessibility_needs
            ),
            areas=frozenset(code.strip().upper() for code in person.area_codes),
            days=person.available_days,
            digital=person.digital_access != "none",
            free_only=person.free_only,
        )


# Rule 1


def listed(activity: Activity) -> bool:
    """The part of rule 1 that depends neither on the person nor on the day."""
    return activity.status == "active" and activity.accepting_referrals


def scheduled_on(activity: Activity, today: date) -> bool:
    """The schedule part of rule 1: no schedules, or one valid on ``today``."""
    if not activity.schedules:
        return True
    for s in activity.schedules:  # a loop, not any(): called for every activity once a day
        if (s.valid_from is None or s.valid_from <= today) and (
            s.valid_to is None or today <= s.valid_to
        ):
            return True
    return False


def active(activity: Activity, today: date) -> bool:
    """Rule 1."""
    return listed(activity) and scheduled_on(activity, today)


# Rule 2


def eligible(
    person: PersonView,
    minimum_age: int | None,
    maximum_age: int | None,
    eligibility_gender: str | None,
) -> bool:
    """Rule 2, for an activity's age limits and gender."""
    age = person.age
    if (minimum_age is not None and age < minimum_age) or (
        maximum_age is not None and age > maximum_age
    ):
        return False
    return not eligibility_gender or (
        person.gender is not None and eligibility_gender.lower() == person.gender
    )


# Rule 3


def has_place(available: int | None) -> bool:
    """Rule 3, for the places available (None = not limited); a full activity goes on the
    waiting list when the caller asks for full ones."""
    return available is None or available > 0


# Rule 5


def accessible(person: PersonView, accessibility: frozenset[str]) -> bool:
    """Rule 5, for the accessibility of the location attended in person."""
    for accepts in person.accessibility:  # noqa: SIM110 (a loop: cheaper than all() here)
        if accepts.isdisjoint(accessibility):
            return False
    return True


# Rule 6


Site = tuple[object, float, float, float, object]
"""A place `within_reach` measures: anything, then its latitude and longitude (degrees) and the
cosine of its latitude, then anything (the engine's sited entries have this shape)."""


def within_reach(person: PersonView) -> Callable[[Sequence[Site]], list[float | None]]:
    """Rule 6 for the person, as a function of a batch of sites (`Site`): per site, in order,
    the haversine distance in km when it lies within the person's travel distance, else None
    (also for NaN coordinates and when the person's location is unknown). Built once per
    match; it takes a batch so that the thousands of sites of a match cost one call."""
    sin, asin, sqrt = math.sin, math.asin, math.sqrt
    plat, plon = person.latitude, person.longitude
    cos_plat = math.cos(math.radians(plat))
    half_rad = RAD / 2
    two_r = 2 * EARTH_RADIUS_KM
    max_travel = person.max_travel_km

    def within(sites: Sequence[Site]) -> list[float | None]:
        found: list[float | None] = []
        add = found.append
        for _, lat, lon, cos_lat, _ in sites:
            h = (
                sin((lat - plat) * half_rad) ** 2
                + cos_plat * cos_lat * sin((lon - plon) * half_rad) ** 2
            )
            if not h >= 0:  # NaN: no distance
                add(None)
                continue
            distance = two_r * asin(sqrt(h) if h < 1.0 else 1.0)
            add(distance if distance <= max_travel else None)
        return found

    if not person.located:
        return lambda sites: [None] * len(sites)
    return within


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres: the formula of `within_reach`, for one pair of points
    (which of an activity's locations a match was measured to)."""
    cos1, cos2 = math.cos(lat1 * RAD), math.cos(lat2 * RAD)
    h = (
        math.sin((lat2 - lat1) * RAD / 2) ** 2
        + cos1 * cos2 * math.sin((lon2 - lon1) * RAD / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h) if h < 1.0 else 1.0)


# Rules 4 and 7-9, after attendance is known: what the snapshot's groups of activities share


def has_free_option(activity: Activity) -> bool:
    """What rule 8 (and equity) read of the cost options."""
    for option in activity.cost_options:  # noqa: SIM110 (a loop: cheaper than any() here)
        if option.free or option.amount == 0:
            return True
    return False


def days_on(activity: Activity, today: date) -> frozenset[str] | None:
    """The activity's days on ``today`` (rule 9 and day fit): the union of the days of its
    schedules valid today; None (unknown) without schedules or when a valid schedule has no
    days."""
    days: frozenset[str] | None = None
    for s in activity.schedules:
        if (s.valid_from is None or s.valid_from <= today) and (
            s.valid_to is None or today <= s.valid_to
        ):
            d = s.byday or (ALL_DAYS if s.freq and s.freq.lower() == "daily" else None)
            if d is None:
                return None
            days = d if days is None else days | d
    return days


def after_attendance(
    person: PersonView, service_areas: frozenset[str], free: bool, days: frozenset[str] | None
) -> int:
    """The first of rules 7, 8 and 9 broken (0 for none), for the activity's service areas
    (any case; empty = anywhere), whether it has a free option, and its days on the day (None
    = unknown)."""
    if service_areas and not any(code.upper() in person.areas for code in service_areas):
        return Rule.SERVICE_AREA  # 7
    if person.free_only and not free:
        return Rule.COST  # 8
    if person.days and days is not None and person.days.isdisjoint(days):
        return Rule.AVAILABLE_DAYS  # 9
    return 0


def remote(
    person: PersonView,
    online: bool,
    service_areas: frozenset[str],
    free: bool,
    days: frozenset[str] | None,
) -> int:
    """The first of rules 4 and 7-9 broken by an activity joined online (else by phone),
    0 for none: what an online or phone activity can break after rules 1-3."""
    if online and not person.digital:
        return Rule.DIGITAL_ACCESS  # 4
    return after_attendance(person, service_areas, free, days)
