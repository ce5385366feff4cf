"""The outcome prior: what happened to people referred with a need who were booked on an
activity, as a score component and reasons (issue 19, docs/matching.md "Learning from
outcomes"). Pure: tallies in, values out.

Two signals per activity and need, each a `Tally` of people (a person counts once):

- *attendance*: of the people with the need booked on the activity whose attendance was
  recorded (``attended`` or ``did-not-attend``), those who attended;
- *wellbeing*: of the people with the need who attended the activity and have a baseline and a
  later follow-up of a wellbeing score with a reliable-change threshold (SWEMWBS, WEMWBS), those
  whose change reached it in the better direction (reliably better; the rule of the reports).

Each signal, for one activity and need:

- its rate ``did / people`` is shrunk towards the activity's *category mean* (the pooled rate,
  for that need, of the activities sharing one of its categories; the need's pooled rate when
  it has no category with enough people): ``(did + k * mean) / (people + k)`` with
  ``k = PRIOR_STRENGTH`` pseudo-people (an additive prior, the posterior mean of a beta prior
  centred on the category's rate: two people moving a rate by 50 points move it by under 10);
- below ``minimum_people(rules)`` people (the reports' disclosure minimum) the signal has no
  value and says nothing;
- its value is ``NEUTRAL + (shrunk - mean) / 2``, in [0, 1]: an activity that does as well as
  its category for the need is neutral, one that does better above. Not the raw rate, which
  would favour any activity with evidence over a new one.

The component of an activity and need is the mean of the values of the signals that have one
(the people measured are among those who attended, so an activity with a wellbeing value always
has an attendance value); without an attendance value there is no prior. Each signal's reason
gives its share and number of people as the reports publish them (`app.reporting.disclosure`:
the share suppressed unless the people, those who did and those who did not are each 0 or at
least the suppression threshold; the count rounded), so it never names or counts fewer people
than the reports would: "75% of about 20 people referred for low mood and booked here
attended", "60% of about 10 people referred for low mood who attended here and were measured
before and after felt reliably better".

A person with several needs gets the mean of the values of their needs that have a prior, and
the reasons of the first (most important) of them that has any.
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
    """People with a need behind one signal of an activity, and of them those who did it
    (attended; felt reliably better)."""

    people: int
    did: int

    def __post_init__(self) -> None:
        if not 0 <= self.did <= self.people:
            raise ValueError("a tally needs 0 <= did <= people")


Tallies = Mapping[tuple[str, str], Tally]  # (activity id, need) -> tally


@dataclass(frozen=True, slots=True)
class Prior:
    value: float  # the outcome component, in [0, 1]
    reasons: tuple[str, ...]  # only what the reports' rules would publish


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the engine reads for one person: activity id -> outcome component (absent:
    `NEUTRAL`), and activity id -> the reasons to show."""

    values: Mapping[str, float]
    reasons: Mapping[str, tuple[str, ...]]


NO_EVIDENCE = Evidence({}, {})


def minimum_people(rules: DisclosureRules) -> int:
    """People needed behind a signal: the reports' minimum for a statistic, and never fewer
    than a count they would publish."""
    return max(rules.min_n_for_statistics, rules.suppress_below)


def shrunk(tally: Tally, mean: float, strength: float = PRIOR_STRENGTH) -> float:
    return (tally.did + strength * mean) / (tally.people + strength)


def _rate(people: int, did: int) -> float:
    return did / people if people else 0.0


def _by_need(tallies: Tallies) -> dict[str, list[tuple[str, Tally]]]:
    found: dict[str, list[tuple[str, Tally]]] = defaultdict(list)
    for (activity, need), tally in tallies.items():
        found[need].append((activity, tally))
    return found


def _values(
    rows: Sequence[tuple[str, Tally]],
    categories: Mapping[str, frozenset[str]],
    least: int,
    strength: float,
) -> dict[str, tuple[float, Tally]]:
    """One signal of one need: activity id -> (value, tally), for the activities with at least
    ``least`` people."""
    pooled: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # category -> people, did
    for activity, tally in rows:
        for category in categories.get(activity, ()):
            pooled[category][0] += tally.people
            pooled[category][1] += tally.did
    need_mean = _rate(sum(t.people for _, t in rows), sum(t.did for _, t in rows))
    found = {}
    for activity, tally in rows:
        if tally.people < least:
            continue
        # the activity's categories, pooled (an activity counts in each)
        around = [pooled[c] for c in categories.get(activity, ())]
        people = sum(p for p, _ in around)
        mean = _rate(people, sum(d for _, d in around)) if people >= least else need_mean
        found[activity] = (NEUTRAL + (shrunk(tally, mean, strength) - mean) / 2, tally)
    return found


def priors(
    attendance: Tallies,
    categories: Mapping[str, frozenset[str]],
    rules: DisclosureRules,
    wellbeing: Tallies | None = None,
    strength: float = PRIOR_STRENGTH,
) -> dict[str, dict[str, Prior]]:
    """need -> activity id -> `Prior`, from the attendance and wellbeing tallies per (activity
    id, need) and each activity's categories; only the activities whose attendance stands on at
    least `minimum_people` people."""
    least = minimum_people(rules)
    better_by_need = _by_need(wellbeing or {})
    found: dict[str, dict[str, Prior]] = {}
    for need, rows in _by_need(attendance).items():
        came = _values(rows, categories, least, strength)
        better = _values(better_by_need.get(need, []), categories, least, strength)
        label = NEED_LABELS.get(need, need.replace("-", " "))
        kept: dict[str, Prior] = {}
        for activity, (value, tally) in came.items():
            values = [value]
            said = [_reason(tally, rules, f"referred for {label} and booked here attended")]
            if activity in better:
                felt, measured = better[activity]
                values.append(felt)
                said.append(
                    _reason(
                        measured,
                        rules,
                        f"referred for {label} who attended here and were measured before and "
                        "after felt reliably better",
                    )
                )
            reasons = tuple(s for s in said if s is not None)
            kept[activity] = Prior(sum(values) / len(values), reasons)
        if kept:
            found[need] = kept
    return found


def _reason(tally: Tally, rules: DisclosureRules, what: str) -> str | None:
    share = publish_share(tally.did, tally.people, rules)
    if share.suppressed or share.value is None:
        return None
    return f"{share.value:g}% of about {round_count(tally.people, rules)} people {what}"


def evidence_for(found: Mapping[str, Mapping[str, Prior]], needs: Sequence[str]) -> Evidence:
    """The evidence for a person with ``needs`` (most important first)."""
    needs = list(dict.fromkeys(n for n in needs if n in found))
    if not needs:
        return NO_EVIDENCE
    if len(needs) == 1:
        one = found[needs[0]]
        return Evidence(
            {a: p.value for a, p in one.items()},
            {a: p.reasons for a, p in one.items() if p.reasons},
        )
    values: dict[str, list[float]] = defaultdict(list)
    reasons: dict[str, tuple[str, ...]] = {}
    for need in needs:
        for activity, prior in found[need].items():
            values[activity].append(prior.value)
            if prior.reasons:
                reasons.setdefault(activity, prior.reasons)
    return Evidence({a: sum(v) / len(v) for a, v in values.items()}, reasons)
