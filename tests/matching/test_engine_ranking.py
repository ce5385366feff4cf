"""The ranking rules of issue 19, each on a directory where the order would otherwise be wrong:
specialist before generic before made-for-another-need; made for the person's situation before
made for another; the group the person asked for; diversity."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from app.matching.batches import NEARBY_KM
from app.matching.engine import (
    SIMILAR_PENALTY,
    Activity,
    CostOption,
    MatchResult,
    Person,
    match,
)
from app.matching.scoring import (
    ENGLISH_WITH_HELP_FIT,
    FIRST_NEED_WEIGHT,
    FROM_HOME_WHEN_FEW,
    GENERIC_FIT,
    IN_PERSON_WHEN_REMOTE_PREFERRED,
    MIXED_WHEN_SINGLE_SEX_ASKED,
    NEUTRAL,
    OTHER_PURPOSE_FIT,
    OTHER_SITUATION_FIT,
    TALK_IN_ANOTHER_LANGUAGE,
    Weights,
)
from app.matching.scoring import HOME as HOME_VISITS
from tests.matching.test_engine import HOME, TODAY, north

SUITABILITY = {
    "debt-finance": {"advice-welfare": 1.0, "learning-skills": 0.4},
    "bereavement": {"bereavement-support": 1.0, "social-groups": 0.6},
    "employment-learning": {"learning-skills": 1.0, "advice-welfare": 0.6},
    "long-term-condition": {"peer-support": 0.8, "music-singing": 0.6},
    "loneliness-isolation": {"social-groups": 1.0, "peer-support": 0.8, "music-singing": 0.8},
    "physical-inactivity": {"physical-activity": 1.0},
    "anxiety-stress": {"arts-creative": 0.8, "music-singing": 0.6},
}

PERSON = Person(age=45, max_travel_km=10, location=HOME, needs=("debt-finance",))


def group(
    id: str, km: float, *categories: str, targets: tuple[str, ...] = (), **values: Any
) -> Activity:
    return Activity(
        id=id,
        name=id,
        status="active",
        accepting_referrals=True,
        attending_type="in-person",
        categories=frozenset(categories),
        target_needs=frozenset(targets),
        locations=(north(km),),
        cost_options=(CostOption(free=True),),
        **values,
    )


def order(person: Person, *activities: Activity) -> list[str]:
    return [m.activity_id for m in run(person, *activities).matches]


def run(person: Person, *activities: Activity) -> MatchResult:
    return match(person, list(activities), today=TODAY, suitability=SUITABILITY)


class TestNeedFit:
    def test_specialist_then_generic_then_made_for_another_need(self) -> None:
        # all three have the advice category (suitability 1 for debt); nearest first before
        job_club = group(
            "job-club", 0.5, "advice-welfare", "learning-skills", targets=("employment-learning",)
        )
        advice = group("advice-drop-in", 1.0, "advice-welfare")
        debt_line = group("debt-clinic", 2.0, "advice-welfare", targets=("debt-finance",))
        assert order(PERSON, job_club, advice, debt_line) == [
            "debt-clinic",
            "advice-drop-in",
            "job-club",
        ]
        fits = {
            m.activity_id: m.components.need_fit
            for m in run(PERSON, job_club, advice, debt_line).matches
        }
        assert fits == {
            "debt-clinic": 1.0,
            "advice-drop-in": GENERIC_FIT,
            "job-club": OTHER_PURPOSE_FIT,
        }

    def test_a_specialist_category_counts_as_made_for_its_need(self) -> None:
        person = replace(PERSON, needs=("bereavement",))
        # made for loneliness by its targets, and for bereavement by its category
        lunch = group(
            "widows-lunch",
            0.5,
            "social-groups",
            "bereavement-support",
            targets=("loneliness-isolation",),
        )
        plain = group("social", 0.2, "social-groups")
        result = run(person, lunch, plain)
        assert [m.activity_id for m in result.matches] == ["widows-lunch", "social"]
        assert result.matches[0].components.need_fit == 1.0
        assert result.matches[0].reasons[0] == "Targets bereavement"

    def test_the_reasons_say_what_an_activity_is_made_for_when_not_the_persons_need(self) -> None:
        job_club = group(
            "job-club", 0.5, "advice-welfare", "learning-skills", targets=("employment-learning",)
        )
        (m,) = run(PERSON, job_club).matches
        assert m.reasons[:2] == (
            "Can help with debt and money worries",
            "Made for work and learning",
        )


class TestMainNeed:
    def test_the_first_need_counts_twice(self) -> None:
        person = replace(PERSON, needs=("debt-finance", "employment-learning"))
        # the same but for the need each is made for; the job group is nearer
        debt = group("debt-group", 1.0, "social-groups", targets=("debt-finance",))
        jobs = group("job-group", 0.5, "social-groups", targets=("employment-learning",))
        result = run(person, jobs, debt)
        assert [m.activity_id for m in result.matches] == ["debt-group", "job-group"]
        total = FIRST_NEED_WEIGHT + 1
        assert [m.components.need_fit for m in result.matches] == [
            FIRST_NEED_WEIGHT / total,
            1 / total,
        ]
        swapped = replace(person, needs=("employment-learning", "debt-finance"))
        assert order(swapped, jobs, debt) == ["job-group", "debt-group"]


class TestLanguage:
    def test_english_before_a_language_the_person_does_not_speak(self) -> None:
        somali = replace(PERSON, languages=("so",))
        turkish = group("turkish-advice", 0.5, "advice-welfare", languages=frozenset({"tr"}))
        english = group("advice", 1.0, "advice-welfare")
        result = run(somali, turkish, english)
        assert [m.activity_id for m in result.matches] == ["advice", "turkish-advice"]
        assert [m.components.language_fit for m in result.matches] == [
            ENGLISH_WITH_HELP_FIT,
            0.0,
        ]
        # for an English speaker English is simply their language
        assert run(PERSON, english).matches[0].components.language_fit == 1.0

    def test_a_group_held_in_a_language_the_person_does_not_speak_weighs_more(self) -> None:
        bengali = replace(PERSON, languages=("bn",))
        # held in Somali (English beside it): not English with help for a Bengali speaker
        somali = group(
            "somali-advice",
            0.5,
            "advice-welfare",
            targets=("debt-finance",),
            languages=frozenset({"so", "en"}),
        )
        english = group("advice", 3.0, "advice-welfare", targets=("debt-finance",))
        result = run(bengali, somali, english)
        assert [m.activity_id for m in result.matches] == ["advice", "somali-advice"]
        assert [m.components.language_fit for m in result.matches] == [ENGLISH_WITH_HELP_FIT, 0.0]
        # advice is talking: held in a language not theirs it cannot meet the need (where
        # talking is not the point, HELD_IN_ANOTHER_LANGUAGE: test_engine_ranking_person.py)
        assert result.matches[1].components.need_fit == TALK_IN_ANOTHER_LANGUAGE
        # an English speaker is served in English there
        (m,) = run(PERSON, somali).matches
        assert (m.components.language_fit, m.components.need_fit) == (1.0, 1.0)
        # a group held only in Somali is further down for an English speaker: its fit for the
        # need counts TALK_IN_ANOTHER_LANGUAGE (talking is its point), below a generic group
        # farther away
        lonely = replace(PERSON, needs=("loneliness-isolation",))
        elders = group(
            "somali-elders",
            0.5,
            "social-groups",
            targets=("loneliness-isolation",),
            languages=frozenset({"so"}),
        )
        choir = group("choir", 3.0, "music-singing")
        assert order(lonely, elders, choir) == ["choir", "somali-elders"]


class TestInterests:
    def test_a_walking_group_meets_an_interest_in_physical_activity(self) -> None:
        person = replace(PERSON, needs=(), interests=frozenset({"physical-activity"}))
        walk = group("health-walk", 1.0, "walking", "nature-green")
        crafts = group("crafts", 0.5, "arts-creative")
        result = run(person, crafts, walk)
        assert [m.activity_id for m in result.matches] == ["health-walk", "crafts"]
        assert [m.components.interest_fit for m in result.matches] == [1.0, 0.0]
        assert "Matches interest in physical activity" in result.matches[0].reasons


class TestFromHome:
    def test_who_prefers_the_phone_gets_the_phone_options_first(self) -> None:
        hall = group("drop-in", 0.0, "advice-welfare", targets=("debt-finance",))
        line = replace(hall, id="phone-line", attending_type="phone", locations=())
        assert order(PERSON, hall, line) == ["drop-in", "phone-line"]
        phone = replace(PERSON, attendance_mode="phone")
        result = run(phone, hall, line)
        assert [m.activity_id for m in result.matches] == ["phone-line", "drop-in"]
        assert result.matches[1].components.proximity == IN_PERSON_WHEN_REMOTE_PREFERRED

    def test_few_in_person_options_near_bring_up_the_phone(self) -> None:
        hall = group("drop-in", 2.0, "advice-welfare", targets=("debt-finance",))
        line = replace(
            group("phone-line", 0.0, "befriending", targets=("debt-finance",)),
            attending_type="phone",
            locations=(),
        )
        result = run(PERSON, hall, line)
        assert [m.activity_id for m in result.matches] == ["phone-line", "drop-in"]
        phone = result.matches[0]
        assert phone.components.proximity == 0.5 + 0.5 * FROM_HOME_WHEN_FEW
        assert "Few in-person options nearby" in phone.reasons
        # three made for the need within NEARBY_KM: the phone line keeps its usual value
        halls = [replace(hall, id=f"drop-in-{i}") for i in range(2)]
        result = run(PERSON, hall, line, *halls)
        phone = next(m for m in result.matches if m.activity_id == "phone-line")
        assert phone.components.proximity == 0.5
        assert "Few in-person options nearby" not in phone.reasons
        assert result.matches[0].activity_id == "drop-in"
        # one far away or without a place does not count
        far = [replace(hall, id="far", locations=(north(NEARBY_KM + 1),)), *halls[:1]]
        full = replace(hall, id="full", capacity_available=0)
        result = run(PERSON, hall, line, *far, full)
        assert "Few in-person options nearby" in next(
            m.reasons for m in result.matches if m.activity_id == "phone-line"
        )

    def test_a_service_that_visits_at_home_reaches_the_person(self) -> None:
        lonely = replace(PERSON, needs=("loneliness-isolation",), attendance_mode="phone")
        club = group("lunch-club", 0.5, "social-groups", targets=("loneliness-isolation",))
        visits = group(
            "home-befriending",
            4.0,
            "social-groups",
            targets=("loneliness-isolation",),
            group_traits=frozenset({HOME_VISITS}),
        )
        result = run(lonely, club, visits)
        assert [m.activity_id for m in result.matches] == ["home-befriending", "lunch-club"]
        at_home = result.matches[0]
        assert at_home.components.proximity == 1.0
        assert "Visits you at home" in at_home.reasons
        assert not any(r.endswith("km away") for r in at_home.reasons)
        # without the trait its base's distance counts, halved for a person who prefers the phone
        plain = replace(visits, group_traits=frozenset())
        assert order(lonely, club, plain) == ["lunch-club", "home-befriending"]


class TestDiversity:
    def test_a_different_kind_of_activity_comes_up_among_five_near_identical_ones(self) -> None:
        # five advice drop-ins a little nearer than a debt line of another kind: by score alone
        # the first five would be the five drop-ins
        drop_ins = [group(f"drop-in-{i}", 0.5 + i / 10, "advice-welfare") for i in range(5)]
        cooking = group("budget-cooking", 1.0, "advice-welfare", "food-cooking")
        result = run(PERSON, *drop_ins, cooking)
        by_score = sorted(result.matches, key=lambda m: -m.score)
        assert [m.activity_id for m in by_score[:5]] == [f"drop-in-{i}" for i in range(5)]
        ids = [m.activity_id for m in result.matches]
        assert ids[:2] == ["drop-in-0", "budget-cooking"]
        assert ids[2:] == [f"drop-in-{i}" for i in range(1, 5)]
        assert result.matches[2].reasons[-1] == "Similar to drop-in-0, placed above"
        assert not any(r.startswith("Similar") for r in result.matches[1].reasons)
        # deterministic, and a shorter list is the start of the longer one
        assert run(PERSON, *reversed(drop_ins), cooking).matches == result.matches
        short = match(PERSON, [*drop_ins, cooking], today=TODAY, suitability=SUITABILITY, limit=2)
        assert short.matches == result.matches[:2]

    def test_variety_never_costs_need_fit(self) -> None:
        # two near-identical drop-ins 3 km away and a budgeting class on the doorstep that only
        # loosely suits debt: the class scores within the similarity penalty of the second
        # drop-in, but a different kind that meets the need less well is not variety worth it
        drop_ins = [group(f"drop-in-{i}", 3.0 + i / 10, "advice-welfare") for i in range(2)]
        budgeting = group("budgeting-class", 0.0, "learning-skills")
        result = run(PERSON, *drop_ins, budgeting)
        scores = {m.activity_id: m for m in result.matches}
        assert scores["budgeting-class"].score < scores["drop-in-1"].score
        assert scores["budgeting-class"].score > scores["drop-in-1"].score - SIMILAR_PENALTY
        assert scores["budgeting-class"].components.need_fit < (
            scores["drop-in-1"].components.need_fit
        )
        assert [m.activity_id for m in result.matches] == [
            "drop-in-0",
            "drop-in-1",
            "budgeting-class",
        ]
        # one that meets the need as well still comes up between them
        cooking = group("budget-cooking", 0.0, "advice-welfare", "food-cooking")
        assert order(PERSON, *drop_ins, cooking)[:2] == ["budget-cooking", "drop-in-0"]
        nearer = group("budget-cooking", 3.3, "advice-welfare", "food-cooking")
        assert order(PERSON, *drop_ins, nearer) == ["drop-in-0", "budget-cooking", "drop-in-1"]


class TestSituations:
    COPD = replace(
        PERSON,
        needs=("long-term-condition", "loneliness-isolation"),
        situations=frozenset({"lung-condition"}),
    )

    def test_made_for_the_persons_condition_before_made_for_another(self) -> None:
        # both target the need; the sight-loss club targets loneliness too and is nearer
        sight = group(
            "sight-loss-club",
            0.3,
            "social-groups",
            "peer-support",
            targets=("long-term-condition", "loneliness-isolation"),
            situations=frozenset({"sight-loss"}),
        )
        lungs = group(
            "singing-for-lungs",
            1.5,
            "music-singing",
            "peer-support",
            targets=("long-term-condition",),
            situations=frozenset({"lung-condition"}),
        )
        result = run(self.COPD, sight, lungs)
        assert [m.activity_id for m in result.matches] == ["singing-for-lungs", "sight-loss-club"]
        lungs_match, sight_match = result.matches
        assert "Made for people with a lung condition" in lungs_match.reasons
        assert "Made for people with sight loss" in sight_match.reasons
        # made for another situation, it cannot meet the needs it targets (OTHER_SITUATION_FIT)
        assert sight_match.components.need_fit == pytest.approx(
            (FIRST_NEED_WEIGHT * 0.8 + 1.0) * OTHER_SITUATION_FIT / (FIRST_NEED_WEIGHT + 1)
        )
        assert (lungs_match.components.situation_fit, sight_match.components.situation_fit) == (
            1.0,
            0.0,
        )
        # without the person's situation, both are for another: the nearer club first again
        unknown = replace(self.COPD, situations=frozenset())
        assert order(unknown, sight, lungs) == ["sight-loss-club", "singing-for-lungs"]

    def test_an_activity_for_several_situations_needs_the_person_in_all(self) -> None:
        person = replace(
            PERSON, needs=("employment-learning",), situations=frozenset({"learning-english"})
        )
        esol_for_work = group(
            "esol-for-work",
            0.3,
            "learning-skills",
            targets=("employment-learning",),
            situations=frozenset({"learning-english", "job-seeking"}),
        )
        course = group("course", 1.0, "learning-skills")
        assert order(person, esol_for_work, course) == ["course", "esol-for-work"]
        both = replace(person, situations=frozenset({"learning-english", "job-seeking"}))
        assert order(both, esol_for_work, course) == ["esol-for-work", "course"]

    def test_a_tenants_workshop_is_for_anyone_housed_not_for_someone_sleeping_rough(self) -> None:
        housing = replace(PERSON, needs=("housing",))
        workshop = group(
            "tenants-workshop",
            0.3,
            "advice-welfare",
            targets=("housing",),
            situations=frozenset({"tenant"}),
        )
        advice = group("housing-advice", 1.5, "advice-welfare", targets=("housing",))
        # housed, the referral silent on renting: the workshop is neither made for them nor not
        result = run(housing, workshop, advice)
        assert [m.activity_id for m in result.matches] == ["tenants-workshop", "housing-advice"]
        assert result.matches[0].components.situation_fit == NEUTRAL
        assert result.matches[0].components.need_fit == 1.0
        rough = replace(housing, situations=frozenset({"homelessness"}))
        result = run(rough, workshop, advice)
        assert [m.activity_id for m in result.matches] == ["housing-advice", "tenants-workshop"]
        assert result.matches[1].components.situation_fit == 0.0
        tenant = replace(housing, situations=frozenset({"tenant"}))
        assert run(tenant, workshop).matches[0].components.situation_fit == 1.0


class TestGroupWishes:
    ACTIVE = replace(PERSON, needs=("physical-inactivity",), gender="female")

    def test_women_only_when_asked(self) -> None:
        mixed = group("mixed-gym", 0.3, "physical-activity", targets=("physical-inactivity",))
        women = group(
            "womens-gym",
            2.0,
            "physical-activity",
            targets=("physical-inactivity",),
            eligibility_gender="female",
        )
        assert order(self.ACTIVE, mixed, women) == ["mixed-gym", "womens-gym"]
        wish = replace(self.ACTIVE, group_wishes=frozenset({"women-only"}))
        result = run(wish, mixed, women)
        assert [m.activity_id for m in result.matches] == ["womens-gym", "mixed-gym"]
        assert [m.components.group_fit for m in result.matches] == [1.0, 0.0]
        assert "Women only" in result.matches[0].reasons
        assert "Women only" not in result.matches[1].reasons

    def test_a_mixed_group_cannot_meet_the_need_of_someone_who_asked_for_single_sex(
        self,
    ) -> None:
        # the mixed gym is so near that group fit alone (1 against 0) would leave it first
        mixed = group("mixed-gym", 0.3, "physical-activity", targets=("physical-inactivity",))
        women = group(
            "womens-gym",
            4.0,
            "physical-activity",
            targets=("physical-inactivity",),
            eligibility_gender="female",
        )
        wish = replace(self.ACTIVE, group_wishes=frozenset({"women-only"}))
        result = run(wish, mixed, women)
        assert [m.activity_id for m in result.matches] == ["womens-gym", "mixed-gym"]
        assert [m.components.need_fit for m in result.matches] == [
            1.0,
            MIXED_WHEN_SINGLE_SEX_ASKED,
        ]
        # without the factor the mixed gym would have been first (its need fit's share back)
        lost = (1 - MIXED_WHEN_SINGLE_SEX_ASKED) * Weights().need_fit / Weights().total
        assert result.matches[1].score + lost > result.matches[0].score
        # men-only alike; a small-group wish is a preference, not a condition: need fit kept
        men = replace(PERSON, needs=("physical-inactivity",), gender="male")
        mens = replace(women, id="mens-gym", eligibility_gender="male")
        result = run(replace(men, group_wishes=frozenset({"men-only"})), mixed, mens)
        assert [m.activity_id for m in result.matches] == ["mens-gym", "mixed-gym"]
        small = run(replace(self.ACTIVE, group_wishes=frozenset({"small-group"})), mixed)
        assert small.matches[0].components.need_fit == 1.0

    def test_small_and_quiet_when_asked(self) -> None:
        person = replace(PERSON, needs=("anxiety-stress",))
        choir = group("big-choir", 0.3, "arts-creative", group_traits=frozenset({"busy", "quiet"}))
        studio = group("quiet-studio", 1.5, "arts-creative", group_traits=frozenset({"quiet"}))
        course = group("small-course", 1.0, "arts-creative", capacity_maximum=8)
        plain = group("art-class", 0.8, "arts-creative")
        assert order(person, choir, studio, course, plain)[0] == "big-choir"
        wish = replace(person, group_wishes=frozenset({"small-group", "quiet"}))
        result = run(wish, choir, studio, course, plain)
        fits = {m.activity_id: m.components.group_fit for m in result.matches}
        # busy is neither small nor quiet; unknown size or mood is neutral
        assert fits == {
            "quiet-studio": (NEUTRAL + 1.0) / 2,
            "small-course": (1.0 + NEUTRAL) / 2,
            "art-class": NEUTRAL,
            "big-choir": 0.0,
        }
        assert [m.activity_id for m in result.matches][-1] == "big-choir"
        assert "Quiet group" in result.matches[0].reasons or "Small group" in (
            result.matches[0].reasons
        )

    def test_no_wish_is_neutral_for_every_activity(self) -> None:
        women = group("womens-gym", 2.0, "physical-activity", eligibility_gender="female")
        (m,) = run(self.ACTIVE, women).matches
        assert m.components.group_fit == NEUTRAL
        assert "Women only" not in m.reasons

    def test_an_unknown_wish_is_refused(self) -> None:
        with pytest.raises(ValueError, match="group_wishes"):
            replace(PERSON, group_wishes=frozenset({"adults-only"}))
