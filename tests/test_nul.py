"""U+0000 anywhere a client can put it: a 4xx naming where, never PostgreSQL's 500, nothing
written. Paths and query parameters: 400 from one check before every route
(app/ops/input_guard.py); JSON API bodies: 422 naming the field (``Text``); FHIR bodies: 400
naming the element, for every resource the API accepts (tests/test_lengths.py, NUL_CASES)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Role
from app.db import Base
from tests.conftest import TokenFactory

ADMIN = (Role.ADMIN, "X26")
REFERRER = (Role.REFERRER, "A81001")
LINK_WORKER = (Role.LINK_WORKER, "Y02718")
SNOMED_NEEDS = "/api/v1/terminology/snomed-needs/871731000000106"
MAPPING = {"display": "Lonely", "need": "loneliness-isolation", "source": "test"}
SOMEONE = uuid.UUID(int=7)

# (name, role, method, path, body or None, expected status, where the answer must point)
CASES: list[tuple[str, tuple[Role, str], str, str, Any, int, str]] = [
    (
        "FHIR search parameter",
        REFERRER,
        "GET",
        "/fhir/ServiceRequest?identifier=urn:x|a%00b",
        None,
        400,
        "identifier",
    ),
    ("FHIR read id", REFERRER, "GET", "/fhir/ServiceRequest/a%00b", None, 400, "path"),
    ("FHIR parameter name", REFERRER, "GET", "/fhir/Task?st%00atus=ready", None, 400, "status"),
    ("directory id", REFERRER, "GET", "/api/v1/directory/services/a%00b", None, 400, "path"),
    (
        "a path no route takes",
        REFERRER,
        "GET",
        "/api/v1/directory/services/%2F%00",
        None,
        400,
        "path",
    ),
    (
        "a path the router would redirect",
        REFERRER,
        "GET",
        "/api/v1/directory/services/%00%2F",
        None,
        400,
        "path",
    ),
    ("directory text", REFERRER, "GET", "/api/v1/directory/services?text=a%00", None, 400, "text"),
    ("audit search", ADMIN, "GET", "/fhir/AuditEvent?entity=a%00", None, 400, "entity"),
    ("report window", ADMIN, "GET", "/api/v1/reports/referrals?from=2026%00", None, 400, "from"),
    (
        "SNOMED mapping display",
        ADMIN,
        "PUT",
        SNOMED_NEEDS,
        {**MAPPING, "display": "Lone\u0000ly"},
        422,
        "display",
    ),
    (
        "SNOMED mapping need",
        ADMIN,
        "PUT",
        SNOMED_NEEDS,
        {**MAPPING, "need": "lonely\u0000"},
        422,
        "need",
    ),
    (
        "SNOMED mapping source",
        ADMIN,
        "PUT",
        SNOMED_NEEDS,
        {**MAPPING, "source": "a\u0000b"},
        422,
        "source",
    ),
    (
        "routing performer",
        ADMIN,
        "PUT",
        "/api/v1/routing/A81001",
        {"performer_ods": "Y02\u0000718"},
        422,
        "performer_ods",
    ),
    (
        "booking activity",
        LINK_WORKER,
        "POST",
        f"/api/v1/referrals/{SOMEONE}/bookings",
        {"activity_id": "a\u0000b"},
        422,
        "activity_id",
    ),
    (
        "outcome instrument",
        LINK_WORKER,
        "POST",
        f"/api/v1/referrals/{SOMEONE}/outcomes",
        {
            "instrument": "SWEMWBS\u0000",
            "timepoint": "baseline",
            "collected_at": "2026-11-01T10:00:00Z",
            "mode": "self",
            "answers": {},
        },
        422,
        "instrument",
    ),
]


async def _row_counts(session: AsyncSession) -> dict[str, int]:
    return {
        table.name: await session.scalar(select(func.count()).select_from(table)) or 0
        for table in Base.metadata.sorted_tables
        if table.name != "audit_event"  # refused accesses are audited on purpose
    }


@pytest.mark.parametrize(
    ("role", "method", "path", "body", "status", "where"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
async def test_a_nul_character_is_refused(
    client: httpx.AsyncClient,
    session: AsyncSession,
    auth: TokenFactory,
    role: tuple[Role, str],
    method: str,
    path: str,
    body: Any,
    status: int,
    where: str,
) -> None:
    before = await _row_counts(session)

    response = await client.request(method, path, json=body, headers=auth(*role))

    assert response.status_code == status, response.text
    text = response.text
    assert where in text, text
    assert "NUL" in text, text
    assert await _row_counts(session) == before


async def test_an_escaped_backslash_before_u0000_is_ordinary_text(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    """``\\\\u0000`` in JSON is a backslash and the text ``u0000``, not a NUL."""
    body = {**MAPPING, "source": "see \\u0000 in the notes"}
    response = await client.put(SNOMED_NEEDS, json=body, headers=auth(*ADMIN))
    assert response.status_code in (200, 201), response.text
    assert response.json()["source"] == "see \\u0000 in the notes"


async def test_a_nul_in_a_search_form_body_is_refused(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    """``POST _search`` carries the parameters in its body: the same rule as the query."""
    response = await client.post(
        "/fhir/ServiceRequest/_search",
        data={"identifier": "urn:x|a\u0000b"},
        headers=auth(*REFERRER),
    )
    assert response.status_code == 400, response.text
    assert "NUL" in response.text
    assert response.json()["issue"][0]["expression"] == ["identifier"]
