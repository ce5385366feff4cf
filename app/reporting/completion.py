"""Paired completion by route: of the people with a baseline, the share who also have a
follow-up, for those sent a questionnaire link and those not (DESIGN.md 13; issue 21).

Per referral made in the window with a baseline of any instrument: *paired* when it has a
follow-up or exit of an instrument it has a baseline of, collected at or after that baseline
(as ``app.outcomes.service.changes`` pairs them); its *route* is ``link`` when the person was
sent a questionnaire link (by a link worker or the follow-up schedule), else ``link-worker``
(every record collected by the link worker). Counted as intention to treat: a person sent a
link who then answered with their link worker is on the link route, so the two shares compare
the routes as offered. The query is here; its publication (``protect_counts``, one-way with
the total, and ``publish_share``) is ``service.paired_completion_report``.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.reporting import repository

ROUTES = ("link-worker", "link")

_COUNTS = text(
    """
    SELECT x.route, COUNT(*) AS people, SUM(x.paired) AS paired FROM (
      SELECT CASE WHEN EXISTS (
               SELECT 1 FROM questionnaire_link l WHERE l.referral_id = r.id
             ) THEN 'link' ELSE 'link-worker' END AS route,
             CASE WHEN EXISTS (
               SELECT 1 FROM outcome_record f JOIN outcome_record b
                 ON b.referral_id = f.referral_id AND b.instrument = f.instrument
                AND b.timepoint = 'baseline' AND f.collected_at >= b.collected_at
               WHERE f.referral_id = r.id AND f.timepoint IN ('follow-up', 'exit')
             ) THEN 1 ELSE 0 END AS paired
      FROM referral r
      WHERE r.authored_on >= :start AND r.authored_on < :end AND EXISTS (
        SELECT 1 FROM outcome_record o WHERE o.referral_id = r.id AND o.timepoint = 'baseline'
      )
    ) x GROUP BY x.route
    """
)


async def counts(session: AsyncSession, window: repository.Window) -> dict[str, tuple[int, int]]:
    """Per route: (people with a baseline, of them paired)."""
    rows = await session.execute(_COUNTS, {"start": window.start, "end": window.end})
    found = {r.route: (int(r.people), int(r.paired or 0)) for r in rows}
    return {route: found.get(route, (0, 0)) for route in ROUTES}
