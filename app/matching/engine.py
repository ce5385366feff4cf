"""The matching engine (DESIGN.md section 7): plain values in, plain values out.

``match(person, activities, today=..., suitability=...)`` applies the nine hard rules, scores the
activities that pass, orders them and explains the first ``limit``. It does no I/O and reads no
settings or clock: the service fills `Person` and `Activity` from the database, passes the
need -> category suitability table (data, DESIGN 5.4), `Weights` from the settings
(``ASSETLINK_MATCH_WEIGHT_*``) and today's date.

Hard rules (an activity that breaks one is never returned; `Rule` numbers them as DESIGN 7):

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
   attendance is possible, so only online and phone activities are matched (with a warning);
7. when the activity has ``service_areas``, one of the person's area codes (postcode district,
   local-authority code) is among them (compared upper-case);
8. ``free_only`` -> the activity has a free option (a cost option flagged free or of amount 0;
   an activity without cost options is not known to be free);
9. when the person gave available days and the activity's days are known, a day in common.

Counting: an activity that breaks several rules is counted once, under the first broken rule in
the order above, so the counts add up to the number of activities excluded.

Modes: ``hybrid`` activities are attended in person when the person can reach one of their
locations (rules 5 and 6 hold for it) and otherwise online (rule 4 then applies; venue needs and
distance do not). A hybrid attended in person also offers online joining, so its proximity is the
better of the distance value and the online value (when the person has some digital access).

Days: the activity's days are the union of ``byday`` over its schedules valid today; a schedule
with no ``byday`` runs every day when ``freq`` is ``daily`` and on unknown days otherwise; if any
valid schedule has unknown days (or there are no schedules) the activity's days are unknown, so
rule 9 does not apply and day fit is neutral.

Components, each in [0, 1] (`NEUTRAL` = 0.5 where the person stated nothing to compare):

- need fit: mean over the person's needs of 1 when the activity targets the need, else the best
  suitability of the activity's categories for that need in the table;
- interest fit: interests shared / the smaller of (interests, categories); 0 without categories;
- proximity: in person ``0.5 ** (distance_km / PROXIMITY_HALF_LIFE_KM)``; online and phone a fixed
  value from `REMOTE_PROXIMITY` by the person's preferred attendance mode (1 when the person
  prefers that mode), halved for online when digital access is ``limited``;
- language fit: 1 when the activity runs in the person's first language, `SECONDARY_LANGUAGE_FIT`
  in another of their languages, else 0. Languages compare by primary subtag (``en-GB`` -> ``en``)
  and an empty list on either side means English (Patient.communication is rarely recorded for
  English speakers, and directories rarely list English);
- day fit: days in common / the smaller of (person's days, activity's days);
- spare capacity: 1 when not limited, ``available / maximum`` when the maximum is known, else
  ``available / 10`` (ten places count as plenty), capped at 1; 0 on the waiting list;
- equity: 0 unless the person lives in IMD decile 1-3; then 0.5 for a free option plus 0.5 when
  the activity is attended in person and known to be near public transport.

Score: the weighted mean of the components with `Weights` (divided by the weights' sum, so the
defaults, which sum to 1, are the shares). Order: score descending, then distance ascending
(online, phone and unknown distance last), then activity id. Reasons are plain English and only
say what is true of the match (see `_reasons`).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time
from enum import IntEnum
from typing import Literal

AttendanceMode = Literal["in-person", "online", "phone", "any"]
DigitalAccess = Literal["none", "limited", "full"]
AttendingType = Literal["in-person", "online", "phone", "hybrid"]
Attendance = Literal["in-person", "online", "phone"]

Suitability = Mapping[str, Mapping[str, float]]
"""need code -> {activity-category code: suitability in [0, 1]} (DESIGN 5.4; data, not code)."""

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALL_DAYS = frozenset(DAYS)
ENGLISH = frozenset({"en"})
ACCESSIBILITY = ("wheelchair", "step-free", "hearing-loop", "large-print", "bsl", "quiet-space")
ATTENDANCE_MODES = frozenset({"in-person", "online", "phone", "any"})
DIGITAL_ACCESS = frozenset({"none", "limited", "full"})

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius
PROXIMITY_HALF_LIFE_KM = 3.0
REMOTE_PROXIMITY: Mapping[str, Mapping[str, float]] = {
    # activity mode -> person's preferred attendance mode -> proximity value
    "online": {"online": 1.0, "any": 0.5, "phone": 0.3, "in-person": 0.2},
    "phone": {"phone": 1.0, "any": 0.5, "online": 0.3, "in-person": 0.2},
}
LIMITED_DIGITAL_FACTOR = 0.5
SECONDARY_LANGUAGE_FIT = 0.7
NEUTRAL = 0.5
PLENTY_OF_PLACES = 10
SUITED_THRESHOLD = 0.6  # "Can help with <need>" from this suitability up
QUOTE_MAX = 60  # characters of the referral's words a reason quotes
DEPRIVED_DECILES = range(1, 4)
_RAD = math.pi / 180

# What each accessibility need accepts at a location (rule 5).
_ACCEPTS: Mapping[str, frozenset[str]] = {
    "wheelchair": frozenset({"wheelchair"}),
    "step-free": frozenset({"step-free", "wheelchair"}),
    "hearing-loop": frozenset({"hearing-loop"}),
    "large-print": frozenset({"large-print"}),
    "bsl": frozenset({"bsl"}),
    "quiet-space": frozenset({"quiet-space"}),
}

NEED_LABELS: Mapping[str, str] = {
    "loneliness-isolation": "loneliness",
    "low-mood": "low mood",
    "anxiety-stress": "anxiety and stress",
    "long-term-condition": "living with a long-term condition",
    "physical-inactivity": "physical inactivity",
    "bereavement": "bereavement",
    "carer-support": "carers",
    "debt-finance": "debt and money worries",
    "housing": "housing problems",
    "employment-learning": "work and learning",
    "other": "other needs",
}
CATEGORY_LABELS: Mapping[str, str] = {
    "arts-creative": "arts and crafts",
    "music-singing": "music and singing",
    "heritage-museums": "heritage and museums",
    "libraries-reading": "libraries and reading",
    "nature-green": "nature and green spaces",
    "gardening": "gardening",
    "physical-activity": "physical activity",
    "walking": "walking",
    "dance": "dance",
    "social-groups": "social groups",
    "befriending": "befriending",
    "learning-skills": "learning new skills",
    "volunteering": "volunteering",
    "advice-welfare": "advice and welfare",
    "carers-support": "support for carers",
    "bereavement-support": "bereavement support",
    "peer-support": "peer support",
    "digital-skills": "digital skills",
    "food-cooking": "food and cooking",
}
ACCESSIBILITY_LABELS: Mapping[str, str] = {
    "wheelchair": "Wheelchair accessible",
    "step-free": "Step-free access",
    "hearing-loop": "Hearing loop",
    "large-print": "Large print",
    "bsl": "British Sign Language",
    "quiet-space": "Quiet space",
}
DAY_PLURALS: Mapping[str, str] = {
    "mon": "Mondays",
    "tue": "Tuesdays",
    "wed": "Wednesdays",
    "thu": "Thursdays",
    "fri": "Fridays",
    "sat": "Saturdays",
    "sun": "Sundays",
}
# ISO 639 names of languages commonly spoken in England; other codes are shown as given.
LANGUAGE_NAMES: Mapping[str, str] = {
    "ar": "Arabic",
    "bn": "Bengali",
    "cy": "Welsh",
    "de": "German",
    "es": "Spanish",
    "fa": "Persian",
    "fr": "French",
    "gu": "Gujarati",
    "hi": "Hindi",
    "it": "Italian",
    "ku": "Kurdish",
    "lt": "Lithuanian",
    "pa": "Punjabi",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "so": "Somali",
    "ta": "Tamil",
    "ti": "Tigrinya",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "ur": "Urdu",
    "yue": "Cantonese",
    "zh": "Chinese",
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
class Person:
    """What matching knows about the referred person (DESIGN 5.3 preferences, area, needs)."""

    age: int
    max_travel_km: float
    gender: str | None = None
    location: tuple[float, float] | None = None  # (latitude, longitude); None when unknown
    area_codes: frozenset[str] = frozenset()  # postcode district, local-authority code
    imd_decile: int | None = None
    needs: tuple[str, ...] = ()  # need codes (DESIGN 5.4), most important first
    interests: frozenset[str] = frozenset()  # activity-category codes
    attendance_mode: AttendanceMode = "any"
    digital_access: DigitalAccess = "full"
    accessibility_needs: frozenset[str] = frozenset()
    available_days: frozenset[str] = frozenset()  # mon..sun; empty = not stated
    free_only: bool = False
    languages: tuple[str, ...] = ()  # BCP 47 codes, preferred first; empty = English
    need_texts: Mapping[str, str] = field(default_factory=dict)  # need -> the words it came from

    def __post_init__(self) -> None:
        problems = []
        if self.age < 0:
            problems.append(f"age {self.age} is negative")
        if not (math.isfinite(self.max_travel_km) and self.max_travel_km >= 0):
            problems.append(f"max_travel_km {self.max_travel_km} is not a distance")
        if self.location is not None:
            lat, lon = self.location
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                problems.append(f"location {self.location} is not a (latitude, longitude)")
        if self.imd_decile is not None and not 1 <= self.imd_decile <= 10:
            problems.append(f"imd_decile {self.imd_decile} is not 1..10")
        if self.attendance_mode not in ATTENDANCE_MODES:
            problems.append(f"attendance_mode {self.attendance_mode!r} is unknown")
        if self.digital_access not in DIGITAL_ACCESS:
            problems.append(f"digital_access {self.digital_access!r} is unknown")
        if unknown := self.accessibility_needs - _ACCEPTS.keys():
            problems.append(f"accessibility_needs {sorted(unknown)} are unknown")
        if unknown := self.available_days - ALL_DAYS:
            problems.append(f"available_days {sorted(unknown)} are unknown")
        if problems:
            raise ValueError("; ".join(problems))


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float | None = None
    longitude: float | None = None
    accessibility: frozenset[str] = frozenset()  # codes as in DESIGN 5.3


@dataclass(frozen=True, slots=True)
class Schedule:
    byday: frozenset[str] = frozenset()  # mon..sun
    freq: str | None = None  # RFC 5545 FREQ ("weekly", "daily"...), any case
    valid_from: date | None = None
    valid_to: date | None = None
    opens_at: time | None = None
    closes_at: time | None = None


@dataclass(frozen=True, slots=True)
class CostOption:
    free: bool = False
    amount: float | None = None


@dataclass(frozen=True, slots=True)
class Activity:
    """A directory activity as matching needs it (DESIGN 6, Open Referral UK shaped).

    Codes are passed as the directory stores them: categories and needs as DESIGN 5.4 codes,
    days as ``mon``..``sun``, accessibility as DESIGN 5.3 codes. ``id`` must be unique.
    """

    id: str
    name: str
    status: str  # active | inactive | defunct | temporarily closed
    accepting_referrals: bool
    attending_type: AttendingType
    minimum_age: int | None = None
    maximum_age: int | None = None
    eligibility_gender: str | None = None  # None = anyone
    capacity_available: int | None = None  # None = not limited
    capacity_maximum: int | None = None
    categories: frozenset[str] = frozenset()
    target_needs: frozenset[str] = frozenset()
    locations: tuple[Location, ...] = ()
    service_areas: frozenset[str] = frozenset()  # empty = anywhere
    schedules: tuple[Schedule, ...] = ()
    cost_options: tuple[CostOption, ...] = ()
    languages: frozenset[str] = frozenset()  # empty = English
    near_public_transport: bool | None = None  # None = unknown


@dataclass(frozen=True, slots=True)
class Weights:
    """Relative weights of the score components; the defaults sum to 1.

    Exposed as settings ``ASSETLINK_MATCH_WEIGHT_<FIELD>``. Need fit leads because the referral
    is for the need; interests and proximity decide whether the person goes; language, days,
    spare places and equity refine the order.
    """

    need_fit: float = 0.30
    interest_fit: float = 0.20
    proximity: float = 0.20
    language_fit: float = 0.10
    day_fit: float = 0.08
    spare_capacity: float = 0.04
    equity: float = 0.08

    def __post_init__(self) -> None:
        values = [getattr(self, f.name) for f in fields(self)]
        if not all(math.isfinite(v) and v >= 0 for v in values) or sum(values) <= 0:
            raise ValueError("match weights must be finite, non-negative and not all zero")

    @property
    def total(self) -> float:
        return math.fsum(getattr(self, f.name) for f in fields(self))


DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True, slots=True)
class Components:
    """Every score component of a match, each in [0, 1]; fields as in `Weights`."""

    need_fit: float
    interest_fit: float
    proximity: float
    language_fit: float
    day_fit: float
    spare_capacity: float
    equity: float


@dataclass(frozen=True, slots=True)
class Match:
    activity_id: str
    score: float
    components: Components
    reasons: tuple[str, ...]
    attendance: Attendance  # how the person would take part
    distance_km: float | None  # to the nearest suitable location; None unless in person
    waitlist: bool = False


@dataclass(frozen=True, slots=True)
class MatchResult:
    matches: tuple[Match, ...]
    excluded: Mapping[Rule, int]  # every rule, 0 when none
    eligible: int  # activities that passed every hard rule (before `limit`)
    warnings: tuple[str, ...] = field(default=())

    @property
    def considered(self) -> int:
        return self.eligible + sum(self.excluded.values())


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def scheduled_on(activity: Activity, today: date) -> bool:
    """The schedule part of rule 1: no schedules, or one valid on ``today`` (as in `match`)."""
    if not activity.schedules:
        return True
    for s in activity.schedules:  # a loop, not any(): called for every activity once a day
        if (s.valid_from is None or s.valid_from <= today) and (
            s.valid_to is None or today <= s.valid_to
        ):
            return True
    return False


def days_on(activity: Activity, today: date) -> frozenset[str] | None:
    """The activity's days on ``today`` as `match` computes them for rule 9 and day fit: the
    union of the days of its schedules valid today; None (unknown) without schedules or when
    a valid schedule has no days."""
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


def eligible(
    minimum_age: int | None,
    maximum_age: int | None,
    eligibility_gender: str | None,
    age: int,
    gender: str | None,
) -> bool:
    """Rule 2 for an activity's age limits and gender (as in `match`; ``gender`` lower-case)."""
    if (minimum_age is not None and age < minimum_age) or (
        maximum_age is not None and age > maximum_age
    ):
        return False
    return not eligibility_gender or (gender is not None and eligibility_gender.lower() == gender)


def has_free_option(activity: Activity) -> bool:
    return any(option.free or option.amount == 0 for option in activity.cost_options)


def primary_language(code: str) -> str:
    return code.partition("-")[0].strip().lower()


def _label(labels: Mapping[str, str], code: str) -> str:
    return labels.get(code) or code.replace("-", " ")


def _join(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def day_phrase(days: frozenset[str]) -> str:
    """ "Tuesdays and Thursdays"; "Every day" for all seven."""
    if days >= ALL_DAYS:
        return "Every day"
    return _join([DAY_PLURALS[d] for d in DAYS if d in days])


def distance_phrase(distance_km: float) -> str:
    return "Under 0.1 km away" if distance_km < 0.05 else f"{distance_km:.1f} km away"


@dataclass(frozen=True, slots=True)
class _Scored:
    """A survivor of the hard rules; reasons are only built for the ones returned."""

    activity: Activity
    components: tuple[float, float, float, float, float, float, float]
    score: float
    attendance: Attendance
    distance_km: float | None
    waitlist: bool
    days: frozenset[str] | None  # the activity's days when known
    available: int | None  # the places used (``capacity``'s when given, else the activity's)


def _add_ids(seen: set[str], activities: Sequence[Activity]) -> None:
    """Adds the activities' ids to ``seen``, refusing an id already there or given twice, with
    set operations on the whole list (a check per activity in the loops took a tenth of the
    snapshot's and the engine's time at 100 000 activities)."""
    ids = [a.id for a in activities]
    given = set(ids)
    if len(given) == len(ids) and seen.isdisjoint(given):
        seen |= given
        return
    for i in ids:
        if i in seen:
            raise ValueError(f"activity id {i!r} is given twice")
        seen.add(i)


@dataclass(frozen=True, slots=True)
class Prescreened:
    """Online or phone activities the caller has already found to pass hard rules 1, 2 and 4-9
    for this person on this day (listed, a schedule valid today, eligible; digital access for
    online, service area, cost, days), which share the mode, whether there is a free option
    and the days on the day (`days_on`). `match` then applies only rule 3 and scores them: the
    same figures as if they were among its ``activities``, without re-testing the rest."""

    activities: Sequence[Activity]
    online: bool  # else phone
    free: bool
    days: frozenset[str] | None


SiteProfile = tuple[frozenset[str], frozenset[str], bool, frozenset[str] | None]
"""What rules 5, 7, 8 and 9 and the score read of an in-person activity with one location,
besides the location's coordinates: the location's accessibility, the service areas
(upper-case), whether there is a free option, and the days on the day (`days_on`)."""


SiteEntry = tuple[Activity, float, float, float, int]
"""A `Sited` activity: itself, its location's latitude and longitude, the cosine of the
latitude (as `match` computes it) and the number of its profile (see `Sited`)."""


def site_entry(activity: Activity, number: int) -> SiteEntry:
    """The activity as `Sited` holds it (one location with finite coordinates, see
    `site_profile`), with its profile's number."""
    location = activity.locations[0]
    lat, lon = location.latitude, location.longitude
    if lat is None or lon is None:
        raise ValueError(f"activity {activity.id!r} has no coordinates to be sited")
    return activity, lat, lon, math.cos(lat * _RAD), number


def site_profile(activity: Activity, today: date) -> SiteProfile | None:
    """The activity's `SiteProfile` on ``today``, or None when it cannot be `Sited`: not
    in-person, or not exactly one location with finite coordinates."""
    if activity.attending_type != "in-person" or len(activity.locations) != 1:
        return None
    location = activity.locations[0]
    lat, lon = location.latitude, location.longitude
    if lat is None or lon is None or not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    return (
        location.accessibility,
        frozenset(c.upper() for c in activity.service_areas),
        has_free_option(activity),
        days_on(activity, today),
    )


@dataclass(frozen=True, slots=True)
class Sited:
    """In-person activities with exactly one location each, at finite coordinates, that the
    caller has found to pass rules 1 and 2 for this person on this day, as `site_entry` gives
    them; an entry's number is the index in ``profiles`` of the activity's `site_profile`
    (profiles are few and shared). `match` decides rules 5, 7, 8 and 9 once per profile, and
    per activity only applies rule 3 and the distance (rule 6) and scores it: the same figures
    as if it were among its ``activities``, without re-testing the rest."""

    entries: Sequence[SiteEntry]
    profiles: Sequence[SiteProfile]


def match(
    person: Person,
    activities: Sequence[Activity],
    *,
    today: date,
    suitability: Suitability,
    weights: Weights = DEFAULT_WEIGHTS,
    limit: int = 10,
    include_full: bool = False,
    capacity: Mapping[str, int | None] | None = None,
    prescreened: Sequence[Prescreened] = (),
    sited: Sequence[Sited] = (),
) -> MatchResult:
    """The activities the person can take part in, best first, with scores and reasons.

    ``prescreened`` are further activities, grouped by a caller that has tested rules 1, 2 and
    4-9 for them (see `Prescreened`); they count and score as if given in ``activities``. So
    do ``sited`` ones, in-person activities with one location each for which the caller has
    tested rules 1 and 2 (see `Sited`).

    ``capacity`` (activity id -> places available, None = not limited) overrides the
    activities' ``capacity_available`` for the ids it has: the places change with every
    booking, so a caller holding older activity values passes the current places here.
    """
    if isinstance(today, datetime):
        raise TypeError("today must be a date, not a datetime")
    if limit < 0:
        raise ValueError("limit must not be negative")

    # Everything about the person, computed once.
    age = person.age
    gender = person.gender.lower() if person.gender else None
    located = person.location is not None
    plat_deg, plon_deg = person.location or (0.0, 0.0)
    cos_plat = math.cos(math.radians(plat_deg))
    max_travel = person.max_travel_km
    decay = math.log(2) / PROXIMITY_HALF_LIFE_KM
    access_needs = [_ACCEPTS[n] for n in ACCESSIBILITY if n in person.accessibility_needs]
    areas = frozenset(code.strip().upper() for code in person.area_codes)
    person_days = person.available_days
    no_digital = person.digital_access == "none"
    online_value = REMOTE_PROXIMITY["online"][person.attendance_mode]
    if person.digital_access == "limited":
        online_value *= LIMITED_DIGITAL_FACTOR
    phone_value = REMOTE_PROXIMITY["phone"][person.attendance_mode]
    free_only = person.free_only
    deprived = person.imd_decile is not None and person.imd_decile in DEPRIVED_DECILES
    interests = person.interests
    n_interests = len(interests)
    needs = tuple(dict.fromkeys(person.needs))
    need_rows = []
    for need in needs:
        row = suitability.get(need, {})
        if any(not 0 <= v <= 1 for v in row.values()):
            raise ValueError(f"suitability for need {need!r} must lie in [0, 1]")
        need_rows.append((need, row))
    languages = tuple(dict.fromkeys(primary_language(c) for c in person.languages)) or ("en",)
    first_language = languages[0]
    other_languages = frozenset(languages[1:])

    w = weights
    total = w.total
    wn, wi, wp, wl, wd, wc, we = (
        w.need_fit / total,
        w.interest_fit / total,
        w.proximity / total,
        w.language_fit / total,
        w.day_fit / total,
        w.spare_capacity / total,
        w.equity / total,
    )

    places = capacity or None
    need_fits: dict[tuple[frozenset[str], frozenset[str]], float] = {}
    interest_fits: dict[frozenset[str], float] = {}
    language_fits: dict[frozenset[str], float] = {}
    excluded = [0] * 10
    # The first `limit` survivors by (-score, distance, id), kept sorted: holding every
    # survivor kept thousands of objects alive per call, which the garbage collector promoted
    # and then scanned in full collections (measured: tens of ms per collection).
    first: list[tuple[float, float, str, _Scored]] = []
    last: tuple[float, float, str] | None = None  # the key of first[-1] once it is full
    eligible = 0
    seen: set[str] = set()
    sin, cos, asin, sqrt, exp = math.sin, math.cos, math.asin, math.sqrt, math.exp
    rad = _RAD
    half_rad = rad / 2
    two_r = 2 * EARTH_RADIUS_KM

    def fits(a: Activity) -> tuple[float, float, float]:
        """Need, interest and language fit. They depend only on the activity's code sets,
        which are few and often shared: each is computed once per distinct set."""
        categories = a.categories
        fit_key = (categories, a.target_needs)
        need_fit = need_fits.get(fit_key)
        if need_fit is None:
            if need_rows:
                targets = a.target_needs
                fit_sum = 0.0
                for need, row in need_rows:
                    if need in targets:
                        fit_sum += 1.0
                    else:
                        top = 0.0
                        for c in categories:
                            v = row.get(c, 0.0)
                            if v > top:
                                top = v
                        fit_sum += top
                need_fit = fit_sum / len(need_rows)
            else:
                need_fit = NEUTRAL
            need_fits[fit_key] = need_fit

        interest_fit = interest_fits.get(categories)
        if interest_fit is None:
            if n_interests:
                if categories:
                    shared = len(interests & categories)
                    interest_fit = shared / min(n_interests, len(categories))
                else:
                    interest_fit = 0.0
            else:
                interest_fit = NEUTRAL
            interest_fits[categories] = interest_fit

        language_fit = language_fits.get(a.languages)
        if language_fit is None:
            offered = {primary_language(c) for c in a.languages} if a.languages else ENGLISH
            if first_language in offered:
                language_fit = 1.0
            elif not other_languages.isdisjoint(offered):
                language_fit = SECONDARY_LANGUAGE_FIT
            else:
                language_fit = 0.0
            language_fits[a.languages] = language_fit
        return need_fit, interest_fit, language_fit

    def day_fit_of(days: frozenset[str] | None) -> float:
        if person_days and days is not None:
            return len(person_days & days) / min(len(person_days), len(days))
        return NEUTRAL

    def spare_of(a: Activity, available: int | None, waitlist: bool) -> float:
        if available is None:
            return 1.0
        if waitlist:
            return 0.0
        spare = available / (a.capacity_maximum or PLENTY_OF_PLACES)
        return 1.0 if spare > 1.0 else spare

    def keep(key: tuple[float, float, str], scored: _Scored) -> None:
        """Insert a survivor among the first `limit` (its key is below `last`)."""
        nonlocal last
        # ids are unique, so the comparison never reaches the _Scored element
        bisect.insort(first, (*key, scored))
        if len(first) >= limit:
            del first[limit:]
            last = first[-1][:3]

    def consider(
        a: Activity,
        days: frozenset[str] | None,
        available: int | None,
        waitlist: bool,
        attendance: Attendance,
        distance: float | None,
        proximity: float,
        free: bool,
    ) -> None:
        """Score an activity that passes every hard rule and keep it if among the first."""
        nonlocal eligible
        need_fit, interest_fit, language_fit = fits(a)
        day_fit = day_fit_of(days)
        spare = spare_of(a, available, waitlist)
        if deprived:
            equity = (0.5 if free else 0.0) + (
                0.5 if attendance == "in-person" and a.near_public_transport is True else 0.0
            )
        else:
            equity = 0.0

        score = (
            wn * need_fit
            + wi * interest_fit
            + wp * proximity
            + wl * language_fit
            + wd * day_fit
            + wc * spare
            + we * equity
        )
        score = 0.0 if score < 0.0 else 1.0 if score > 1.0 else score
        eligible += 1
        if limit == 0:
            return
        key = (-score, math.inf if distance is None else distance, a.id)
        if last is not None and not key < last:
            return
        components = (need_fit, interest_fit, proximity, language_fit, day_fit, spare, equity)
        keep(key, _Scored(a, components, score, attendance, distance, waitlist, days, available))

    _add_ids(seen, activities)
    for a in activities:
        # 1. active, accepting referrals, a schedule valid today
        if a.status != "active" or not a.accepting_referrals:
            excluded[1] += 1
            continue
        days: frozenset[str] | None = None
        if a.schedules:
            valid = days_unknown = False
            for s in a.schedules:
                if (s.valid_from is None or s.valid_from <= today) and (
                    s.valid_to is None or today <= s.valid_to
                ):
                    valid = True
                    d = s.byday or (ALL_DAYS if s.freq and s.freq.lower() == "daily" else None)
                    if d is None:
                        days_unknown = True
                    elif days is None:
                        days = d
                    else:
                        days = days | d
            if not valid:
                excluded[1] += 1
                continue
            if days_unknown:
                days = None

        # 2. age and gender
        if (a.minimum_age is not None and age < a.minimum_age) or (
            a.maximum_age is not None and age > a.maximum_age
        ):
            excluded[2] += 1
            continue
        if a.eligibility_gender and (gender is None or a.eligibility_gender.lower() != gender):
            excluded[2] += 1
            continue

        # 3. capacity
        available = (
            a.capacity_available if places is None else places.get(a.id, a.capacity_available)
        )
        waitlist = available is not None and available <= 0
        if waitlist and not include_full:
            excluded[3] += 1
            continue

        # 4-6. how the person would take part
        mode = a.attending_type
        attendance: Attendance
        distance: float | None = None
        if mode == "in-person" or mode == "hybrid":
            broken = 0
            best_a = -1.0  # smallest haversine term: the nearest suitable location
            accessible = False
            for loc in a.locations:
                if access_needs:
                    has = loc.accessibility
                    meets = True
                    for accepts in access_needs:
                        if accepts.isdisjoint(has):
                            meets = False
                            break
                    if not meets:
                        continue
                    accessible = True
                lat, lon = loc.latitude, loc.longitude
                if located and lat is not None and lon is not None:
                    h = (
                        sin((lat - plat_deg) * half_rad) ** 2
                        + cos_plat * cos(lat * rad) * sin((lon - plon_deg) * half_rad) ** 2
                    )
                    if best_a < 0 or h < best_a:
                        best_a = h
            if access_needs and not accessible:
                broken = 5
            if not broken:
                # the smallest haversine term is the nearest location; NaN coordinates never pass
                if best_a >= 0:
                    distance = two_r * asin(sqrt(best_a) if best_a < 1.0 else 1.0)
                if distance is None or not distance <= max_travel:
                    broken = 6
            if not broken:
                attendance = "in-person"
                assert distance is not None
                proximity = exp(-decay * distance)
                if mode == "hybrid" and not no_digital and online_value > proximity:
                    proximity = online_value
            elif mode == "hybrid" and not no_digital:
                attendance = "online"
                distance = None
                proximity = online_value
            else:
                excluded[4 if mode == "hybrid" else broken] += 1
                continue
        elif mode == "online":
            if no_digital:
                excluded[4] += 1
                continue
            attendance = "online"
            proximity = online_value
        else:
            attendance = "phone"
            proximity = phone_value

        # 7. service area
        if a.service_areas and not any(c.upper() in areas for c in a.service_areas):
            excluded[7] += 1
            continue

        # 8. cost
        free = False
        if free_only or deprived:
            for option in a.cost_options:
                if option.free or option.amount == 0:
                    free = True
                    break
            if free_only and not free:
                excluded[8] += 1
                continue

        # 9. days
        if person_days and days is not None and person_days.isdisjoint(days):
            excluded[9] += 1
            continue

        consider(a, days, available, waitlist, attendance, distance, proximity, free)

    partials: dict[
        tuple[float, float],
        dict[
            tuple[frozenset[str], frozenset[str], frozenset[str]], tuple[float, float, float, float]
        ],
    ] = {}
    for group in prescreened:
        mode_of_group: Attendance = "online" if group.online else "phone"
        if group.online and no_digital:
            raise ValueError("an online group was prescreened for a person without digital access")
        # What the group shares is computed once: proximity, day fit, equity; and per distinct
        # code sets the score's sum up to the day fit, added in the order `consider` adds it
        # (so the scores are the same to the last bit), shared by the groups with the same
        # proximity and day fit.
        proximity = online_value if group.online else phone_value
        day_fit = day_fit_of(group.days)
        equity = ((0.5 if group.free else 0.0) + 0.0) if deprived else 0.0
        partial = partials.get((proximity, day_fit))
        if partial is None:
            partial = partials[(proximity, day_fit)] = {}
        _add_ids(seen, group.activities)
        for a in group.activities:
            available = (
                a.capacity_available if places is None else places.get(a.id, a.capacity_available)
            )
            waitlist = available is not None and available <= 0
            if waitlist and not include_full:
                excluded[3] += 1
                continue
            codes = (a.categories, a.target_needs, a.languages)
            known = partial.get(codes)
            if known is None:
                need_fit, interest_fit, language_fit = fits(a)
                known = partial[codes] = (
                    wn * need_fit
                    + wi * interest_fit
                    + wp * proximity
                    + wl * language_fit
                    + wd * day_fit,
                    need_fit,
                    interest_fit,
                    language_fit,
                )
            spare = spare_of(a, available, waitlist)
            score = known[0] + wc * spare + we * equity
            score = 0.0 if score < 0.0 else 1.0 if score > 1.0 else score
            eligible += 1
            if limit == 0 or (last is not None and -score > last[0]):
                continue  # below the first `limit` whatever its id
            key = (-score, math.inf, a.id)
            if last is not None and not key < last:
                continue
            components = (known[1], known[2], proximity, known[3], day_fit, spare, equity)
            keep(
                key,
                _Scored(a, components, score, mode_of_group, None, waitlist, group.days, available),
            )

    # In-person activities with one location: rules 5, 7, 8 and 9 per profile; per activity
    # places, distance and the score, whose sum is added in the order `consider` adds it, with
    # the terms before the proximity and the language term shared per distinct code sets.
    heads: dict[
        tuple[frozenset[str], frozenset[str], frozenset[str]],
        tuple[float, float, float, float, float],
    ] = {}
    site_access: dict[frozenset[str], bool] = {}  # rule 5 per accessibility
    site_areas: dict[frozenset[str], bool] = {}  # rule 7 per service areas
    # rule 9, day fit and its weighted term per days
    site_days: dict[frozenset[str] | None, tuple[bool, float, float]] = {}
    for site_group in sited:
        _add_ids(seen, [entry[0] for entry in site_group.entries])
        # per profile: the rule broken (0 none), free, days, day fit and its weighted term
        decided: list[tuple[int, bool, frozenset[str] | None, float, float] | None] = [None] * len(
            site_group.profiles
        )
        for a, lat, lon, cos_lat, number in site_group.entries:
            profile = decided[number]
            if profile is None:
                # profiles are many (thousands at 100 000 activities), their parts few
                accessibility, service_areas, free, days = site_group.profiles[number]
                inaccessible = site_access.get(accessibility)
                if inaccessible is None:
                    inaccessible = site_access[accessibility] = any(
                        accepts.isdisjoint(accessibility) for accepts in access_needs
                    )
                outside = site_areas.get(service_areas)
                if outside is None:
                    outside = site_areas[service_areas] = bool(
                        service_areas and service_areas.isdisjoint(areas)
                    )
                on_days = site_days.get(days)
                if on_days is None:
                    day_fit = day_fit_of(days)
                    on_days = site_days[days] = (
                        bool(person_days and days is not None and person_days.isdisjoint(days)),
                        day_fit,
                        wd * day_fit,
                    )
                if inaccessible:
                    rule = 5
                elif not located:
                    rule = 6
                elif outside:
                    rule = 7
                elif free_only and not free:
                    rule = 8
                elif on_days[0]:
                    rule = 9
                else:
                    rule = 0
                profile = decided[number] = (rule, free, days, on_days[1], on_days[2])
            rule, free, days, day_fit, day_term = profile
            available = (
                a.capacity_available if places is None else places.get(a.id, a.capacity_available)
            )
            waitlist = available is not None and available <= 0
            if waitlist and not include_full:
                excluded[3] += 1
                continue
            if rule == 5 or rule == 6:
                excluded[rule] += 1
                continue
            h = (
                sin((lat - plat_deg) * half_rad) ** 2
                + cos_plat * cos_lat * sin((lon - plon_deg) * half_rad) ** 2
            )
            # as in the loop above: a negative or NaN term is no distance
            distance = two_r * asin(sqrt(h) if h < 1.0 else 1.0) if h >= 0 else None
            if distance is None or not distance <= max_travel:
                excluded[6] += 1
                continue
            if rule:
                excluded[rule] += 1
                continue
            proximity = exp(-decay * distance)
            codes = (a.categories, a.target_needs, a.languages)
            head = heads.get(codes)
            if head is None:
                need_fit, interest_fit, language_fit = fits(a)
                head = heads[codes] = (
                    wn * need_fit + wi * interest_fit,
                    wl * language_fit,
                    need_fit,
                    interest_fit,
                    language_fit,
                )
            if available is None:  # `spare_of`, inline
                spare = 1.0
            elif waitlist:
                spare = 0.0
            else:
                spare = available / (a.capacity_maximum or PLENTY_OF_PLACES)
                if spare > 1.0:
                    spare = 1.0
            if deprived:
                equity = (0.5 if free else 0.0) + (0.5 if a.near_public_transport is True else 0.0)
            else:
                equity = 0.0
            score = head[0] + wp * proximity + head[1] + day_term + wc * spare + we * equity
            score = 0.0 if score < 0.0 else 1.0 if score > 1.0 else score
            eligible += 1
            if limit == 0 or (last is not None and -score > last[0]):
                continue  # below the first `limit` whatever its distance and id
            key = (-score, distance, a.id)
            if last is not None and not key < last:
                continue
            components = (head[2], head[3], proximity, head[4], day_fit, spare, equity)
            keep(
                key,
                _Scored(a, components, score, "in-person", distance, waitlist, days, available),
            )

    context = _ReasonContext(
        needs=needs,
        rows=dict(need_rows),
        interests=interests,
        accessibility=tuple(n for n in ACCESSIBILITY if n in person.accessibility_needs),
        days=person_days,
        languages=languages,
        need_texts=person.need_texts,
    )
    matches = tuple(
        Match(
            activity_id=s.activity.id,
            score=s.score,
            components=Components(*s.components),
            reasons=_reasons(context, s),
            attendance=s.attendance,
            distance_km=s.distance_km,
            waitlist=s.waitlist,
        )
        for s in (t[3] for t in first)
    )

    warnings = []
    if not located:
        warnings.append(
            "The person's location is unknown, so only online and phone activities are matched."
        )
    warnings.extend(
        f"The suitability table has no row for need {need!r}: it counts only where an activity "
        "targets it."
        for need in needs
        if need not in suitability
    )
    return MatchResult(
        matches=matches,
        excluded={rule: excluded[rule] for rule in Rule},
        eligible=eligible,
        warnings=tuple(warnings),
    )


@dataclass(frozen=True, slots=True)
class _ReasonContext:
    needs: tuple[str, ...]
    rows: Mapping[str, Mapping[str, float]]
    interests: frozenset[str]
    accessibility: tuple[str, ...]
    days: frozenset[str]
    languages: tuple[str, ...]
    need_texts: Mapping[str, str]


def _quote(text: str) -> str:
    """`text` as a match reason quotes it: whitespace collapsed, at most `QUOTE_MAX` characters."""
    words = " ".join(text.split())
    if len(words) > QUOTE_MAX:
        words = words[: QUOTE_MAX - 1].rstrip() + "\u2026"
    return f" (from the referral: '{words}')"


def _reasons(ctx: _ReasonContext, s: _Scored) -> tuple[str, ...]:
    """Plain-English reasons, each true of the match, in this order.

    "Targets <need>" (the activity lists the need) or "Can help with <need>" (a category's
    suitability >= `SUITED_THRESHOLD` in the table), quoting the referral's words when the need
    was found in them; "Matches interest in <categories>";
    "<x.x> km away" (the reported distance, one decimal; "Under 0.1 km away") and, for hybrid,
    "Can also join online" — or "Online" / "By phone"; "Free"; the days ("Tuesdays and
    Thursdays": the days in common when the person gave days, else the activity's days; "Every
    day"); in person, each accessibility need met ("Step-free access") and "Near public
    transport"; "In <language>" when the shared language is not English; "<n> places left" or
    "Full: waiting list".
    """
    a = s.activity
    reasons = []
    for need in ctx.needs:
        text = ctx.need_texts.get(need)
        quote = _quote(text) if text else ""
        if need in a.target_needs:
            reasons.append(f"Targets {_label(NEED_LABELS, need)}{quote}")
        elif max((ctx.rows[need].get(c, 0.0) for c in a.categories), default=0.0) >= (
            SUITED_THRESHOLD
        ):
            reasons.append(f"Can help with {_label(NEED_LABELS, need)}{quote}")
    if shared := sorted(ctx.interests & a.categories):
        reasons.append(f"Matches interest in {_join([_label(CATEGORY_LABELS, c) for c in shared])}")
    if s.distance_km is not None:
        reasons.append(distance_phrase(s.distance_km))
        if a.attending_type == "hybrid":
            reasons.append("Can also join online")
    elif s.attendance == "online":
        reasons.append("Online")
    else:
        reasons.append("By phone")
    if has_free_option(a):
        reasons.append("Free")
    if s.days is not None:
        days = s.days & ctx.days if ctx.days else s.days
        reasons.append(day_phrase(days))
    if s.attendance == "in-person":
        reasons.extend(ACCESSIBILITY_LABELS[n] for n in ctx.accessibility)
        if a.near_public_transport:
            reasons.append("Near public transport")
    offered = {primary_language(c) for c in a.languages} or ENGLISH
    spoken = next((lang for lang in ctx.languages if lang in offered), None)
    if spoken is not None and spoken != "en":
        reasons.append(f"In {LANGUAGE_NAMES.get(spoken, spoken)}")
    if s.waitlist:
        reasons.append("Full: waiting list")
    elif s.available is not None:
        n = s.available
        reasons.append(f"{n} place left" if n == 1 else f"{n} places left")
    return tuple(reasons)
