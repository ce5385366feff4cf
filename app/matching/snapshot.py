"""The engine's view of the directory, built once per process and kept fresh at every request.

Loading candidates from the database cost ~100 µs each (a base row and ~10 child rows through
the driver, then the engine's immutable values), and tens of thousands of activities reach the
engine at 100 000 (docs/performance.md, "Matching"). So each process keeps every activity as an
`engine.Activity`, built once, and per request only asks the database whether anything changed:

- **Freshness.** Every insert, update and delete of an ``activity`` row, whoever makes it
  (directory writes, imports, seeding, bookings changing places), adds a row to
  ``activity_change`` through a database trigger (migration 0009). Every request reads the
  rows it has not applied (`repository.changes`: one indexed read, exact on both databases,
  including transactions that commit out of ``seq`` order on PostgreSQL) and reloads only the
  activities they name, so a committed change is in the next request of every process. The log
  is a bounded ring; a process further behind than the ring reloads everything, and so does one
  that finds another log under the same URL: the database made again (its ``database_epoch``
  differs, read in the same statement) or restored from a backup (the log ends before what was
  applied).
- **Places.** A reloaded activity whose only difference is its places (a booking) keeps its
  place in the indexes below and its new places go in `Directory.capacity`, which the service
  hands to the engine; any other difference rebuilds the indexes at the next request.
- **Geography.** In-person activities are bucketed by their locations on a grid of
  `CELL_DEGREES` cells; the travel box of the person (the same box the SQL prefilter used)
  visits only the cells it overlaps, and tests each location exactly. Those with one location
  are the rows of the day's `columns.SiteTable`, sorted by cell, decided as arrays: rules 1
  and 2 here, then the engine takes the rows that pass (`engine.SiteRows`), decides rules 3
  and 5-9 per row as arrays and scores exactly only those that can be among the first.
  Hybrid activities with one location are the rows of another such table, all given (with
  those inside the box marked): the engine decides per row, as arrays, whether each is
  attended in person or joined online (`columns.decide_hybrids`). Online and phone
  activities have no geography: the listed ones (active and accepting referrals) are grouped
  per day by what the person-independent parts of the hard rules read (`_Day`), so a group
  the person fails is counted under its rule without visiting its activities in the engine;
  so are the online views of the few hybrid activities without one location.

The snapshot is per database URL and per process: several workers each hold their own, each
refreshed by its own requests.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import gc
import itertools
import math
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import URL
from sqlalchemy.ext.asyncio import AsyncSession

from app.matching import columns, engine, repository, rules
from app.matching.remote import Run, in_runs

REMOTE_TYPES = frozenset({"online", "phone", "hybrid"})
KM_PER_DEGREE = 111.32
CELL_DEGREES = 0.02  # ~2.2 km of latitude, ~1.4 km of longitude in England

Cell = tuple[int, int]
T = TypeVar("T")
Box = tuple[float, float, float, float]  # south, north, west, east (degrees)


def travel_box(location: tuple[float, float], max_travel_km: float) -> Box:
    """The latitude/longitude box that holds every point within ``max_travel_km``."""
    lat, lon = location
    dlat = max_travel_km / KM_PER_DEGREE
    dlon = max_travel_km / (KM_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


def _cell_index(degrees: float) -> int:
    return math.floor(max(-400.0, min(400.0, degrees)) / CELL_DEGREES)


@dataclass(frozen=True)
class Screened:
    """The activities to give the engine (those it tests, the online and phone ones of the
    profiles that pass, which it only scores, and the in-person ones with one location, whose
    rules it decides per profile) and what the snapshot excluded without it."""

    excluded: dict[engine.Rule, int]
    activities: list[engine.Activity]
    prescreened: list[engine.Prescreened]
    sited: list[engine.Sited | engine.SiteRows]

    @property
    def count(self) -> int:
        return (
            len(self.activities)
            + sum(len(g.activities) + sum(len(r[2]) for r in g.runs) for g in self.prescreened)
            + sum(len(g) if isinstance(g, engine.SiteRows) else len(g.entries) for g in self.sited)
        )


Grid = dict[Cell, list[tuple[float, float, engine.Activity]]]


def _located(activity: engine.Activity, coordinates: list[tuple[float, float]], grid: Grid) -> None:
    for lat, lon in coordinates:
        grid[(_cell_index(lat), _cell_index(lon))].append((lat, lon, activity))


def _coordinates(activity: engine.Activity) -> list[tuple[float, float]]:
    """The activity's locations that can be inside a box: NULL or non-finite coordinates never
    are (as in SQL)."""
    return [
        (lat, lon)
        for loc in activity.locations
        if (lat := loc.latitude) is not None
        and (lon := loc.longitude) is not None
        and math.isfinite(lat)
        and math.isfinite(lon)
    ]


def _overlapping(grid: Mapping[Cell, T], box: Box) -> list[T]:
    """The occupied cells of the grid that overlap the box."""
    south, north, west, east = box
    rows = range(_cell_index(south), _cell_index(north) + 1)
    columns = range(_cell_index(west), _cell_index(east) + 1)
    if len(rows) * len(columns) <= len(grid):
        return [c for i in rows for j in columns if (c := grid.get((i, j))) is not None]
    # a box larger than the occupied area: visit the occupied cells
    return [c for (i, j), c in grid.items() if i in rows and j in columns]


def _cells_of(box: Box) -> tuple[range, range]:
    """The grid rows and columns the box overlaps."""
    south, north, west, east = box
    return range(_cell_index(south), _cell_index(north) + 1), range(
        _cell_index(west), _cell_index(east) + 1
    )


def _inside(grid: Grid, box: Box) -> dict[str, engine.Activity]:
    """The activities of the grid with a location inside the box (bounds included)."""
    south, north, west, east = box
    found: dict[str, engine.Activity] = {}
    for bucket in _overlapping(grid, box):
        for lat, lon, a in bucket:
            if south <= lat <= north and west <= lon <= east:
                found[a.id] = a
    return found


@dataclass(frozen=True)
class _Index:
    remote: tuple[engine.Activity, ...]  # listed online, phone and hybrid activities
    remote_unlisted: int
    in_person: int  # every in-person activity, located or not
    cells: Grid  # in-person activities with one location that can be inside a box, by it
    spread: Grid  # in-person activities with several such locations, by each
    hybrid_cells: Grid  # listed hybrid activities without one location (`_sited`), by location
    # Listed hybrid activities as the engine sees them when none of their locations is within
    # reach (`columns.first_hybrids`, and the groups of `_Day` for those without one location):
    # online ones (attended online, or excluded under rule 4 without digital access; the
    # same rules, score and reasons), so that the engine skips their locations.
    online_views: dict[str, engine.Activity]

    @classmethod
    def of(cls, activities: dict[str, engine.Activity]) -> _Index:
        remote: list[engine.Activity] = []
        remote_unlisted = in_person = 0
        cells: Grid = defaultdict(list)
        spread: Grid = defaultdict(list)
        hybrid_cells: Grid = defaultdict(list)
        online_views: dict[str, engine.Activity] = {}
        for a in activities.values():
            if a.attending_type in REMOTE_TYPES:
                if not rules.listed(a):
                    remote_unlisted += 1
                    continue
                remote.append(a)
                if a.attending_type == "hybrid":
                    if not _sited(a):
                        _located(a, _coordinates(a), hybrid_cells)
                    online_views[a.id] = dataclasses.replace(
                        a, attending_type="online", locations=()
                    )
                continue
            in_person += a.attending_type == "in-person"
            coordinates = _coordinates(a)
            _located(a, coordinates, cells if len(coordinates) == 1 else spread)
        return cls(
            tuple(remote),
            remote_unlisted,
            in_person,
            dict(cells),
            dict(spread),
            dict(hybrid_cells),
            online_views,
        )


def _sited(activity: engine.Activity) -> bool:
    """Whether the activity has exactly one location, at finite coordinates (as
    `engine.site_profile` requires)."""
    return len(activity.locations) == 1 and len(_coordinates(activity)) == 1


Eligibility = columns.Eligibility
# online (else phone), service areas (upper-case), a free option, the days on the day
Profile = tuple[bool, frozenset[str], bool, frozenset[str] | None]


def _full(available: int | None) -> bool:
    """Rule 3 broken, as a count."""
    return not rules.has_place(available)


@dataclass(frozen=True, eq=False)  # compared and hashed by identity, as dictionary keys
class _Profiled:
    """The online and phone activities of one group and profile (hybrid ones as their online
    views), and how many of them had no place left when the day was indexed (their later
    places are in `Directory.capacity`)."""

    profile: Profile
    number: int  # of the profile among the day's distinct profiles
    activities: list[engine.Activity]
    full: int
    # the number of what `engine.Prescreened` reads of it (mode, a free option, days) among
    # the day's (`_Day.shared`): the groups with the same number are one group for the engine
    shared: int
    runs: tuple[Run, ...]  # the activities again, in runs of those that score alike


def _open_on(a: engine.Activity, today: dt.date) -> Eligibility | None:
    """The activity's age limits and gender, or None when it breaks rule 1 on ``today``."""
    if not rules.active(a, today):
        return None
    return (a.minimum_age, a.maximum_age, a.eligibility_gender)


@dataclass(frozen=True)
class _Day:
    """The listed remote activities on one day: how many have no schedule valid that day
    (rule 1), and the others by their age limits and gender (rule 2), so that a person's
    rules 1 and 2 are decided per group rather than per activity. Inside a group, online and
    phone activities, and hybrid ones as their online views, are further grouped by what rules
    4, 7, 8 and 9 read of them (`Profile`): a profile the person fails is counted without
    visiting its activities (its full ones under rule 3 first, as the engine counts them); the
    activities of a profile the person passes go to the engine as `engine.Prescreened`, which
    it only checks for places and scores, in runs of those that score alike (`remote.Run`,
    made here once per day). A hybrid activity with several locations, or none at finite
    coordinates, within the person's reach goes to the engine as itself instead of its view.
    In-person activities with one location are the rows of ``sites``, hybrid ones with one
    location those of ``hybrids`` (`columns.SiteTable`s, sorted by grid cell), not in the
    groups: the engine decides them as arrays whether in the person's reach or not."""

    today: dt.date
    unscheduled: int
    groups: dict[Eligibility, list[_Profiled]]
    sizes: dict[Eligibility, int]  # the activities of each group
    profiles: int  # distinct profiles
    shared: list[tuple[bool, bool, frozenset[str] | None]]  # see `_Profiled.shared`
    # a remote activity's group and profile, whether it was full when indexed, and its run
    profile_of: dict[str, tuple[_Profiled, bool, int]]
    sites: columns.SiteTable
    hybrids: columns.SiteTable

    @classmethod
    def of(cls, index: _Index, today: dt.date) -> _Day:
        remote, views = index.remote, index.online_views
        unscheduled = 0
        profiled: dict[Eligibility, dict[Profile, list[engine.Activity]]] = defaultdict(
            lambda: defaultdict(list)
        )
        placed: dict[str, tuple[Eligibility, Profile, bool]] = {}
        hybrids: list[engine.Activity] = []
        for a in remote:
            if a.attending_type == "hybrid" and _sited(a):
                hybrids.append(a)
                continue
            if not rules.scheduled_on(a, today):
                unscheduled += 1
                continue
            key = (a.minimum_age, a.maximum_age, a.eligibility_gender)
            view = views.get(a.id, a)  # hybrid: its online view
            profile = (
                view.attending_type == "online",
                frozenset(c.upper() for c in a.service_areas),
                rules.has_free_option(a),
                rules.days_on(a, today),
            )
            members = profiled[key][profile]
            placed[a.id] = (key, profile, _full(a.capacity_available))
            members.append(view)
        numbers: dict[Profile, int] = {}
        shared: dict[tuple[bool, bool, frozenset[str] | None], int] = {}
        fit_numbers: dict[object, int] = {}
        run_of: dict[str, int] = {}
        by_key: dict[Eligibility, dict[Profile, _Profiled]] = defaultdict(dict)
        for key, profiles in profiled.items():
            for profile, members in profiles.items():
                runs, runs_of = in_runs(members, fit_numbers)
                run_of.update(runs_of)
                by_key[key][profile] = _Profiled(
                    profile,
                    numbers.setdefault(profile, len(numbers)),
                    members,
                    sum(_full(a.capacity_available) for a in members),
                    shared.setdefault((profile[0], profile[2], profile[3]), len(shared)),
                    runs,
                )
        groups = {key: list(profiles.values()) for key, profiles in by_key.items()}
        sizes = {key: sum(len(p.activities) for p in profiles) for key, profiles in groups.items()}
        profile_of = {
            activity_id: (by_key[key][profile], full, run_of[activity_id])
            for activity_id, (key, profile, full) in placed.items()
        }
        sites = _sites(index.cells, today)
        sited_hybrids = _sites(_grid(hybrids), today, "hybrid", views)
        return cls(
            today,
            unscheduled,
            groups,
            sizes,
            len(numbers),
            list(shared),
            profile_of,
            sites,
            sited_hybrids,
        )


class Directory:
    """Every activity of one database as engine values, refreshed by `refresh`."""

    def __init__(self) -> None:
        self.activities: dict[str, engine.Activity] = {}
        self._loaded = False
        self._after = 0  # the largest seq applied
        self._epoch: uuid.UUID | None = None  # the database's, when everything was loaded
        self._horizon: repository.Horizon | None = None  # PostgreSQL: see repository.changes
        self._seen: frozenset[int] = frozenset()  # the seqs of the last read, applied
        self._lock = asyncio.Lock()
        self._index: _Index | None = None
        self._day: _Day | None = None
        # Current places of activities whose only change since the index was built is their
        # places (bookings): the index keeps the older values, this overrides their places.
        self._capacity: dict[str, int | None] = {}

    @property
    def capacity(self) -> Mapping[str, int | None]:
        """Places to use instead of the indexed activities' ``capacity_available``."""
        return self._capacity

    async def refresh(self, session: AsyncSession) -> None:
        """Apply the changes committed since the last request (see the module docstring)."""
        async with self._lock:
            changes = await repository.changes(session, self._after, self._horizon)
            behind = changes.oldest is not None and changes.oldest > self._after + 1
            if not self._loaded or behind or self._another_log(changes):
                await self._load_everything(session, changes)
                return
            fresh = [(seq, i) for seq, i in changes.rows if seq not in self._seen]
            self._horizon = changes.horizon
            self._seen = frozenset(seq for seq, _ in changes.rows)
            if not fresh:
                return
            self._after = max(self._after, *(seq for seq, _ in fresh))
            changed = list(dict.fromkeys(i for _, i in fresh))
            loaded = {a.id: a for a in await repository.activities(session, changed)}
            reindex = False
            for activity_id in changed:
                old, new = self.activities.get(activity_id), loaded.get(activity_id)
                if new is None:
                    reindex |= self.activities.pop(activity_id, None) is not None
                    continue
                self.activities[activity_id] = new
                if (
                    old is not None
                    and dataclasses.replace(old, capacity_available=new.capacity_available) == new
                ):
                    self._capacity[activity_id] = new.capacity_available  # a booking
                else:
                    reindex = True
            if reindex:
                self._index = self._day = None
                self._capacity.clear()

    def _another_log(self, changes: repository.Changes) -> bool:
        """The log read is not the one applied so far: the database was made again (another
        epoch) or restored from a backup (the log ends before what was applied)."""
        return changes.epoch != self._epoch or (changes.newest or 0) < self._after

    async def _load_everything(self, session: AsyncSession, changes: repository.Changes) -> None:
        # The log's position is read before the activities: a change committed in between is
        # applied again at the next request, never missed.
        self.activities = {a.id: a for a in await repository.activities(session, None)}
        self._after = changes.newest or 0
        self._epoch = changes.epoch
        self._horizon = changes.horizon
        self._seen = frozenset(seq for seq, _ in changes.rows)
        self._loaded = True
        self._index = self._day = None
        self._capacity.clear()
        # Hundreds of thousands of long-lived objects made every full collection of the
        # cyclic garbage collector take 250-500 ms, in whichever request it fell (measured:
        # most of the p95). Frozen objects are skipped by the collector; they are still freed
        # by reference counting when replaced (no cycles). Only after a full load (start-up, a
        # restore): a freeze also takes whatever the other requests have in flight, whose
        # cycles the collector then never frees. Frozen after every change (each booking), the
        # API grew 3.4 MB/min in the 20-minute soak (docs/performance.md "Mixed load").
        gc.freeze()

    def prepare(self, today: dt.date) -> tuple[_Index, _Day]:
        """The indexes of the activities and of their state on ``today``, built if missing."""
        if self._index is None:
            self._index = _Index.of(self.activities)
        index = self._index
        day = self._day
        if day is None or day.today != today:
            day = self._day = _Day.of(index, today)
        return index, day

    def candidates(  # noqa: C901, PLR0915 (the matching hot path: docs/matching.md)
        self,
        person: engine.Person,
        today: dt.date,
        places: Mapping[str, int | None],
        include_full: bool,
        outcomes: Collection[str] = (),
    ) -> Screened:
        """The activities whose geography allows a match, for the engine, and the counts of
        those excluded here without visiting each: the remote activities not listed or with
        no schedule valid today (rule 1), whose age limits or gender exclude the person
        (rule 2), online and phone ones with no place left (rule 3, by ``places`` as
        `places` returns them) among those of a profile the person fails (rules 4, 7-9), and
        the in-person activities with no location inside the travel box (rule 6). Hybrid
        activities with one location are given as table rows (`_hybrids`), the others with no
        location inside the box as their online views (see `_Index.online_views`).

        Every activity the engine is not given is counted under the first rule it breaks, as
        the engine would count it (docs/matching.md, counting rule). In-person activities inside
        the box that break rule 1 or 2 are counted here too.

        The online and phone activities of a profile the person passes go in runs
        (`remote.Run`), but for those named in ``places`` or ``outcomes`` (the ids with an
        outcome value, `engine.Evidence.values`: pass the same as to the engine), whose runs
        are given one by one.
        """
        index, day = self.prepare(today)
        excluded = dict.fromkeys(engine.Rule, 0)
        excluded[engine.Rule.ACTIVE] = index.remote_unlisted + day.unscheduled
        view = rules.PersonView.of(person)
        allowed: dict[Eligibility, bool] = {}  # rule 2 per age limits and gender

        def allows(key: Eligibility) -> bool:
            ok = allowed.get(key)
            if ok is None:
                ok = allowed[key] = rules.eligible(view, *key)
            return ok

        box = None if person.location is None else travel_box(person.location, person.max_travel_km)
        # hybrid activities within reach go to the engine as themselves, not as their views
        near: dict[_Profiled, list[engine.Activity]] = defaultdict(list)
        reachable = {} if box is None else _inside(index.hybrid_cells, box)
        for activity_id, a in reachable.items():
            if (where := day.profile_of.get(activity_id)) is not None:
                near[where[0]].append(a)
        loose = _loose(day, itertools.chain(places, outcomes, reachable))
        # places changed since the day was indexed, by profile: (now full) - (full then)
        full_since: dict[_Profiled, int] = defaultdict(int)
        for activity_id, available in places.items():
            if (where := day.profile_of.get(activity_id)) is not None:
                profiled, full_then, _ = where
                full_since[profiled] += _full(available) - full_then
        found: list[engine.Activity] = []
        # the activities of the profiles the person passes, by what `engine.Prescreened` reads
        # of them (`_Profiled.shared`): hundreds of small groups merged into a few dozen
        passed: dict[int, _Passed] = defaultdict(lambda: ([], []))
        broken = [-1] * day.profiles  # the rule each profile breaks for the person, 0 none
        by_rule = [0] * (max(engine.Rule) + 1)
        for key, profiles in day.groups.items():
            if not allows(key):
                by_rule[engine.Rule.ELIGIBILITY] += day.sizes[key]
                continue
            for members in profiles:
                reached = near.get(members, ()) if near else ()
                if reached:
                    found.extend(reached)
                rule = broken[members.number]
                if rule < 0:
                    rule = broken[members.number] = rules.remote(view, *members.profile)
                if not rule:
                    _give(members, loose.get(members) if loose else None, reached, passed)
                    continue
                full = 0
                if not include_full:
                    full = members.full
                    if full_since:
                        full += full_since.get(members, 0)
                    if reached:
                        full -= sum(_full(places.get(a.id, a.capacity_available)) for a in reached)
                by_rule[engine.Rule.CAPACITY] += full
                by_rule[rule] += len(members.activities) - len(reached) - full
        prescreened = [
            engine.Prescreened(
                one_by_one,
                *day.shared[number],
                runs=runs[0] if len(runs) == 1 else list(itertools.chain.from_iterable(runs)),
            )
            for number, (one_by_one, runs) in passed.items()
        ]
        sited: list[engine.Sited | engine.SiteRows] = []
        self._hybrids(day, box, allows, sited, by_rule)
        inside = 0
        if box is not None:
            inside = self._in_person(index, day, box, allows, found, sited, by_rule)
        by_rule[engine.Rule.TRAVEL_DISTANCE] = index.in_person - inside
        for rule_number, count in enumerate(by_rule):
            if count:
                excluded[engine.Rule(rule_number)] += count
        return Screened(excluded, found, prescreened, sited)

    @staticmethod
    def _hybrids(
        day: _Day,
        box: Box | None,
        allows: Callable[[Eligibility], bool],
        sited: list[engine.Sited | engine.SiteRows],
        by_rule: list[int],
    ) -> None:
        """Adds to ``sited`` the rows of the day's hybrid activities with one location that
        pass rules 1 and 2 (`columns.SiteRows`, with those inside the travel box), counts the
        others in ``by_rule``."""
        table = day.hybrids
        if not table.activities:
            return
        _, closed, ineligible, _, passed = table.open_rows(table.every_row(), allows)
        by_rule[engine.Rule.ACTIVE] += closed
        by_rule[engine.Rule.ELIGIBILITY] += ineligible
        if len(passed):
            boxed = None if box is None else table.inside(*_cells_of(box), box)
            sited.append(dataclasses.replace(passed, boxed=boxed))

    @staticmethod
    def _in_person(
        index: _Index,
        day: _Day,
        box: Box,
        allows: Callable[[Eligibility], bool],
        found: list[engine.Activity],
        sited: list[engine.Sited | engine.SiteRows],
        by_rule: list[int],
    ) -> int:
        """Adds to ``found`` and ``sited`` (as one `engine.SiteRows`) the in-person
        activities with a location inside the box that pass rules 1 and 2, counts the others
        in ``by_rule``; returns how many in-person ones are inside."""
        inside, closed, ineligible, plain, site_rows = day.sites.open_rows(
            day.sites.inside(*_cells_of(box), box), allows
        )
        found.extend(plain)
        if len(site_rows):
            sited.append(site_rows)
        # the activities with several locations, one by one
        for a in _inside(index.spread, box).values():
            inside += a.attending_type == "in-person"
            open_key = _open_on(a, day.today)
            if open_key is None:
                closed += 1
            elif not allows(open_key):
                ineligible += 1
            else:
                found.append(a)
        by_rule[engine.Rule.ACTIVE] += closed
        by_rule[engine.Rule.ELIGIBILITY] += ineligible
        return inside


# a group of `engine.Prescreened`: activities given one by one, and the runs of its profiles
_Passed = tuple[list[engine.Activity], list[Sequence[Run]]]


def _loose(day: _Day, ids: Iterable[str]) -> dict[_Profiled, set[int]]:
    """The runs that hold the remote activities named, by profile: their activities go to the
    engine one by one (places changed since the day was indexed, an outcome value, a hybrid
    activity given as itself)."""
    loose: dict[_Profiled, set[int]] = defaultdict(set)
    for activity_id in ids:
        if (where := day.profile_of.get(activity_id)) is not None:
            loose[where[0]].add(where[2])
    return loose


def _give(
    members: _Profiled,
    loose: set[int] | None,
    reached: Sequence[engine.Activity],
    passed: dict[int, _Passed],
) -> None:
    """Adds the activities of a profile the person passes to their engine group: in runs, but
    those of the runs in ``loose`` one by one, without the views of the hybrid activities
    ``reached`` (given as themselves)."""
    one_by_one, runs = passed[members.shared]
    if not loose:
        runs.append(members.runs)
        return
    skip = {a.id for a in reached}
    runs.append([run for i, run in enumerate(members.runs) if i not in loose])
    one_by_one.extend(a for i in loose for a in members.runs[i][2] if a.id not in skip)


def _grid(activities: Iterable[engine.Activity]) -> Grid:
    grid: Grid = defaultdict(list)
    for a in activities:
        _located(a, _coordinates(a), grid)
    return grid


def _sites(
    cells: Grid,
    today: dt.date,
    attending: engine.AttendingType = "in-person",
    views: Mapping[str, engine.Activity] | None = None,
) -> columns.SiteTable:
    """The day's table of the in-person (or hybrid, with their online ``views``) activities
    with one location (`columns.SiteTable`): each with its age limits and gender (None when it
    breaks rule 1 that day) and its `engine.site_entry` (None when it has no
    `engine.site_profile`), the profiles numbered in order of appearance."""
    profiles: dict[engine.SiteProfile, int] = {}
    made: list[tuple[int, int, columns.Made]] = []
    for (row, column), bucket in cells.items():
        for lat, lon, a in bucket:
            key = _open_on(a, today)
            profile = None if key is None else engine.site_profile(a, today, attending)
            entry = (
                None
                if profile is None
                else engine.site_entry(a, profiles.setdefault(profile, len(profiles)))
            )
            made.append((row, column, (lat, lon, a, key, entry)))
    return columns.SiteTable.of(made, list(profiles), views=views)


def key_of(url: URL) -> str:
    """Which snapshot serves a database: one per URL."""
    return url.render_as_string(hide_password=True)


class Snapshots:
    """The snapshots of the directory, one per database (``key_of``): one registry per
    application, so per process (``create_app`` makes it; matching's ``SnapshotsDep``)."""

    def __init__(self) -> None:
        self.directories: dict[str, Directory] = {}

    def install(self, key: str, built: Directory) -> bool:
        """Make ``built`` (loaded elsewhere, e.g. by the warm-up thread) the snapshot of the
        database ``key``, unless a request has already made one; it is refreshed like any
        other at the next match, so it is as fresh as one built then."""
        if key in self.directories:
            return False
        built._lock = asyncio.Lock()  # bound to this event loop when first waited on
        self.directories[key] = built
        return True

    async def directory(self, session: AsyncSession) -> Directory:
        """The snapshot of the session's database, refreshed."""
        key = key_of(session.get_bind().engine.url)
        found = self.directories.get(key)
        if found is None:
            found = self.directories[key] = Directory()
        await found.refresh(session)
        return found
