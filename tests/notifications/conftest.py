"""Notification tests run on committed databases: the worker's transactions are its own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.principal import Role
from app.config import Settings
from app.db import create_sessionmaker
from app.notifications.worker import Worker
from tests.conftest import TokenFactory, make_settings
from tests.notifications.receiver import Receiver, running

FAST = {  # tiny backoff: a test runs passes until a retry is due
    "notify_backoff_s": 0.01,
    "notify_backoff_max_s": 0.02,
    "notify_timeout_s": 2.0,
    "notify_lease_s": 5.0,
}


@pytest.fixture
def worker_settings(database_url: str) -> Settings:
    return make_settings(database_url, **FAST)


@pytest.fixture
def committed(committed_app: Any) -> async_sessionmaker[AsyncSession]:
    """A sessionmaker on the committed database (emptied after the test)."""
    return create_sessionmaker(committed_app.state.engine)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def make_worker(
    worker_settings: Settings,
    committed: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
) -> Any:
    def make(concurrency: int = 4, **overrides: Any) -> Worker:
        settings = worker_settings.model_copy(update=overrides) if overrides else worker_settings
        return Worker(settings, committed, http, concurrency=concurrency)

    return make


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running(Receiver()) as found:
        yield found


@pytest.fixture
def gp(auth: TokenFactory) -> dict[str, str]:
    return auth(Role.REFERRER, "A81001")


@pytest.fixture
def lw(auth: TokenFactory) -> dict[str, str]:
    return auth(Role.LINK_WORKER, "Y02718")


@pytest.fixture
def admin(auth: TokenFactory) -> dict[str, str]:
    return auth(Role.ADMIN, "X26")
