"""The score of an activity that passes the hard rules (DESIGN.md section 7): its components,
their weights and the weighted mean.

Components, each in [0, 1] (`NEUTRAL` = 0.5 where the person stated nothing to compare):

- need fit: mean over the person's needs of 1 when the activity is made for the need (it targets
  it, or has the need's specialist category in `SPECIALIST_CATEGORIES`), else the best
  suitability of the activity's categories for that need in the table, times `GENERIC_FIT`
  (it merely tolerates the need), or `OTHER_PURPOSE_FIT` when it is made only for needs the
  person does not have (a job club tolerates debt through its advice category, but is made for
  finding work): so for a need a specialist outranks a generic activity, and both outrank one
  made for another situation;
- interest fit: interests shared / the smaller of (interests, categories); 0 without categories;
- proximity: in person ``0.5 ** (distance_km / PROXIMITY_HALF_LIFE_KM)``; online and phone a fixed
  value from `REMOTE_PROXIMITY` by the person's preferred attendance mode (1 when the person
  prefers that mode), halved for online when digital access is ``limited``. A hybrid activity
  attended in person also offers online joining, so its proximity is the better of the distance
  value and the online value (when the person has some digital access);
- language fit: 1 when the activity runs in the person's first language, `SECONDARY_LANGUAGE_FIT`
  in another of their languages, else 0. Languages compare by primary subtag (``en-GB`` -> ``en``)
  and an empty list on either side means English (Patient.communication is rarely recorded for
  English speakers, and directories rarely list English);
- day fit: days in common / the smaller of (person's days, activity's days);
- spare capacity: 1 when not limited, ``available / maximum`` when the maximum is known, else
  ``available / 10`` (ten places count as plenty), capped at 1; 0 on the waiting list;
- equity: 0 unless the person lives in IMD decile 1-3; then 0.5 for a free option plus 0.5 when
  the activity is attended in person and known to be near public transport;
- outcome: what happened to people referred with the person's needs who were booked on the
  activity, against its category (`app.matching.evidence`: attendance and reliable wellbeing
  change, each shrunk towards the category's, `NEUTRAL` without enough people); the caller
  passes it per activity.

Score: the weighted mean of the components with `Weights` (divided by the weights' sum),
clamped to [0, 1].

This module holds the components that depend only on an activity's code sets and days (few
and shared, so computed once per distinct value in a match), the proximity values and the
weights; the engine's per-candidate function (`engine._considerer`, the innermost loop of
matching, kept in one frame) computes in-person proximity, spare capacity and equity as above,
looks up the outcome value and adds the weighted terms, always in the order of `Weights`, so an
activity scores the same to the last bit whichever way it reached the engine. Pure: no I/O, no
settings, no clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the values are defined with the engine, which imports this module
    from app.matching.engine import Activity, Person

Suitability = Mapping[str, Mapping[str, float]]
"""need code -> {activity-category code: suitability in [0, 1]} (DESIGN 5.4; data, not code)."""

ENGLISH = frozenset({"en"})
PROXIMITY_HALF_LIFE_KM = 3.0
REMOTE_PROXIMITY: Mapping[str, Mapping[str, float]] = {
    # activity mode -> person's preferred attendance mode -> proximity value
    "online": {"online": 1.0, "any": 0.5, "phone": 0.3, "in-person": 0.2},
    "phone": {"phone": 1.0, "any": 0.5, "online": 0.3, "in-person": 0.2},
}
LIMITED_DIGITAL_FACTOR = 0.5
SECONDARY_LANGUAGE_FIT = 0.7
NEUTRAL = 0.5
GENERIC_FIT = 0.8  # need fit of a category's suitability when the activity targets no need
OTHER_PURPOSE_FIT = 0.3  # ... when it targets other needs than this one
SPECIALIST_CATEGORIES: Mapping[str, str] = {
    # activity category -> the need an activity of that category is made for
    "bereavement-support": "bereavement",
    "carers-support": "carer-support",
}
PLENTY_OF_PLACES = 10
DEPRIVED_DECILES = range(1, 4)


@dataclass(frozen=True, slots=True)
class Weights:
    """Relative weights of the score components (the defaults sum to 1.05: they are shares
    once divided by their sum).

    Exposed as settings ``ASSETLINK_MATCH_WEIGHT_<FIELD>``. Need fit leads because the referral
    is for the need; interests and proximity decide whether the person goes; language, days,
    spare places, equity and the outcome evidence refine the order.
    """

    need_fit: float = 0.30
    interest_fit: float = 0.20
    proximity: float = 0.20
    language_fit: float = 0.10
    day_fit: float = 0.08
    spare_capacity: float = 0.04
    equity: float = 0.08
    outcome: float = 0.05  # small: a nudge between comparable activities, not a reason to go

    def __post_init__(self) -> None:
        values = [getattr(self, f.name) for f in fields(self)]
        if not all(math.isfinite(v) and v >= 0 for v in values) or sum(values) <= 0:
            raise ValueError("match weights must be finite, non-negative and not all zero")

    @property
    def total(self) -> float:
        return math.fsum(getattr(self, f.name) for f in fields(self))


DEFAULT_WEIGHTS = Weights()


@dataclass(frozen=True, slots=True)
class Components:
    """Every score component of a match, each in [0, 1]; fields as in `Weights`."""

    need_fit: float
    interest_fit: float
    proximity: float
    language_fit: float
    day_fit: float
    spare_capacity: float
    equity: float
    outcome: float


def primary_language(code: str) -> str:
    return code.partition("-")[0].strip().lower()


def made_for(activity: Activity) -> frozenset[str]:
    """The needs the activity is made for: those it targets and those of its specialist
    categories (`SPECIALIST_CATEGORIES`)."""
    specialist = [
        SPECIALIST_CATEGORIES[c] for c in activity.categories if c in SPECIALIST_CATEGORIES
    ]
    return activity.target_needs | frozenset(specialist) if specialist else activity.target_needs


Fits = tuple[float, float, float]  # need, interest and language fit


@dataclass(frozen=True, slots=True)
class Scoring:
    """How one person scores activities, built once per match by `Scoring.of`: the weights as
    shares, the proximity values, and the components that depend only on an activity's code
    sets (``fits``) or days (``day_fit``), each computed once per distinct value it reads."""

    needs: tuple[str, ...]  # the person's needs, without repeats, most important first
    rows: Mapping[str, Mapping[str, float]]  # their rows of the suitability table
    languages: tuple[str, ...]  # the person's primary language subtags, preferred first
    shares: tuple[float, float, float, float, float, float, float, float]  # weights / their sum
    online: float  # proximity of an activity joined online
    phone: float  # proximity of one by phone
    also_online: bool  # a hybrid activity attended in person also counts as online
    decay: float  # in person, proximity = exp(-decay * distance_km)
    deprived: bool  # lives in IMD decile 1-3 (equity)
    fits: Callable[[Activity], Fits]
    day_fit: Callable[[frozenset[str] | None], float]
    outcome: Mapping[str, float]  # activity id -> outcome component (absent: NEUTRAL)

    @classmethod
    def of(
        cls,
        person: Person,
        suitability: Suitability,
        weights: Weights,
        outcome: Mapping[str, float] | None = None,
    ) -> Scoring:
        needs = tuple(dict.fromkeys(person.needs))
        rows = {need: suitability.get(need, {}) for need in needs}
        for need, row in rows.items():
            if any(not 0 <= v <= 1 for v in row.values()):
                raise ValueError(f"suitability for need {need!r} must lie in [0, 1]")
        languages = tuple(dict.fromkeys(primary_language(c) for c in person.languages)) or ("en",)
        total = weights.total
        wn, wi, wp, wl, wd, wc, we, wo = (getattr(weights, f.name) / total for f in fields(weights))
        online = REMOTE_PROXIMITY["online"][person.attendance_mode]
        if person.digital_access == "limited":
            online *= LIMITED_DIGITAL_FACTOR
        return cls(
            needs=needs,
            rows=rows,
            languages=languages,
            shares=(wn, wi, wp, wl, wd, wc, we, wo),
            online=online,
            phone=REMOTE_PROXIMITY["phone"][person.attendance_mode],
            also_online=person.digital_access != "none",
            decay=math.log(2) / PROXIMITY_HALF_LIFE_KM,
            deprived=person.imd_decile is not None and person.imd_decile in DEPRIVED_DECILES,
            fits=_fits(person, rows, languages),
            day_fit=_day_fit(person.available_days),
            outcome=outcome or {},
        )


def _day_fit(person_days: frozenset[str]) -> Callable[[frozenset[str] | None], float]:
    def day_fit(days: frozenset[str] | None) -> float:
        if person_days and days is not None:
            return len(person_days & days) / min(len(person_days), len(days))
        return NEUTRAL

    return day_fit


def _fits(
    person: Person, rows: Mapping[str, Mapping[str, float]], languages: tuple[str, ...]
) -> Callable[[Activity], tuple[float, float, float]]:
    """Need, interest and language fit of an activity for the person. Each depends on fewer
    of the activity's code sets than the three together, so each is computed once per
    distinct value of what it reads."""
    need_rows = list(rows.items())
    interests = person.interests
    first_language, other_languages = languages[0], frozenset(languages[1:])
    need_fits: dict[tuple[frozenset[str], frozenset[str]], float] = {}
    interest_fits: dict[frozenset[str], float] = {}
    language_fits: dict[frozenset[str], float] = {}

    def fits(a: Activity) -> tuple[float, float, float]:
        categories = a.categories
        fit_key = (categories, a.target_needs)
        need_fit = need_fits.get(fit_key)
        if need_fit is None:
            if need_rows:
                targets = made_for(a)
                # made for other needs than any of the person's: another situation
                tolerated = (
                    OTHER_PURPOSE_FIT if targets and targets.isdisjoint(rows) else GENERIC_FIT
                )
                fit_sum = 0.0
                for need, row in need_rows:
                    if need in targets:
                        fit_sum += 1.0
                    else:
                        top = 0.0
                        for c in categories:
                            v = row.get(c, 0.0)
                            if v > top:
                                top = v
                        fit_sum += top * tolerated
                need_fit = fit_sum / len(need_rows)
            else:
                need_fit = NEUTRAL
            need_fits[fit_key] = need_fit

        interest_fit = interest_fits.get(categories)
        if interest_fit is None:
            if not interests:
                interest_fit = NEUTRAL
            elif categories:
                interest_fit = len(interests & categories) / min(len(interests), len(categories))
            else:
                interest_fit = 0.0
            interest_fits[categories] = interest_fit

        language_fit = language_fits.get(a.languages)
        if language_fit is None:
            offered = {primary_language(c) for c in a.languages} if a.languages else ENGLISH
            if first_language in offered:
                language_fit = 1.0
            elif not other_languages.isdisjoint(offered):
                language_fit = SECONDARY_LANGUAGE_FIT
            else:
                language_fit = 0.0
            language_fits[a.languages] = language_fit
        return need_fit, interest_fit, language_fit

    return fits
