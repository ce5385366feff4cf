"""``summary.SharedRefresh``: concurrent report requests share refreshes, and none is answered
from a refresh that began before it asked."""

from __future__ import annotations

import asyncio

import pytest

from app.reporting.summary import Refreshed, SharedRefresh


class Recorder:
    """A refresh that takes a while, counts its runs and can be made to fail once."""

    def __init__(self) -> None:
        self.runs = 0
        self.running = False
        self.fail_next = False
        self.release = asyncio.Event()

    async def __call__(self) -> Refreshed:
        assert not self.running, "two refreshes at once"
        self.running = True
        try:
            await self.release.wait()
            self.runs += 1
            if self.fail_next:
                self.fail_next = False
                raise RuntimeError("refresh failed")
            return Refreshed(1)
        finally:
            self.running = False


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_callers_during_a_refresh_share_the_next_one() -> None:
    run = Recorder()
    shared = SharedRefresh()
    first = asyncio.create_task(shared.run(run))
    await _settle()  # the first refresh has begun
    waiting = [asyncio.create_task(shared.run(run)) for _ in range(10)]
    await _settle()
    run.release.set()
    await asyncio.gather(first, *waiting)
    # one for the first caller, one begun after the other ten asked: not eleven
    assert run.runs == 2


async def test_a_caller_is_never_answered_by_a_refresh_begun_before_it_asked() -> None:
    run = Recorder()
    shared = SharedRefresh()
    first = asyncio.create_task(shared.run(run))
    await _settle()
    assert run.running  # the first refresh has begun and has not finished
    second = asyncio.create_task(shared.run(run))  # asks while it runs
    await _settle()
    run.release.set()
    await asyncio.gather(first, second)
    assert run.runs == 2  # the second waited for a refresh of its own


async def test_calls_one_after_another_each_refresh() -> None:
    run = Recorder()
    run.release.set()
    shared = SharedRefresh()
    for expected in (1, 2, 3):
        await shared.run(run)
        assert run.runs == expected


async def test_a_failed_refresh_is_not_taken_as_done_by_those_waiting() -> None:
    run = Recorder()
    shared = SharedRefresh()
    first = asyncio.create_task(shared.run(run))
    await _settle()
    run.fail_next = True  # the first caller's refresh fails
    waiting = [asyncio.create_task(shared.run(run)) for _ in range(3)]
    await _settle()
    run.release.set()
    with pytest.raises(RuntimeError):
        await first
    await asyncio.gather(*waiting)
    # the waiters' refresh (begun after they asked) ran and succeeded: the failed one
    # did not count for them
    assert run.runs == 2
