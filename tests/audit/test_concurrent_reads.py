"""Audited reads at the same time, through the app on its real engine (a pool of several
connections): every one is answered 200 and audited exactly once.

On SQLite a reading request's transaction is a reader; had its audit row been written in it,
it would have had to become a writer at commit, which WAL refuses once another connection has
committed since its snapshot ("database is locked", 503)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.audit.models import AuditEvent
from app.auth.principal import Role
from app.main import create_app
from tests.conftest import TokenFactory, make_settings
from tests.directory.conftest import activity_body
from tests.outcomes.conftest import PERFORMER, new_referral, outcome

ROUNDS = 4


async def test_concurrent_audited_reads_all_answer_and_are_audited_once(
    committed_client: httpx.AsyncClient, auth: TokenFactory, engine: AsyncEngine
) -> None:
    gp, lw = auth(Role.REFERRER, "A81001"), auth(Role.LINK_WORKER, PERFORMER)
    stranger = auth(Role.LINK_WORKER, "Y09999")
    http = committed_client
    case = await new_referral(http, gp, lw)
    rid = case.referral_id
    for name in ("Walking group", "Choir", "Allotment"):
        made = await http.post(
            "/api/v1/directory/services",
            json=activity_body(name=name),
            headers=auth(Role.ADMIN, "X26"),
        )
        assert made.status_code == 201, made.text
    posted = await http.post(f"/api/v1/referrals/{rid}/outcomes", json=outcome("ONS4"), headers=lw)
    assert posted.status_code == 201, posted.text
    record_id = posted.json()["id"]

    # each read, and the accesses it must leave in the audit trail (operation, entity, outcome)
    reads = {
        f"/api/v1/referrals/{rid}/matches": (lw, [("$match", "ServiceRequest", rid, "0")]),
        f"/fhir/ServiceRequest/{rid}": (lw, [("read", "ServiceRequest", rid, "0")]),
        "/api/v1/caseload": (lw, [("search", "ServiceRequest", rid, "0")]),
        f"/api/v1/referrals/{rid}/outcomes": (
            lw,
            [("read", "ServiceRequest", rid, "0"), ("read", "OutcomeRecord", record_id, "0")],
        ),
        f"/fhir/ServiceRequest/{rid}?refused": (  # another service's link worker: refused
            stranger,
            [("read", "ServiceRequest", rid, "4")],
        ),
    }

    async def get(path: str) -> tuple[str, httpx.Response]:
        headers = reads[path][0]
        return path, await http.get(path.removesuffix("?refused"), headers=headers)

    answered = await asyncio.gather(*(get(path) for _ in range(ROUNDS) for path in reads))

    statuses = Counter((path, response.status_code) for path, response in answered)
    expected_statuses = {
        (path, 404 if path.endswith("?refused") else 200): ROUNDS for path in reads
    }
    assert statuses == expected_statuses
    async with AsyncSession(engine) as session:
        events = list(await session.scalars(select(AuditEvent)))
    by_request: dict[str | None, Counter[tuple[str, str, str | None, str]]] = {}
    for event in events:
        key = (event.operation, event.entity_type, event.entity_id, event.outcome)
        by_request.setdefault(event.request_id, Counter())[key] += 1
    for path, response in answered:
        audited = by_request.get(response.headers["x-request-id"], Counter())
        assert audited == Counter(reads[path][1]), path


@pytest.fixture
async def impatient_app(database_url: str) -> AsyncIterator[Any]:
    """The app on the real engine, waiting at most 0.3 s for SQLite's write lock (the tables
    are emptied by ``committed_app``)."""
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL stores a read's audit record in the read's own transaction")
    application = create_app(make_settings(database_url, database_timeout_s=0.3))
    yield application
    await application.state.engine.dispose()


async def test_a_read_whose_audit_cannot_be_written_is_not_answered(
    committed_client: httpx.AsyncClient,
    impatient_app: Any,
    auth: TokenFactory,
    engine: AsyncEngine,
    database_url: str,
) -> None:
    """SQLite: another process holds the write lock past the busy timeout; the read itself
    succeeds (WAL readers do not wait for a writer) but its audit record cannot be stored, so
    the answer is 503, not the referral; once the lock is released the same read is 200."""
    gp, lw = auth(Role.REFERRER, "A81001"), auth(Role.LINK_WORKER, PERFORMER)
    rid = (await new_referral(committed_client, gp, lw)).referral_id
    other = sqlite3.connect(make_url(database_url).database or "", isolation_level=None)
    transport = httpx.ASGITransport(app=impatient_app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            other.execute("BEGIN IMMEDIATE")
            refused = await http.get(f"/fhir/ServiceRequest/{rid}", headers=lw)
            other.rollback()
            answered = await http.get(f"/fhir/ServiceRequest/{rid}", headers=lw)
    finally:
        other.close()
    assert refused.status_code == 503, refused.text
    assert "retry-after" in refused.headers
    assert rid not in refused.text
    assert answered.status_code == 200, answered.text
    async with AsyncSession(engine) as session:
        counts = dict(
            (
                await session.execute(
                    select(AuditEvent.request_id, func.count()).group_by(AuditEvent.request_id)
                )
            ).all()
        )
    assert counts.get(refused.headers["x-request-id"]) is None
    assert counts.get(answered.headers["x-request-id"]) == 1
