"""Migrations: up, down and up again on both databases; the ORM and the migrations agree."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from app import migrations
from app.config import Settings
from app.db import Base, create_engine
from tests.conftest import in_thread, postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    with postgres_database() as url:
        yield url


def _inspect(url: str, fn: Any) -> Any:
    async def run() -> Any:
        engine = create_engine(Settings(database_url=url), pooled=False)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(fn)
        finally:
            await engine.dispose()

    return in_thread(lambda: asyncio.run(run()))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, Base.metadata))


def test_upgrade_downgrade_upgrade(empty_database: str) -> None:
    url = empty_database
    in_thread(lambda: migrations.upgrade(url))
    assert _inspect(url, _tables) == set(Base.metadata.tables)
    in_thread(lambda: migrations.downgrade(url, "base"))
    assert _inspect(url, _tables) == set()
    in_thread(lambda: migrations.upgrade(url))
    assert _inspect(url, _tables) == set(Base.metadata.tables)


def test_models_and_migrations_agree(empty_database: str) -> None:
    url = empty_database
    in_thread(lambda: migrations.upgrade(url))
    assert _inspect(url, _differences) == []
