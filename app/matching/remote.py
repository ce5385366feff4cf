"""Remote activities in runs: the engine's way to rank thousands of online and phone activities
without visiting each (issue 19's speed; docs/matching.md "The directory snapshot").

A prescreened activity (`engine.Prescreened`: online or by phone, rules 1, 2 and 4-9 decided by
the caller) has no distance and no transport equity, so within its group (mode, days, a free
option) its score depends only on what the fits read of it (its fit key), on whether it has a
place, and on its outcome value. A `Run` holds activities of one group that share every
attribute the fits read (`scoring.ALL_FIT_ATTRIBUTES`), those with a place
first, each part by id, and none with an outcome value or places changed since (the caller
gives those one by one): every activity of a part scores the same, and ties are ordered by id.
So `RunConsiderer` scores a part once and hands the engine's per-candidate function only its
first activities, and only when the part's score can still enter the ranking (its first
``limit`` by score, distance and id); the rest are counted (given, and under rule 3 when full
and full ones are not wanted) without being visited. The same activities given one by one get
the same figures (`tests/matching/test_remote_properties.py`). `fit_once` is the fits cache of
a match that both ways share.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from operator import attrgetter
from typing import TYPE_CHECKING

from app.matching.rules import has_place
from app.matching.scoring import ALL_FIT_ATTRIBUTES, NEUTRAL, Fits, Scoring

if TYPE_CHECKING:  # the values are defined with the engine, which imports this module
    from app.matching.engine import Activity, Attendance, Consider, Prescreened, _Ranking

Codes = Hashable  # `scoring.fit_key`: what the fits read of an activity
MARGIN = 1e-9  # far above the rounding of a sum of ten terms in [0, 1] (under 1e-14)

Run = tuple[int, int, Sequence["Activity"]]
"""Activities of a `engine.Prescreened` group that score alike: (the number of their fit
attributes, how many of them have a place, the activities: those with a place by id, then the
full ones by id). See the module docstring for what the caller guarantees."""


_FIT_ATTRIBUTES = attrgetter(*ALL_FIT_ATTRIBUTES)


def in_runs(
    activities: Sequence[Activity], numbers: dict[object, int]
) -> tuple[tuple[Run, ...], dict[str, int]]:
    """The activities (of one group and day: the same mode, days and free option) in runs, by
    every attribute the fits read, whoever the person, numbered by ``numbers`` (which grows:
    one per day, so that equal numbers mean equal attributes); and the run of each activity,
    by id. For a caller that prepares runs once for many matches (the snapshot's day)."""
    alike: dict[int, list[Activity]] = defaultdict(list)
    for a in activities:
        alike[numbers.setdefault(_FIT_ATTRIBUTES(a), len(numbers))].append(a)
    runs: list[Run] = []
    run_of: dict[str, int] = {}
    for number, run in alike.items():
        run.sort(key=attrgetter("id"))
        with_place = [a for a in run if has_place(a.capacity_available)]
        full = [a for a in run if not has_place(a.capacity_available)]
        for a in run:
            run_of[a.id] = len(runs)
        runs.append((number, len(with_place), (*with_place, *full)))
    return tuple(runs), run_of


def fit_once(scoring: Scoring) -> Callable[[Codes, Activity], Fits]:
    """The fits of an activity with fit key ``codes``, computed once per key in a match: in
    person and remote, whatever the mode and days."""
    fits = scoring.fits
    fitted: dict[Codes, Fits] = {}

    def fit_of(codes: Codes, activity: Activity) -> Fits:
        fit = fitted.get(codes)
        if fit is None:
            fit = fitted[codes] = fits(activity)
        return fit

    return fit_of


class RunConsiderer:
    """Counts the runs of prescreened groups (`given`, and `full` when full ones are not
    wanted: rule 3) and hands the engine's per-candidate function (`engine.Consider`) only the
    first activities of each part of a run whose score can still enter the ranking.

    A part's score is the sum of its fit terms (computed once per run number) and of the
    terms it shares with its group (proximity, day fit, spare places, equity, a neutral
    outcome); summed in another order than the engine's, so it is compared with the least
    score kept less `MARGIN`: a part is skipped only when below it whatever the rounding, and
    the engine scores the others exactly as ever."""

    __slots__ = (
        "_consider",
        "_day_terms",
        "_fit_key",
        "_fit_of",
        "_fitted",
        "_include_full",
        "_ranking",
        "_scoring",
        "full",
        "given",
    )

    def __init__(
        self,
        scoring: Scoring,
        fit_of: Callable[[Codes, Activity], Fits],
        day_terms: Callable[[frozenset[str] | None], tuple[float, float]],
        consider: Consider,
        ranking: _Ranking,
        include_full: bool,
    ) -> None:
        self._scoring, self._fit_of, self._fit_key = scoring, fit_of, scoring.fit_key
        self._day_terms, self._consider, self._ranking = day_terms, consider, ranking
        self._include_full = include_full
        self._fitted: dict[int, float] = {}  # a run's number -> its weighted fit terms
        self.given = 0  # activities in the runs
        self.full = 0  # of them, full ones not wanted (rule 3)

    def _fit_terms(self, number: int, activity: Activity) -> float:
        wn, wi, _, wl, _, _, _, wg, wt, _ = self._scoring.shares
        n, i, lang, g, t = self._fit_of(self._fit_key(activity), activity)
        terms = self._fitted[number] = wn * n + wi * i + wl * lang + wg * g + wt * t
        return terms

    def _least(self) -> float:
        """The least score that can still enter the ranking, less `MARGIN`."""
        first = self._ranking.first
        return -first[-1][0] - MARGIN if first and len(first) >= self._ranking.limit else -math.inf

    def __call__(self, group: Prescreened, attendance: Attendance) -> None:
        """Counts and considers the group's runs (`attendance` as the engine reads the group)."""
        scoring, consider, limit = self._scoring, self._consider, self._ranking.limit
        wp, wc, we, wo = (scoring.shares[k] for k in (2, 5, 6, 9))
        proximity = scoring.online if attendance == "online" else scoring.phone
        equity = (0.5 if group.free else 0.0) if scoring.deprived else 0.0
        shared = wp * proximity + self._day_terms(group.days)[1] + we * equity + wo * NEUTRAL
        with_spare = shared + wc  # a place left: spare capacity 1, else 0
        days, free, include_full = group.days, group.free, self._include_full
        fitted, fit_terms = self._fitted, self._fit_terms
        given = full = 0
        least = self._least()
        for number, with_place, members in group.runs:
            size = len(members)
            given += size
            full += size - with_place
            if limit == 0:
                continue
            terms = fitted.get(number)
            if terms is None:
                terms = fit_terms(number, members[0])
            if with_place and terms + with_spare >= least:
                consider(members[: min(with_place, limit)], None, 0, attendance, days, free)
                least = self._least()
            if include_full and with_place < size and terms + shared >= least:
                waiting = members[with_place : min(size, with_place + limit)]
                consider(waiting, None, 0, attendance, days, free)
                least = self._least()
        self.given += given
        if not include_full:
            self.full += full
