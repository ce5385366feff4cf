"""Section 4 on every FHIR route: who may see and change a referral, and the audit of it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.auth.principal import Role
from tests.conftest import TokenFactory
from tests.referrals import factories


@pytest.fixture
async def referral(client: httpx.AsyncClient, auth: TokenFactory) -> dict[str, Any]:
    response = await client.post(
        "/fhir", json=factories.transaction(), headers=auth(Role.REFERRER, "A81001")
    )
    entries = {e["resource"]["resourceType"]: e["resource"] for e in response.json()["entry"]}
    task = (
        await client.get(
            f"/fhir/Task?focus={entries['ServiceRequest']['id']}", headers=auth(Role.ADMIN, "X26")
        )
    ).json()
    entries["Task"] = task["entry"][0]["resource"]
    return entries


def urls(referral: dict[str, Any]) -> list[str]:
    sr, patient, task, consent = (
        referral[k] for k in ("ServiceRequest", "Patient", "Task", "Consent")
    )
    return [
        f"/fhir/ServiceRequest/{sr['id']}",
        f"/fhir/ServiceRequest/{sr['id']}/_history",
        f"/fhir/ServiceRequest/{sr['id']}/_history/1",
        f"/fhir/Patient/{patient['id']}",
        f"/fhir/Patient/{patient['id']}/_history/1",
        f"/fhir/Task/{task['id']}",
        f"/fhir/Task/{task['id']}/_history",
        f"/fhir/Consent/{consent['id']}",
    ]


SEARCHES = ["/fhir/ServiceRequest", "/fhir/Task", "/fhir/Patient"]


@pytest.mark.parametrize(
    ("role", "org"),
    [(Role.REFERRER, "A81001"), (Role.LINK_WORKER, "Y02718"), (Role.ADMIN, "X26")],
)
async def test_allowed_readers_see_everything(
    client: httpx.AsyncClient, auth: TokenFactory, referral: dict[str, Any], role: Role, org: str
) -> None:
    headers = auth(role, org)
    for url in urls(referral):
        assert (await client.get(url, headers=headers)).status_code == 200, url
    for url in SEARCHES:
        assert (await client.get(url, headers=headers)).json()["total"] == 1, url


@pytest.mark.parametrize(
    ("role", "org"),
    [(Role.REFERRER, "B82002"), (Role.LINK_WORKER, "Y99999")],
    ids=["another practice", "another link-worker service"],
)
async def test_other_organisations_cannot_see_it(
    client: httpx.AsyncClient, auth: TokenFactory, referral: dict[str, Any], role: Role, org: str
) -> None:
    headers = auth(role, org)
    for url in urls(referral):
        response = await client.get(url, headers=headers)
        assert response.status_code == 404, url
    for url in SEARCHES:
        assert (await client.get(url, headers=headers)).json()["total"] == 0, url
    sr = referral["ServiceRequest"]
    number = referral["Patient"]["identifier"][0]["value"]
    by_identifier = await client.get(
        f"/fhir/ServiceRequest?patient:identifier=https://fhir.nhs.uk/Id/nhs-number|{number}",
        headers=headers,
    )
    assert by_identifier.json()["total"] == 0
    revoke = await client.put(
        f"/fhir/ServiceRequest/{sr['id']}", json={**sr, "status": "revoked"}, headers=headers
    )
    assert revoke.status_code in (403, 404)


@pytest.mark.parametrize(("role", "org"), [(Role.PROVIDER, "P12345"), (Role.COMMISSIONER, "15N")])
async def test_roles_without_access_are_forbidden(
    client: httpx.AsyncClient, auth: TokenFactory, referral: dict[str, Any], role: Role, org: str
) -> None:
    headers = auth(role, org)
    for url in [*urls(referral), *SEARCHES]:
        response = await client.get(url, headers=headers)
        assert response.status_code == 403, url
        assert response.json()["issue"][0]["code"] == "forbidden"


async def test_link_worker_cannot_revoke(
    client: httpx.AsyncClient, auth: TokenFactory, referral: dict[str, Any]
) -> None:
    sr = referral["ServiceRequest"]
    response = await client.put(
        f"/fhir/ServiceRequest/{sr['id']}",
        json={**sr, "status": "revoked"},
        headers=auth(Role.LINK_WORKER, "Y02718"),
    )
    assert response.status_code == 403


async def test_reads_writes_and_refusals_are_audited(
    committed_client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    """With real commits: a refusal is audited in a transaction of its own."""
    client = committed_client
    created = await client.post(
        "/fhir", json=factories.transaction(), headers=auth(Role.REFERRER, "A81001")
    )
    entries = {e["resource"]["resourceType"]: e["resource"] for e in created.json()["entry"]}
    sr, patient = entries["ServiceRequest"], entries["Patient"]
    lw = auth(Role.LINK_WORKER, "Y02718", sub="lw-audit")
    stranger = auth(Role.REFERRER, "B82002", sub="stranger")
    await client.get(f"/fhir/ServiceRequest/{sr['id']}", headers=lw)
    await client.get(f"/fhir/ServiceRequest/{sr['id']}", headers=stranger)
    # a refused write: its audit row is stored after the request's transaction is rolled back
    revoke = await client.put(
        f"/fhir/ServiceRequest/{sr['id']}", json={**sr, "status": "revoked"}, headers=stranger
    )
    assert revoke.status_code == 404
    admin = auth(Role.ADMIN, "X26")
    trail = (
        await client.get(
            f"/fhir/AuditEvent?patient=Patient/{patient['id']}&_count=100", headers=admin
        )
    ).json()
    events = [e["resource"] for e in trail["entry"]]

    def find(sub: str, outcome: str) -> list[dict[str, Any]]:
        return [
            e
            for e in events
            if e["agent"][0]["who"]["identifier"]["value"] == sub and e["outcome"] == outcome
        ]

    created = [e for e in events if e["action"] == "C"]
    assert {e["entity"][0]["what"]["reference"].split("/")[0] for e in created} >= {
        "ServiceRequest",
        "Task",
        "Consent",
    }
    assert len(find("lw-audit", "0")) == 1
    refused = find("stranger", "4")
    assert sorted(e["subtype"][0]["code"] for e in refused) == ["read", "update"]
    assert all(e["entity"][0]["what"]["reference"] == f"ServiceRequest/{sr['id']}" for e in refused)
    text = str(events)
    assert patient["identifier"][0]["value"] not in text  # no NHS number in the trail
    assert patient["name"][0]["family"] not in text
