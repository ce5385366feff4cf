"""The score of an activity that passes the hard rules (DESIGN.md section 7): its components,
their weights and the weighted mean.

Components, each in [0, 1] (`NEUTRAL` = 0.5 where the person stated nothing to compare):

- need fit: mean over the person's needs (the first, the referral's main reason, counted
  `FIRST_NEED_WEIGHT` times: a link worker serves it first) of 1 when the activity is made for
  the need (it targets it, or has the need's specialist category in `SPECIALIST_CATEGORIES`),
  else the best
  suitability of the activity's categories for that need in the table, times `GENERIC_FIT`
  (it merely tolerates the need), or `OTHER_PURPOSE_FIT` when it is made only for needs the
  person does not have (a job club tolerates debt through its advice category, but is made for
  finding work): so for a need a specialist outranks a generic activity, and both outrank one
  made for another purpose. An activity made for a situation or group the person is not in
  (`another_situation`, `another_group`: a specialist for a need they do not have) counts
  `OTHER_SITUATION_FIT` (0: it cannot meet their need); one wholly about an interest the
  referral names (`interest_led`) fits each need it can help with as if made for it. Then
  factors for what the person cannot use: too much for their condition (`TOO_MUCH_FOR`:
  `TOO_MUCH`), at a venue for someone housebound (`AT_A_VENUE_WHEN_HOUSEBOUND`), talking in a
  language they do not speak or in English they do not list (`TALKING_CATEGORIES`, see
  language fit), mixed when they asked for a single-sex group (see group fit);
- interest fit: interests met / the smaller of (interests, categories), at most 1; 0 without
  categories. A category meets an interest in itself and in the broader category it is a kind
  of (`BROADER_CATEGORIES`: a walking group meets an interest in physical activity);
- proximity: in person ``0.5 ** (distance_km / PROXIMITY_HALF_LIFE_KM)``, times
  `IN_PERSON_WHEN_REMOTE_PREFERRED` when the person prefers to take part online or by phone
  (someone who asked to join from home gets the options from home first); online and phone a fixed
  value from `REMOTE_PROXIMITY` by the person's preferred attendance mode (1 when the person
  prefers that mode), halved for online when digital access is ``limited``. A hybrid activity
  attended in person also offers online joining, so its proximity is the better of the distance
  value and the online value (when the person has some digital access). When fewer than
  `batches.FEW_NEARBY` in-person activities made for the person's needs (with a place, passing
  every hard rule) lie within `batches.NEARBY_KM`, online and phone values are raised
  `FROM_HOME_WHEN_FEW` of the way to 1 (a link worker then looks at what the person can join
  from home; the reasons say "Few in-person options nearby"). An in-person service that visits
  the person at home (group trait `HOME`: "visits you at home", "home visits") has proximity 1:
  it reaches the person wherever its base is (its service area, a hard rule, says whom it
  visits), and a person who asked to take part from home is at home for it;
- language fit: 1 when the activity runs in the person's first language, `SECONDARY_LANGUAGE_FIT`
  in another of their languages, `ENGLISH_WITH_HELP_FIT` when it is held in English alone and the
  person does not list English (an English group can be joined with an interpreter or a friend, a
  group held in Turkish cannot be by a Somali speaker, even when it lists English beside
  Turkish), else 0; at 0 (held in a language the person does not speak) need fit counts times
  `HELD_IN_ANOTHER_LANGUAGE`: the group cannot meet a need the person cannot talk about there;
  where talking is the point (`TALKING_CATEGORIES`: advice, support, company) it counts
  `TALK_IN_ANOTHER_LANGUAGE`, and held in English that the person does not list
  `TALK_WITH_HELP` (a walk or a gym can be shared without many words). Held in English by a
  service that offers interpreters (group trait `INTERPRETERS`: "interpreters available",
  "Bengali interpreter present") it is `WITH_INTERPRETER_FIT` and need fit is not lowered: the
  person can talk there through the interpreter.
  Languages compare by primary subtag (``en-GB`` -> ``en``) and an empty list on either side
  means English (Patient.communication is rarely recorded for English speakers, and directories
  rarely list English);
- day fit: the mean of (days in common / the smaller of (person's days, activity's days)) and
  (days in common / person's days): how well the activity's days lie within theirs (a weekly
  group on one of their days fits), and on how many of their free days it runs (for someone
  free every weekday afternoon around shifts, a line open all five fits better than a clinic
  one morning a week, where the first alone scores both 1);
- spare capacity: 1 when a place is left (or places are not limited), 0 on the waiting list.
  How many are left does not count: a small group with 3 of 8 places left has a place for the
  person as surely as a drop-in without a limit, and counting the share of places left (as
  before issue 19's round 3) ranked small, sought-after groups (a peer-support group, a quiet
  art room) below remote and unlimited options a link worker would not pick first; the reasons
  still say "3 places left";
- equity: 0 unless the person lives in IMD decile 1-3; then 0.5 for a free option plus 0.5 when
  the activity is attended in person and known to be near public transport;
- group fit: the mean over the person's group wishes (`GROUP_WISHES`: women-only, men-only,
  small-group, quiet) of whether the activity meets each, 1 or 0, `NEUTRAL` when it cannot be
  told (an activity that says nothing of its size or mood); `NEUTRAL` without wishes. Women-only
  and men-only are the activity's eligibility; small is a ``capacity_maximum`` of at most
  `SMALL_GROUP` or the provider's words ("a small group", `group_traits`); quiet is the
  provider's words ("quiet", "calm"); a busy, big or loud group is neither small nor quiet. Why:
  a woman who would only attend women-only sessions, or a man who panics in crowds, does not go
  to the mixed gym or the big choir however near and well suited it is. A group that is not
  women-only (men-only) for someone who asked for women-only (men-only) groups also has need fit
  times `MIXED_WHEN_SINGLE_SEX_ASKED`, as a group held in a language the person does not speak:
  she would not go, so it cannot meet her need (the wish is a condition of going, where small
  and quiet are what suits best);
- situation fit: 1 when the activity is made for situations (`Activity.situations`: a condition
  such as sight loss or COPD, or a circumstance such as sleeping rough or being bereaved by
  suicide, read from its eligibility text, name and description) that the person is all in
  (`Person.situations`, read from the GP's words, and told by access needs, languages and age: a
  person of 18-30 is a young adult, `situations.person_situations`), 0 when it is made for a
  situation the person is not in, `NEUTRAL` when it is for anyone or for a situation the person
  is presumed in (`PRESUMED_UNLESS`: a tenant, unless homeless). Such an activity for another
  situation cannot meet the needs it targets (need fit `OTHER_SITUATION_FIT`). Why:
  "living with a long-term condition" is one need, but a link worker offers the singing group
  for lung health to a man with COPD, not the sight-loss club, and the outreach team to a man
  sleeping rough before a tenants' workshop.
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
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, fields, replace
from operator import attrgetter
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
FROM_HOME_WHEN_FEW = 0.5  # of the way from an online or phone proximity to 1, when few fit near
SECONDARY_LANGUAGE_FIT = 0.7
ENGLISH_WITH_HELP_FIT = 0.3  # held in English, which the person does not list
INTERPRETERS = "interpreters"  # the group trait of a service that offers interpreters
WITH_INTERPRETER_FIT = 0.7  # held in English with interpreters: the person can talk there
HELD_IN_ANOTHER_LANGUAGE = 0.5  # need fit factor of a group held in a language not theirs
TALKING_CATEGORIES = frozenset(
    # activity categories where talking is the point (advice, support, company, a book club),
    # where a walk, a gym or a craft can be shared without many words
    {
        "advice-welfare",
        "befriending",
        "bereavement-support",
        "carers-support",
        "libraries-reading",
        "peer-support",
        "social-groups",
    }
)
TALK_IN_ANOTHER_LANGUAGE = 0.0  # need fit factor of a talking activity in a language not theirs
TALK_WITH_HELP = 0.5  # ... of a talking activity held in English, which they do not list
MIXED_WHEN_SINGLE_SEX_ASKED = 0.5  # need fit factor of a mixed group, women-only or men-only asked
IN_PERSON_WHEN_REMOTE_PREFERRED = (
    0.5  # in-person proximity factor when online or phone is preferred
)
NEUTRAL = 0.5
HOME = "home"  # the group trait of a service that visits the person at home
GROUP_WISHES = frozenset({"women-only", "men-only", "small-group", "quiet"})
SMALL_GROUP = 12  # places at most: a small group
SINGLE_SEX: Mapping[str, str] = {"women-only": "female", "men-only": "male"}  # wish -> gender
GENERIC_FIT = 0.8  # need fit of a category's suitability when the activity targets no need
OTHER_PURPOSE_FIT = 0.3  # ... when it targets other needs than this one
OTHER_SITUATION_FIT = 0.0  # ... when it is made for a situation or group the person is not in
FIRST_NEED_WEIGHT = 2.0  # the referral's first need (the main reason) counts twice in need fit
SPECIALIST_CATEGORIES: Mapping[str, str] = {
    # activity category -> the need an activity of that category is made for
    "bereavement-support": "bereavement",
    "carers-support": "carer-support",
}
PRESUMED_UNLESS: Mapping[str, str] = {
    # a situation an activity can be made for -> the person's situation that rules it out;
    # without that one the person is presumed in it (the referral rarely says someone rents:
    # a tenant's note speaks of rent, a landlord, damp), so it counts neither way
    "tenant": "homelessness",
}
HOUSEBOUND = frozenset({"housebound"})  # the person's situations that keep them at home
AT_A_VENUE_WHEN_HOUSEBOUND = 0.0  # need fit factor of an activity at a venue, housebound
TOO_MUCH_FOR: Mapping[str, frozenset[str]] = {
    # group trait of an activity (group_phrases.csv) -> the person's situations it is too much
    # for: brisk walks and circuits for breathlessness or post-exertional fatigue; a gym
    # programme for long Covid or ME/CFS (NICE NG206: no fixed incremental exercise)
    "strenuous": frozenset({"lung-condition", "fatigue"}),
    "gym": frozenset({"fatigue"}),
}
TOO_MUCH = 0.0  # need fit factor of an activity too much for the person's condition
INTEREST_LED = True  # a generic activity that meets a named interest fits the needs it can help
BROADER_CATEGORIES: Mapping[str, str] = {
    # activity category -> the broader one it is a kind of (activity_category.json: walking
    # groups and dance classes are organised physical activity)
    "walking": "physical-activity",
    "dance": "physical-activity",
}
DEPRIVED_DECILES = range(1, 4)


@dataclass(frozen=True, slots=True)
class Weights:
    """Relative weights of the score components (the defaults sum to 1.09: they are shares
    once divided by their sum).

    Exposed as settings ``ASSETLINK_MATCH_WEIGHT_<FIELD>``. Need fit leads because the referral
    is for the need; interests and proximity decide whether the person goes; language, days,
    spare places and equity refine the order; group and situation fit (issue 19) put what was
    asked for and what is made for the person's situation first (docs/matching.md): situation
    fit 0.12, so that a specialist made for the person's condition or disability (a sports club
    for disabled adults, for a wheelchair user) comes before a generic group that targets one
    more of their needs (a led walk for inactivity and loneliness), as a link worker offers it;
    the outcome evidence nudges between comparable activities.
    """

    need_fit: float = 0.25
    interest_fit: float = 0.17
    proximity: float = 0.17
    language_fit: float = 0.09
    day_fit: float = 0.07
    spare_capacity: float = 0.03
    equity: float = 0.06
    group_fit: float = 0.08
    situation_fit: float = 0.12
    outcome: float = 0.05  # a nudge, not a reason to go

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
    group_fit: float
    situation_fit: float
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


def interests_met(interests: frozenset[str], categories: frozenset[str]) -> frozenset[str]:
    """The person's interests an activity's categories meet: its own, and the broader ones its
    categories are kinds of (`BROADER_CATEGORIES`)."""
    met = interests & categories
    broader = {BROADER_CATEGORIES[c] for c in categories if c in BROADER_CATEGORIES}
    return met | (interests & broader) if broader else met


Fits = tuple[float, float, float, float, float]  # need, interest, language, group, situation fit
# what `Scoring.fits` reads of an activity (the engine's key for what it computed once): without
# group wishes the group fit is neutral, so the shorter key (cheaper per candidate) is enough
FIT_KEY = ("categories", "target_needs", "languages", "situations")
GROUP_KEY = ("group_traits", "eligibility_gender", "capacity_maximum")
VENUE_KEY = ("attending_type", "group_traits")  # read for someone housebound or too unwell
INTERPRETER_KEY = ("group_traits",)  # read for someone who does not list English
# every attribute the fits read, whoever the person (`fit_attributes` takes some of them)
ALL_FIT_ATTRIBUTES = tuple(dict.fromkeys((*FIT_KEY, *GROUP_KEY, *VENUE_KEY, *INTERPRETER_KEY)))


def limits_of(situations: frozenset[str]) -> frozenset[str]:
    """The group traits too much for a person in ``situations`` (`TOO_MUCH_FOR`)."""
    return frozenset(t for t, by in TOO_MUCH_FOR.items() if not by.isdisjoint(situations))


def at_a_venue(activity: Activity, online_too: bool) -> bool:
    """Whether taking part means going to a venue: in person, or hybrid for someone without
    digital access; not a service that visits the person at home (`HOME`)."""
    mode = activity.attending_type
    return (mode == "in-person" or (mode == "hybrid" and not online_too)) and (
        HOME not in activity.group_traits
    )


def fit_attributes(person: Person) -> tuple[str, ...]:
    """What `Scoring.fits` reads of an activity for this person (the engine's key for what it
    computed once): the code sets, plus the group's traits for group wishes, plus the mode and
    traits for someone housebound or with a condition some activities are too much for, plus the
    traits for someone who does not list English (interpreters)."""
    key = list(FIT_KEY)
    if person.group_wishes:
        key += GROUP_KEY
    if not person.situations.isdisjoint(HOUSEBOUND) or limits_of(person.situations):
        key += [k for k in VENUE_KEY if k not in key]
    if not any(primary_language(c) == "en" for c in person.languages or ("en",)):
        key += [k for k in INTERPRETER_KEY if k not in key]  # interpreters help them
    return tuple(key)


@dataclass(frozen=True, slots=True)
class Scoring:
    """How one person scores activities, built once per match by `Scoring.of`: the weights as
    shares, the proximity values, and the components that depend only on an activity's code
    sets (``fits``) or days (``day_fit``), each computed once per distinct value it reads."""

    needs: tuple[str, ...]  # the person's needs, without repeats, most important first
    rows: Mapping[str, Mapping[str, float]]  # their rows of the suitability table
    languages: tuple[str, ...]  # the person's primary language subtags, preferred first
    shares: tuple[float, ...]  # the weights / their sum, in the order of `Weights`
    online: float  # proximity of an activity joined online
    phone: float  # proximity of one by phone
    also_online: bool  # a hybrid activity attended in person also counts as online
    decay: float  # in person, proximity = nearby * exp(-decay * distance_km)
    nearby: float  # in person, the proximity at no distance
    deprived: bool  # lives in IMD decile 1-3 (equity)
    fits: Callable[[Activity], Fits]
    fit_key: Callable[[Activity], Hashable]  # `fit_attributes` of an activity
    fit_attributes: tuple[str, ...]
    day_fit: Callable[[frozenset[str] | None], float]
    outcome: Mapping[str, float]  # activity id -> outcome component (absent: NEUTRAL)
    few_nearby: bool = False  # few in-person options fit: online and phone raised

    def from_home_raised(self) -> Scoring:
        """The scoring when few in-person activities that fit lie near
        (`batches.Batches.few_nearby`): online and phone proximity raised `FROM_HOME_WHEN_FEW`
        of the way to 1."""
        return replace(
            self,
            online=self.online + (1.0 - self.online) * FROM_HOME_WHEN_FEW,
            phone=self.phone + (1.0 - self.phone) * FROM_HOME_WHEN_FEW,
            few_nearby=True,
        )

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
        shares = tuple(getattr(weights, f.name) / total for f in fields(weights))
        online = REMOTE_PROXIMITY["online"][person.attendance_mode]
        if person.digital_access == "limited":
            online *= LIMITED_DIGITAL_FACTOR
        return cls(
            needs=needs,
            rows=rows,
            languages=languages,
            shares=shares,
            online=online,
            phone=REMOTE_PROXIMITY["phone"][person.attendance_mode],
            also_online=person.digital_access != "none",
            decay=math.log(2) / PROXIMITY_HALF_LIFE_KM,
            nearby=IN_PERSON_WHEN_REMOTE_PREFERRED
            if person.attendance_mode in ("online", "phone")
            else 1.0,
            deprived=person.imd_decile is not None and person.imd_decile in DEPRIVED_DECILES,
            fits=_fits(person, rows, languages),
            fit_key=attrgetter(*fit_attributes(person)),
            fit_attributes=fit_attributes(person),
            day_fit=_day_fit(person.available_days),
            outcome=outcome or {},
        )


def _day_fit(person_days: frozenset[str]) -> Callable[[frozenset[str] | None], float]:
    def day_fit(days: frozenset[str] | None) -> float:
        if person_days and days is not None:
            shared = len(person_days & days)
            within = shared / min(len(person_days), len(days))  # its days lie within theirs
            chances = shared / len(person_days)  # ... on how many of their free days
            return (within + chances) / 2
        return NEUTRAL

    return day_fit


def _fits(
    person: Person, rows: Mapping[str, Mapping[str, float]], languages: tuple[str, ...]
) -> Callable[[Activity], Fits]:
    """Need, interest, language and group fit of an activity for the person. Each depends on
    fewer of the activity's values than the four together, so each is computed once per
    distinct value of what it reads."""
    interests = person.interests
    situations = person.situations
    first_language, other_languages = languages[0], frozenset(languages[1:])
    wishes = sorted(person.group_wishes)
    single_sex = SINGLE_SEX.get(next((w for w in wishes if w in SINGLE_SEX), ""))
    housebound, online_too = not situations.isdisjoint(HOUSEBOUND), person.digital_access != "none"
    limits = limits_of(situations)
    need_fits: dict[tuple[frozenset[str], frozenset[str], frozenset[str]], float] = {}
    interest_fits: dict[frozenset[str], float] = {}
    language_fits: dict[frozenset[str], float] = {}
    group_fits: dict[tuple[str | None, int | None, frozenset[str]], float] = {}
    situation_fits: dict[tuple[frozenset[str], frozenset[str]], float] = {}

    def fits(a: Activity) -> Fits:
        categories = a.categories
        fit_key = (categories, a.target_needs, a.situations)
        need_fit = need_fits.get(fit_key)
        if need_fit is None:
            need_fit = need_fits[fit_key] = _need_fit(a, rows, situations, interests)

        interest_fit = interest_fits.get(categories)
        if interest_fit is None:
            interest_fit = interest_fits[categories] = _interest_fit(interests, categories)

        language_fit = language_fits.get(a.languages)
        if language_fit is None:
            language_fit = language_fits[a.languages] = _language_fit(
                a.languages, first_language, other_languages
            )
        if language_fit == ENGLISH_WITH_HELP_FIT and INTERPRETERS in a.group_traits:
            language_fit = WITH_INTERPRETER_FIT  # they can talk there through an interpreter

        if language_fit == 0.0 or language_fit == ENGLISH_WITH_HELP_FIT:  # not their language
            need_fit *= _language_factor(language_fit, talking(categories))
        if single_sex is not None and a.eligibility_gender != single_sex:
            need_fit *= MIXED_WHEN_SINGLE_SEX_ASKED  # a group the person would not go to
        if limits and not limits.isdisjoint(a.group_traits):
            need_fit *= TOO_MUCH  # too much for their condition: it cannot help them
        if housebound and at_a_venue(a, online_too):
            need_fit *= AT_A_VENUE_WHEN_HOUSEBOUND  # they cannot get there
        situation_key = (categories, a.situations)
        situation_fit = situation_fits.get(situation_key)
        if situation_fit is None:
            situation_fit = situation_fits[situation_key] = _situation_fit(a, situations, rows)
        if not wishes:
            return need_fit, interest_fit, language_fit, NEUTRAL, situation_fit
        group_key = (a.eligibility_gender, a.capacity_maximum, a.group_traits)
        group_fit = group_fits.get(group_key)
        if group_fit is None:
            group_fit = group_fits[group_key] = sum(meets(a, w) for w in wishes) / len(wishes)
        return need_fit, interest_fit, language_fit, group_fit, situation_fit

    return fits


def _interest_fit(interests: frozenset[str], categories: frozenset[str]) -> float:
    if not interests:
        return NEUTRAL
    if not categories:
        return 0.0
    shared = len(interests_met(interests, categories))
    return min(1.0, shared / min(len(interests), len(categories)))


def talking(categories: frozenset[str]) -> bool:
    """Whether talking is the point of an activity: all its categories are in
    `TALKING_CATEGORIES`."""
    return bool(categories) and categories <= TALKING_CATEGORIES


def _language_factor(language_fit: float, talk: bool) -> float:
    """Need fit factor of an activity not held in a language the person lists: held in another
    (0), or in English with help (`ENGLISH_WITH_HELP_FIT`), the more where talking is the
    point (`TALKING_CATEGORIES`): a walk can be shared without words, advice or a support group
    cannot."""
    if language_fit == 0.0:
        return TALK_IN_ANOTHER_LANGUAGE if talk else HELD_IN_ANOTHER_LANGUAGE
    return TALK_WITH_HELP if talk else 1.0


def _language_fit(
    languages: frozenset[str], first_language: str, other_languages: frozenset[str]
) -> float:
    offered = {primary_language(c) for c in languages} if languages else ENGLISH
    if first_language in offered:
        return 1.0
    if not other_languages.isdisjoint(offered):
        return SECONDARY_LANGUAGE_FIT
    if offered == ENGLISH:  # held in English: with help (not beside another language)
        return ENGLISH_WITH_HELP_FIT
    return 0.0


def _situation_fit(a: Activity, situations: frozenset[str], needs: Mapping[str, object]) -> float:
    if another_group(a, needs) or another_situation(a, situations):
        return 0.0
    if not a.situations:
        return NEUTRAL
    # made for their situations, or only presumed so (`PRESUMED_UNLESS`)
    return 1.0 if a.situations <= situations else NEUTRAL


def another_situation(activity: Activity, situations: frozenset[str]) -> bool:
    """Whether the activity is made for situations (`Activity.situations`) the person is not
    in: a sight-loss club for someone with COPD, rough-sleeping outreach for a tenant. A
    situation in `PRESUMED_UNLESS` counts as the person's unless they are in its contradiction:
    a tenants' workshop is for another situation only for someone sleeping rough."""
    unmet = activity.situations - situations
    return bool(unmet) and any(
        PRESUMED_UNLESS.get(s) is None or PRESUMED_UNLESS[s] in situations for s in unmet
    )


def another_group(activity: Activity, needs: Mapping[str, object]) -> bool:
    """Whether the activity is a specialist service (`SPECIALIST_CATEGORIES`) for a need the
    person does not have: a bereavement group for someone not bereaved, a carers' line for
    someone who cares for no one."""
    return any(
        SPECIALIST_CATEGORIES[c] not in needs
        for c in activity.categories
        if c in SPECIALIST_CATEGORIES
    )


def interest_led(activity: Activity, interests: frozenset[str]) -> bool:
    """Whether the activity meets the person's needs through an interest the referral names:
    it is made for no need (`made_for`) and is wholly about their interests (each of its
    categories meets one: tablet help for a man whose interest is digital skills, not a
    cookery course that also teaches); it then fits each need its categories can help with
    (suitability above 0) as if made for it (`INTEREST_LED`)."""
    categories = activity.categories
    return (
        INTEREST_LED
        and bool(categories)
        and not made_for(activity)
        and all(interests_met(interests, frozenset({c})) for c in categories)
    )


def _need_fit(
    a: Activity,
    rows: Mapping[str, Mapping[str, float]],
    situations: frozenset[str],
    interests: frozenset[str] = frozenset(),
) -> float:
    if not rows:
        return NEUTRAL
    led = False
    if another_situation(a, situations) or another_group(a, rows):
        # whatever needs it targets, it is made for other people: it cannot meet theirs
        targets: frozenset[str] = frozenset()
        tolerated = OTHER_SITUATION_FIT
    else:
        targets = made_for(a)
        # made for other needs than any of the person's: another situation
        tolerated = OTHER_PURPOSE_FIT if targets and targets.isdisjoint(rows) else GENERIC_FIT
        led = interest_led(a, interests)
    fit_sum = 0.0
    for index, (need, row) in enumerate(rows.items()):
        weight = FIRST_NEED_WEIGHT if index == 0 else 1.0
        if need in targets:
            fit_sum += weight
        else:
            top = 0.0
            for c in a.categories:
                v = row.get(c, 0.0)
                if v > top:
                    top = v
            fit_sum += weight * (1.0 if led and top > 0.0 else top * tolerated)
    return fit_sum / (len(rows) - 1 + FIRST_NEED_WEIGHT)


def meets(a: Activity, wish: str) -> float:
    """1 when the activity meets the group wish, 0 when it does not, `NEUTRAL` when it cannot
    be told (see the module's group fit)."""
    if wish == "women-only":
        return 1.0 if a.eligibility_gender == "female" else 0.0
    if wish == "men-only":
        return 1.0 if a.eligibility_gender == "male" else 0.0
    if "busy" in a.group_traits:
        return 0.0
    if wish == "small-group":
        if "small" in a.group_traits:
            return 1.0
        if a.capacity_maximum is not None:
            return 1.0 if a.capacity_maximum <= SMALL_GROUP else 0.0
        return NEUTRAL
    return 1.0 if "quiet" in a.group_traits else NEUTRAL
