from __future__ import annotations

import httpx

from app.auth.principal import Role
from tests.conftest import TokenFactory
from tests.referrals import factories

FHIR = {"Content-Type": "application/fhir+json"}


async def test_create_and_read(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    gp = {**auth(Role.REFERRER, "A81001"), **FHIR}
    response = await client.post(
        "/fhir/ServiceRequest", json=factories.service_request(), headers=gp
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["ETag"] == 'W/"1"'
    assert response.headers["Location"].endswith(f"/fhir/ServiceRequest/{created['id']}/_history/1")
    read = await client.get(f"/fhir/ServiceRequest/{created['id']}", headers=gp)
    assert read.status_code == 200
    assert read.json() == created
