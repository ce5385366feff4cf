"""This process's outcome priors (`app.matching.evidence`), computed from the bookings at most
every `MAX_AGE_S` seconds and then looked up per match.

Why a per-process cache with an age, not a summary table kept by triggers nor a cache keyed by
a change counter: a prior stands on at least the disclosure minimum of people per activity and
need, so one more attendance moves it by a few points at most, and a few minutes' delay changes
no one's list; attendance is recorded on ``booking`` rows that the directory's change log does
not follow (only places are), so a change counter would need triggers of its own on
``booking`` and ``referral_need``, as the reports' summary has; and the whole table is two
grouped queries over the bookings whose attendance is recorded, run once per process every
few minutes, not per match. Per match the cost is one dictionary lookup per person's set of
needs (the evidence per need set is kept too) and one per scored activity in the engine.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from app.matching import repository
from app.matching.evidence import Evidence, Prior, Tally, evidence_for, priors
from app.reporting.disclosure import DisclosureRules

MAX_AGE_S = 300.0
MAX_NEED_SETS = 1024  # evidence kept per distinct set of needs; past it, the kept sets go


class OutcomePriors:
    """The priors of one database (one per application), recomputed when older than
    ``max_age_s`` by the first match that needs them (concurrent matches wait for that one)."""

    def __init__(self, max_age_s: float = MAX_AGE_S) -> None:
        self.max_age_s = max_age_s
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
            self._found is None
            or rules != self._rules
            or time.monotonic() - self._at > self.max_age_s
        )

    async def _load(self, session: AsyncSession, rules: DisclosureRules) -> None:
        tallies = {
            key: Tally(people, attended)
            for key, (people, attended) in (await repository.attendance_tallies(session)).items()
        }
        categories = await repository.booked_categories(session)
        self._found = priors(tallies, categories, rules)
        self._rules, self._at = rules, time.monotonic()
        self._by_needs = {}
