"""Concurrent writers through the real engine (real commits, separate connections)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth.principal import Role
from app.config import Settings
from app.main import create_app
from app.referrals.models import ReferralIdentifier
from tests.conftest import FhirCapture, TokenFactory, _client
from tests.referrals import factories


async def test_same_if_match_exactly_one_update_wins(
    committed_client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    gp, lw = auth(Role.REFERRER, "A81001"), auth(Role.LINK_WORKER, "Y02718")
    referral = (
        await committed_client.post(
            "/fhir/ServiceRequest", json=factories.service_request(), headers=gp
        )
    ).json()
    task = (await committed_client.get(f"/fhir/Task?focus={referral['id']}", headers=lw)).json()[
        "entry"
    ][0]["resource"]
    accept = {**task, "status": "accepted"}
    reject = {**task, "status": "rejected", "statusReason": {"text": "outside our area"}}
    headers = {**lw, "If-Match": 'W/"1"'}
    for _ in range(3):  # the race is real; repeat to make the interleavings vary
        responses = await asyncio.gather(
            *(
                committed_client.put(f"/fhir/Task/{task['id']}", json=body, headers=headers)
                for body in (accept, reject)
            )
        )
        codes = sorted(r.status_code for r in responses)
        if codes != [200, 412]:
            raise AssertionError(
                f"expected exactly one success, got {codes}: {[r.text for r in responses]}"
            )
        winner = next(r.json() for r in responses if r.status_code == 200)
        current = (await committed_client.get(f"/fhir/Task/{task['id']}", headers=lw)).json()
        assert current["meta"]["versionId"] == "2"
        assert current["status"] == winner["status"]
        history = (
            await committed_client.get(f"/fhir/Task/{task['id']}/_history", headers=lw)
        ).json()
        assert history["total"] == 2
        # start again from a fresh referral
        referral = (
            await committed_client.post(
                "/fhir/ServiceRequest", json=factories.service_request(), headers=gp
            )
        ).json()
        task = (
            await committed_client.get(f"/fhir/Task?focus={referral['id']}", headers=lw)
        ).json()["entry"][0]["resource"]
        accept = {**task, "status": "accepted"}
        reject = {**task, "status": "rejected", "statusReason": {"text": "outside our area"}}


async def test_concurrent_retries_create_one_referral(
    committed_client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    gp = auth(Role.REFERRER, "A81001")
    payload = factories.service_request()
    responses = await asyncio.gather(
        *(committed_client.post("/fhir/ServiceRequest", json=payload, headers=gp) for _ in range(5))
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 200, 200, 200, 201], [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1


async def _stored_with(engine: AsyncEngine, value: str) -> int:
    async with engine.connect() as connection:
        found = await connection.scalar(
            select(func.count()).where(ReferralIdentifier.value == value)
        )
    return int(found or 0)


async def test_concurrent_conditional_creates_make_one_referral(
    committed_client: httpx.AsyncClient, auth: TokenFactory, engine: AsyncEngine
) -> None:
    """Retries with ``If-None-Exist`` arriving together go through the group-commit writer in
    one batch: one 201, the others 200 with the same referral."""
    payload = factories.service_request()
    value = payload["identifier"][0]["value"]
    headers = {
        **auth(Role.REFERRER, "A81001"),
        "If-None-Exist": f"identifier={factories.GP_SYSTEM}|{value}",
    }
    responses = await asyncio.gather(
        *(
            committed_client.post("/fhir/ServiceRequest", json=payload, headers=headers)
            for _ in range(5)
        )
    )
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 200, 201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert await _stored_with(engine, value) == 1


@pytest.mark.parametrize("conditional", [False, True], ids=["plain", "if-none-exist"])
async def test_retries_through_two_processes_make_one_referral(
    committed_app: Any,
    settings: Settings,
    fhir_capture: FhirCapture,
    auth: TokenFactory,
    engine: AsyncEngine,
    conditional: bool,
) -> None:
    """A client that timed out retries through another process (a load balancer) while the
    first is still writing: two writers race on the identifier, the database's unique
    constraint decides, and the loser answers 200 with the winner's referral."""
    payload = factories.service_request()
    value = payload["identifier"][0]["value"]
    headers = auth(Role.REFERRER, "A81001")
    if conditional:
        headers["If-None-Exist"] = f"identifier={factories.GP_SYSTEM}|{value}"
    other = create_app(settings)
    try:
        async with _client(committed_app, fhir_capture) as one, _client(other, fhir_capture) as two:
            responses = await asyncio.gather(
                *(
                    http.post("/fhir/ServiceRequest", json=payload, headers=headers)
                    for _ in range(3)
                    for http in (one, two)
                )
            )
    finally:
        await other.state.engine.dispose()
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * 5 + [201], [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert await _stored_with(engine, value) == 1


async def test_a_retry_after_the_client_gave_up(
    committed_client: httpx.AsyncClient, auth: TokenFactory, engine: AsyncEngine
) -> None:
    """The client gives up (its request cancelled while the writer has it) and sends it again:
    one referral, whichever of them stored it."""
    gp = auth(Role.REFERRER, "A81001")
    payload = factories.service_request()
    first = asyncio.create_task(
        committed_client.post("/fhir/ServiceRequest", json=payload, headers=gp)
    )
    for _ in range(3):  # received, checked and queued, not yet answered
        await asyncio.sleep(0)
    first.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await first
    again = await committed_client.post("/fhir/ServiceRequest", json=payload, headers=gp)
    assert again.status_code in (200, 201), again.text
    assert await _stored_with(engine, payload["identifier"][0]["value"]) == 1
