"""Syncing live ORUK feeds (app/directory/sync.py) from a real HTTP server on 127.0.0.1: the
official examples, generated pages, retries, vanished services, all or nothing, incremental
reads, two feeds with clashing ids."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import Base
from app.directory import feed_repository, sync
from app.directory.fetch import FetchOptions
from app.directory.models import Activity, DirectoryFeed
from app.directory.schemas import ID_PATTERN
from app.errors import BadGateway, BadRequest, Unprocessable
from tests.directory.feed_server import Feed, generated, serve

DATA = Path(__file__).parent / "data"
FULL = json.loads((DATA / "examples_service_full.json").read_text())
LIST = json.loads((DATA / "examples_service_list.json").read_text())
OPTIONS = FetchOptions(per_page=10, timeout_s=5, attempts=3, backoff_s=0.01)
DIRECTORY_TABLES = (
    "organisation",
    "activity",
    "activity_category",
    "activity_need",
    "activity_language",
    "location",
    "schedule",
    "cost_option",
    "service_area",
)


@pytest.fixture
def feed() -> Iterator[Feed]:
    with serve(Feed()) as running:
        yield running


async def dump(session: AsyncSession) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the directory's tables, in key order."""
    found = {}
    for name in DIRECTORY_TABLES:
        table = Base.metadata.tables[name]
        rows = await session.execute(select(table).order_by(*table.primary_key.columns))
        found[name] = [tuple(row) for row in rows]
    return found


async def run(sessionmaker: async_sessionmaker[AsyncSession], url: str, **kwargs: Any) -> Any:
    async with httpx.AsyncClient() as http:
        return await sync.sync_feed(
            sessionmaker, http, url, kwargs.pop("options", OPTIONS), **kwargs
        )


async def statuses(session: AsyncSession, feed_id: str) -> dict[str, str]:
    rows = await session.execute(
        select(Activity.source_id, Activity.status).where(Activity.source_feed_id == feed_id)
    )
    return {str(k): str(v) for k, v in rows}


async def test_the_official_examples_sync_as_the_file_import_maps_them(
    feed: Feed, sessionmaker: async_sessionmaker[AsyncSession], session: AsyncSession
) -> None:
    walk = copy.deepcopy(FULL)
    walk.update(id="walk-1", name="Canal Health Walk")
    feed.put(FULL, walk)
    report = await run(sessionmaker, feed.url)
    assert (report.created, report.updated, report.unchanged, report.deactivated) == (2, 0, 0, 0)
    assert report.full
    assert report.modified_after is None
    # the list holds one-to-one fields only: each service was read in full
    assert sorted(r for r in feed.requests if "/services/" in r) == [
        f"/oruk/services/{FULL['id']}",
        "/oruk/services/walk-1",
    ]
    feed_id = sync.feed_of(feed.url).id
    row = report.rows[0]
    assert row.id == f"{feed_id}:{FULL['id']}"
    warnings = {w.field: w.message for w in row.warnings}
    assert (
        "impossible coordinates (100.0, 101.0)"
        in warnings["service_at_locations[0].location.latitude"]
    )
    assert "expired on 2005-01-01" in warnings["schedules[0].valid_to"]
    stored = await session.get(Activity, row.id)
    assert stored is not None
    assert (stored.name, stored.source, stored.source_feed_id, stored.source_id) == (
        "Community Counselling",
        "sync",
        feed_id,
        FULL["id"],
    )
    assert stored.organisation_id == f"{feed_id}:{FULL['organization']['id']}"
    again = await run(sessionmaker, feed.url, full=True)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


async def test_the_official_list_example_is_read_page_by_page(
    feed: Feed, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """The official page (one-to-one fields only) as the feed's page 1: the sync reads the
    service's details from ``/services/{id}``; a wrong ``total_items`` is refused."""
    feed.raw["/oruk/services?page=1"] = json.dumps({**LIST, "total_items": 1}).encode()
    feed.put(FULL)
    report = await run(sessionmaker, feed.url)
    assert report.created == 1
    assert report.rows[0].warnings
    for page in range(1, 11):  # announces 10 services; each page lists the same one
        body = {**LIST, "page_number": page, "first_page": page == 1, "last_page": page == 10}
        feed.raw[f"/oruk/services?page={page}"] = json.dumps(body).encode()
    with pytest.raises(BadGateway, match="announced 10 services and listed 1 distinct"):
        await run(sessionmaker, feed.url, full=True)


async def test_generated_pages_then_modified_after_on_the_next_sync(
    feed: Feed, sessionmaker: async_sessionmaker[AsyncSession], session: AsyncSession
) -> None:
    feed.put(*generated(45))
    first = await run(sessionmaker, feed.url)
    assert (first.created, first.pages, first.retries) == (45, 5, 0)
    assert len(await statuses(session, sync.feed_of(feed.url).id)) == 45
    changed = generated(2, start=3, modified="2099-01-01T00:00:00Z")
    for service in changed:
        service["name"] += " (new route)"
    feed.put(*changed)
    feed.requests.clear()
    second = await run(sessionmaker, feed.url)
    started = first.started_at.isoformat(timespec="seconds").replace("+00:00", "Z")
    assert f"/oruk/services?modified_after={started}&page=1&per_page=10" in feed.requests
    assert second.modified_after == first.started_at
    assert (second.created, second.updated, second.unchanged, second.full) == (0, 2, 0, False)
    walk = await session.get(Activity, f"{first.feed_id}:gen-3")
    assert walk is not None
    assert walk.name == "Walking group 3 (new route)"
    third = await run(sessionmaker, feed.url, full=True)
    assert (third.created, third.updated, third.unchanged, third.deactivated) == (0, 0, 45, 0)


async def test_a_page_and_a_service_that_fail_once_are_retried(
    feed: Feed, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    feed.put(*generated(25))
    feed.fail_once |= {"/oruk/services?page=2", "/oruk/services/gen-7"}
    report = await run(sessionmaker, feed.url)
    assert (report.created, report.retries) == (25, 2)
    assert feed.requests.count("/oruk/services?page=2&per_page=10") == 2
    assert feed.requests.count("/oruk/services/gen-7") == 2


async def test_a_service_removed_from_the_feed_is_marked_inactive_on_a_full_sync(
    feed: Feed, sessionmaker: async_sessionmaker[AsyncSession], session: AsyncSession
) -> None:
    services = generated(12)
    feed.put(*services)
    first = await run(sessionmaker, feed.url)
    feed.remove("gen-5")
    incremental = await run(sessionmaker, feed.url, since=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    assert incremental.deactivated == 0  # an incremental read cannot tell what vanished
    full = await run(sessionmaker, feed.url, full=True)
    assert (full.unchanged, full.deactivated) == (11, 1)
    found = await statuses(session, first.feed_id)
    assert found["gen-5"] == "inactive"  # kept (bookings may point to it), not listed
    assert {s for k, s in found.items() if k != "gen-5"} == {"active"}
    feed.put(services[5])
    back = await run(sessionmaker, feed.url, full=True)
    assert (back.updated, back.deactivated) == (1, 0)
    assert (await statuses(session, first.feed_id))["gen-5"] == "active"


async def test_a_malformed_service_rejects_the_whole_sync(
    feed: Feed, sessionmaker: async_sessionmaker[AsyncSession], session: AsyncSession
) -> None:
    feed.put(*generated(15))
    await run(sessionmaker, feed.url)
    before = await dump(session)
    changed = generated(15, modified="2099-01-01T00:00:00Z")
    for service in changed:
        service["name"] = "Renamed"
    changed[9]["status"] = "open"
    del changed[11]["name"]
    feed.put(*changed)
    with pytest.raises(Unprocessable) as raised:
        await run(sessionmaker, feed.url, full=True)
    assert raised.value.message == "2 of 15 services cannot be stored; nothing was changed"
    assert [i.expression for i in raised.value.issues] == [
        "services[9].status",
        "services[11].name",
    ]
    assert await dump(session) == before
    stored = await session.get(DirectoryFeed, sync.feed_of(feed.url).id)
    assert stored is not None
    assert "2 of 15 services" in (stored.last_error or "")


async def test_a_failure_while_storing_rolls_back_what_was_written(
    feed: Feed,
    sessionmaker: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The last step of a full sync fails after every service was written: none stays."""
    feed.put(*generated(12))
    await run(sessionmaker, feed.url)
    feed.put(*[{**s, "name": "Renamed"} for s in generated(20)])
    before = await dump(session)

    async def fails(*_: object) -> int:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(feed_repository, "deactivate_missing", fails)
    with pytest.raises(RuntimeError):
        await run(sessionmaker, feed.url, full=True)
    assert await dump(session) == before


async def test_since_and_full_are_exclusive(
    feed: Feed, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    since = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with pytest.raises(BadRequest, match="not both"):
        await run(sessionmaker, feed.url, since=since, full=True)
    assert feed.requests == []


def _grows(feed: Feed) -> None:
    feed.put(*generated(1, start=100))


def _reorders(feed: Feed) -> None:
    feed.services["gen-0"] = {**feed.services["gen-0"], "name": "Moved"}
    feed.services = dict(reversed(list(feed.services.items())))


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("fail_always", "GET /services answered HTTP 500 (3 attempts)"),
        ("detail_fails", "GET /services/gen-24 answered HTTP 500 (3 attempts)"),
        ("not_json", "GET /services: the answer is not JSON"),
        ("not_a_page", "not an ORUK page"),
        ("grows", "total_items was 30 on page 1 and 31 on page 2"),
        ("reorders", "'gen-0' was listed twice with different content"),
        ("vanishes", "'gen-3' was listed but is no longer found"),
    ],
)
async def test_a_failure_mid_sync_changes_nothing(
    feed: Feed,
    sessionmaker: async_sessionmaker[AsyncSession],
    session: AsyncSession,
    fault: str,
    message: str,
) -> None:
    feed.put(*generated(20))
    await run(sessionmaker, feed.url)
    feed.put(*[{**s, "name": "Changed"} for s in generated(30, modified="2099-01-01T00:00:00Z")])
    before = await dump(session)
    if fault == "fail_always":
        feed.fail_always.add("/oruk/services?page=3")
    elif fault == "detail_fails":
        feed.fail_always.add("/oruk/services/gen-24")
    elif fault == "not_json":
        feed.raw["/oruk/services?page=2"] = b'{"contents": [ truncated'
    elif fault == "not_a_page":
        feed.raw["/oruk/services?page=3"] = b'{"items": []}'
    elif fault == "grows":
        feed.after["/oruk/services?page=1"] = _grows
    elif fault == "reorders":
        feed.after["/oruk/services?page=1"] = _reorders
    else:
        feed.after["/oruk/services?page=3"] = lambda f: f.remove("gen-3")
    with pytest.raises(BadGateway) as raised:
        await run(sessionmaker, feed.url, full=True)
    assert message in raised.value.message
    assert "nothing was changed" in raised.value.message
    assert await dump(session) == before


async def test_timeouts_and_size_limits(
    feed: Feed, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    feed.put(*generated(3))
    feed.delay_s = 0.5
    slow = FetchOptions(timeout_s=0.1, attempts=2, backoff_s=0.01)
    with pytest.raises(BadGateway, match=r"no complete answer within 0.1 s \(2 attempts\)"):
        await run(sessionmaker, feed.url, options=slow)
    feed.delay_s = 0
    small = FetchOptions(max_bytes=500)  # a page of three is about 1 000 bytes
    with pytest.raises(BadGateway, match="bytes, over 500"):
        await run(sessionmaker, feed.url, options=small)


async def test_two_feeds_with_clashing_ids_feed_one_directory(
    sessionmaker: async_sessionmaker[AsyncSession], session: AsyncSession
) -> None:
    with serve(Feed()) as council, serve(Feed()) as hub:
        council.put(*generated(3))
        hub.put(*[{**s, "name": s["name"] + " (hub)"} for s in generated(3)])
        a = await run(sessionmaker, council.url)
        b = await run(sessionmaker, hub.url)
    assert a.feed_id != b.feed_id
    assert (a.created, b.created) == (3, 3)
    ids = {r.id for r in a.rows} | {r.id for r in b.rows}
    assert len(ids) == 6
    one = await session.get(Activity, f"{a.feed_id}:gen-1")
    other = await session.get(Activity, f"{b.feed_id}:gen-1")
    assert one is not None
    assert other is not None
    assert (one.name, other.name) == ("Walking group 1", "Walking group 1 (hub)")
    assert one.organisation_id != other.organisation_id


def test_ids_are_deterministic_and_fit_the_id_pattern() -> None:
    import re

    feed = sync.feed_of("HTTPS://Council.Example/oruk/")
    assert feed == sync.feed_of("https://council.example/oruk")
    assert feed.url == "https://council.example/oruk"
    assert sync.activity_id(feed.id, "1") == f"{feed.id}:1"
    long = "x" * 64
    made = sync.activity_id(feed.id, long)
    assert made == sync.activity_id(feed.id, long)
    assert len(made) <= 64
    assert made != sync.activity_id(feed.id, long[:-1] + "y")
    assert all(re.match(ID_PATTERN, i) for i in (made, sync.activity_id(feed.id, "a.b:c-1")))


def test_a_feed_url_longer_than_its_column_is_refused() -> None:
    root = "https://feeds.example.org/"
    assert sync.feed_of(root + "a" * (sync.URL_MAX_LENGTH - len(root))).url
    with pytest.raises(BadRequest, match="longer than 2048"):
        sync.feed_of(root + "a" * (sync.URL_MAX_LENGTH - len(root) + 1))
