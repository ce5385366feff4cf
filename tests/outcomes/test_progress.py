"""The rule that moves a Task's businessStatus when an outcome is recorded (pure)."""

from __future__ import annotations

import pytest

from app.outcomes.progress import next_stage
from app.referrals.fhir import STAGES
from app.referrals.lifecycle import TERMINAL

OPEN = ("accepted", "in-progress", "on-hold")
TIMEPOINTS = ("baseline", "follow-up", "exit")


@pytest.mark.parametrize("timepoint", TIMEPOINTS)
@pytest.mark.parametrize("status", OPEN)
@pytest.mark.parametrize("stage", [None, "contact-attempted"])
def test_any_outcome_is_first_contact(timepoint: str, status: str, stage: str | None) -> None:
    assert next_stage(timepoint, status, stage, []) == "first-contact"


@pytest.mark.parametrize("timepoint", TIMEPOINTS)
@pytest.mark.parametrize("status", sorted(TERMINAL))
@pytest.mark.parametrize("stage", [None, *STAGES])
def test_a_finished_task_is_left(timepoint: str, status: str, stage: str | None) -> None:
    assert next_stage(timepoint, status, stage, ["attending"]) is None


@pytest.mark.parametrize("stage", ["first-contact", "plan-agreed", "activity-booked", "attending"])
@pytest.mark.parametrize("timepoint", TIMEPOINTS)
def test_a_contacted_person_is_not_set_back(stage: str, timepoint: str) -> None:
    assert next_stage(timepoint, "in-progress", stage, [stage, "first-contact"]) is None


def test_a_baseline_does_not_clear_a_due_review() -> None:
    assert next_stage("baseline", "in-progress", "follow-up-due", ["attending"]) is None


@pytest.mark.parametrize("timepoint", ["follow-up", "exit"])
@pytest.mark.parametrize(
    ("history", "expected"),
    [
        (["follow-up-due", "attending", "activity-booked"], "attending"),
        (["follow-up-due", "follow-up-due", "plan-agreed"], "plan-agreed"),
        (["follow-up-due", "contact-attempted"], "first-contact"),
        (["follow-up-due"], "first-contact"),
        ([], "first-contact"),
    ],
)
def test_a_review_returns_to_the_stage_before_it_fell_due(
    timepoint: str, history: list[str], expected: str
) -> None:
    assert next_stage(timepoint, "in-progress", "follow-up-due", history) == expected
