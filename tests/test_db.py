"""``app/db.py`` ``transaction``: the one helper every transaction owner opens its
transaction with (the request's session, the intake writer's, a refused access's audit
record, the reports' refresh, the CLI commands), the rows kept for its commit (``keep``), and
``OneOfParameter``."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import Table, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import WRITE_OPTION, OneOfParameter, keep, transaction
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


RULES = RoutingRule.__table__
assert isinstance(RULES, Table)
OTHER = "P99002"


def _rule(practice: str = PRACTICE) -> dict[str, str]:
    return {"practice_ods": practice, "performer_ods": "Y02718", "updated_by": "test"}


async def test_rows_kept_are_inserted_at_commit_with_the_columns_defaults(
    sessionmaker: async_sessionmaker[AsyncSession], session: AsyncSession
) -> None:
    async with transaction(sessionmaker, write=True) as own:
        assert keep(own, RULES, _rule())
        assert await _rules(own) == 0  # not before the commit
    rule = await session.get(RoutingRule, PRACTICE)
    assert rule is not None
    assert (rule.performer_ods, rule.updated_by) == ("Y02718", "test")
    assert rule.updated_at is not None  # the column's default


async def test_rows_kept_are_dropped_when_the_block_fails(
    sessionmaker: async_sessionmaker[AsyncSession], session: AsyncSession
) -> None:
    async def fail() -> None:
        async with transaction(sessionmaker, write=True) as own:
            keep(own, RULES, _rule())
            raise LookupError

    with pytest.raises(LookupError):
        await fail()
    assert await _rules(session) == 0


async def test_a_session_of_no_transaction_keeps_nothing(session: AsyncSession) -> None:
    """The caller adds the row itself (a test's session, a CLI's own)."""
    assert not keep(session, RULES, _rule())


ONE_OF = (
    select(RoutingRule.practice_ods)
    .where(OneOfParameter(RoutingRule.practice_ods, "practices"))
    .order_by(RoutingRule.practice_ods)
)


def test_one_of_parameter_is_in_on_sqlite_and_any_on_postgresql() -> None:
    on_sqlite = str(ONE_OF.compile(dialect=sqlite.dialect()))
    on_postgresql = str(ONE_OF.compile(dialect=postgresql.dialect()))
    assert "WHERE routing_rule.practice_ods IN (__[POSTCOMPILE_practices]) ORDER" in on_sqlite
    assert "WHERE routing_rule.practice_ods = ANY (%(practices)s::VARCHAR[]) ORDER" in on_postgresql


def test_one_of_parameter_is_cached_per_column_and_name() -> None:
    def key(column: Any, name: str) -> Any:
        return (
            select(RoutingRule.updated_by).where(OneOfParameter(column, name))._generate_cache_key()
        )

    assert key(RoutingRule.practice_ods, "a") == key(RoutingRule.practice_ods, "a")
    assert key(RoutingRule.practice_ods, "a") != key(RoutingRule.performer_ods, "a")
    assert key(RoutingRule.practice_ods, "a") != key(RoutingRule.practice_ods, "b")


async def test_one_of_parameter_takes_its_values_when_the_statement_runs(
    session: AsyncSession,
) -> None:
    session.add_all([RoutingRule(**_rule(PRACTICE)), RoutingRule(**_rule(OTHER))])
    await session.flush()
    for values, expected in (
        ([PRACTICE], [PRACTICE]),
        (["P00000"], []),
        ([OTHER, "P00000", PRACTICE], [PRACTICE, OTHER]),
    ):
        assert list(await session.scalars(ONE_OF, {"practices": values})) == expected
    await session.execute(
        delete(RoutingRule).where(RoutingRule.practice_ods.in_([PRACTICE, OTHER]))
    )
