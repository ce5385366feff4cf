"""The outcome prior: what happened to people referred with a need who were booked on an
activity, as a score component and a reason (issue 19, docs/matching.md "Learning from
outcomes"). Pure: tallies in, values out.

Per activity and need, from the bookings whose attendance was recorded (``attended`` or
``did-not-attend``; a booking still ``booked`` or cancelled says nothing yet), counted in people:

- the activity's rate ``attended / people`` is shrunk towards its *category mean* (the pooled
  rate, for that need, of the activities sharing one of its categories; the need's pooled rate
  when it has no category with enough people): ``(attended + k * mean) / (people + k)`` with
  ``k = PRIOR_STRENGTH`` pseudo-people (an additive prior, the posterior mean of a beta prior
  centred on the category's rate: two people moving a rate by 50 points move it by under 10);
- below ``minimum_people(rules)`` people (the reports' disclosure minimum) there is no prior: the
  component is `NEUTRAL` and nothing is said;
- the component is ``NEUTRAL + (shrunk - mean) / 2``, in [0, 1]: an activity that does as well as
  its category for the need is neutral, one that does better above. Not the raw rate, which
  would favour any activity with evidence over a new one;
- the reason gives the share and the number of people as the reports publish them
  (`app.reporting.disclosure`: the share suppressed unless the people, those who attended and
  those who did not are each 0 or at least the suppression threshold; the count rounded), so it
  never names or counts fewer people than the reports would: "75% of about 20 people referred
  for low mood and booked here attended".

A person with several needs gets the mean of the values of their needs that have a prior, and
the reason of the first (most important) of them that can be said.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.matching.labels import NEED_LABELS
from app.matching.scoring import NEUTRAL
from app.reporting.disclosure import DisclosureRules, publish_share, round_count

PRIOR_STRENGTH = 10.0  # pseudo-people of the category's rate added to every activity's


@dataclass(frozen=True, slots=True)
class Tally:
    """People with a need booked on an activity whose attendance was recorded, and of them
    those who attended."""

    people: int
    attended: int

    def __post_init__(self) -> None:
        if not 0 <= self.attended <= self.people:
            raise ValueError("a tally needs 0 <= attended <= people")


@dataclass(frozen=True, slots=True)
class Prior:
    value: float  # the outcome component, in [0, 1]
    reason: str | None  # None when the reports' rules would not publish the share


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the engine reads for one person: activity id -> outcome component (absent:
    `NEUTRAL`), and activity id -> the reason to show."""

    values: Mapping[str, float]
    reasons: Mapping[str, str]


NO_EVIDENCE = Evidence({}, {})


def minimum_people(rules: DisclosureRules) -> int:
    """People needed behind a prior: the reports' minimum for a statistic, and never fewer than
    a count they would publish."""
    return max(rules.min_n_for_statistics, rules.suppress_below)


def shrunk(tally: Tally, mean: float, strength: float = PRIOR_STRENGTH) -> float:
    return (tally.attended + strength * mean) / (tally.people + strength)


def _rate(tallies: Sequence[Tally]) -> tuple[int, float]:
    people = sum(t.people for t in tallies)
    return people, (sum(t.attended for t in tallies) / people if people else 0.0)


def priors(
    tallies: Mapping[tuple[str, str], Tally],
    categories: Mapping[str, frozenset[str]],
    rules: DisclosureRules,
    strength: float = PRIOR_STRENGTH,
) -> dict[str, dict[str, Prior]]:
    """need -> activity id -> `Prior`, from the tallies per (activity id, need) and each
    activity's categories; only the activities with at least `minimum_people` people."""
    by_need: dict[str, list[tuple[str, Tally]]] = defaultdict(list)
    for (activity, need), tally in tallies.items():
        by_need[need].append((activity, tally))
    least = minimum_people(rules)
    found: dict[str, dict[str, Prior]] = {}
    for need, rows in by_need.items():
        pooled: dict[str, list[Tally]] = defaultdict(list)
        for activity, tally in rows:
            for category in categories.get(activity, ()):
                pooled[category].append(tally)
        _, need_mean = _rate([t for _, t in rows])
        label = NEED_LABELS.get(need, need.replace("-", " "))
        kept: dict[str, Prior] = {}
        for activity, tally in rows:
            if tally.people < least:
                continue
            # the activity's categories with enough people, pooled (an activity counts in each)
            around = [t for c in sorted(categories.get(activity, ())) for t in pooled[c]]
            people, mean = _rate(around)
            if people < least:
                mean = need_mean
            value = NEUTRAL + (shrunk(tally, mean, strength) - mean) / 2
            kept[activity] = Prior(value, _reason(tally, label, rules))
        if kept:
            found[need] = kept
    return found


def _reason(tally: Tally, label: str, rules: DisclosureRules) -> str | None:
    share = publish_share(tally.attended, tally.people, rules)
    if share.suppressed or share.value is None:
        return None
    return (
        f"{share.value:g}% of about {round_count(tally.people, rules)} people referred for "
        f"{label} and booked here attended"
    )


def evidence_for(found: Mapping[str, Mapping[str, Prior]], needs: Sequence[str]) -> Evidence:
    """The evidence for a person with ``needs`` (most important first)."""
    needs = list(dict.fromkeys(n for n in needs if n in found))
    if not needs:
        return NO_EVIDENCE
    if len(needs) == 1:
        one = found[needs[0]]
        return Evidence(
            {a: p.value for a, p in one.items()},
            {a: p.reason for a, p in one.items() if p.reason is not None},
        )
    values: dict[str, list[float]] = defaultdict(list)
    reasons: dict[str, str] = {}
    for need in needs:
        for activity, prior in found[need].items():
            values[activity].append(prior.value)
            if prior.reason is not None:
                reasons.setdefault(activity, prior.reason)
    return Evidence({a: sum(v) / len(v) for a, v in values.items()}, reasons)
