"""What needs a link worker's attention first, and when a follow-up is due (pure data and
arithmetic; the caseload query applies them in SQL, docs/outcomes.md "Caseload").

Next follow-up due: while the Task is ``accepted`` or ``in-progress``, the configured interval
(``ASSETLINK_FOLLOW_UP_WEEKS``, default 6) after the last wellbeing measure of any instrument
and timepoint, or after first contact when none was recorded. So a baseline at first contact
makes the first follow-up due six weeks on, and each follow-up the next six weeks after it
(DESIGN.md 13: 6 and 12 weeks). Nothing is due before first contact, on hold, or once the
Task has ended.

Attention order: ``ATTENTION`` below, first to last; within one, soonest due (follow-ups)
or oldest referral first, then referral id.
"""

from __future__ import annotations

import datetime as dt

ATTENTION = (
    "follow-up-overdue",  # the follow-up was due before now: most overdue first
    "awaiting-acceptance",  # a new referral (Task requested): oldest first
    "awaiting-first-contact",  # accepted, the person not reached yet: oldest first
    "follow-up-scheduled",  # in contact, next follow-up not yet due: soonest due first
    "on-hold",  # paused: oldest first
    "ended",  # completed, cancelled, rejected or failed (only when asked for): oldest first
)
FOLLOWED_UP = ("accepted", "in-progress")  # Task statuses with a follow-up schedule
OPEN = ("requested", "accepted", "in-progress", "on-hold")  # the caseload's default statuses


def due(follow_up_from: dt.datetime | None, weeks: int) -> dt.datetime | None:
    """When the next follow-up is due, measured from ``follow_up_from``."""
    return follow_up_from + dt.timedelta(weeks=weeks) if follow_up_from is not None else None


def cutoff(now: dt.datetime, weeks: int) -> dt.datetime:
    """A follow-up measured from before this instant is overdue at ``now``."""
    return now - dt.timedelta(weeks=weeks)
