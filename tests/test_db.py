"""``app/db.py`` ``transaction``: the one helper every transaction owner opens its
transaction with (the request's session, the intake writer's, a refused access's audit
record, the reports' refresh, the CLI commands)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import WRITE_OPTION, transaction
from app.routing.models import RoutingRule

PRACTICE = "P99001"


async def _rules(session: AsyncSession) -> int:
    statement = select(func.count()).where(RoutingRule.practice_ods == PRACTICE)
    return int(await session.scalar(statement) or 0)


async def test_it_commits_what_the_block_wrote(
    sessionmaker: async_sessionmaker[AsyncSession], session: AsyncSession
) -> None:
    async with transaction(sessionmaker, write=True) as own:
        own.add(RoutingRule(practice_ods=PRACTICE, performer_ods="Y02718", updated_by="test"))
    assert await _rules(session) == 1


async def test_it_rolls_back_what_a_failing_block_wrote(
    sessionmaker: async_sessionmaker[AsyncSession], session: AsyncSession
) -> None:
    async def fail() -> None:
        async with transaction(sessionmaker, write=True) as own:
            own.add(RoutingRule(practice_ods=PRACTICE, performer_ods="Y02718", updated_by="test"))
            await own.flush()
            raise LookupError

    with pytest.raises(LookupError):
        await fail()
    assert await _rules(session) == 0


async def _begun_as_writer(session: AsyncSession) -> bool:
    connection = (await session.connection()).sync_connection
    assert connection is not None
    return bool(connection.get_execution_options().get(WRITE_OPTION))


async def test_a_writer_holds_the_lock_for_the_whole_transaction(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    """On SQLite the app's writers queue on one lock of the process and begin with
    ``BEGIN IMMEDIATE`` (the execution option); the lock is let go however the block ends."""
    lock = asyncio.Lock()
    seen = []

    async def write(fails: bool) -> None:
        async with transaction(sessionmaker, write=True, lock=lock) as own:
            seen.append((lock.locked(), await _begun_as_writer(own)))
            if fails:
                raise LookupError

    await write(fails=False)
    assert not lock.locked()
    with pytest.raises(LookupError):
        await write(fails=True)
    assert not lock.locked()
    assert seen == [(True, True), (True, True)]


async def test_a_reader_neither_takes_the_lock_nor_begins_as_a_writer(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    lock = asyncio.Lock()
    async with transaction(sessionmaker, write=False, lock=lock) as own:
        assert not lock.locked()
        assert not await _begun_as_writer(own)
