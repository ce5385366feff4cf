"""The worker's scheduled syncs (``sync.run_scheduled``, started by ``assetlink worker``): each
configured feed once per interval, incremental in between and full once a day, one worker per
feed and pass, a failing feed logged and left for the next pass."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import utcnow
from app.directory import sync
from app.directory.models import Activity, DirectoryFeed
from tests.conftest import make_settings
from tests.directory.feed_server import Feed, generated, serve


async def _pass(
    sessionmaker: async_sessionmaker[AsyncSession], feeds: list[str], at: dt.datetime
) -> None:
    settings = make_settings("sqlite://", directory_feeds=",".join(feeds))
    async with httpx.AsyncClient() as http:
        await sync.run_scheduled(
            settings, sessionmaker, http, asyncio.Event(), once=True, clock=lambda: at
        )


async def test_feeds_are_synced_on_their_schedule(
    sessionmaker: async_sessionmaker[AsyncSession], session: AsyncSession
) -> None:
    start = utcnow()
    with serve(Feed()) as feed, serve(Feed()) as down:
        feed.put(*generated(12))
        down.fail_always.add("/oruk/services?page=1")
        await _pass(sessionmaker, [feed.url, down.url], start)
        count = select(func.count()).select_from(Activity)
        assert await session.scalar(count) == 12
        failed = await session.get(DirectoryFeed, sync.feed_of(down.url).id)
        assert failed is not None
        assert "HTTP 500" in (failed.last_error or "")
        feed.requests.clear()
        await _pass(sessionmaker, [feed.url], start + dt.timedelta(minutes=30))
        assert feed.requests == []  # not due: the interval is an hour
        await _pass(sessionmaker, [feed.url], start + dt.timedelta(hours=2))
        assert "modified_after=" in feed.requests[0]  # incremental
        feed.remove("gen-2")
        feed.requests.clear()
        await _pass(sessionmaker, [feed.url], start + dt.timedelta(hours=25))
        assert "modified_after=" not in feed.requests[0]  # a day since the last full sync
    gone = await session.get(Activity, f"{sync.feed_of(feed.url).id}:gen-2")
    assert gone is not None
    assert gone.status == "inactive"


def test_the_worker_runs_the_scheduled_syncs(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'worker.db'}"
    env = {"ASSETLINK_DATABASE_URL": url, "PATH": "/usr/bin:/bin"}
    run = [sys.executable, "-m", "app.cli"]
    subprocess.run([*run, "migrate"], env=env, check=True, capture_output=True, timeout=120)
    with serve(Feed()) as feed:
        feed.put(*generated(5))
        done = subprocess.run(
            [*run, "worker", "--once"],
            env={**env, "ASSETLINK_DIRECTORY_FEEDS": feed.url},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    assert "directory sync done" in done.stderr + done.stdout
    assert '"services_created": 5' in done.stderr + done.stdout
    with sqlite3.connect(tmp_path / "worker.db") as db:
        assert db.execute("SELECT count(*) FROM activity WHERE source = 'sync'").fetchone() == (5,)
