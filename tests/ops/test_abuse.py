"""Abuse controls: the per-client rate limit (429), the request timeout (503), the security
headers of every answer, and CORS closed unless origins are configured.

The app runs in process (no database is reached: the routes asked for are unknown, or added
here), so each test takes milliseconds.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from app.auth.principal import Role
from app.config import Environment
from app.db import SessionDep
from app.main import create_app
from app.ops.abuse import CSP, PERSON_POLICY, person_page, security_headers
from app.ops.middleware import FORM_TYPE, _accepts
from app.person import router as person_router
from app.questionnaires import service as questionnaires_service
from tests.conftest import TokenFactory, make_settings

DATABASE = "sqlite://"  # never opened by these requests


async def _client(**overrides: Any) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(make_settings(DATABASE, match_warmup=False, **overrides))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("192.0.2.7", 4000)), base_url="http://t"
    ) as http:
        yield app, http
    await app.state.engine.dispose()


@pytest.fixture
async def limited() -> AsyncIterator[httpx.AsyncClient]:
    """Two requests per client, then (at one request in 1000 s) none."""
    async for _, http in _client(rate_limit_per_s=0.001, rate_limit_burst=2):
        yield http


async def test_a_client_past_its_burst_gets_429_with_retry_after(
    limited: httpx.AsyncClient,
) -> None:
    assert [(await limited.get("/api/v1/nothing")).status_code for _ in range(2)] == [404, 404]
    refused = await limited.get("/api/v1/nothing")
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["title"] == "Too many requests"
    assert int(refused.headers["Retry-After"]) >= 1
    fhir = await limited.get("/fhir/nothing")
    assert fhir.status_code == 429
    assert fhir.json()["resourceType"] == "OperationOutcome"
    assert fhir.json()["issue"][0]["code"] == "throttled"
    assert "Retry-After" in fhir.headers


async def test_each_token_has_its_own_bucket_and_probes_are_never_limited(
    limited: httpx.AsyncClient, auth: TokenFactory
) -> None:
    """Keyed by the verified token's sub and org: one caller's burst leaves another's whole;
    an invalid token counts against its sender's address."""
    alice = auth(Role.LINK_WORKER, "Y02718", sub="alice")
    bob = auth(Role.LINK_WORKER, "Y02718", sub="bob")
    statuses = [(await limited.get("/api/v1/nothing", headers=alice)).status_code for _ in "abc"]
    assert statuses == [404, 404, 429]
    assert (await limited.get("/api/v1/nothing", headers=bob)).status_code == 404
    assert (await limited.get("/api/v1/nothing")).status_code == 404  # the address: its own
    forged = {"Authorization": "Bearer not.a.token"}
    assert (await limited.get("/api/v1/nothing", headers=forged)).status_code == 404
    assert (await limited.get("/api/v1/nothing", headers=forged)).status_code == 429
    assert (await limited.get("/api/v1/nothing")).status_code == 429  # the same address
    assert (await limited.get("/livez")).status_code == 200


async def test_no_limit_when_the_rate_is_zero() -> None:
    async for _, http in _client(rate_limit_per_s=0, rate_limit_burst=1):
        assert {(await http.get("/api/v1/nothing")).status_code for _ in range(20)} == {404}


async def test_a_request_past_the_timeout_is_answered_503() -> None:
    async for app, http in _client(request_timeout_s=0.05):
        for path in ("/api/v1/slow", "/fhir/slow"):
            app.add_api_route(path, _slow)
        slow = await http.get("/api/v1/slow")
        assert slow.status_code == 503
        assert slow.headers["content-type"] == "application/problem+json"
        assert "longer than 0.05 s" in slow.json()["detail"]
        assert slow.headers["Retry-After"] == "5"
        assert slow.headers["X-Content-Type-Options"] == "nosniff"
        fhir = await http.get("/fhir/slow")
        assert fhir.status_code == 503
        assert fhir.json()["issue"][0]["code"] == "timeout"
        assert (await http.get("/livez")).status_code == 200


async def _slow() -> dict[str, str]:
    await asyncio.sleep(60)
    return {}


async def test_every_answer_carries_the_security_headers() -> None:
    async for _, http in _client():
        for path in ("/livez", "/fhir/metadata", "/api/v1/nothing", "/fhir/nothing"):
            headers = (await http.get(path)).headers
            assert headers["X-Content-Type-Options"] == "nosniff", path
            assert headers["Referrer-Policy"] == "no-referrer", path
            assert headers["X-Frame-Options"] == "DENY", path
            assert headers["Content-Security-Policy"] == (
                "default-src 'none'; frame-ancestors 'none'"
            ), path
            assert headers["Cache-Control"] == "no-store", path
            assert "Strict-Transport-Security" not in headers, path
        asset = await http.get("/static/docs/swagger-ui.css")
        assert asset.status_code == 200
        assert "no-store" not in asset.headers.get("Cache-Control", "")
        assert asset.headers["X-Content-Type-Options"] == "nosniff"


def test_the_persons_pages_and_only_they_have_its_policy_and_take_forms() -> None:
    pages = (person_router.PAGE_PATH, questionnaires_service.PATH + "a-token")
    others = ("/refer/x", "/qx", person_router.API_PATH, "/dashboard", "/api/v1/referrals")
    for path in pages:
        assert person_page(path), path
        assert dict(security_headers(path, hsts=False))[CSP] == PERSON_POLICY[1], path
        assert _accepts(path, FORM_TYPE), path
    for path in others:
        assert not person_page(path), path
        assert dict(security_headers(path, hsts=False))[CSP] != PERSON_POLICY[1], path
        assert not _accepts(path, FORM_TYPE), path
    assert _accepts("/fhir/ServiceRequest/_search", FORM_TYPE)


async def test_the_docs_policy_allows_exactly_the_pages_own_inline_scripts() -> None:
    async for _, http in _client():
        for path in ("/docs", "/docs/oauth2-redirect"):
            page = await http.get(path)
            policy = page.headers["Content-Security-Policy"]
            scripts = re.findall(r"<script>(.*?)</script>", page.text, re.DOTALL)
            assert scripts, path
            for script in scripts:
                digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
                assert f"'sha256-{digest}'" in policy, path
            script_src = next(d for d in policy.split("; ") if d.startswith("script-src"))
            assert "unsafe-inline" not in script_src
            assert "frame-ancestors 'none'" in policy


async def test_production_answers_carry_hsts() -> None:
    async for _, http in _client(environment=Environment.PRODUCTION):
        headers = (await http.get("/livez")).headers
        assert headers["Strict-Transport-Security"].startswith("max-age=31536000")


async def test_cors_is_closed_by_default() -> None:
    async for _, http in _client():
        preflight = await http.options(
            "/fhir/ServiceRequest",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
        assert "Access-Control-Allow-Origin" not in preflight.headers
        plain = await http.get("/fhir/metadata", headers={"Origin": "https://evil.example"})
        assert "Access-Control-Allow-Origin" not in plain.headers


async def test_cors_allows_only_the_configured_origins() -> None:
    async for _, http in _client(cors_origins=["https://console.example"]):
        for origin, allowed in (("https://console.example", True), ("https://evil.example", False)):
            preflight = await http.options(
                "/fhir/ServiceRequest",
                headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
            )
            assert ("Access-Control-Allow-Origin" in preflight.headers) is allowed, origin


# A statement that runs for minutes unless stopped, on each database.
ENDLESS = {
    "postgresql": "SELECT pg_sleep(300)",
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c"
    " WHERE x < 10000000000) SELECT count(*) FROM c",
}


async def test_a_query_past_the_timeout_is_stopped_and_the_pool_stays_usable(
    database_url: str,
) -> None:
    """The statement running when the request is stopped is cut off (PostgreSQL's driver
    cancels it; on SQLite, where it runs in aiosqlite's thread, the engine interrupts it), and
    the one pooled connection serves the next requests at once: were the statement still
    running, they would queue behind it past their own timeout."""
    settings = make_settings(
        database_url, match_warmup=False, request_timeout_s=1.0, database_pool_size=1
    )
    app = create_app(settings)
    endless = ENDLESS["sqlite" if database_url.startswith("sqlite") else "postgresql"]

    async def sleeping(session: SessionDep) -> dict[str, Any]:
        return {"value": (await session.execute(text(endless))).scalar()}

    async def quick(session: SessionDep) -> dict[str, Any]:
        return {"value": (await session.execute(text("SELECT 1"))).scalar()}

    app.add_api_route("/api/v1/sleeping", sleeping)
    app.add_api_route("/api/v1/quick", quick)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        for _ in range(2):
            assert (await http.get("/api/v1/sleeping")).status_code == 503
            for _ in range(3):
                answer = await http.get("/api/v1/quick")
                assert answer.json() == {"value": 1}, answer.text
    await app.state.engine.dispose()
