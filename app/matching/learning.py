"""This process's outcome priors (`app.matching.evidence`), computed from the bookings and the
outcome scores at most every `MAX_AGE_S` seconds and then looked up per match.

Why a per-process cache with an age, not a summary table kept by triggers nor a cache keyed by
a change counter: a prior stands on at least the disclosure minimum of people per activity and
need, so one more attendance or follow-up moves it by a few points at most, and a few minutes'
delay changes no one's list; attendance is recorded on ``booking`` rows and wellbeing on
``outcome_score`` rows that the directory's change log does not follow (only places are), so a
change counter would need triggers of its own on them and ``referral_need``, as the reports'
summary has; and the whole table is three queries (two grouped) over the bookings whose
attendance is recorded and the scores of the referrals that attended, run once per process
every few minutes, not per match. Per match the cost is one dictionary lookup per person's set
of needs (the evidence per need set is kept too) and, when the person has any evidence, one per
scored activity in the engine.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.matching import repository
from app.matching.evidence import Evidence, Prior, Tally, evidence_for, priors
from app.outcomes import service as outcomes_service
from app.reporting import service as reporting_service
from app.reporting.disclosure import DisclosureRules

MAX_AGE_S = 300.0
MAX_NEED_SETS = 1024  # evidence kept per distinct set of needs; past it, the kept sets go

Reliable = Mapping[tuple[str, str], tuple[int, float]]  # (instrument, measure) -> (sign, size)


def reliable_measures() -> dict[tuple[str, str], tuple[int, float]]:
    """The scores the reports count reliable improvement on (SWEMWBS metric, WEMWBS total),
    with the sign of a better change (+1: higher is better) and the threshold."""
    return {
        (m.instrument, m.measure): (m.direction, m.threshold)
        for m in reporting_service.score_measures()
        if m.threshold is not None
    }


def wellbeing_tallies(
    attended: Iterable[tuple[str, str, uuid.UUID, uuid.UUID]],
    scores: Iterable[repository.ScoreRow],
    measures: Reliable,
) -> dict[tuple[str, str], Tally]:
    """(activity id, need) -> of the people with the need who attended the activity and have,
    on the referral they were booked through, a baseline and a later follow-up of a score in
    ``measures``, those reliably better: the change from the earliest baseline to the latest
    follow-up or exit at or after it (the outcomes' pairing, as the reports') is at least the
    threshold in the better direction. A person counts once, as better if any of their pairs
    is. ``attended``: (activity id, need, patient id, referral id); ``scores`` in collection
    order."""
    paired: dict[tuple[uuid.UUID, str, str], list[repository.ScoreRow]] = defaultdict(list)
    for row in scores:
        if (row.instrument, row.measure) in measures:
            paired[(row.referral_id, row.instrument, row.measure)].append(row)
    better: dict[uuid.UUID, bool] = {}  # referral -> reliably better on one of its pairs
    for (referral, code, key), rows in paired.items():
        before, after = outcomes_service.baseline_and_latest(rows, code)
        if before is None or after is None:
            continue
        sign, size = measures[(code, key)]
        better[referral] = (
            better.get(referral, False) or sign * (after.value - before.value) >= size
        )
    people: dict[tuple[str, str], dict[uuid.UUID, bool]] = defaultdict(dict)
    for activity, need, patient, referral in attended:
        if referral in better:
            seen = people[(activity, need)]
            seen[patient] = seen.get(patient, False) or better[referral]
    return {key: Tally(len(seen), sum(seen.values())) for key, seen in people.items()}


class OutcomePriors:
    """The priors of one database (one per application), recomputed when older than
    ``max_age_s`` on ``clock`` by the first match that needs them (concurrent matches wait for
    that one)."""

    def __init__(
        self, max_age_s: float = MAX_AGE_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_age_s = max_age_s
        self._clock = clock
        self._found: Mapping[str, Mapping[str, Prior]] | None = None
        self._rules: DisclosureRules | None = None
        self._at = 0.0
        self._by_needs: dict[tuple[str, ...], Evidence] = {}
        self._lock = asyncio.Lock()

    async def evidence(
        self, session: AsyncSession, needs: Sequence[str], rules: DisclosureRules
    ) -> Evidence:
        """The evidence for a person with ``needs`` (most important first)."""
        key = tuple(dict.fromkeys(needs))
        if not key:
            return evidence_for({}, ())
        if self._stale(rules):
            async with self._lock:
                if self._stale(rules):
                    await self._load(session, rules)
        found = self._by_needs.get(key)
        if found is None:
            if len(self._by_needs) >= MAX_NEED_SETS:
                self._by_needs.clear()
            found = self._by_needs[key] = evidence_for(self._found or {}, key)
        return found

    def invalidate(self) -> None:
        """The next match recomputes the priors (tests; a bulk load of bookings)."""
        self._found = None

    def _stale(self, rules: DisclosureRules) -> bool:
        return (
            self._found is None or rules != self._rules or self._clock() - self._at > self.max_age_s
        )

    async def _load(self, session: AsyncSession, rules: DisclosureRules) -> None:
        attendance = {
            key: Tally(people, attended)
            for key, (people, attended) in (await repository.attendance_tallies(session)).items()
        }
        measures = reliable_measures()
        wellbeing = wellbeing_tallies(
            await repository.attended_needs(session),
            await repository.attended_scores(session, list(measures)),
            measures,
        )
        categories = await repository.booked_categories(session)
        self._found = priors(attendance, categories, rules, wellbeing)
        self._rules, self._at = rules, self._clock()
        self._by_needs = {}
