"""End to end: the real server (uvicorn in a subprocess) driven by a real FHIR client (fhirpy)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fhirpy import AsyncFHIRClient
from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth.principal import Role
from app.auth.tokens import mint_hs256
from tests.conftest import TEST_SECRET, _empty_tables, make_settings, validate_fhir
from tests.referrals import factories


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(database_url: str) -> Iterator[str]:
    """``assetlink serve`` on a free port, on the test database; stopped afterwards."""
    port = _free_port()
    env = {
        **os.environ,
        "ASSETLINK_ENVIRONMENT": "test",
        "ASSETLINK_DATABASE_URL": database_url,
        "ASSETLINK_JWT_SECRET": TEST_SECRET,
        "ASSETLINK_DEFAULT_PERFORMER_ODS": "Y02718",
        "ASSETLINK_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            _, errors = process.communicate(timeout=5)
            pytest.fail(f"the server did not start: {errors.decode()}")
        time.sleep(0.2)
    yield base
    process.terminate()
    process.wait(timeout=15)
    if process.stderr is not None:
        process.stderr.close()


@pytest.fixture
async def cleanup(engine: AsyncEngine) -> AsyncIterator[None]:
    yield
    await _empty_tables(engine)


async def test_fhirpy_create_conditional_search_read(server: str, cleanup: None) -> None:
    token = mint_hs256(make_settings("sqlite://"), role=Role.REFERRER, org="A81001")
    client = AsyncFHIRClient(f"{server}/fhir", authorization=f"Bearer {token}")
    received = []

    # create
    payload = factories.service_request(identifier_value="E2E-1")
    payload.pop("resourceType")
    referral = client.resource("ServiceRequest", **payload)
    await referral.save()
    assert referral.id
    received.append(referral.serialize())

    # conditional create (fhirpy sends the criterion as a query string): no duplicate
    same = client.resource(
        "ServiceRequest",
        **factories.service_request(identifier_value="E2E-1") | {"resourceType": "ServiceRequest"},
    )
    existing, created = (
        await client.resources("ServiceRequest")
        .search(identifier=f"{factories.GP_SYSTEM}|E2E-1")
        .get_or_create(same)
    )
    assert not created
    assert existing.id == referral.id

    # more referrals, then search with paging (fhirpy follows the next links)
    for index in range(2, 8):
        other = factories.service_request(identifier_value=f"E2E-{index}")
        other.pop("resourceType")
        await client.resource("ServiceRequest", **other).save()
    search = client.resources("ServiceRequest").search(requester="A81001").limit(3)
    first_page = await search.fetch()
    assert len(first_page) == 3
    everything = await search.fetch_all()
    assert len(everything) == 7
    assert len({r.id for r in everything}) == 7
    assert await client.resources("ServiceRequest").search(status="active").count() == 7

    # read
    read = await client.reference("ServiceRequest", referral.id).to_resource()
    assert read["identifier"][0]["value"] == "E2E-1"
    assert read["meta"]["versionId"] == "1"
    received += [read.serialize(), *(r.serialize() for r in everything)]

    # a referrer from another practice sees none of it, through the same client library
    stranger = mint_hs256(make_settings("sqlite://"), role=Role.REFERRER, org="B82002")
    foreign = AsyncFHIRClient(f"{server}/fhir", authorization=f"Bearer {stranger}")
    assert await foreign.resources("ServiceRequest").search().count() == 0

    result = await asyncio.to_thread(validate_fhir, received)
    assert result.returncode == 0, result.stdout
