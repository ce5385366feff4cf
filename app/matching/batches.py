"""The candidates of a match that the engine decides one by one, sorted into batches for its
per-candidate function (`engine.Consider`), so that it runs once per batch rather than once per
candidate: sited entries (`engine.Sited`) by the rules of their profiles and their distance
(hybrid ones in person or joined online, as `engine._plain` sorts a hybrid activity), plain
activities by the engine's tests (`engine._plain`); and whether few of those in person
fit nearby (`Batches.few_nearby`), which raises what the person can join from home. Pure, like
the engine.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from app.matching import rules
from app.matching.rules import PersonView, Rule
from app.matching.scoring import another_situation, made_for

if TYPE_CHECKING:  # the values are defined with the engine, which imports this module
    from app.matching.columns import Joined
    from app.matching.engine import (
        Activity,
        Attendance,
        Consider,
        Person,
        Sited,
        SiteEntry,
        SiteProfile,
    )

    # What becomes of the sited entries within reach of a profile that meets the person's
    # needs: the first of rules 7-9 it breaks (0 none), where an entry goes (the list of that
    # rule, or of the profile's days and free option when none) and, when none, where its
    # distance goes.
    Outcome = tuple[int, Callable[[Activity], None], Callable[[float], None] | None]


FEW_NEARBY = 3  # in-person activities made for the person's needs, with a place: fewer is few
NEARBY_KM = 3.0  # within this distance (`scoring.PROXIMITY_HALF_LIFE_KM`)


def counts_nearby(a: Activity, needs: frozenset[str], situations: frozenset[str]) -> bool:
    """What `Batches.few_nearby` reads of an activity besides its distance and places: made for
    one of the person's needs (any, without needs) and not for another situation."""
    return (not needs or not needs.isdisjoint(made_for(a))) and not another_situation(a, situations)


class Batches:
    """The candidates of a match decided one by one, sorted into batches for `consider`:
    per rule broken (4-9), and those that pass per attendance, days and free option (in
    person with their distances), so that `consider` runs once per batch.

    Sited entries (see `Sited`): rule 5 is decided once per distinct accessibility and rules
    7-9 once per distinct other parts of the profiles (shared by all the groups: the profiles
    are many, their parts few), their outcome once per profile; rule 6 for a whole group in
    one call. An entry then goes to the batch of the first rule it breaks, or of its profile's
    days and free option. A hybrid entry whose location fails rule 5 or 6 is not counted under
    it but joined online (rules 4 and 7-9 once per profile), and its free option only counts
    when ``wants_free`` (as `engine._plain` reads it)."""

    def __init__(
        self,
        view: PersonView,
        within: Callable[[Sequence[rules.Site]], list[float | None]],
        wants_free: bool,
    ) -> None:
        self.view, self.within, self.wants_free = view, within, wants_free
        self.accessible: dict[frozenset[str], bool] = {}  # rule 5 per accessibility
        self.later: dict[tuple[frozenset[str], bool, frozenset[str] | None], Outcome] = {}
        self.broken: dict[int, list[Activity]] = defaultdict(list)  # per rule
        # per free option and days: the activities that pass and their distances
        self.passed: dict[tuple[bool, frozenset[str] | None], tuple[list[Activity], list[float]]]
        self.passed = {}
        self.remote_passed: dict[tuple[Attendance, bool, frozenset[str] | None], list[Activity]]
        self.remote_passed = {}
        # in-person candidates decided elsewhere (`columns.split`) that count in `few_nearby`
        self.nearby = 0

    def near(self, free: bool, days: frozenset[str] | None) -> tuple[list[Activity], list[float]]:
        """The batch of in-person candidates that pass, with these days and free option."""
        key = (free, days)
        batch = self.passed.get(key)
        if batch is None:
            batch = self.passed[key] = ([], [])
        return batch

    def remote(
        self,
        a: Activity,
        broken: int,
        attendance: Attendance,
        days: frozenset[str] | None,
        free: bool,
    ) -> None:
        """Adds an activity joined online or by phone that breaks ``broken`` (0 none)."""
        if broken:
            self.broken[broken].append(a)
        else:
            self._remote_batch(attendance, free, days).append(a)

    def _remote_batch(
        self, attendance: Attendance, free: bool, days: frozenset[str] | None
    ) -> list[Activity]:
        """The batch of remote candidates that pass, with this attendance, days and free option."""
        key = (attendance, free, days)
        batch = self.remote_passed.get(key)
        if batch is None:
            batch = self.remote_passed[key] = []
        return batch

    def joined(self, joined: Sequence[Joined]) -> None:
        """Adds activities joined from home that pass every rule but 3."""
        for a, attendance, days, free in joined:
            self._remote_batch(attendance, free, days).append(a)

    def _after(
        self, service_areas: frozenset[str], free: bool, days: frozenset[str] | None
    ) -> Outcome:
        """The outcome of an accessible profile's other parts (rules 7-9)."""
        rule = rules.after_attendance(self.view, service_areas, free, days)
        if rule:
            return (rule, self.broken[rule].append, None)
        activities, distances = self.near(free, days)
        return (0, activities.append, distances.append)

    def _accessible(self, group: Sited) -> tuple[Sequence[SiteEntry], list[SiteEntry]]:
        """The group's entries whose location meets the person's needs (rule 5, decided once
        per distinct accessibility; without needs every location meets them), and the others."""
        if not self.view.accessibility:
            return group.entries, []
        profiles, accessible, view = group.profiles, self.accessible, self.view
        kept: list[SiteEntry] = []
        refused: list[SiteEntry] = []
        for entry in group.entries:
            access = profiles[entry[4]][0]
            meets = accessible.get(access)
            if meets is None:
                meets = accessible[access] = rules.accessible(view, access)
            (kept if meets else refused).append(entry)
        return kept, refused

    def _outcome(self, profile: SiteProfile, free: bool) -> Outcome:
        """The outcome of an accessible profile within reach, with ``free`` as its free option
        (rules 7-9, decided once per distinct parts)."""
        _, service_areas, _, days = profile
        parts = (service_areas, free, days)
        outcome = self.later.get(parts)
        if outcome is None:
            outcome = self.later[parts] = self._after(*parts)
        return outcome

    def add(self, group: Sited) -> None:
        """Sorts a group's entries into the batches (rule 5 before rule 6 before 7-9); a hybrid
        group's that fail rule 5 or 6 are joined online (`_online`)."""
        profiles, hybrid = group.profiles, group.hybrid
        decided: list[Outcome | None] = [None] * len(profiles)
        # rule 5 first: only the entries that pass are measured
        entries, refused = self._accessible(group)
        if hybrid:
            beyond, wants_free = refused, self.wants_free
        else:
            self.broken[Rule.ACCESSIBILITY].extend(entry[0] for entry in refused)
            beyond, wants_free = [], True  # the free option as is: read only when it matters
        for entry, distance in zip(entries, self.within(entries), strict=True):
            if distance is None:
                beyond.append(entry)
                continue
            number = entry[4]
            outcome = decided[number]
            if outcome is None:
                profile = profiles[number]
                outcome = decided[number] = self._outcome(profile, wants_free and profile[2])
            _, add, add_distance = outcome
            add(entry[0])
            if add_distance is not None:
                add_distance(distance)
        if hybrid:
            self._online(group, beyond)
        else:
            self.broken[Rule.TRAVEL_DISTANCE].extend(entry[0] for entry in beyond)

    def _online(self, group: Sited, entries: list[SiteEntry]) -> None:
        """Hybrid entries joined online (rules 4 and 7-9, decided once per profile)."""
        profiles, view, wants_free = group.profiles, self.view, self.wants_free
        joined: list[Callable[[Activity], None] | None] = [None] * len(profiles)
        for entry in entries:
            number = entry[4]
            add = joined[number]
            if add is None:
                _, service_areas, free, days = profiles[number]
                free = wants_free and free
                rule = rules.remote(view, True, service_areas, free, days)
                batch = self.broken[rule] if rule else self._remote_batch("online", free, days)
                add = joined[number] = batch.append
            add(entry[0])

    def consider(self, consider: Consider) -> None:
        """Passes every batch to `consider`."""
        for (free, days), (activities, distances) in self.passed.items():
            consider(activities, distances, 0, "in-person", days, free)
        for (attendance, free, days), remote in self.remote_passed.items():
            consider(remote, None, 0, attendance, days, free)
        for rule, activities in self.broken.items():
            consider(activities, None, rule, "in-person", None, False)

    def few_nearby(self, person: Person, places: Mapping[str, int | None] | None) -> bool:
        """Whether fewer than `FEW_NEARBY` in-person activities that pass every hard rule and have
        a place lie within `NEARBY_KM` and are made for one of the person's needs (and not for
        another situation): then a link worker looks at what the person can join from home
        (`scoring.Scoring.from_home_raised`). Counted over the candidates, whatever their order,
        and ``nearby`` (those counted elsewhere)."""
        needs, situations = frozenset(person.needs), person.situations
        found = self.nearby
        if found >= FEW_NEARBY:
            return False
        for activities, distances in self.passed.values():
            for a, distance in zip(activities, distances, strict=True):
                available = (
                    a.capacity_available
                    if places is None
                    else places.get(a.id, a.capacity_available)
                )
                if (
                    distance <= NEARBY_KM
                    and counts_nearby(a, needs, situations)
                    and rules.has_place(available)
                ):
                    found += 1
                    if found >= FEW_NEARBY:
                        return False
        return True
