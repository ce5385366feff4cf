"""The engine's view of the directory, built once per process and kept fresh at every request.

Loading candidates from the database cost ~100 µs each (a base row and ~10 child rows through
the driver, then the engine's immutable values), and tens of thousands of activities reach the
engine at 100 000 (docs/performance.md, "Matching"). So each process keeps every activity as an
`engine.Activity`, built once, and per request only asks the database whether anything changed:

- **Freshness.** Every request reads ``count(*)`` and ``max(last_modified)`` of ``activity``
  (`repository.stamp`, two index reads). When either differs from the last request's, or
  `VERIFY_AFTER_S` has passed, the snapshot reads every activity's ``last_modified``, drops the
  ids that are gone and reloads the ones whose ``last_modified`` differs. Every write to an
  activity or its parts (directory create/replace/delete, import, seed-demo) rewrites its
  ``last_modified``, so a committed change is seen by the next request of every process. The
  exception is a write whose transaction commits after another, later-stamped write was seen
  (its ``last_modified`` is older than the maximum already seen, and the count is unchanged):
  the periodic verification picks it up within `VERIFY_AFTER_S`.
- **Places** change with every booking without touching ``last_modified``, so they are never
  taken from the snapshot for the hard rule: the service reads the activities with no place
  left at every request and the places of the returned matches (see `service.match_referral`).
- **Geography.** In-person activities are bucketed by their locations on a grid of
  `CELL_DEGREES` cells; the travel box of the person (the same box the SQL prefilter used)
  visits only the cells it overlaps, and tests each location exactly. Online, phone and hybrid
  activities have no geography: the listed ones (active and accepting referrals) are grouped
  per day by what the person-independent parts of the hard rules read (`_Day`), so a group
  the person fails is counted under its rule without visiting its activities in the engine.

The snapshot is per database URL and per process: several workers each hold their own, each
refreshed by its own requests.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import math
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.matching import engine, repository

REMOTE_TYPES = frozenset({"online", "phone", "hybrid"})
KM_PER_DEGREE = 111.32
CELL_DEGREES = 0.02  # ~2.2 km of latitude, ~1.4 km of longitude in England
VERIFY_AFTER_S = 60.0

Cell = tuple[int, int]
Box = tuple[float, float, float, float]  # south, north, west, east (degrees)


def travel_box(location: tuple[float, float], max_travel_km: float) -> Box:
    """The latitude/longitude box that holds every point within ``max_travel_km``."""
    lat, lon = location
    dlat = max_travel_km / KM_PER_DEGREE
    dlon = max_travel_km / (KM_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


def _cell_index(degrees: float) -> int:
    return math.floor(max(-400.0, min(400.0, degrees)) / CELL_DEGREES)


def _listed(a: engine.Activity) -> bool:
    """The first part of rule 1, which does not depend on the person or the day."""
    return a.status == "active" and a.accepting_referrals


@dataclass(frozen=True)
class Screened:
    """The activities to give the engine and what the snapshot excluded without it."""

    excluded: dict[engine.Rule, int]
    activities: list[engine.Activity]


@dataclass(frozen=True)
class _Index:
    remote: tuple[engine.Activity, ...]  # listed online, phone and hybrid activities
    remote_unlisted: int
    in_person: int  # every in-person activity, located or not
    cells: dict[Cell, list[tuple[float, float, engine.Activity]]]

    @classmethod
    def of(cls, activities: dict[str, engine.Activity]) -> _Index:
        remote: list[engine.Activity] = []
        remote_unlisted = in_person = 0
        cells: dict[Cell, list[tuple[float, float, engine.Activity]]] = defaultdict(list)
        for a in activities.values():
            if a.attending_type in REMOTE_TYPES:
                if _listed(a):
                    remote.append(a)
                else:
                    remote_unlisted += 1
                continue
            in_person += a.attending_type == "in-person"
            for loc in a.locations:
                lat, lon = loc.latitude, loc.longitude
                # NULL or non-finite coordinates are never inside a box (as in SQL)
                if lat is None or lon is None or not (math.isfinite(lat) and math.isfinite(lon)):
                    continue
                cells[(_cell_index(lat), _cell_index(lon))].append((lat, lon, a))
        return cls(tuple(remote), remote_unlisted, in_person, dict(cells))

    def inside(self, box: Box) -> dict[str, engine.Activity]:
        """The in-person activities with a location inside the box (bounds included)."""
        south, north, west, east = box
        rows = range(_cell_index(south), _cell_index(north) + 1)
        columns = range(_cell_index(west), _cell_index(east) + 1)
        if len(rows) * len(columns) <= len(self.cells):
            buckets = [b for i in rows for j in columns if (b := self.cells.get((i, j)))]
        else:  # a box larger than the occupied area: visit the occupied cells
            buckets = [b for (i, j), b in self.cells.items() if i in rows and j in columns]
        found: dict[str, engine.Activity] = {}
        for bucket in buckets:
            for lat, lon, a in bucket:
                if south <= lat <= north and west <= lon <= east:
                    found[a.id] = a
        return found


Eligibility = tuple[int | None, int | None, str | None]  # minimum_age, maximum_age, gender
# online (else phone), service areas (upper-case), a free option, the days on the day
Profile = tuple[bool, frozenset[str], bool, frozenset[str] | None]


@dataclass(frozen=True)
class _Day:
    """The listed remote activities on one day: how many have no schedule valid that day
    (rule 1), and the others by their age limits and gender (rule 2), so that a person's
    rules 1 and 2 are decided per group rather than per activity. Inside a group, online and
    phone activities are further grouped by what rules 4, 7, 8 and 9 read of them (`Profile`),
    so a profile the person fails is counted without visiting its activities one by one
    (except to tell the full ones, which rule 3 counts first); hybrid activities, whose rules
    depend on their locations, always go to the engine."""

    today: dt.date
    unscheduled: int
    groups: dict[Eligibility, tuple[list[engine.Activity], dict[Profile, list[engine.Activity]]]]

    @classmethod
    def of(cls, remote: tuple[engine.Activity, ...], today: dt.date) -> _Day:
        unscheduled = 0
        groups: dict[
            Eligibility, tuple[list[engine.Activity], dict[Profile, list[engine.Activity]]]
        ] = {}
        for a in remote:
            if not engine.scheduled_on(a, today):
                unscheduled += 1
                continue
            hybrid, profiles = groups.setdefault(
                (a.minimum_age, a.maximum_age, a.eligibility_gender), ([], defaultdict(list))
            )
            if a.attending_type == "hybrid":
                hybrid.append(a)
                continue
            profile = (
                a.attending_type == "online",
                frozenset(c.upper() for c in a.service_areas),
                engine.has_free_option(a),
                engine.days_on(a, today),
            )
            profiles[profile].append(a)
        return cls(today, unscheduled, groups)


def _broken(profile: Profile, person: engine.Person, areas: frozenset[str]) -> int:
    """The first of rules 4, 7, 8, 9 an online or phone activity of this profile breaks for
    the person (0 for none), as `engine.match` tests them."""
    online, service_areas, free, days = profile
    if online and person.digital_access == "none":
        return int(engine.Rule.DIGITAL_ACCESS)
    if service_areas and service_areas.isdisjoint(areas):
        return int(engine.Rule.SERVICE_AREA)
    if person.free_only and not free:
        return int(engine.Rule.COST)
    if person.available_days and days is not None and person.available_days.isdisjoint(days):
        return int(engine.Rule.AVAILABLE_DAYS)
    return 0


class Directory:
    """Every activity of one database as engine values, refreshed by `refresh`."""

    def __init__(self) -> None:
        self.activities: dict[str, engine.Activity] = {}
        self.modified: dict[str, dt.datetime] = {}
        self.stamp: repository.Stamp | None = None
        self.verified_at = -math.inf
        self._lock = asyncio.Lock()
        self._index: _Index | None = None
        self._day: _Day | None = None
        # places read since an activity was loaded, which override its capacity_available,
        # and the ids with no place left as last read
        self._places: dict[str, int | None] = {}
        self._full: set[str] = set()

    def _fresh(self, stamp: repository.Stamp) -> bool:
        return stamp == self.stamp and time.monotonic() - self.verified_at < VERIFY_AFTER_S

    async def refresh(self, session: AsyncSession) -> None:
        """Apply the changes committed since the last request (see the module docstring)."""
        stamp = await repository.stamp(session)
        if self._fresh(stamp):
            return
        async with self._lock:
            if self._fresh(stamp):  # another request of this process has just done it
                return
            started = time.monotonic()
            current = await repository.modified(session)
            gone = self.modified.keys() - current.keys()
            stale = [i for i, m in current.items() if self.modified.get(i) != m]
            loaded = await repository.activities(session, stale)
            gone |= set(stale) - {a.id for a, _ in loaded}  # deleted in between
            for activity_id in gone:
                self.activities.pop(activity_id, None)
                self.modified.pop(activity_id, None)
                self._places.pop(activity_id, None)
                self._full.discard(activity_id)
            for activity, modified in loaded:
                self.activities[activity.id] = activity
                self.modified[activity.id] = modified
                self._places.pop(activity.id, None)
                available = activity.capacity_available
                if available is not None and available <= 0:
                    self._full.add(activity.id)
                else:
                    self._full.discard(activity.id)
            if gone or stale:
                self._index = self._day = None
            if loaded:
                # Hundreds of thousands of long-lived objects made every full collection of
                # the cyclic garbage collector take 250-500 ms, in whichever request it fell
                # (measured: most of the p95). Frozen objects are skipped by the collector;
                # they are still freed by reference counting when replaced (no cycles).
                gc.freeze()
            self.stamp = stamp
            self.verified_at = started

    async def places(self, session: AsyncSession) -> Mapping[str, int | None]:
        """The places to use instead of the activities' ``capacity_available``: the activities
        with no place left are read now (one query on the ``capacity_available`` index), and
        the ones that were full and are not any more are read by id (few: the cancellations
        since the last request). Other counts of places are the snapshot's."""
        full = await repository.without_places(session)
        for activity_id in [i for i in full if i not in self._full and i in self.activities]:
            self._places[activity_id] = full[activity_id]
            self._full.add(activity_id)
        reopened = [i for i in self._full if i not in full]
        if reopened:
            again = await repository.places(session, reopened)
            for activity_id in reopened:
                if activity_id in again:
                    self._places[activity_id] = available = again[activity_id]
                    if available is not None and available <= 0:
                        continue  # full again since
                self._full.discard(activity_id)
        return self._places

    def candidates(
        self,
        person: engine.Person,
        today: dt.date,
        places: Mapping[str, int | None],
        include_full: bool,
    ) -> Screened:
        """The activities whose geography allows a match, for the engine, and the counts of
        those excluded here without visiting each: the remote activities not listed or with
        no schedule valid today (rule 1), whose age limits or gender exclude the person
        (rule 2), online and phone ones with no place left (rule 3, by ``places`` as
        `places` returns them) among those of a profile the person fails (rules 4, 7-9), and
        the in-person activities with no location inside the travel box (rule 6).

        Every activity the engine is not given is counted under the first rule it breaks, as
        the engine would count it (docs/matching.md, counting rule).
        """
        if self._index is None:
            self._index = _Index.of(self.activities)
        index = self._index
        day = self._day
        if day is None or day.today != today:
            day = self._day = _Day.of(index.remote, today)
        excluded = dict.fromkeys(engine.Rule, 0)
        excluded[engine.Rule.ACTIVE] = index.remote_unlisted + day.unscheduled
        gender = person.gender.lower() if person.gender else None
        areas = frozenset(code.strip().upper() for code in person.area_codes)
        found: list[engine.Activity] = []
        for (minimum_age, maximum_age, only), (hybrid, profiles) in day.groups.items():
            if not engine.eligible(minimum_age, maximum_age, only, person.age, gender):
                excluded[engine.Rule.ELIGIBILITY] += len(hybrid) + sum(
                    len(group) for group in profiles.values()
                )
                continue
            found.extend(hybrid)
            for profile, group in profiles.items():
                rule = _broken(profile, person, areas)
                if not rule:
                    found.extend(group)
                    continue
                full = 0
                if not include_full:
                    for a in group:
                        available = places.get(a.id, a.capacity_available)
                        if available is not None and available <= 0:
                            full += 1
                excluded[engine.Rule.CAPACITY] += full
                excluded[engine.Rule(rule)] += len(group) - full
        in_person_inside = 0
        if person.location is not None:
            for a in index.inside(travel_box(person.location, person.max_travel_km)).values():
                in_person_inside += a.attending_type == "in-person"
                if _listed(a):
                    found.append(a)
                else:
                    excluded[engine.Rule.ACTIVE] += 1
        excluded[engine.Rule.TRAVEL_DISTANCE] = index.in_person - in_person_inside
        return Screened(excluded, found)


_directories: dict[str, Directory] = {}


async def directory(session: AsyncSession) -> Directory:
    """This process's snapshot of the session's database, refreshed."""
    key = session.get_bind().engine.url.render_as_string(hide_password=True)
    found = _directories.get(key)
    if found is None:
        found = _directories[key] = Directory()
    await found.refresh(session)
    return found
