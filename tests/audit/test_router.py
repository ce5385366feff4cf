from __future__ import annotations

import datetime as dt
import uuid

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.auth.principal import Role
from tests.conftest import TokenFactory


async def create_audit_event(session: AsyncSession, **overrides: object) -> AuditEvent:
    values: dict[str, object] = {
        "request_id": "req",
        "actor_sub": "lw-1",
        "actor_role": "link_worker",
        "actor_org": "Y02718",
        "action": "R",
        "operation": "read",
        "entity_type": "ServiceRequest",
        "entity_id": str(uuid.uuid4()),
        "patient_id": uuid.uuid4(),
        "outcome": "0",
        **overrides,
    }
    event = AuditEvent(**values)
    session.add(event)
    await session.commit()
    return event


@pytest.fixture
def admin(auth: TokenFactory) -> dict[str, str]:
    return auth(Role.ADMIN, "X26", sub="admin-1")


async def test_search_by_patient_and_entity(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    mine = await create_audit_event(session)
    await create_audit_event(session)
    response = await client.get(
        f"/fhir/AuditEvent?patient=Patient/{mine.patient_id}", headers=admin
    )
    bundle = response.json()
    assert bundle["total"] == 1
    event = bundle["entry"][0]["resource"]
    assert event["entity"][0]["what"]["reference"] == f"ServiceRequest/{mine.entity_id}"
    assert event["agent"][0]["who"]["identifier"]["value"] == "lw-1"
    assert event["agent"][1]["who"]["identifier"]["value"] == "Y02718"

    by_entity = await client.get(
        f"/fhir/AuditEvent?entity=ServiceRequest/{mine.entity_id}", headers=admin
    )
    assert by_entity.json()["total"] == 1


async def test_reading_the_trail_is_itself_audited(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await client.get("/fhir/AuditEvent", headers=admin)
    response = await client.get("/fhir/AuditEvent?altid=admin-1", headers=admin)
    events = [e["resource"] for e in response.json()["entry"]]
    assert len(events) == 1
    assert events[0]["entity"][0]["what"] == {"display": "AuditEvent"}
    assert events[0]["subtype"][0]["code"] == "search-type"


async def test_date_filters_and_paging(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    base = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
    for day in range(5):
        await create_audit_event(session, recorded_at=base + dt.timedelta(days=day), actor_sub="x")
    march = await client.get(
        "/fhir/AuditEvent?altid=x&date=ge2026-03-02&date=lt2026-03-04", headers=admin
    )
    assert march.json()["total"] == 2

    first = (await client.get("/fhir/AuditEvent?altid=x&_count=2", headers=admin)).json()
    assert first["total"] == 5
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert "previous" not in links
    second = (
        await client.get(links["next"].removeprefix("http://testserver"), headers=admin)
    ).json()
    seen = [e["resource"]["id"] for e in first["entry"] + second["entry"]]
    assert len(set(seen)) == 4
    back = {link["relation"] for link in second["link"]}
    assert {"self", "next", "previous"} <= back


async def test_post_search_matches_get(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.post(
        "/fhir/AuditEvent/_search",
        data={"altid": "nobody"},
        headers=admin,
    )
    assert response.status_code == 200
    assert response.json()["total"] == 0


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ("date=yesterday", {}),
        ("date=sa2026-01-01", {}),
        ("patient=Patient/not-a-uuid", {}),
        ("patient:missing=true", {}),
        ("_count=lots", {}),
        ("_cursor=%%%", {}),
        ("colour=blue", {"Prefer": "handling=strict"}),
    ],
)
async def test_bad_search_is_400(
    client: httpx.AsyncClient, admin: dict[str, str], query: str, headers: dict[str, str]
) -> None:
    response = await client.get(f"/fhir/AuditEvent?{query}", headers={**admin, **headers})
    assert response.status_code == 400, response.text
    assert response.json()["resourceType"] == "OperationOutcome"


async def test_unknown_parameters_are_ignored_by_default(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.get("/fhir/AuditEvent?colour=blue", headers=admin)
    assert response.status_code == 200


async def test_a_cursor_beyond_any_result_is_400(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    from app.fhir.search import encode_cursor

    response = await client.get(f"/fhir/AuditEvent?_cursor={encode_cursor(10**20)}", headers=admin)
    assert response.status_code == 400


async def test_each_search_entry_reads_at_its_full_url(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str], auth: TokenFactory
) -> None:
    event = await create_audit_event(session)
    bundle = (
        await client.get(f"/fhir/AuditEvent?entity=ServiceRequest/{event.entity_id}", headers=admin)
    ).json()
    full_url = bundle["entry"][0]["fullUrl"]
    read = await client.get(full_url, headers=admin)
    assert read.status_code == 200, read.text
    assert read.json() == bundle["entry"][0]["resource"]
    read_again = await client.get(
        f"/fhir/AuditEvent?entity=AuditEvent/{event.id}&action=R", headers=admin
    )
    assert read_again.json()["total"] == 1  # reading a record is audited too
    assert (await client.get(full_url, headers=auth(Role.LINK_WORKER, "Y02718"))).status_code == 403
    assert (await client.get(f"/fhir/AuditEvent/{uuid.uuid4()}", headers=admin)).status_code == 404
    assert (await client.get("/fhir/AuditEvent/not-an-id", headers=admin)).status_code == 404
