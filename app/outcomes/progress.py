"""How recording an outcome moves the referral's Task ``businessStatus`` on (pure).

The stages (DESIGN.md 5.2, CodeSystem ``referral-stage``) are contact-attempted, first-contact,
plan-agreed, activity-booked, attending and follow-up-due. Collecting a questionnaire with the
person is itself contact, and a follow-up or exit questionnaire *is* the review that
``follow-up-due`` asks for. So, for a Task that is not finished:

- any timepoint, when the Task has no stage yet or only ``contact-attempted``:
  -> ``first-contact`` (the person has now been reached);
- ``follow-up`` or ``exit``, when the Task is at ``follow-up-due``: the review is done, so the
  Task goes back to the stage it was at before the review fell due (the latest other stage in
  its history: typically ``attending``), or ``first-contact`` when there is none;
- otherwise the stage is left as it is (a baseline taken while the person is attending does not
  set them back).

``Task.status`` is never changed: accepting, completing or cancelling a referral stays the link
worker's decision, and a finished Task (completed, cancelled, rejected, failed) is left alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.referrals.lifecycle import TERMINAL

FIRST_CONTACT = "first-contact"
FOLLOW_UP_DUE = "follow-up-due"
NOT_YET_CONTACTED = (None, "contact-attempted")
REVIEWS = ("follow-up", "exit")


def next_stage(
    timepoint: str, task_status: str, stage: str | None, earlier_stages: Sequence[str]
) -> str | None:
    """The stage the Task moves to, or ``None`` to leave it.

    ``earlier_stages`` are the stages in the Task's history, newest first (the current one may
    be among them).
    """
    if task_status in TERMINAL:
        return None
    if stage in NOT_YET_CONTACTED:
        return FIRST_CONTACT
    if timepoint in REVIEWS and stage == FOLLOW_UP_DUE:
        before = next((s for s in earlier_stages if s != FOLLOW_UP_DUE), None)
        return before if before not in NOT_YET_CONTACTED else FIRST_CONTACT
    return None
