"""The activities of one day as columns (numpy arrays): what the hard rules and the score read
of each, so that a dense area, and the thousands of online and phone activities every person
can join, cost array operations rather than Python per activity. Three tables per day: the
in-person activities with one location (`split`), the hybrid ones with one location and the
online and phone ones (`decide_joinable`).

Why: with a national directory a 10 km travel box in a dense area holds tens of thousands of
in-person activities with one location (docs/performance.md, "Matching"); testing, measuring
and scoring each in Python, then ranking them, cost most of a match, to return ten. Here:

- `SiteTable` (the snapshot builds them per day): e.g. every in-person activity with one
  location at finite coordinates, sorted by grid cell so that the cells of one row of a travel
  box are one slice, with its coordinates, rules 1-2 key, site profile (`engine.SiteProfile`),
  fit key, places then, and what proximity and equity read.
- `SiteTable.open_rows` (the snapshot, per request): the rows inside the travel box (tested
  exactly), counted under rules 1 and 2 per key as the engine would count them, the others as
  `SiteRows` for the engine (and those without a profile as plain activities).
- `split` (the engine, per match): rules 3 and 5-9 for every row, counted as the engine counts
  them (rule 3 first when full and full ones are not asked for), and an approximate score for
  the eligible rows: the terms of `engine._considerer`, in its order, with numpy's sin, asin and
  exp instead of the C library's (within 1e-12 of the exact score). Only the rows that can be
  among the engine's first ``size`` (approximate score at least the ``size``-th largest less
  `MARGIN`) go on as `engine.Sited` entries, which the engine tests and scores exactly as any
  other; the others are only counted (eligible, and towards `Batches.few_nearby`). Distances
  within `BAND` km of the travel limit or of `batches.NEARBY_KM` are measured again by
  `rules.within_reach`, so every comparison with a limit is the engine's.
- Hybrid, online and phone activities (two tables, every row given, the hybrid ones inside the
  travel box marked): `decide_joinable` decides per row whether it is attended in person (a
  hybrid one inside the box, rule 5, within reach) or joined from home, then its rules, and
  counts how many in person count towards `Batches.few_nearby`; once that is known (online
  and phone proximity depend on it), `first_joinable` keeps those that can be among the
  first, as `split` does.

Pure, like the engine: no I/O, no settings, no clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from app.matching import rules
from app.matching.batches import FEW_NEARBY, NEARBY_KM, counts_nearby
from app.matching.rules import EARTH_RADIUS_KM, RAD, PersonView, Rule
from app.matching.scoring import FIT_KEY, HOME, NEUTRAL, Scoring

if TYPE_CHECKING:  # the values are defined with the engine, which imports this module
    from app.matching.engine import Activity, Attendance, Person, SiteEntry, SiteProfile

Eligibility = tuple[int | None, int | None, str | None]  # minimum_age, maximum_age, gender
Made = tuple[float, float, "Activity", Eligibility | None, "SiteEntry | int | None"]
"""A located activity as the snapshot gives it: latitude, longitude, the activity, its age limits
and gender (None when it breaks rule 1 on the day) and its `engine.site_entry` (None when it has
no `engine.site_profile`); an online or phone activity has NaN coordinates and its profile's
number instead of an entry."""
Box = tuple[float, float, float, float]  # south, north, west, east (degrees)
Rows = npt.NDArray[np.intp]

MARGIN = 2e-9  # kept: approximate score >= the size-th largest - MARGIN (error < 1e-12)
BAND = 1e-6  # km: distances this near a limit are measured again in Python
_SPAN = 40_003  # grid cells per row and column (`snapshot.cell_index` is within +-20 000)


def _cell_code(row: int, column: int) -> int:
    return (row + 20_001) * _SPAN + (column + 20_001)


def _interned(values: Sequence[Hashable]) -> tuple[npt.NDArray[np.int32], list[int]]:
    """Each value's number among the distinct ones, and the first position of each."""
    numbers: dict[Hashable, int] = {}
    first: list[int] = []
    out: list[int] = []
    for i, v in enumerate(values):
        n = numbers.get(v)
        if n is None:
            n = numbers[v] = len(first)
            first.append(i)
        out.append(n)
    return np.array(out, dtype=np.int32).reshape(-1), first


@dataclass(frozen=True, eq=False)
class SiteTable:
    """The in-person activities with one location at finite coordinates on one day, one row
    each, sorted by grid cell (see the module docstring). Profiles are numbered as the rows'
    `engine.site_entry` numbers them; a profile's parts are numbered among the day's distinct
    ones, so that a rule is decided once per distinct part."""

    cells: npt.NDArray[np.int64]  # the row's cell (`_cell_code`), ascending
    latitude: npt.NDArray[np.float64]
    longitude: npt.NDArray[np.float64]
    cos_latitude: npt.NDArray[np.float64]  # as `engine.site_entry` computes it (NaN unsited)
    key: npt.NDArray[np.int32]  # index in ``eligibilities``; len(eligibilities) = rule 1 broken
    profile: npt.NDArray[np.int32]  # the entry's profile number; -1 without an entry
    full: npt.NDArray[np.bool_]  # no place left when the day was indexed (rule 3)
    transport: npt.NDArray[np.bool_]  # near_public_transport is True (equity)
    home: npt.NDArray[np.bool_]  # visits the person at home (proximity 1)
    in_person: npt.NDArray[np.bool_]  # attending type in-person (rule 6 counts only those)
    activities: list[Activity]
    entries: list[SiteEntry | None]
    eligibilities: list[Eligibility]
    row_of: dict[str, int]  # activity id -> row
    profiles: list[SiteProfile]
    # per profile: its accessibility, service areas and days, each numbered among the distinct
    # ones (in ``accesses``, ``areas``, ``days``), and its free option
    profile_access: npt.NDArray[np.int32]
    profile_areas: npt.NDArray[np.int32]
    profile_days: npt.NDArray[np.int32]
    profile_free: npt.NDArray[np.bool_]
    accesses: list[frozenset[str]]
    areas: list[frozenset[str]]
    days: list[frozenset[str] | None]
    online: npt.NDArray[np.bool_]  # joined online when not attended in person (else by phone)
    # hybrid, online and phone activities (`decide_joinable`), each as the engine sees it when
    # joined from home: a hybrid one's online view (`snapshot._Index`), the others themselves
    views: list[Activity] = field(default_factory=list)
    # per `scoring.fit_attributes` asked so far: each row's number among the distinct values of
    # those attributes, and an activity with each value (`fit_keys`); per attribute, each row's
    # number among its distinct values
    _fit_keys: dict[tuple[str, ...], tuple[npt.NDArray[np.intp], list[Activity]]] = field(
        default_factory=dict
    )
    _values: dict[str, npt.NDArray[np.int32]] = field(default_factory=dict)

    def fit_keys(self, attributes: tuple[str, ...]) -> tuple[npt.NDArray[np.intp], list[Activity]]:
        """Each row's fit key (the values of ``attributes``, `scoring.fit_attributes`) as a
        number, and an activity with each key; made once per day and attributes, from the
        numbers of each attribute's values (no key objects: 75 000 tuples made in a request
        woke the garbage collector over the whole snapshot)."""
        found = self._fit_keys.get(attributes)
        if found is None:
            key = np.zeros(len(self.activities), dtype=np.int64)
            for attribute in attributes:
                values = self._values.get(attribute)
                if values is None:
                    values = self._values[attribute] = _interned(
                        [getattr(a, attribute) for a in self.activities]
                    )[0]
                combined = key * (int(values.max(initial=0)) + 1) + values
                _, key = np.unique(combined, return_inverse=True)
            _, first = np.unique(key, return_index=True)
            found = (key.astype(np.intp), [self.activities[i] for i in first.tolist()])
            self._fit_keys[attributes] = found
        return found

    @classmethod
    def of(
        cls,
        made: Sequence[tuple[int, int, Made]],
        profiles: list[SiteProfile],
        home: str = HOME,
        views: Mapping[str, Activity] | None = None,
    ) -> SiteTable:
        """The table of ``made`` (grid row, grid column, `Made`), whose entries number
        ``profiles``; of hybrid, online and phone activities when ``views`` holds their views
        by id (`views`)."""
        order = sorted(range(len(made)), key=lambda i: (made[i][0], made[i][1]))
        rows = [made[i] for i in order]
        located = [m for _, _, m in rows]
        activities = [m[2] for m in located]
        entries = [e if isinstance(e := m[4], tuple) else None for m in located]
        numbers = [
            -1 if e is None else e if isinstance(e, int) else e[4] for e in (m[4] for m in located)
        ]
        areas, areas_first = _interned([p[1] for p in profiles])
        eligibilities = list(dict.fromkeys(m[3] for m in located if m[3] is not None))
        number = {k: i for i, k in enumerate(eligibilities)}
        closed = len(eligibilities)
        access, access_first = _interned([p[0] for p in profiles])
        days, days_first = _interned([p[3] for p in profiles])
        table = cls(
            cells=np.array([_cell_code(r, c) for r, c, _ in rows], dtype=np.int64).reshape(-1),
            latitude=np.array([m[0] for m in located], dtype=np.float64).reshape(-1),
            longitude=np.array([m[1] for m in located], dtype=np.float64).reshape(-1),
            cos_latitude=np.array(
                [math.nan if e is None else e[3] for e in entries], dtype=np.float64
            ).reshape(-1),
            key=np.array(
                [closed if m[3] is None else number[m[3]] for m in located], dtype=np.int32
            ).reshape(-1),
            profile=np.array(numbers, dtype=np.int32).reshape(-1),
            full=np.array(
                [not rules.has_place(a.capacity_available) for a in activities], dtype=np.bool_
            ).reshape(-1),
            transport=np.array(
                [a.near_public_transport is True for a in activities], dtype=np.bool_
            ).reshape(-1),
            home=np.array([home in a.group_traits for a in activities], dtype=np.bool_).reshape(-1),
            in_person=np.array(
                [a.attending_type == "in-person" for a in activities], dtype=np.bool_
            ).reshape(-1),
            activities=activities,
            entries=entries,
            eligibilities=eligibilities,
            row_of={a.id: i for i, a in enumerate(activities)},
            profiles=profiles,
            profile_access=access,
            profile_days=days,
            profile_free=np.array([p[2] for p in profiles], dtype=np.bool_).reshape(-1),
            accesses=[profiles[i][0] for i in access_first],
            days=[profiles[i][3] for i in days_first],
            profile_areas=areas,
            areas=[profiles[i][1] for i in areas_first],
            online=np.array(
                [a.attending_type in ("online", "hybrid") for a in activities], dtype=np.bool_
            ).reshape(-1),
            views=[] if views is None else [views[a.id] for a in activities],
        )
        table.fit_keys(FIT_KEY)  # the fit key of most people, made with the day
        return table

    def every_row(self) -> Rows:
        return np.arange(len(self.activities), dtype=np.intp)

    def inside(self, rows: range, columns: range, box: Box) -> Rows:
        """The rows located inside the box (bounds included), ascending; ``rows`` and
        ``columns`` are the grid rows and columns the box overlaps."""
        if not len(self.cells) or not rows or not columns:
            return np.empty(0, dtype=np.intp)
        first = np.arange(rows.start, rows.stop, dtype=np.int64) * _SPAN
        first += _cell_code(0, columns.start)
        starts = np.searchsorted(self.cells, first, "left")
        ends = np.searchsorted(self.cells, first + (len(columns) - 1), "right")
        lengths = ends - starts
        total = int(lengths.sum())
        # the slices joined: position k of slice j is starts[j] + k
        offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
        found = np.arange(total, dtype=np.intp) + offsets
        south, north, west, east = box
        lat, lon = self.latitude[found], self.longitude[found]
        kept: Rows = found[(south <= lat) & (lat <= north) & (west <= lon) & (lon <= east)]
        return kept

    def open_rows(
        self, found: Rows, allows: Callable[[Eligibility], bool]
    ) -> tuple[int, int, int, list[Activity], SiteRows]:
        """Of the rows ``found`` (inside the travel box): how many are in person, how many
        break rule 1 and rule 2 (``allows`` is rule 2 per age limits and gender), the
        activities that pass without a site entry (for the engine's plain path) and the rows
        that pass with one."""
        key = self.key[found]
        allowed = np.array([allows(k) for k in self.eligibilities] + [False], dtype=np.bool_)
        passes = allowed[key]
        closed = int(np.count_nonzero(key == len(self.eligibilities)))
        ineligible = len(found) - closed - int(np.count_nonzero(passes))
        passed = found[passes]
        sited = self.profile[passed] >= 0
        plain = [self.activities[i] for i in passed[~sited].tolist()]
        in_person = int(np.count_nonzero(self.in_person[found]))
        return in_person, closed, ineligible, plain, SiteRows(self, passed[sited])


@dataclass(frozen=True, eq=False)
class SiteRows:
    """Rows of a `SiteTable` (ascending, each with a site entry) whose activities the caller
    has found to pass rules 1 and 2 for the person on the table's day: the engine takes them
    as it takes `engine.Sited` entries (`split`)."""

    table: SiteTable
    rows: Rows
    # of a hybrid table (`decide_joinable`): those of ``rows`` inside the travel box
    # (ascending), the only ones that can be attended in person
    boxed: Rows | None = None

    def __len__(self) -> int:
        return len(self.rows)


def _distances(
    table: SiteTable, rows: Rows, view: PersonView, measure: Rows
) -> npt.NDArray[np.float64]:
    """Per row, its distance in km when within the person's travel distance, else inf; only
    the rows at positions ``measure`` are measured (the others: inf). The haversine of
    `rules.within_reach`; those within `BAND` of a limit are measured by it again."""
    distance = np.full(len(rows), np.inf)
    if not view.located or not len(measure):
        return distance
    at = rows[measure]
    half_rad = RAD / 2
    cos_plat = math.cos(math.radians(view.latitude))
    h = (
        np.sin((table.latitude[at] - view.latitude) * half_rad) ** 2
        + cos_plat
        * table.cos_latitude[at]
        * np.sin((table.longitude[at] - view.longitude) * half_rad) ** 2
    )
    d = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(h, 1.0)))
    limit = view.max_travel_km
    near = (np.abs(d - limit) <= BAND) | (np.abs(d - NEARBY_KM) <= BAND)
    if near.any():
        again = rules.within_reach(view)
        positions = np.flatnonzero(near)
        sites = [table.entries[i] for i in at[positions].tolist()]
        exact = again(sites)
        d[positions] = [math.inf if x is None else x for x in exact]
    distance[measure] = np.where(d <= limit, d, np.inf)
    return distance


def _full_now(
    table: SiteTable, rows: Rows, places: Mapping[str, int | None] | None
) -> npt.NDArray[np.bool_]:
    """Rule 3 broken per row, with ``places`` overriding the indexed places (as the engine)."""
    full = table.full[rows]
    if places:
        for activity_id, available in places.items():
            row = table.row_of.get(activity_id)
            if row is None:
                continue
            position = int(np.searchsorted(rows, row))
            if position < len(rows) and rows[position] == row:
                full[position] = not rules.has_place(available)
    return full


def split(
    site_rows: SiteRows,
    person: Person,
    view: PersonView,
    scoring: Scoring,
    size: int,
    places: Mapping[str, int | None] | None,
    include_full: bool,
    excluded: list[int],
) -> tuple[list[SiteEntry], int, int]:
    """Decides the rows for the engine (see the module docstring): counts those that break a
    rule in ``excluded`` (by rule number), and returns the entries that can be among the first
    ``size`` (to be tested and scored by the engine), how many other rows it decided (counted
    here, or eligible) and how many of the eligible ones not returned count towards
    `Batches.few_nearby`. ``scoring``, ``places`` and ``include_full`` are the engine's."""
    table, rows = site_rows.table, site_rows.rows
    if not len(rows):
        return [], 0, 0
    profile = table.profile[rows]
    accessible = np.array([rules.accessible(view, a) for a in table.accesses], dtype=np.bool_)
    # the first of rules 5, 6, 7-9 broken per row (0: none), rule 3 first when counted
    broken = _after(table, view, True)[profile]
    meets = accessible[table.profile_access[profile]]
    distance = _distances(table, rows, view, np.flatnonzero(meets))
    broken[np.isinf(distance)] = Rule.TRAVEL_DISTANCE
    broken[~meets] = Rule.ACCESSIBILITY
    full = _full_now(table, rows, places)
    eligible = _counted(broken, full, include_full, excluded)
    kept = _first(
        eligible,
        size,
        lambda: _approximate(table, rows, eligible, scoring, distance, full, profile),
    )
    left = np.setdiff1d(eligible, kept, assume_unique=True)
    nearby = _nearby(table, rows[left], distance[left], full[left], person, scoring)
    entries = [table.entries[i] for i in rows[kept].tolist()]
    return entries, len(rows) - len(kept), nearby


def _counted(
    broken: npt.NDArray[np.int64],
    full: npt.NDArray[np.bool_],
    include_full: bool,
    excluded: list[int],
) -> Rows:
    """Counts in ``excluded`` the rows that break a rule (``broken``: the first of 4-9 per
    row, 0 none), under rule 3 first when ``full`` and full ones are not asked for; returns the
    positions of the others (eligible)."""
    if not include_full:
        broken[full] = Rule.CAPACITY
    counts = np.bincount(broken, minlength=len(excluded))
    for rule in range(1, len(excluded)):
        excluded[rule] += int(counts[rule])
    eligible: Rows = np.flatnonzero(broken == 0)
    return eligible


def _first(eligible: Rows, size: int, scores: Callable[[], npt.NDArray[np.float64]]) -> Rows:
    """Those of the eligible rows that can be among the first ``size``: approximate score
    (``scores``, per eligible row, asked only when there are more than ``size``) at least the
    ``size``-th largest less `MARGIN`."""
    if size == 0:
        return eligible[:0]
    if len(eligible) <= size:
        return eligible
    score = scores()
    threshold = np.partition(score, len(score) - size)[len(score) - size]
    kept: Rows = eligible[score >= threshold - MARGIN]
    return kept


def _nearby(
    table: SiteTable,
    rows: Rows,
    distance: npt.NDArray[np.float64],
    full: npt.NDArray[np.bool_],
    person: Person,
    scoring: Scoring,
) -> int:
    """How many of these eligible rows count towards `Batches.few_nearby` (up to
    `FEW_NEARBY`): a place, within `NEARBY_KM`, made for one of the person's needs."""
    near = rows[(distance <= NEARBY_KM) & ~full]
    if not len(near):
        return 0
    fit, examples = table.fit_keys(scoring.fit_attributes)
    needs, situations = frozenset(person.needs), person.situations
    found = 0
    for key, n in zip(*np.unique(fit[near], return_counts=True), strict=True):
        # what it reads is among every fit key's attributes (`scoring.FIT_KEY`)
        if counts_nearby(examples[key], needs, situations):
            found += int(n)
            if found >= FEW_NEARBY:
                break
    return found


def _approximate(
    table: SiteTable,
    rows: Rows,
    eligible: Rows,
    scoring: Scoring,
    distance: npt.NDArray[np.float64],
    full: npt.NDArray[np.bool_],
    profile: npt.NDArray[np.int32],
    joined: npt.NDArray[np.bool_] | None = None,
) -> npt.NDArray[np.float64]:
    """The score of the eligible rows as `engine._considerer` computes it, with numpy's
    exp for the C library's (the distances are numpy's too); of a table of `views`, with
    ``joined`` per eligible row: joined online or by phone (else attended in person)."""
    at = rows[eligible]
    wn, wi, wp, wl, wd, wc, we, wg, wt, wo = scoring.shares
    # the terms of the fits, once per distinct key the person's scoring reads
    keys, examples = table.fit_keys(scoring.fit_attributes)
    fit = keys[at]
    present = np.flatnonzero(np.bincount(fit, minlength=len(examples)))
    fits = scoring.fits
    n, i, lang, g, t = np.array([fits(examples[key]) for key in present.tolist()]).reshape(-1, 5).T
    heads = np.zeros((3, len(examples)))
    heads[0, present], heads[1, present], heads[2, present] = (
        wn * n + wi * i,
        wl * lang,
        wg * g + wt * t,
    )
    h0, h1, h2 = heads[0][fit], heads[1][fit], heads[2][fit]
    p = np.where(table.home[at], 1.0, scoring.nearby * np.exp(-scoring.decay * distance[eligible]))
    transport = table.transport[at]
    if joined is not None:  # in person, a hybrid activity also counts as online when it can be
        also_online = scoring.online if scoring.also_online else -1.0
        remote = np.where(table.online[at], scoring.online, scoring.phone)
        p = np.where(joined, remote, np.maximum(p, also_online))
        transport = transport & ~joined  # only read of the location attended
    day_fit = scoring.day_fit
    days = np.array([wd * day_fit(d) for d in table.days])[table.profile_days[profile[eligible]]]
    spare = np.where(full[eligible], 0.0, 1.0)
    s = h0 + wp * p + h1 + days + wc * spare
    if scoring.deprived:
        free = np.where(table.profile_free[profile[eligible]], 0.5, 0.0)
        equity = free + np.where(transport, 0.5, 0.0)
        s = s + we * equity  # else + 0.0, which changes no sum
    s = s + h2
    outcome = np.full(len(at), NEUTRAL)
    if scoring.outcome:
        for activity_id, value in scoring.outcome.items():
            row = table.row_of.get(activity_id)
            if row is not None:
                position = int(np.searchsorted(at, row))
                if position < len(at) and at[position] == row:
                    outcome[position] = value
    s = s + wo * outcome
    clamped: npt.NDArray[np.float64] = np.clip(s, 0.0, 1.0)
    return clamped


# --- hybrid, online and phone activities ---------------------------------------------------


@dataclass(frozen=True, eq=False)
class JoinableRows:
    """The rows of a table of hybrid, online or phone activities decided for one match
    (`decide_joinable`), per row of ``site_rows``: whether inside the travel box, the distance
    when attended in person (else inf), full, the profile; which rows are eligible, and how many
    of those attended in person count towards `Batches.few_nearby`."""

    site_rows: SiteRows
    boxed: npt.NDArray[np.bool_]
    distance: npt.NDArray[np.float64]
    full: npt.NDArray[np.bool_]
    profile: npt.NDArray[np.int32]
    eligible: Rows  # positions in ``site_rows.rows``
    nearby: int
    wants_free: bool


def _after(table: SiteTable, view: PersonView, wants_free: bool) -> npt.NDArray[np.int64]:
    """Per profile of the table, the first of rules 7-9 it breaks (0 none), as
    `rules.after_attendance` decides them, each part once per distinct value (its free option
    read only when ``wants_free``, as `Batches` reads a hybrid activity's)."""
    after = rules.after_attendance
    outside = np.array(
        [after(view, areas, True, None) == Rule.SERVICE_AREA for areas in table.areas],
        dtype=np.bool_,
    )
    busy = np.array(
        [after(view, frozenset(), True, days) == Rule.AVAILABLE_DAYS for days in table.days],
        dtype=np.bool_,
    )
    rule = np.where(busy[table.profile_days], int(Rule.AVAILABLE_DAYS), 0)
    if after(view, frozenset(), False, None) == Rule.COST:  # only free options for them
        free = table.profile_free if wants_free else np.zeros(len(rule), dtype=np.bool_)
        rule = np.where(free, rule, int(Rule.COST))
    found: npt.NDArray[np.int64] = np.where(
        outside[table.profile_areas], int(Rule.SERVICE_AREA), rule
    ).astype(np.int64)
    return found


def decide_joinable(
    site_rows: SiteRows,
    person: Person,
    view: PersonView,
    scoring: Scoring,
    places: Mapping[str, int | None] | None,
    include_full: bool,
    wants_free: bool,
    excluded: list[int],
) -> JoinableRows:
    """Decides the rows of a table of `views` as the engine decides each activity: a hybrid
    one is attended in person at its location when inside the travel box, meeting the person's
    needs (rule 5) and within reach (rule 6), then rules 7-9; else, like an online or phone
    one, joined from home (rule 4 online, 7-9); rule 3 first when full and full ones are not
    asked for. Counts the rows that break a rule in ``excluded`` (by rule number), as the
    engine counts them."""
    table, rows = site_rows.table, site_rows.rows
    profile = table.profile[rows]
    boxed = np.zeros(len(rows), dtype=np.bool_)
    if site_rows.boxed is not None and len(site_rows.boxed):
        boxed = np.isin(rows, site_rows.boxed, assume_unique=True)
    accessible = np.array([rules.accessible(view, a) for a in table.accesses], dtype=np.bool_)
    distance = _distances(
        table, rows, view, np.flatnonzero(boxed & accessible[table.profile_access[profile]])
    )
    in_person = np.isfinite(distance)
    broken = _after(table, view, wants_free)[profile]
    if not view.digital:
        broken[~in_person & table.online[rows]] = Rule.DIGITAL_ACCESS
    full = _full_now(table, rows, places)
    eligible = _counted(broken, full, include_full, excluded)
    near = eligible[in_person[eligible]]
    nearby = _nearby(table, rows[near], distance[near], full[near], person, scoring)
    return JoinableRows(site_rows, boxed, distance, full, profile, eligible, nearby, wants_free)


Joined = tuple["Activity", "Attendance", frozenset[str] | None, bool]
"""An activity joined from home that passes every rule but 3: as the engine sees it, how it is
joined, its days on the day and its free option (as `Batches` reads them)."""


def first_joinable(
    decided: JoinableRows, scoring: Scoring, size: int
) -> tuple[list[SiteEntry], list[Joined]]:
    """The eligible rows that can be among the first ``size`` by their approximate score (as
    `split`; ``scoring`` with online and phone proximity final, `Batches.few_nearby`): those
    inside the travel box as site entries (the engine decides again how they are attended), the
    others as their `views` joined from home, which the engine only scores."""
    table, rows, eligible = decided.site_rows.table, decided.site_rows.rows, decided.eligible
    distance, full, profile = decided.distance, decided.full, decided.profile
    joined = ~np.isfinite(distance[eligible])
    kept = _first(
        eligible,
        size,
        lambda: _approximate(table, rows, eligible, scoring, distance, full, profile, joined),
    )
    boxed = decided.boxed[kept]
    entries = [table.entries[i] for i in rows[kept[boxed]].tolist()]
    from_home: list[Joined] = []
    for i in rows[kept[~boxed]].tolist():
        _, _, free, days = table.profiles[table.profile[i]]
        attendance: Attendance = "online" if table.online[i] else "phone"
        from_home.append((table.views[i], attendance, days, decided.wants_free and free))
    return entries, from_home
