"""Reading matching's change log on PostgreSQL: a long transaction elsewhere in the cluster
(a report, a backup) must not make every read return the changes made since it began."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, insert, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from app.directory.models import Activity
from app.matching import repository, snapshot

IDS = [f"change-log-{i}" for i in range(5)]


async def test_a_long_transaction_elsewhere_does_not_make_reads_repeat(
    engine: AsyncEngine,
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite writers are serial: the log is read by seq alone")
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        online = {"status": "active", "attending_type": "online", "accepting_referrals": True}
        rows = [
            {"id": i, "name": i, "has_free_option": True, "source": "api", **online} for i in IDS
        ]
        async with sessions() as setup, setup.begin():
            await setup.execute(insert(Activity), rows)
        directory = snapshot.Directory()
        async with sessions() as reader:
            await directory.refresh(reader)
        async with engine.connect() as long_one:
            await long_one.begin()
            await long_one.execute(text("SELECT txid_current()"))  # holds back the xmin
            for i in IDS:
                async with sessions() as writer, writer.begin():
                    await writer.execute(update(Activity).where(Activity.id == i).values(name="x"))
            async with sessions() as reader:
                await directory.refresh(reader)  # reads the five changes
                assert {directory.activities[i].name for i in IDS} == {"x"}
                again = await repository.changes(reader, directory._after, directory._horizon)
            assert again.rows == []  # nothing read twice while the long transaction runs
            async with sessions() as writer, writer.begin():
                await writer.execute(update(Activity).where(Activity.id == IDS[0]).values(name="y"))
            async with sessions() as reader:
                later = await repository.changes(reader, directory._after, directory._horizon)
            assert [i for _, i in later.rows] == [IDS[0]]
            await long_one.rollback()
    finally:
        async with sessions() as cleanup, cleanup.begin():
            await cleanup.execute(delete(Activity).where(Activity.id.in_(IDS)))
