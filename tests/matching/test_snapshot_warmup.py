"""The matching snapshot is built at start, in a thread of its own, and then kept as fresh as
one built by the first match; a warm-up that fails leaves the application serving."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.demo.seed import DemoOptions, seed_directory
from app.directory.models import Activity
from app.main import create_app
from app.matching import repository, service, snapshot
from tests.conftest import make_settings


async def test_the_snapshot_is_built_at_start_and_then_kept_fresh(
    committed_app: Any, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as setup:
        await seed_directory(setup, DemoOptions(activities=40, seed=4))
        await setup.commit()
    threads: list[str] = []
    load = repository.activities

    async def spy(session: AsyncSession, ids: Sequence[str] | None) -> Any:
        threads.append(threading.current_thread().name)
        return await load(session, ids)

    monkeypatch.setattr(repository, "activities", spy)
    async with committed_app.router.lifespan_context(committed_app):
        assert await committed_app.state.match_warmup is True
    key = snapshot.key_of(engine.url)
    snapshots = committed_app.state.match_snapshots
    built = snapshots.directories[key]
    assert len(built.activities) == 40
    assert threads == ["assetlink-match-warm-up"]  # loaded off the serving thread
    assert built._index is not None  # the first match has nothing left to build
    # a change committed after the warm-up is in the next match's snapshot
    changed = sorted(built.activities)[0]
    async with sessions() as writer:
        await writer.execute(update(Activity).where(Activity.id == changed).values(name="Later"))
        await writer.commit()
    async with sessions() as reader:
        assert await snapshots.directory(reader) is built
    assert built.activities[changed].name == "Later"
    assert threads == ["assetlink-match-warm-up", "MainThread"]  # only the change was read


async def test_a_snapshot_made_by_a_match_first_is_kept(engine: AsyncEngine, settings: Any) -> None:
    snapshots = snapshot.Snapshots()
    async with async_sessionmaker(engine)() as session:
        first = await snapshots.directory(session)
    assert await service.warm_up(settings, snapshots) is False
    assert snapshots.directories[snapshot.key_of(engine.url)] is first


async def test_a_failed_warm_up_leaves_the_application_serving(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'not-migrated.db'}"))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as client:
            assert (await client.get("/livez")).status_code == 200
        assert await app.state.match_warmup is False
    assert not app.state.match_snapshots.directories
    assert "matching warm-up failed" in caplog.text


async def test_the_warm_up_can_be_switched_off(tmp_path: Path) -> None:
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'db'}", match_warmup=False))
    async with app.router.lifespan_context(app):
        assert app.state.match_warmup is None
    assert not app.state.match_snapshots.directories
