"""Migrations: up, down and up again on both databases; the ORM and the migrations agree."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
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


def _run(url: str, *statements: str, params: dict[str, Any] | None = None) -> list[Any]:
    """Runs ``statements`` in one committed transaction; the rows of the last. UUIDs are bound
    as SQLAlchemy's ``Uuid`` stores them (hex text on SQLite)."""
    if url.startswith("sqlite"):
        params = {k: v.hex if isinstance(v, uuid.UUID) else v for k, v in (params or {}).items()}

    async def run() -> list[Any]:
        engine = create_engine(Settings(database_url=url), pooled=False)
        try:
            async with engine.begin() as connection:
                result = None
                for statement in statements:
                    result = await connection.execute(text(statement), params or {})
                return list(result) if result is not None and result.returns_rows else []
        finally:
            await engine.dispose()

    return in_thread(lambda: asyncio.run(run()))


def test_0019_keeps_people_referrals_and_the_report_queue(empty_database: str) -> None:
    """patient.nhs_number becomes nullable with the people and their referrals in place (on
    SQLite by editing the table's definition: a copy-and-drop trips the foreign keys and the
    report triggers), the report queue still hears of a person's change, and the way back is
    refused while someone has no NHS number."""
    url = empty_database
    in_thread(lambda: migrations.upgrade(url, "0016"))
    ids = {"p": uuid.uuid4(), "r": uuid.uuid4(), "q": uuid.uuid4()}
    _run(
        url,
        "INSERT INTO patient (id, version_id, nhs_number, birth_date, postcode, resource, "
        "created_at, updated_at) VALUES (:p, 1, '9434765919', '1950-01-01', 'NW1 7HS', '{}', "
        "'2026-01-01', '2026-01-01')",
        "INSERT INTO referral (id, version_id, status, intent, patient_id, requester_ods, "
        "performer_ods, authored_on, preferences, resource, created_at, updated_at) VALUES "
        "(:r, 1, 'active', 'order', :p, 'A81001', 'Y02718', '2026-01-01', '{}', '{}', "
        "'2026-01-01', '2026-01-01')",
        params=ids,
    )
    in_thread(lambda: migrations.upgrade(url))
    assert _run(url, "SELECT count(*) FROM referral") == [(1,)]
    _run(
        url,
        "DELETE FROM report_dirty",
        "UPDATE patient SET postcode = 'NW1 7HT' WHERE id = :p",
        "INSERT INTO patient (id, version_id, nhs_number, birth_date, postcode, resource, "
        "created_at, updated_at) VALUES (:q, 1, NULL, '1990-01-01', 'LS6 3AB', '{}', "
        "'2026-01-01', '2026-01-01')",
        params=ids,
    )
    queued = _run(url, "SELECT referral_id FROM report_dirty")
    assert {str(r[0]).replace("-", "") for r in queued} == {ids["r"].hex}
    with pytest.raises(RuntimeError, match="no NHS number"):
        in_thread(lambda: migrations.downgrade(url, "0016"))
    _run(url, "DELETE FROM patient WHERE id = :q", params=ids)
    in_thread(lambda: migrations.downgrade(url, "0016"))
    assert _run(url, "SELECT count(*) FROM referral") == [(1,)]
