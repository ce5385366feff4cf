"""Audited reads at the same time, through the app on its real engine (a pool of several
connections): every one is answered 200 and audited exactly once.

On SQLite a reading request's transaction is a reader; had its audit row been written in it,
it would have had to become a writer at commit, which WAL refuses once another connection has
committed since its snapshot ("database is locked", 503)."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.audit.models import AuditEvent
from app.auth.principal import Role
from tests.conftest import TokenFactory
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
