"""The matching engine (DESIGN.md section 7): plain values in, plain values out.

``match(person, activities, today=..., suitability=...)`` applies the nine hard rules
(`app.matching.rules`, where they are written and documented), scores the activities that pass
(`app.matching.scoring`), orders them and explains the first ``limit``. It does no I/O and reads
no settings or clock: the service fills `Person` and `Activity` from the database, passes the
need -> category suitability table (data, DESIGN 5.4), `Weights` from the settings
(``ASSETLINK_MATCH_WEIGHT_*``) and today's date.

Candidates come from three sources, each tested only for the rules its caller has not already
decided: plain ``activities`` (every rule) and `Sited`
entries (rules 3 and 6 per activity, 5 and 7-9 per profile, hybrid ones joined online out of
reach as plain ones are; they may come as rows of a day's table, `columns.SiteRows`, decided
and scored approximately as arrays first, of which only those that can be among the first go
on). Each candidate then goes through one function,
which counts it under the first rule it breaks or scores it and keeps it if among the first: so
an activity gets the same figures whichever way it came. The function takes a batch, and the
plain and sited candidates are first sorted into batches (`app.matching.batches`) so that it
runs once per batch: a call per candidate costs more than its work.

Order: score descending, then distance ascending (online, phone and unknown distance last), then
activity id; then the first five are made diverse (`_diversify`: an activity of a kind already
placed above counts `SIMILAR_PENALTY` less per such activity, and none goes above the next by
score unless it fits the person's needs as well), deterministically. Reasons are
plain English and only say what is true of the match (`app.matching.reasons`).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Literal

from app.matching import columns, reasons, rules
from app.matching.batches import Batches
from app.matching.columns import SiteRows as SiteRows
from app.matching.diversity import DIVERSE_FIRST as DIVERSE_FIRST
from app.matching.diversity import DIVERSE_POOL, diversify
from app.matching.diversity import SIMILAR_PENALTY as SIMILAR_PENALTY
from app.matching.evidence import NO_EVIDENCE, Evidence
from app.matching.labels import CATEGORY_LABELS as CATEGORY_LABELS
from app.matching.labels import GROUP_WISH_LABELS
from app.matching.labels import NEED_LABELS as NEED_LABELS
from app.matching.rules import ACCEPTS, ALL_DAYS, RAD, PersonView
from app.matching.rules import ACCESSIBILITY as ACCESSIBILITY
from app.matching.rules import DAYS as DAYS
from app.matching.rules import Rule as Rule
from app.matching.rules import days_on as days_on
from app.matching.rules import has_free_option as has_free_option
from app.matching.rules import scheduled_on as scheduled_on
from app.matching.scoring import DEFAULT_WEIGHTS as DEFAULT_WEIGHTS
from app.matching.scoring import (
    GROUP_WISHES,
    HOME,
    NEUTRAL,
    Fits,
    Scoring,
)
from app.matching.scoring import Components as Components
from app.matching.scoring import Suitability as Suitability
from app.matching.scoring import Weights as Weights
from app.matching.scoring import primary_language as primary_language

AttendanceMode = Literal["in-person", "online", "phone", "any"]
DigitalAccess = Literal["none", "limited", "full"]
AttendingType = Literal["in-person", "online", "phone", "hybrid"]
Attendance = Literal["in-person", "online", "phone"]

ATTENDANCE_MODES = frozenset({"in-person", "online", "phone", "any"})
DIGITAL_ACCESS = frozenset({"none", "limited", "full"})


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
    situations: frozenset[str] = frozenset()  # read from need_texts (app.terminology.situations)
    group_wishes: frozenset[str] = frozenset()  # scoring.GROUP_WISHES

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
        if unknown := self.accessibility_needs - ACCEPTS.keys():
            problems.append(f"accessibility_needs {sorted(unknown)} are unknown")
        if unknown := self.available_days - ALL_DAYS:
            problems.append(f"available_days {sorted(unknown)} are unknown")
        if unknown := self.group_wishes - GROUP_WISHES:
            problems.append(f"group_wishes {sorted(unknown)} are unknown")
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
    # read from its eligibility text, name and description when the directory is loaded
    situations: frozenset[str] = frozenset()  # the situations it is made for; empty = anyone
    group_traits: frozenset[str] = frozenset()  # small, quiet, busy (scoring's group fit)


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


@dataclass(frozen=True, slots=True)
class _Scored:
    """A survivor of the hard rules; reasons are only built for the ones returned."""

    activity: Activity
    components: tuple[float, float, float, float, float, float, float, float, float, float]
    score: float
    attendance: Attendance
    distance_km: float | None
    waitlist: bool
    days: frozenset[str] | None  # the activity's days when known
    available: int | None  # the places used (``capacity``'s when given, else the activity's)


def _given(activities: Sequence[Activity], sited: Sequence[Sited | SiteRows], checked: bool) -> int:
    """How many activities are given one by one or as sited rows, each id refused if given
    twice when ``checked``, with set operations per list (cheaper than a check per activity)."""
    if not checked:
        return len(activities) + sum(
            len(g) if isinstance(g, SiteRows) else len(g.entries) for g in sited
        )
    seen: set[str] = set()
    sites = (
        [g.table.activities[i] for i in g.rows.tolist()]
        if isinstance(g, SiteRows)
        else [entry[0] for entry in g.entries]
        for g in sited
    )
    for group in (activities, *sites):
        ids = [a.id for a in group]
        unique = set(ids)
        if len(unique) == len(ids) and seen.isdisjoint(unique):
            seen |= unique
            continue
        for i in ids:
            if i in seen:
                raise ValueError(f"activity id {i!r} is given twice")
            seen.add(i)
    return len(seen)


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
    return activity, lat, lon, math.cos(lat * RAD), number


def site_profile(
    activity: Activity, today: date, attending: AttendingType = "in-person"
) -> SiteProfile | None:
    """The activity's `SiteProfile` on ``today``, or None when it cannot be `Sited`: not of
    the ``attending`` type (in-person, or hybrid for a hybrid group), or not exactly one
    location with finite coordinates."""
    if activity.attending_type != attending or len(activity.locations) != 1:
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
    as if it were among its ``activities``, without re-testing the rest.

    With ``hybrid``, the entries are hybrid activities (their profiles from `site_profile`
    with ``"hybrid"``): one within reach of its location, which meets the person's needs, is
    attended in person; any other is joined online (rules 4 and 7-9), as `match` does."""

    entries: Sequence[SiteEntry]
    profiles: Sequence[SiteProfile]
    hybrid: bool = False


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
    sited: Sequence[Sited | SiteRows] = (),
    evidence: Evidence = NO_EVIDENCE,
    leave_out: frozenset[str] = frozenset(),
    ids_unique: bool = False,
) -> MatchResult:
    """The activities the person can take part in, best first, with scores and reasons.

    ``sited`` are further activities for which the caller has tested rules 1 and 2: they count
    and score as if given in ``activities``. In-person ones with one location each (see
    `Sited`) come as entries or as rows of a day's table (`columns.SiteRows`: rules 3 and 5-9
    are decided and the rows scored as arrays, and only those that can be among the first are
    scored here, see `columns.split`); hybrid, online and phone ones as rows of a day's table
    (`columns.decide_joinable`).

    ``capacity`` (activity id -> places available, None = not limited) overrides the
    activities' ``capacity_available`` for the ids it has: the places change with every
    booking, so a caller holding older activity values passes the current places here.

    An id given twice is refused (ValueError) unless ``ids_unique``: the caller vouches that
    none is (the snapshot: one mapping by id), and `match` only counts the activities.

    ``evidence`` gives the outcome component per activity id (`NEUTRAL` for the others) and
    its reason (`app.matching.evidence`). ``leave_out`` names activities that count as eligible
    but are not returned (marked not suitable for this referral): the matches are the first
    ``limit`` of the others.
    """
    if isinstance(today, datetime):
        raise TypeError("today must be a date, not a datetime")
    if limit < 0:
        raise ValueError("limit must not be negative")
    view = PersonView.of(person)
    scoring = Scoring.of(person, suitability, weights, evidence.values)
    excluded = [0] * (max(Rule) + 1)
    # the first DIVERSE_POOL by score whatever the limit, so a larger limit only extends the list
    ranking = _Ranking(max(limit, DIVERSE_POOL) + len(leave_out) if limit else 0)
    # whether a free option matters (rule 8, equity): else it is not looked for
    wants_free = view.free_only or scoring.deprived
    batches = Batches(view, rules.within_reach(view), wants_free)
    given = _given(activities, sited, checked=not ids_unique)
    for a in activities:
        _plain(a, view, today, wants_free, batches, excluded)
    places = capacity or None
    joinable: list[columns.JoinableRows] = []
    for site_group in sited:
        if isinstance(site_group, SiteRows) and site_group.table.views:
            asked_ = (person, view, scoring, places, include_full, wants_free, excluded)
            joinable.append(decided := columns.decide_joinable(site_group, *asked_))
            batches.nearby += decided.nearby
            continue
        if isinstance(site_group, SiteRows):
            asked = (person, view, scoring, ranking.limit, places, include_full, excluded)
            entries, _, nearby = columns.split(site_group, *asked)  # the rest counted: `_given`
            batches.nearby += nearby
            site_group = Sited(entries, site_group.table.profiles)
        batches.add(site_group)
    # the in-person candidates are known before any is scored: few that fit, remote comes up
    if batches.few_nearby(person, places):
        scoring = scoring.from_home_raised()
    for decided in joinable:  # the first by score, once online proximity is known
        entries, joined = columns.first_joinable(decided, scoring, ranking.limit)
        batches.add(Sited(entries, decided.site_rows.table.profiles, hybrid=True))
        batches.joined(joined)
    fit_of = _fit_once(scoring)
    consider = _considerer(scoring, fit_of, ranking, include_full, places, excluded)
    batches.consider(consider)
    eligible = given - sum(excluded)  # every candidate is counted or eligible
    kept = [t[3] for t in ranking.first if t[3].activity.id not in leave_out]
    return _result(person, suitability, scoring, kept, evidence, excluded, eligible, limit)


Codes = Hashable  # `scoring.fit_key`: what the fits read of an activity
Partial = tuple[float, float, Fits]  # a remote activity's terms but places and equity, the rest
Consider = Callable[
    [Sequence[Activity], Sequence[float] | None, int, Attendance, frozenset[str] | None, bool],
    None,
]
"""(activities, their distances in km when in person (else None), the first of rules 4-9 they
break or 0, attendance, days on the day, a free option; all but the activities and distances
shared): counts each under rule 3 or the rule broken, or scores it and keeps it if among the
first. Takes a batch, so that the candidates that share days and a free option go through in
one call."""


class _Ranking:
    """The first `limit` survivors by (-score, distance, id), kept sorted: holding every
    survivor kept thousands of objects alive per match, which the garbage collector promoted
    and then scanned in full collections."""

    __slots__ = ("first", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.first: list[tuple[float, float, str, _Scored]] = []

    def keep(
        self, key: tuple[float, float, str], scored: _Scored
    ) -> tuple[float, float, str] | None:
        """Insert a survivor below the last key; the last key once `limit` are kept."""
        first = self.first
        bisect.insort(first, (*key, scored))  # ids are unique: never compares the _Scored
        if len(first) < self.limit:
            return None
        del first[self.limit :]
        return first[-1][:3]


def _considerer(  # noqa: PLR0915 (the matching hot path: docs/matching.md)
    scoring: Scoring,
    fit_of: Callable[[Codes, Activity], Fits],
    ranking: _Ranking,
    include_full: bool,
    places: Mapping[str, int | None] | None,
    excluded: list[int],
) -> Consider:
    """The function every candidate goes through (see `Consider`)."""
    inf, exp, limit, capacity = math.inf, math.exp, ranking.limit, Rule.CAPACITY
    wn, wi, wp, wl, _, wc, we, wg, wt, wo = scoring.shares
    fit_key, deprived = scoring.fit_key, scoring.deprived
    decay, nearby, outcomes, home = scoring.decay, scoring.nearby, scoring.outcome, HOME
    last: tuple[float, float, str] | None = None  # the last key kept, once `limit` are kept
    hybrid_online = scoring.online if scoring.also_online else -1.0
    # computed once: rule 3 per places; terms per days, code set (remote: mode, day fit too)
    (count, full), day_terms = _counter(include_full, places, excluded), _day_terms(scoring)
    heads: dict[Codes, tuple[float, float, float, Fits]] = {}
    remote: dict[str, dict[float, dict[Codes, Partial]]] = {"online": {}, "phone": {}}
    no_partials: dict[Codes, Partial] = {}

    def consider(  # noqa: PLR0915 (the matching hot path: docs/matching.md)
        candidates: Sequence[Activity],
        distances: Sequence[float] | None,
        broken: int,
        attendance: Attendance,
        days: frozenset[str] | None,
        free: bool,
    ) -> None:
        nonlocal last
        if broken:
            count(candidates, broken)
            return
        day = day_terms(days)  # what the candidates share: day fit, remote proximity, equity
        partials, proximity = no_partials, 0.0
        if distances is None:
            proximity = scoring.online if attendance == "online" else scoring.phone
            by_day = remote[attendance]
            partials = by_day.get(day[0]) or by_day.setdefault(day[0], {})
        free_part = 0.5 if free else 0.0
        position = -1  # of the candidate (zip would cost two objects per call)
        for a in candidates:
            position += 1
            distance = None if distances is None else distances[position]
            available = (
                a.capacity_available if places is None else places.get(a.id, a.capacity_available)
            )
            waitlist = full.get(available)
            if waitlist is None:
                waitlist = full[available] = not rules.has_place(available)
            if waitlist and not include_full:
                excluded[capacity] += 1
                continue
            spare = 0.0 if waitlist else 1.0  # a place is a place (scoring: spare capacity)
            equity = 0.0
            if deprived:
                near = distance is not None and a.near_public_transport is True
                equity = free_part + (0.5 if near else 0.0)
            outcome = outcomes.get(a.id, NEUTRAL) if outcomes else NEUTRAL
            codes = fit_key(a)
            # the terms are added in the order of `Weights`: the sum's rounding depends on it
            if distance is None:
                known = partials.get(codes)
                if known is None:
                    n, i, lang, g, t = fit = fit_of(codes, a)
                    known = partials[codes] = (
                        wn * n + wi * i + wp * proximity + wl * lang + day[1],
                        wg * g + wt * t,
                        fit,
                    )
                fit, p = known[2], proximity
                s = known[0] + wc * spare + we * equity + known[1] + wo * outcome
            else:
                p = 1.0 if home in a.group_traits else nearby * exp(-decay * distance)  # at home
                if a.attending_type == "hybrid" and hybrid_online > p:
                    p = hybrid_online  # also joined online
                head = heads.get(codes)
                if head is None:
                    n, i, lang, g, t = fit = fit_of(codes, a)
                    head = heads[codes] = (wn * n + wi * i, wl * lang, wg * g + wt * t, fit)
                fit = head[3]
                s = head[0] + wp * p + head[1] + day[1] + wc * spare + we * equity + head[2]
                s += wo * outcome
            s = 0.0 if s < 0.0 else 1.0 if s > 1.0 else s
            if limit == 0 or (last is not None and -s > last[0]):
                continue  # below the first `limit` whatever its distance and id
            key = (-s, inf if distance is None else distance, a.id)
            if last is not None and not key < last:
                continue
            components = (fit[0], fit[1], p, fit[2], day[0], spare, equity, fit[3], fit[4], outcome)
            scored = _Scored(a, components, s, attendance, distance, waitlist, days, available)
            last = ranking.keep(key, scored)

    return consider


def _fit_once(scoring: Scoring) -> Callable[[Codes, Activity], Fits]:
    """The fits of an activity with fit key ``codes``, computed once per key in a match."""
    fits = scoring.fits
    fitted: dict[Codes, Fits] = {}

    def fit_of(codes: Codes, activity: Activity) -> Fits:
        fit = fitted.get(codes)
        if fit is None:
            fit = fitted[codes] = fits(activity)
        return fit

    return fit_of


def _day_terms(scoring: Scoring) -> Callable[[frozenset[str] | None], tuple[float, float]]:
    """The day fit of an activity's days on the day and its weighted term, computed once per
    distinct days."""
    day_fit, wd = scoring.day_fit, scoring.shares[4]
    seen: dict[frozenset[str] | None, tuple[float, float]] = {}

    def terms(days: frozenset[str] | None) -> tuple[float, float]:
        day = seen.get(days)
        if day is None:
            fit = day_fit(days)
            day = seen[days] = (fit, wd * fit)
        return day

    return terms


def _counter(
    include_full: bool,
    places: Mapping[str, int | None] | None,
    excluded: list[int],
) -> tuple[Callable[[Sequence[Activity], int], None], dict[int | None, bool]]:
    """A function counting candidates that break one of rules 4-9 under rule 3 (first) or that
    rule, and the memo of rule 3 per places value it fills (for `consider` too)."""
    capacity = Rule.CAPACITY
    full: dict[int | None, bool] = {}

    def count(candidates: Sequence[Activity], broken: int) -> None:
        for a in candidates:
            available = (
                a.capacity_available if places is None else places.get(a.id, a.capacity_available)
            )
            waitlist = full.get(available)
            if waitlist is None:
                waitlist = full[available] = not rules.has_place(available)
            excluded[capacity if waitlist and not include_full else broken] += 1

    return count, full


def _plain(
    a: Activity,
    view: PersonView,
    today: date,
    wants_free: bool,
    batches: Batches,
    excluded: list[int],
) -> None:
    """A plain candidate: every rule."""
    if not rules.active(a, today):
        excluded[Rule.ACTIVE] += 1
        return
    if not rules.eligible(view, a.minimum_age, a.maximum_age, a.eligibility_gender):
        excluded[Rule.ELIGIBILITY] += 1
        return
    free = wants_free and has_free_option(a)
    days = days_on(a, today)
    mode = a.attending_type
    if mode == "online" or mode == "phone":
        batches.remote(
            a, rules.remote(view, mode == "online", a.service_areas, free, days), mode, days, free
        )
        return
    # in person at the nearest location that meets the needs (rule 5) and is within reach (6)
    sites: list[rules.Site] = []
    accessible = not view.accessibility
    for location in a.locations:
        if rules.accessible(view, location.accessibility):
            accessible = True
            lat, lon = location.latitude, location.longitude
            if lat is not None and lon is not None:
                sites.append((location, lat, lon, math.cos(lat * RAD), 0))
    distance: float | None = None  # to the nearest
    for found in batches.within(sites):
        if found is not None and (distance is None or found < distance):
            distance = found
    if distance is not None:
        broken = rules.after_attendance(view, a.service_areas, free, days)
        if broken:
            batches.broken[broken].append(a)
        else:
            activities, distances = batches.near(free, days)
            activities.append(a)
            distances.append(distance)
    elif mode == "hybrid":  # joined online instead
        batches.remote(
            a, rules.remote(view, True, a.service_areas, free, days), "online", days, free
        )
    else:
        batches.broken[Rule.TRAVEL_DISTANCE if accessible else Rule.ACCESSIBILITY].append(a)


def _result(
    person: Person,
    suitability: Suitability,
    scoring: Scoring,
    ranked: list[_Scored],
    evidence: Evidence,
    excluded: list[int],
    eligible: int,
    limit: int,
) -> MatchResult:
    context = reasons.ReasonContext(
        needs=scoring.needs,
        rows=scoring.rows,
        interests=person.interests,
        accessibility=tuple(n for n in ACCESSIBILITY if n in person.accessibility_needs),
        days=person.available_days,
        languages=scoring.languages,
        need_texts=person.need_texts,
        few_nearby=scoring.few_nearby,
        group_wishes=tuple(w for w in GROUP_WISH_LABELS if w in person.group_wishes),
        situations=person.situations,
        online_too=person.digital_access != "none",
    )
    matches = tuple(
        Match(
            activity_id=s.activity.id,
            score=s.score,
            components=Components(*s.components),
            reasons=reasons.explain(context, s)
            + evidence.reasons.get(s.activity.id, ())
            + ((f"Similar to {like}, placed above",) if like is not None else ()),
            attendance=s.attendance,
            distance_km=s.distance_km,
            waitlist=s.waitlist,
        )
        for s, like in diversify(ranked)[:limit]
    )
    warnings = []
    if person.location is None:
        warnings.append(
            "The person's location is unknown, so only online and phone activities are matched."
        )
    warnings.extend(
        f"The suitability table has no row for need {need!r}: it counts only where an activity "
        "targets it."
        for need in scoring.needs
        if need not in suitability
    )
    return MatchResult(
        matches=matches,
        excluded={rule: excluded[rule] for rule in Rule},
        eligible=eligible,
        warnings=tuple(warnings),
    )
