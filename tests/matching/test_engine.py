"""The matching engine on hand-built directories: each hard rule, reasons, modes, ordering."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta

import pytest

from app.matching.engine import (
    ACCESSIBILITY,
    DEFAULT_WEIGHTS,
    Activity,
    Components,
    CostOption,
    Location,
    MatchResult,
    Person,
    Rule,
    Schedule,
    Weights,
    match,
)
from app.matching.scoring import (
    ENGLISH_WITH_HELP_FIT,
    FIRST_NEED_WEIGHT,
    GENERIC_FIT,
    OTHER_PURPOSE_FIT,
)

TODAY = date(2026, 11, 27)
HOME = (53.4808, -2.2426)  # Manchester city centre
KM_PER_DEGREE = 6371.0088 * math.pi / 180

SUITABILITY = {
    "loneliness-isolation": {"music-singing": 0.8, "social-groups": 0.9, "walking": 0.5},
    "low-mood": {"nature-green": 0.8, "walking": 0.7, "music-singing": 0.6},
    "debt-finance": {"advice-welfare": 1.0},
}


def north(km: float) -> Location:
    """A location `km` due north of HOME (exact for the haversine)."""
    return Location(HOME[0] + km / KM_PER_DEGREE, HOME[1], frozenset())


def place(km: float, *access: str) -> Location:
    return replace(north(km), accessibility=frozenset(access))


PERSON = Person(
    age=70,
    max_travel_km=10,
    gender="female",
    location=HOME,
    area_codes=frozenset({"M1", "E08000003"}),
    imd_decile=5,
    needs=("loneliness-isolation",),
    interests=frozenset({"music-singing"}),
)

# The activity that ranks first for PERSON; each rule case breaks one attribute of it.
STAR = Activity(
    id="choir",
    name="Community choir",
    status="active",
    accepting_referrals=True,
    attending_type="in-person",
    capacity_available=5,
    capacity_maximum=20,
    categories=frozenset({"music-singing"}),
    target_needs=frozenset({"loneliness-isolation"}),
    locations=(place(0.5, "wheelchair"),),
    schedules=(Schedule(byday=frozenset({"tue"}), freq="weekly"),),
    cost_options=(CostOption(free=True),),
    near_public_transport=True,
)

# Weaker activities that pass every rule in every case below.
OTHERS = (
    Activity(
        id="walk",
        name="Park walk",
        status="active",
        accepting_referrals=True,
        attending_type="in-person",
        categories=frozenset({"walking"}),
        locations=(place(3.0, *ACCESSIBILITY),),
        cost_options=(CostOption(free=True),),
    ),
    Activity(
        id="advice",
        name="Money advice line",
        status="active",
        accepting_referrals=True,
        attending_type="phone",
        categories=frozenset({"advice-welfare"}),
        cost_options=(CostOption(amount=0),),
    ),
)


def run(person: Person, *activities: Activity, **options: object) -> MatchResult:
    return match(person, list(activities), today=TODAY, suitability=SUITABILITY, **options)  # type: ignore[arg-type]


@dataclass(frozen=True)
class RuleCase:
    rule: Rule
    name: str
    ok: dict[str, object]  # STAR overrides that keep the rule
    broken: dict[str, object]  # the same attributes breaking it
    person: dict[str, object] | None = None


CASES = [
    RuleCase(Rule.ACTIVE, "inactive", {"status": "active"}, {"status": "inactive"}),
    RuleCase(Rule.ACTIVE, "closed", {"status": "active"}, {"status": "temporarily closed"}),
    RuleCase(Rule.ACTIVE, "defunct", {"status": "active"}, {"status": "defunct"}),
    RuleCase(
        Rule.ACTIVE, "not accepting", {"accepting_referrals": True}, {"accepting_referrals": False}
    ),
    RuleCase(
        Rule.ACTIVE,
        "schedule ended",
        {"schedules": (Schedule(byday=frozenset({"tue"}), valid_to=TODAY),)},
        {"schedules": (Schedule(byday=frozenset({"tue"}), valid_to=TODAY - timedelta(days=1)),)},
    ),
    RuleCase(
        Rule.ACTIVE,
        "schedule not started",
        {"schedules": (Schedule(byday=frozenset({"tue"}), valid_from=TODAY),)},
        {"schedules": (Schedule(byday=frozenset({"tue"}), valid_from=TODAY + timedelta(days=1)),)},
    ),
    RuleCase(Rule.ELIGIBILITY, "too old", {"maximum_age": 70}, {"maximum_age": 69}),
    RuleCase(Rule.ELIGIBILITY, "too young", {"minimum_age": 70}, {"minimum_age": 71}),
    RuleCase(
        Rule.ELIGIBILITY, "gender", {"eligibility_gender": "Female"}, {"eligibility_gender": "male"}
    ),
    RuleCase(
        Rule.ELIGIBILITY,
        "gender unknown",
        {"eligibility_gender": None},
        {"eligibility_gender": "female"},
        person={"gender": None},
    ),
    RuleCase(Rule.CAPACITY, "full", {"capacity_available": 1}, {"capacity_available": 0}),
    RuleCase(
        Rule.DIGITAL_ACCESS,
        "online only",
        {"attending_type": "phone"},
        {"attending_type": "online"},
        person={"digital_access": "none"},
    ),
    RuleCase(
        Rule.DIGITAL_ACCESS,
        "hybrid out of reach",
        {"attending_type": "hybrid", "locations": (place(9.0),)},
        {"attending_type": "hybrid", "locations": (place(11.0),)},
        person={"digital_access": "none"},
    ),
    RuleCase(
        Rule.ACCESSIBILITY,
        "wheelchair",
        {"locations": (place(0.5, "wheelchair"),)},
        {"locations": (place(0.5, "step-free", "hearing-loop"),)},
        person={"accessibility_needs": frozenset({"wheelchair"})},
    ),
    RuleCase(
        Rule.ACCESSIBILITY,
        "step-free",
        {"locations": (place(0.5, "wheelchair"),)},
        {"locations": (place(0.5, "hearing-loop"),)},
        person={"accessibility_needs": frozenset({"step-free"})},
    ),
    RuleCase(
        Rule.ACCESSIBILITY,
        "two needs at one place",
        {"locations": (place(0.5, "step-free", "bsl"),)},
        {"locations": (place(0.5, "step-free"), place(0.6, "bsl"))},
        person={"accessibility_needs": frozenset({"step-free", "bsl"})},
    ),
    RuleCase(
        Rule.TRAVEL_DISTANCE, "too far", {"locations": (north(9.9),)}, {"locations": (north(10.1),)}
    ),
    RuleCase(
        Rule.TRAVEL_DISTANCE,
        "coordinates unknown",
        {"locations": (north(0.5),)},
        {"locations": (Location(None, None, frozenset({"wheelchair"})),)},
    ),
    RuleCase(
        Rule.TRAVEL_DISTANCE,
        "the accessible place is too far",
        {"locations": (place(0.5), place(4.0, "step-free"))},
        {"locations": (place(0.5), place(14.0, "step-free"))},
        person={"accessibility_needs": frozenset({"step-free"})},
    ),
    RuleCase(
        Rule.SERVICE_AREA,
        "outside",
        {"service_areas": frozenset({"e08000003", "M20"})},
        {"service_areas": frozenset({"M2", "E08000001"})},
    ),
    RuleCase(
        Rule.COST,
        "paid",
        {"cost_options": (CostOption(amount=5.0), CostOption(free=True))},
        {"cost_options": (CostOption(amount=5.0),)},
        person={"free_only": True},
    ),
    RuleCase(
        Rule.COST,
        "cost unknown",
        {"cost_options": (CostOption(amount=0.0),)},
        {"cost_options": ()},
        person={"free_only": True},
    ),
    RuleCase(
        Rule.AVAILABLE_DAYS,
        "no day in common",
        {"schedules": (Schedule(byday=frozenset({"wed", "sat"})),)},
        {"schedules": (Schedule(byday=frozenset({"tue", "thu"})),)},
        person={"available_days": frozenset({"mon", "wed"})},
    ),
]


def test_every_hard_rule_has_a_case() -> None:
    assert {case.rule for case in CASES} == set(Rule)


@pytest.mark.parametrize("case", CASES, ids=[f"{c.rule.value}-{c.name}" for c in CASES])
def test_an_activity_breaking_a_hard_rule_is_excluded_even_when_it_would_rank_first(
    case: RuleCase,
) -> None:
    person = replace(PERSON, **case.person or {})
    keeping = run(person, *OTHERS, replace(STAR, **case.ok))
    assert [m.activity_id for m in keeping.matches] == ["choir", "walk", "advice"]
    assert sum(keeping.excluded.values()) == 0

    breaking = run(person, *OTHERS, replace(STAR, **case.broken))
    assert [m.activity_id for m in breaking.matches] == ["walk", "advice"]
    assert breaking.excluded == {rule: int(rule is case.rule) for rule in Rule}
    assert breaking.eligible == 2
    assert breaking.considered == 3


def test_include_full_returns_full_activities_on_a_waiting_list() -> None:
    full = replace(STAR, capacity_available=0)
    result = run(PERSON, full, *OTHERS, include_full=True)
    assert sum(result.excluded.values()) == 0
    (choir,) = (m for m in result.matches if m.activity_id == "choir")
    assert choir.waitlist
    assert choir.components.spare_capacity == 0
    assert "Full: waiting list" in choir.reasons
    assert not any(r.endswith("left") for r in choir.reasons)
    assert not any(m.waitlist for m in result.matches if m.activity_id != "choir")


def test_an_activity_breaking_several_rules_counts_under_the_first() -> None:
    bad = replace(STAR, status="inactive", maximum_age=20, locations=(north(50),))
    result = run(PERSON, bad, replace(STAR, id="b", maximum_age=20, locations=(north(50),)))
    assert result.excluded[Rule.ACTIVE] == 1
    assert result.excluded[Rule.ELIGIBILITY] == 1
    assert result.excluded[Rule.TRAVEL_DISTANCE] == 0


def test_accessibility_comes_before_distance_for_in_person_activities() -> None:
    person = replace(PERSON, accessibility_needs=frozenset({"wheelchair"}), location=None)
    result = run(person, replace(STAR, locations=(place(1, "step-free"),)), replace(STAR, id="b"))
    assert result.excluded[Rule.ACCESSIBILITY] == 1
    assert result.excluded[Rule.TRAVEL_DISTANCE] == 1


def test_the_nearest_suitable_location_gives_the_distance() -> None:
    person = replace(PERSON, accessibility_needs=frozenset({"step-free"}))
    star = replace(STAR, locations=(place(4, "step-free"), place(0.3), place(2.5, "wheelchair")))
    (m,) = run(person, star).matches
    assert m.distance_km == pytest.approx(2.5)
    assert "2.5 km away" in m.reasons
    assert "Step-free access" in m.reasons


class TestUnknownLocation:
    person = replace(PERSON, location=None)

    def test_only_online_and_phone_activities_match_with_a_warning(self) -> None:
        online = replace(STAR, id="zoom", attending_type="online")
        hybrid = replace(STAR, id="hybrid", attending_type="hybrid")
        result = run(self.person, STAR, online, hybrid, *OTHERS)
        assert [m.activity_id for m in result.matches] == ["hybrid", "zoom", "advice"]
        assert {m.attendance for m in result.matches} == {"online", "phone"}
        assert all(m.distance_km is None for m in result.matches)
        assert result.excluded[Rule.TRAVEL_DISTANCE] == 2  # STAR and walk
        assert any("location is unknown" in w for w in result.warnings)

    def test_no_warning_when_the_location_is_known(self) -> None:
        assert run(PERSON, STAR).warnings == ()


class TestHybrid:
    def test_within_reach_it_counts_as_in_person(self) -> None:
        (m,) = run(PERSON, replace(STAR, attending_type="hybrid")).matches
        assert m.attendance == "in-person"
        assert m.distance_km == pytest.approx(0.5)
        assert "0.5 km away" in m.reasons
        assert "Can also join online" in m.reasons
        assert m.components.proximity == pytest.approx(0.5 ** (0.5 / 3))

    def test_prefers_the_better_of_distance_and_online_for_proximity(self) -> None:
        person = replace(PERSON, attendance_mode="online")
        (m,) = run(person, replace(STAR, attending_type="hybrid", locations=(north(8),))).matches
        assert m.attendance == "in-person"
        assert m.components.proximity == 1.0

    def test_out_of_reach_it_counts_as_online(self) -> None:
        (m,) = run(PERSON, replace(STAR, attending_type="hybrid", locations=(north(30),))).matches
        assert m.attendance == "online"
        assert m.distance_km is None
        assert "Online" in m.reasons
        assert not any(r.endswith("km away") for r in m.reasons)
        assert "Near public transport" not in m.reasons

    def test_venue_needs_do_not_apply_online(self) -> None:
        person = replace(PERSON, accessibility_needs=frozenset({"wheelchair"}))
        (m,) = run(person, replace(STAR, attending_type="hybrid", locations=(north(1),))).matches
        assert m.attendance == "online"
        assert "Wheelchair accessible" not in m.reasons


class TestProximity:
    def test_decays_with_distance(self) -> None:
        values = [
            run(PERSON, replace(STAR, locations=(north(km),))).matches[0].components.proximity
            for km in (0, 1.5, 3, 6, 9)
        ]
        assert values == pytest.approx([1.0, 2**-0.5, 0.5, 0.25, 0.125])

    @pytest.mark.parametrize(
        ("mode", "digital", "online", "phone"),
        [
            ("online", "full", 1.0, 0.3),
            ("phone", "full", 0.3, 1.0),
            ("any", "full", 0.5, 0.5),
            ("in-person", "full", 0.2, 0.2),
            ("online", "limited", 0.5, 0.3),
        ],
    )
    def test_online_and_phone_get_a_fixed_value_higher_when_preferred(
        self, mode: str, digital: str, online: float, phone: float
    ) -> None:
        person = replace(PERSON, attendance_mode=mode, digital_access=digital)  # type: ignore[arg-type]
        result = run(
            person,
            replace(STAR, id="o", attending_type="online"),
            replace(STAR, id="p", attending_type="phone"),
            # enough in person nearby (else online and phone are raised: test_engine_ranking)
            *(replace(STAR, id=f"near-{i}") for i in range(3)),
        )
        got = {m.activity_id: m.components.proximity for m in result.matches}
        assert {k: v for k, v in got.items() if k in "op"} == {"o": online, "p": phone}


class TestComponents:
    def test_need_fit_is_the_mean_over_needs_of_target_or_best_suitability(self) -> None:
        # the first need (the referral's main reason) counts FIRST_NEED_WEIGHT times
        w, total = FIRST_NEED_WEIGHT, FIRST_NEED_WEIGHT + 2
        person = replace(PERSON, needs=("loneliness-isolation", "low-mood", "debt-finance"))
        walk = replace(OTHERS[0], categories=frozenset({"walking", "nature-green"}))
        (m,) = run(person, walk).matches
        # made for no need: the suitability, as generic (docs/matching.md, "Need fit")
        assert m.components.need_fit == pytest.approx((w * 0.5 + 0.8 + 0.0) * GENERIC_FIT / total)
        assert m.reasons[:1] == ("Can help with low mood",)

        targeted = replace(walk, target_needs=frozenset({"debt-finance"}))
        (m,) = run(person, targeted).matches
        # made for one of the person's needs: the others are tolerated
        assert m.components.need_fit == pytest.approx(((w * 0.5 + 0.8) * GENERIC_FIT + 1.0) / total)
        assert m.reasons[:2] == ("Can help with low mood", "Targets debt and money worries")
        other = replace(walk, target_needs=frozenset({"housing"}))
        (m,) = run(person, other).matches
        # made only for a need the person does not have: another situation
        assert m.components.need_fit == pytest.approx((w * 0.5 + 0.8) * OTHER_PURPOSE_FIT / total)
        assert m.reasons[:2] == ("Can help with low mood", "Made for housing problems")

    def test_a_need_missing_from_the_table_warns(self) -> None:
        result = run(replace(PERSON, needs=("housing",)), STAR)
        assert result.matches[0].components.need_fit == 0
        assert any("'housing'" in w for w in result.warnings)

    def test_interest_fit_is_the_overlap(self) -> None:
        person = replace(PERSON, interests=frozenset({"walking", "dance", "gardening"}))
        walk = replace(OTHERS[0], categories=frozenset({"walking", "nature-green"}))
        (m,) = run(person, walk).matches
        assert m.components.interest_fit == 0.5
        assert "Matches interest in walking" in m.reasons
        (m,) = run(replace(PERSON, interests=frozenset()), walk).matches
        assert m.components.interest_fit == 0.5  # nothing stated: neutral

    @pytest.mark.parametrize(
        ("person_languages", "activity_languages", "fit", "reason"),
        [
            ((), frozenset(), 1.0, None),
            (("pl", "en-GB"), frozenset({"pl"}), 1.0, "In Polish"),
            (("pl", "en-GB"), frozenset(), 0.7, None),
            (("pl",), frozenset({"en"}), ENGLISH_WITH_HELP_FIT, None),
            (("pl",), frozenset({"tr"}), 0.0, None),
            (("ur-PK",), frozenset({"ur", "en"}), 1.0, "In Urdu"),
            ((), frozenset({"pl"}), 0.0, None),
        ],
    )
    def test_language_fit(
        self,
        person_languages: tuple[str, ...],
        activity_languages: frozenset[str],
        fit: float,
        reason: str | None,
    ) -> None:
        person = replace(PERSON, languages=person_languages)
        (m,) = run(person, replace(STAR, languages=activity_languages)).matches
        assert m.components.language_fit == fit
        assert [r for r in m.reasons if r.startswith("In ")] == ([reason] if reason else [])

    def test_day_fit_and_day_reasons(self) -> None:
        star = replace(STAR, schedules=(Schedule(byday=frozenset({"tue", "thu", "sat"})),))
        person = replace(PERSON, available_days=frozenset({"mon", "tue", "thu"}))
        (m,) = run(person, star).matches
        assert m.components.day_fit == pytest.approx(2 / 3)
        assert "Tuesdays and Thursdays" in m.reasons
        (m,) = run(PERSON, star).matches
        assert m.components.day_fit == 0.5
        assert "Tuesdays, Thursdays and Saturdays" in m.reasons

    def test_daily_schedules_and_unknown_days(self) -> None:
        person = replace(PERSON, available_days=frozenset({"sun"}))
        daily = replace(STAR, schedules=(Schedule(freq="DAILY"),))
        (m,) = run(person, daily).matches
        assert m.components.day_fit == 1.0
        assert "Sundays" in m.reasons
        (m,) = run(PERSON, daily).matches
        assert "Every day" in m.reasons
        # a valid schedule on unknown days: rule 9 cannot apply, day fit is neutral
        unknown = replace(
            STAR, schedules=(Schedule(byday=frozenset({"tue"})), Schedule(freq="monthly"))
        )
        (m,) = run(person, unknown).matches
        assert m.components.day_fit == 0.5
        assert not any(r.endswith("days") for r in m.reasons)

    def test_expired_schedules_do_not_give_days(self) -> None:
        person = replace(PERSON, available_days=frozenset({"mon"}))
        star = replace(
            STAR,
            schedules=(
                Schedule(byday=frozenset({"mon"}), valid_to=TODAY - timedelta(days=7)),
                Schedule(byday=frozenset({"tue"})),
            ),
        )
        assert run(person, star).excluded[Rule.AVAILABLE_DAYS] == 1

    @pytest.mark.parametrize(
        ("available", "maximum", "spare", "reason"),
        [
            (None, None, 1.0, None),
            (5, 20, 1.0, "5 places left"),  # a place is a place (docs/matching.md, round 3)
            (1, None, 1.0, "1 place left"),
            (30, None, 1.0, "30 places left"),
        ],
    )
    def test_spare_capacity(
        self, available: int | None, maximum: int | None, spare: float, reason: str | None
    ) -> None:
        star = replace(STAR, capacity_available=available, capacity_maximum=maximum)
        (m,) = run(PERSON, star).matches
        assert m.components.spare_capacity == spare
        assert [r for r in m.reasons if "left" in r] == ([reason] if reason else [])

    @pytest.mark.parametrize(
        ("decile", "mode", "free", "transport", "equity"),
        [
            (2, "in-person", True, True, 1.0),
            (3, "in-person", True, None, 0.5),
            (1, "in-person", False, True, 0.5),
            (1, "online", True, True, 0.5),
            (1, "in-person", False, False, 0.0),
            (4, "in-person", True, True, 0.0),
            (None, "in-person", True, True, 0.0),
        ],
    )
    def test_equity_favours_free_and_well_connected_activities_in_deprived_areas(
        self, decile: int | None, mode: str, free: bool, transport: bool | None, equity: float
    ) -> None:
        star = replace(
            STAR,
            attending_type=mode,
            cost_options=(CostOption(free=free, amount=None if free else 3.5),),
            near_public_transport=transport,
        )
        (m,) = run(replace(PERSON, imd_decile=decile), star).matches
        assert m.components.equity == equity
        assert ("Free" in m.reasons) is free
        assert ("Near public transport" in m.reasons) is (bool(transport) and mode == "in-person")


def test_the_first_match_has_true_reasons_in_order() -> None:
    person = replace(PERSON, accessibility_needs=frozenset({"step-free"}))
    (m,) = run(person, STAR).matches
    assert m.reasons == (
        "Targets loneliness",
        "Matches interest in music and singing",
        "0.5 km away",
        "Free",
        "Tuesdays",
        "Step-free access",
        "Near public transport",
        "5 places left",
    )
    (walk,) = run(person, OTHERS[0]).matches
    assert walk.reasons == ("3.0 km away", "Free", "Step-free access")
    (advice,) = run(person, OTHERS[1]).matches
    assert advice.reasons == ("By phone", "Few in-person options nearby", "Free")
    (tiny,) = run(person, replace(OTHERS[0], locations=(place(0.02, "step-free"),))).matches
    assert "Under 0.1 km away" in tiny.reasons


def test_a_need_found_in_free_text_quotes_the_text() -> None:
    advice = replace(OTHERS[1], target_needs=frozenset({"debt-finance"}))
    person = replace(
        PERSON, needs=("debt-finance",), need_texts={"debt-finance": " Money\nworries "}
    )
    (m,) = run(person, advice).matches
    assert m.reasons[0] == "Targets debt and money worries (from the referral: 'Money worries')"
    long = "Worried about money since the rent went up, " + "x" * 60
    (m,) = run(replace(person, need_texts={"debt-finance": long}), OTHERS[1]).matches
    quote = f"{long[:59]}\u2026"
    assert m.reasons[0] == f"Can help with debt and money worries (from the referral: '{quote}')"
    assert len(quote) == 60


def test_score_is_the_weighted_mean_of_the_components() -> None:
    result = run(PERSON, STAR, *OTHERS)
    for m in result.matches:
        expected = sum(
            getattr(DEFAULT_WEIGHTS, f.name) * getattr(m.components, f.name)
            for f in fields(Components)
        )
        assert m.score == pytest.approx(expected / DEFAULT_WEIGHTS.total)


class TestWeights:
    def test_defaults_sum_as_documented_and_name_every_component(self) -> None:
        # the outcome prior (issue 19) came on top of weights that summed to 1, and situation
        # fit then rose from 0.08 to 0.12 without moving any other weight against another
        others = [f.name for f in fields(Weights) if f.name not in ("outcome", "situation_fit")]
        assert math.fsum(getattr(DEFAULT_WEIGHTS, name) for name in others) == pytest.approx(0.92)
        assert DEFAULT_WEIGHTS.situation_fit == 0.12
        assert DEFAULT_WEIGHTS.total == pytest.approx(1.09)
        assert [f.name for f in fields(Weights)] == [f.name for f in fields(Components)]

    def test_weights_are_relative(self) -> None:
        doubled = Weights(**{f.name: 2 * getattr(DEFAULT_WEIGHTS, f.name) for f in fields(Weights)})
        a, b = run(PERSON, STAR, *OTHERS), run(PERSON, STAR, *OTHERS, weights=doubled)
        assert [m.score for m in a.matches] == pytest.approx([m.score for m in b.matches])

    def test_a_single_weight_scores_by_that_component(self) -> None:
        only = Weights(**{f.name: float(f.name == "proximity") for f in fields(Weights)})
        result = run(PERSON, STAR, *OTHERS, weights=only)
        assert [m.score for m in result.matches] == [m.components.proximity for m in result.matches]

    @pytest.mark.parametrize("bad", [{"equity": -0.1}, {"need_fit": math.nan}, "zero"])
    def test_invalid_weights_are_refused(self, bad: dict[str, float] | str) -> None:
        values = {f.name: 0.0 for f in fields(Weights)} if bad == "zero" else bad
        with pytest.raises(ValueError, match="weights"):
            Weights(**values)  # type: ignore[arg-type]


class TestOrdering:
    def test_ties_break_by_distance_then_online_then_id(self) -> None:
        no_proximity = replace(DEFAULT_WEIGHTS, proximity=0.0)
        twins = [
            replace(STAR, id="d-online", attending_type="online"),
            replace(STAR, id="c-far", locations=(north(4),)),
            replace(STAR, id="b-near", locations=(north(1),)),
            replace(STAR, id="a-far", locations=(north(4),)),
            replace(STAR, id="a-phone", attending_type="phone"),
        ]
        result = run(PERSON, *twins, weights=no_proximity)
        assert len({m.score for m in result.matches}) == 1
        assert [m.activity_id for m in result.matches] == [
            "b-near",
            "a-far",
            "c-far",
            "a-phone",
            "d-online",
        ]

    def test_limit(self) -> None:
        result = run(PERSON, STAR, *OTHERS, limit=2)
        assert [m.activity_id for m in result.matches] == ["choir", "walk"]
        assert result.eligible == 3
        assert run(PERSON, STAR, limit=0).matches == ()
        with pytest.raises(ValueError, match="limit"):
            run(PERSON, STAR, limit=-1)


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="'choir' is given twice"):
        run(PERSON, STAR, replace(STAR, name="Another choir"))


def test_today_must_be_a_date() -> None:
    with pytest.raises(TypeError, match="date"):
        match(PERSON, [STAR], today=datetime(2026, 11, 27, 9), suitability=SUITABILITY)


def test_suitability_outside_0_1_is_refused() -> None:
    with pytest.raises(ValueError, match="suitability"):
        match(
            PERSON,
            [STAR],
            today=TODAY,
            suitability={"loneliness-isolation": {"music-singing": 1.5}},
        )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"age": -1}, "age"),
        ({"max_travel_km": -2.0}, "max_travel_km"),
        ({"max_travel_km": math.inf}, "max_travel_km"),
        ({"location": (91.0, 0.0)}, "location"),
        ({"imd_decile": 11}, "imd_decile"),
        ({"attendance_mode": "carrier-pigeon"}, "attendance_mode"),
        ({"digital_access": "some"}, "digital_access"),
        ({"accessibility_needs": frozenset({"lift"})}, "accessibility_needs"),
        ({"available_days": frozenset({"MO"})}, "available_days"),
    ],
)
def test_person_values_are_checked(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replace(PERSON, **change)
