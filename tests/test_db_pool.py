"""``app/db.py`` ``FairQueuePool``: pooled connections go to the waiting checkouts first come,
first served, so under load no request waits turn after turn until the pool's timeout (503).

With SQLAlchemy's own asyncio pool a checkout arriving as a connection is returned takes it
ahead of the requests already waiting (the failure behind the matching 503s of one API process
at concurrency 32, docs/performance.md "Mixed load and soak")."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.util import greenlet_spawn

from app.config import Settings
from app.db import FairQueuePool, _FairQueue, create_engine


async def _connect(engine: AsyncEngine) -> AsyncConnection:
    connection = await engine.connect()
    await connection.execute(text("SELECT 1"))
    return connection


async def served_order(engine: AsyncEngine, waiters: int) -> list[str]:
    """Every connection held; ``waiters`` checkouts wait; then a holder returns its connection
    and at once asks for one again (as a client does with its next request)."""
    order: list[str] = []
    held = [await _connect(engine) for _ in range(2)]  # pool_size 1 + max_overflow 1

    async def wait_turn(name: str) -> None:
        connection = await _connect(engine)
        order.append(name)
        await connection.close()

    tasks = [asyncio.create_task(wait_turn(f"waiter {n}")) for n in range(waiters)]
    for task in tasks:  # each in the queue, in turn
        for _ in range(1000):
            await asyncio.sleep(0)
        assert not task.done()
    await held[0].close()
    again = await _connect(engine)
    order.append("returned and asked again")
    await again.close()
    await asyncio.gather(*tasks)
    await held[1].close()
    return order


async def test_a_returned_connection_goes_to_the_longest_waiter(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite's engine is not pooled this way")
    engine = create_engine(
        Settings(database_url=database_url, database_pool_size=1, database_timeout_s=30)
    )
    try:
        assert isinstance(engine.pool, FairQueuePool)
        order = await served_order(engine, waiters=4)
    finally:
        await engine.dispose()

    assert order == [*(f"waiter {n}" for n in range(4)), "returned and asked again"]


async def test_a_checkout_cancelled_as_it_is_handed_a_connection_gives_it_back() -> None:
    """A request cancelled (its timeout, its client gone) after a returned connection was
    handed to it, before it ran again, must pass the connection on: else the pool is one
    connection short for good."""
    queue = _FairQueue(maxsize=1)
    waiting = asyncio.create_task(greenlet_spawn(queue.get, True, 5))
    for _ in range(100):
        await asyncio.sleep(0)
    assert not waiting.done()
    connection: Any = object()
    queue.put_nowait(connection)  # handed to the waiting checkout, which has not run since
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert queue.get(block=False) is connection
