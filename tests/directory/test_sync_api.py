"""``POST /api/v1/directory/syncs``: a sync through the API, against a real feed on
127.0.0.1: the report, admin only, audited, and a feed that fails answered 502 or 422 (never
500) with the directory unchanged."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.auth.principal import Role
from tests.conftest import TokenFactory
from tests.directory.feed_server import Feed, generated, serve
from tests.directory.test_sync import dump

SYNCS = "/api/v1/directory/syncs"


@pytest.fixture
def feed() -> Iterator[Feed]:
    with serve(Feed()) as running:
        running.put(*generated(30))
        yield running


async def _syncs(session: AsyncSession) -> list[tuple[str, str, str | None]]:
    rows = await session.execute(
        select(AuditEvent.actor_role, AuditEvent.outcome, AuditEvent.outcome_text).where(
            AuditEvent.operation == "$sync-directory"
        )
    )
    return [(role, outcome, text) for role, outcome, text in rows]


async def test_an_admin_syncs_a_feed_and_it_is_audited(
    client: httpx.AsyncClient, auth: TokenFactory, feed: Feed, session: AsyncSession
) -> None:
    admin = auth(Role.ADMIN, "X26")
    response = await client.post(SYNCS, json={"url": feed.url}, headers=admin)
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["created"], report["unchanged"], report["deactivated"]) == (30, 0, 0)
    assert report["pages"] == 1  # per_page 100
    assert report["url"] == feed.url
    assert report["rows"][0]["id"] == f"{report['feed_id']}:gen-0"
    read = await client.get(f"/api/v1/directory/services/{report['feed_id']}:gen-0", headers=admin)
    assert read.json()["name"] == "Walking group 0"
    again = (await client.post(SYNCS, json={"url": feed.url, "full": True}, headers=admin)).json()
    assert (again["unchanged"], again["full"]) == (30, True)
    assert await _syncs(session) == [("admin", "0", None), ("admin", "0", None)]


async def test_only_an_admin_may_sync(
    client: httpx.AsyncClient, auth: TokenFactory, feed: Feed
) -> None:
    for role, org in ((Role.PROVIDER, "DEMOPROV1"), (Role.LINK_WORKER, "Y02718")):
        response = await client.post(SYNCS, json={"url": feed.url}, headers=auth(role, org))
        assert response.status_code == 403
    assert feed.requests == []


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"url": "ftp://example.org/oruk"}, 400, "is not an http(s) URL"),
        ({"url": "http://127.0.0.1:1/oruk?page=2"}, 400, "must not carry a query"),
        ({"url": "http://127.0.0.1:9/x", "since": "2026-01-01T00:00:00"}, 422, "time zone"),
        ({"url": "http://127.0.0.1:9/x", "extra": 1}, 422, "extra"),
    ],
)
async def test_a_bad_request_is_refused(
    client: httpx.AsyncClient, auth: TokenFactory, body: dict[str, object], status: int, words: str
) -> None:
    response = await client.post(SYNCS, json=body, headers=auth(Role.ADMIN, "X26"))
    assert response.status_code == status
    assert words in response.text


async def test_a_failing_feed_is_502_and_a_bad_service_422_nothing_changed(
    client: httpx.AsyncClient, auth: TokenFactory, feed: Feed, session: AsyncSession
) -> None:
    admin = auth(Role.ADMIN, "X26")
    assert (await client.post(SYNCS, json={"url": feed.url}, headers=admin)).status_code == 200
    before = await dump(session)
    feed.put(*[{**s, "name": "Renamed"} for s in generated(30)])
    feed.fail_always.add("/oruk/services/gen-12")
    failed = await client.post(SYNCS, json={"url": feed.url, "full": True}, headers=admin)
    assert failed.status_code == 502
    assert failed.headers["content-type"] == "application/problem+json"
    assert "GET /services/gen-12 answered HTTP 500 (4 attempts)" in failed.json()["detail"]
    assert "nothing was changed" in failed.json()["detail"]
    feed.fail_always.clear()
    feed.put({**generated(1)[0], "status": "closed"})
    refused = await client.post(SYNCS, json={"url": feed.url, "full": True}, headers=admin)
    assert refused.status_code == 422
    assert "1 of 30 services cannot be stored; nothing was changed" in refused.text
    assert await dump(session) == before
    unreachable = await client.post(SYNCS, json={"url": "http://127.0.0.1:9/oruk"}, headers=admin)
    assert unreachable.status_code == 502
    assert "GET /services: cannot connect" in unreachable.json()["detail"]
    assert "Error" not in unreachable.text  # no exception class names (tests/test_contract.py)
    outcomes = [
        (outcome, text[:40] if text else None) for _, outcome, text in await _syncs(session)
    ]
    assert outcomes[0] == ("0", None)
    assert [o for o, _ in outcomes[1:]] == ["4", "4", "4"]  # each failure audited with its reason


async def test_redirects_are_followed_a_few_times(
    client: httpx.AsyncClient, auth: TokenFactory, feed: Feed
) -> None:
    admin = auth(Role.ADMIN, "X26")
    with serve(Feed(moved_to=feed.url)) as old:
        moved = await client.post(SYNCS, json={"url": old.url}, headers=admin)
        assert moved.status_code == 200, moved.text
        assert moved.json()["created"] == 30
        old.moved_to = old.url  # to itself, for ever
        looping = await client.post(SYNCS, json={"url": old.url}, headers=admin)
    assert looping.status_code == 502
    assert "GET /services: more than 5 redirects" in looping.json()["detail"]
