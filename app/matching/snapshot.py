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
  those inside the box marked), and the listed online and phone ones the rows of a third (no
  location): rules 1 and 2 here, then the engine decides per row, as arrays, whether each is
  attended in person or joined from home, and its other rules (`columns.decide_joinable`).
  The few hybrid activities without one location go to the engine as themselves when one of
  their locations is inside the box, else as their online views.

The snapshot is per database URL and per process: several workers each hold their own, each
refreshed by its own requests.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import gc
import math
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import URL
from sqlalchemy.ext.asyncio import AsyncSession

from app.matching import columns, engine, repository, rules

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
    """The activities to give the engine (those it tests one by one, and the rows of the day's
    tables that pass rules 1 and 2, which it decides as arrays) and what the snapshot excluded
    without it."""

    excluded: dict[engine.Rule, int]
    activities: list[engine.Activity]
    sited: list[engine.Sited | engine.SiteRows]

    @property
    def count(self) -> int:
        return len(self.activities) + sum(
            len(g) if isinstance(g, engine.SiteRows) else len(g.entries) for g in self.sited
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
    scattered: tuple[engine.Activity, ...]  # listed hybrid ones without one location (`_sited`)
    hybrid_cells: Grid  # those, by location
    # Listed hybrid activities as the engine sees them when none of their locations is within
    # reach (`columns.first_joinable`, and `Directory.candidates` for those without one location):
    # online ones (attended online, or excluded under rule 4 without digital access; the
    # same rules, score and reasons), so that the engine skips their locations.
    online_views: dict[str, engine.Activity]

    @classmethod
    def of(cls, activities: dict[str, engine.Activity]) -> _Index:
        remote: list[engine.Activity] = []
        remote_unlisted = in_person = 0
        cells: Grid = defaultdict(list)
        spread: Grid = defaultdict(list)
        scattered: list[engine.Activity] = []
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
                        scattered.append(a)
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
            tuple(scattered),
            dict(hybrid_cells),
            online_views,
        )


def _sited(activity: engine.Activity) -> bool:
    """Whether the activity has exactly one location, at finite coordinates (as
    `engine.site_profile` requires)."""
    return len(activity.locations) == 1 and len(_coordinates(activity)) == 1


Eligibility = columns.Eligibility


def _open_on(a: engine.Activity, today: dt.date) -> Eligibility | None:
    """The activity's age limits and gender, or None when it breaks rule 1 on ``today``."""
    if not rules.active(a, today):
        return None
    return (a.minimum_age, a.maximum_age, a.eligibility_gender)


@dataclass(frozen=True)
class _Day:
    """The activities on one day as the rows of three tables (`columns.SiteTable`), each row
    with its age limits and gender (rule 2; none when it breaks rule 1 that day) and what rules
    3-9 and the score read of it, so that the engine decides and scores them as arrays: the
    in-person activities with one location (``sites``, sorted by grid cell: a travel box is one
    slice per row of cells), the hybrid ones with one location (``hybrids``, likewise: those
    inside the box can be attended in person) and the listed online and phone ones
    (``remote``)."""

    today: dt.date
    sites: columns.SiteTable
    hybrids: columns.SiteTable
    remote: columns.SiteTable

    @classmethod
    def of(cls, index: _Index, today: dt.date) -> _Day:
        hybrids = [a for a in index.remote if a.attending_type == "hybrid" and _sited(a)]
        return cls(
            today,
            _sites(index.cells, today),
            _sites(_grid(hybrids), today, "hybrid", index.online_views),
            _remote((a for a in index.remote if a.attending_type != "hybrid"), today),
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
        self._freeze = False  # the next indexes built are frozen (gc): see `prepare`
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
        self._freeze = True
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
        """The indexes of the activities and of their state on ``today``, built if missing.

        The first ones built after a full load, and each new day's, are frozen like the load
        (`_load_everything`): their ~300 000 objects made every full collection in the first
        requests take 120-240 ms (five in 200 borough matches at 100 000). Not after another
        change (a directory edit): at most once a day, a freeze keeps little of what other
        requests had in flight."""
        index, day = self._index, self._day
        if index is None:
            index = self._index = _Index.of(self.activities)
        if day is None or day.today != today:
            new_day = day is not None
            day = self._day = _Day.of(index, today)
            if new_day or self._freeze:
                self._freeze = False
                gc.freeze()
        return index, day

    def candidates(self, person: engine.Person, today: dt.date) -> Screened:
        """The activities whose geography allows a match, for the engine, and the counts of
        those excluded here without visiting each: the remote activities not listed (rule 1)
        and the in-person activities with no location inside the travel box (rule 6). The
        rows of the day's tables go to the engine (`columns.SiteRows`) when they pass rules 1
        and 2, which are counted here: the in-person ones inside the box, the hybrid ones with
        those inside the box marked, the online and phone ones. A hybrid activity without one
        location goes as itself when one of its locations is inside the box, else as its
        online view (`_Index.online_views`).

        Every activity the engine is not given is counted under the first rule it breaks, as
        the engine would count it (docs/matching.md, counting rule).
        """
        index, day = self.prepare(today)
        view = rules.PersonView.of(person)
        allowed: dict[Eligibility, bool] = {}  # rule 2 per age limits and gender

        def allows(key: Eligibility) -> bool:
            ok = allowed.get(key)
            if ok is None:
                ok = allowed[key] = rules.eligible(view, *key)
            return ok

        box = None if person.location is None else travel_box(person.location, person.max_travel_km)
        reachable = {} if box is None else _inside(index.hybrid_cells, box)
        found = [reachable.get(a.id) or index.online_views[a.id] for a in index.scattered]
        sited: list[engine.Sited | engine.SiteRows] = []
        by_rule = [0] * (max(engine.Rule) + 1)
        by_rule[engine.Rule.ACTIVE] = index.remote_unlisted
        _joinable(day.hybrids, box, allows, sited, by_rule)
        _joinable(day.remote, None, allows, sited, by_rule)
        inside = 0
        if box is not None:
            inside = self._in_person(index, day, box, allows, found, sited, by_rule)
        by_rule[engine.Rule.TRAVEL_DISTANCE] = index.in_person - inside
        return Screened({rule: by_rule[rule] for rule in engine.Rule}, found, sited)

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


def _joinable(
    table: columns.SiteTable,
    box: Box | None,
    allows: Callable[[Eligibility], bool],
    sited: list[engine.Sited | engine.SiteRows],
    by_rule: list[int],
) -> None:
    """Adds to ``sited`` the rows of a day's table of hybrid, online or phone activities that
    pass rules 1 and 2 (`columns.SiteRows`, with those inside the travel box: hybrid ones),
    counts the others in ``by_rule``."""
    if not table.activities:
        return
    _, closed, ineligible, _, passed = table.open_rows(table.every_row(), allows)
    by_rule[engine.Rule.ACTIVE] += closed
    by_rule[engine.Rule.ELIGIBILITY] += ineligible
    if len(passed):
        boxed = None if box is None else table.inside(*_cells_of(box), box)
        sited.append(dataclasses.replace(passed, boxed=boxed))


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


def _remote(activities: Iterable[engine.Activity], today: dt.date) -> columns.SiteTable:
    """The day's table of the listed online and phone activities (`columns.SiteTable`, at no
    location): each with its age limits and gender (None when it breaks rule 1 that day) and
    its profile's number, as `engine.site_profile` would make it (no accessibility read)."""
    profiles: dict[engine.SiteProfile, int] = {}
    made: list[tuple[int, int, columns.Made]] = []
    for a in activities:
        key = _open_on(a, today)
        profile: engine.SiteProfile = (
            frozenset(),
            frozenset(c.upper() for c in a.service_areas),
            rules.has_free_option(a),
            rules.days_on(a, today),
        )
        number = profiles.setdefault(profile, len(profiles))
        made.append((0, 0, (math.nan, math.nan, a, key, number)))
    return columns.SiteTable.of(
        made, list(profiles), views={a.id: a for _, _, (_, _, a, _, _) in made}
    )


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
