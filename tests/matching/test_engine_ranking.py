"""The ranking rules of issue 19, each on a directory where the order would otherwise be wrong:
specialist before generic before made-for-another-need."""

from __future__ import annotations

from dataclasses import replace

from app.matching.engine import Activity, CostOption, MatchResult, Person, match
from app.matching.scoring import GENERIC_FIT, OTHER_PURPOSE_FIT
from tests.matching.test_engine import HOME, TODAY, north

SUITABILITY = {
    "debt-finance": {"advice-welfare": 1.0, "learning-skills": 0.4},
    "bereavement": {"bereavement-support": 1.0, "social-groups": 0.6},
    "employment-learning": {"learning-skills": 1.0, "advice-welfare": 0.6},
}

PERSON = Person(age=45, max_travel_km=10, location=HOME, needs=("debt-finance",))


def group(id: str, km: float, *categories: str, targets: tuple[str, ...] = ()) -> Activity:
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
