"""The SQL of the directory's live feeds (app/directory/sync.py): the feeds' table, the claim of
a scheduled sync among workers, and the services that vanished from a full sync."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.directory.models import Activity, DirectoryFeed
from app.directory.vocabulary import ServiceStatus


async def get_feed(session: AsyncSession, feed_id: str) -> DirectoryFeed | None:
    return await session.get(DirectoryFeed, feed_id)


async def insert_feed(session: AsyncSession, feed_id: str, url: str) -> None:
    await session.execute(insert(DirectoryFeed), [{"id": feed_id, "url": url}])


async def update_feed(session: AsyncSession, feed_id: str, **values: Any) -> None:
    await session.execute(
        update(DirectoryFeed)
        .where(DirectoryFeed.id == feed_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def claim_feed(
    session: AsyncSession, feed_id: str, now: dt.datetime, due_before: dt.datetime
) -> bool:
    """Whether this caller takes the feed's next scheduled sync: its last attempt is before
    ``due_before`` (or none), and it is now marked as attempted (one winner among workers)."""
    result = await session.execute(
        update(DirectoryFeed)
        .where(
            DirectoryFeed.id == feed_id,
            or_(
                DirectoryFeed.last_attempt_at.is_(None),
                DirectoryFeed.last_attempt_at < due_before,
            ),
        )
        .values(last_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def deactivate_missing(
    session: AsyncSession, feed_id: str, keep: set[str], now: dt.datetime
) -> int:
    """Mark the feed's activities not in ``keep`` inactive (not yet inactive or defunct); their
    digest is cleared, so a service that comes back is written again. The count."""
    open_ids = await session.scalars(
        select(Activity.id).where(
            Activity.source_feed_id == feed_id,
            Activity.status.not_in([ServiceStatus.INACTIVE.value, ServiceStatus.DEFUNCT.value]),
        )
    )
    missing = sorted(set(open_ids) - keep)
    for start in range(0, len(missing), 500):
        await session.execute(
            update(Activity)
            .where(Activity.id.in_(missing[start : start + 500]))
            .values(status=ServiceStatus.INACTIVE.value, source_digest=None, last_modified=now)
            .execution_options(synchronize_session=False)
        )
    return len(missing)
