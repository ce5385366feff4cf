"""Concurrent writers through the real engine (real commits, separate connections)."""

from __future__ import annotations

import asyncio

import httpx

from app.auth.principal import Role
from tests.conftest import TokenFactory
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
