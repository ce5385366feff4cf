"""Activities as FHIR ``HealthcareService``: read, search, the CapabilityStatement."""

from __future__ import annotations

import httpx
import pytest

from app.auth.principal import Role
from app.terminology.codesystems import ACTIVITY_CATEGORY_SYSTEM
from tests.conftest import TokenFactory
from tests.directory.conftest import PROVIDER_ODS, CreateActivity

HS = "/fhir/HealthcareService"


@pytest.mark.parametrize("role", list(Role))
async def test_every_role_reads_an_activity_as_healthcare_service(
    client: httpx.AsyncClient, auth: TokenFactory, create_activity: CreateActivity, role: Role
) -> None:
    created = await create_activity(
        eligibility={"description": "Carers welcome", "gender": "female"},
        maximum_age=80,
        service_areas=["E8"],
        contact={"name": "Ann", "phone": "020 7946 0000", "email": "ann@example.org"},
        url="https://choir.example.org",
    )
    response = await client.get(f"{HS}/{created['id']}", headers=auth(role, "X26"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/fhir+json"
    service = response.json()
    assert service["resourceType"] == "HealthcareService"
    assert service["id"] == created["id"]
    assert service["active"] is True
    assert service["name"] == "Community Choir"
    assert service["providedBy"]["display"] == "Dalston Arts Collective"
    assert service["providedBy"]["identifier"]["value"] == PROVIDER_ODS
    assert service["category"] == [
        {
            "coding": [
                {
                    "system": ACTIVITY_CATEGORY_SYSTEM,
                    "code": "music-singing",
                    "display": "Music and singing",
                }
            ]
        }
    ]
    [location] = service["contained"]
    assert location["resourceType"] == "Location"
    assert service["location"] == [
        {"reference": f"#{location['id']}", "display": "Dalston Library"}
    ]
    assert location["address"] == {
        "line": ["Dalston Square"],
        "city": "London",
        "postalCode": "E5 1AU",
    }
    assert location["position"] == {"latitude": 51.554725, "longitude": -0.047379}
    assert service["availableTime"] == [
        {
            "daysOfWeek": ["tue", "thu"],
            "availableStartTime": "10:00:00",
            "availableEndTime": "12:00:00",
        }
    ]
    assert service["communication"] == [{"coding": [{"system": "urn:ietf:bcp:47", "code": "en"}]}]
    assert service["serviceProvisionCode"][0]["coding"][0]["code"] == "free"
    eligibility = [e["comment"] for e in service["eligibility"]]
    assert eligibility == ["Ages 18 to 80", "Women only", "Lives in E8", "Carers welcome"]
    assert {t["system"]: t["value"] for t in service["telecom"]} == {
        "phone": "020 7946 0000",
        "email": "ann@example.org",
        "url": "https://choir.example.org",
    }
    # (the client fixture runs every resource through the FHIR validator)


async def test_schedules_that_are_not_weekly_and_activities_without_a_place(
    client: httpx.AsyncClient, auth: TokenFactory, create_activity: CreateActivity
) -> None:
    created = await create_activity(
        attending_type="online",
        locations=[],
        schedules=[
            {"freq": "MONTHLY", "byday": "2MO", "opens_at": "18:00", "closes_at": "19:30"},
            {"freq": "WEEKLY", "byday": "FR", "valid_to": "2020-01-31"},  # ended
            {"freq": "WEEKLY", "byday": "WE", "interval": 2, "valid_from": "2026-01-07"},
        ],
        cost_options=[{"amount": 3}],
        languages=[],
    )
    service = (await client.get(f"{HS}/{created['id']}", headers=auth(Role.ADMIN, "X26"))).json()
    assert "contained" not in service
    assert "location" not in service
    assert "availableTime" not in service
    assert service["availabilityExceptions"] == (
        "Monthly: second Monday, 18:00 to 19:30; Every 2 weeks from 2026-01-07: Wednesday"
    )
    assert service["serviceProvisionCode"][0]["coding"][0]["code"] == "cost"
    extension = {e["url"]: e for e in service["extension"][0]["extension"]}
    assert extension["attendingType"]["valueCode"] == "online"
    assert extension["placesAvailable"]["valueInteger"] == 5


async def test_unknown_and_unauthenticated(
    client: httpx.AsyncClient, auth: TokenFactory, create_activity: CreateActivity
) -> None:
    reader = auth(Role.COMMISSIONER, "X26")
    missing = await client.get(f"{HS}/no-such-activity", headers=reader)
    assert missing.status_code == 404
    assert missing.json()["resourceType"] == "OperationOutcome"
    assert (await client.get(f"{HS}/bad%20id", headers=reader)).status_code == 404
    created = await create_activity()
    assert (await client.get(f"{HS}/{created['id']}")).status_code == 401


async def test_search_by_name_category_and_active_with_paging(
    client: httpx.AsyncClient, auth: TokenFactory, create_activity: CreateActivity
) -> None:
    reader = auth(Role.REFERRER, "A81001")
    choir = await create_activity(name="Community Choir")
    walk = await create_activity(name="Canal Walk", categories=["walking", "nature-green"])
    closed = await create_activity(name="Closed Choir", status="inactive")

    async def ids(query: str) -> list[str]:
        response = await client.get(f"{HS}?{query}", headers=reader)
        assert response.status_code == 200, response.text
        bundle = response.json()
        assert bundle["type"] == "searchset"
        found = [e["resource"]["id"] for e in bundle.get("entry", [])]
        assert bundle["total"] >= len(found)
        return found

    assert await ids("name=canal") == [walk["id"]]
    assert await ids("name=Choir") == []  # starts with, as FHIR string search
    assert await ids("name=community,closed") == [closed["id"], choir["id"]]  # by name
    assert await ids("service-category=walking") == [walk["id"]]
    assert await ids(f"service-category={ACTIVITY_CATEGORY_SYSTEM}|nature-green") == [walk["id"]]
    assert await ids("service-category=http://other.example|walking") == []
    assert await ids("active=false") == [closed["id"]]
    assert set(await ids("active=true")) == {choir["id"], walk["id"]}

    first = (await client.get(f"{HS}?_count=2", headers=reader)).json()
    assert first["total"] == 3
    assert len(first["entry"]) == 2
    [next_url] = [link["url"] for link in first["link"] if link["relation"] == "next"]
    second = (await client.get(next_url, headers=reader)).json()
    assert len(second["entry"]) == 1
    seen = [e["resource"]["id"] for e in first["entry"] + second["entry"]]
    assert sorted(seen) == sorted([choir["id"], walk["id"], closed["id"]])
    for entry in first["entry"]:
        assert entry["fullUrl"].endswith(f"/fhir/HealthcareService/{entry['resource']['id']}")

    posted = await client.post(
        f"{HS}/_search",
        content="name=canal",
        headers={**reader, "content-type": "application/x-www-form-urlencoded"},
    )
    assert [e["resource"]["id"] for e in posted.json()["entry"]] == [walk["id"]]

    for bad in ("active=maybe", "_count=x", "service-category:text=walking"):
        refused = await client.get(f"{HS}?{bad}", headers=reader)
        assert refused.status_code == 400, bad
    strict = {**reader, "prefer": "handling=strict"}
    assert (await client.get(f"{HS}?colour=red", headers=strict)).status_code == 400


async def test_capability_statement_lists_healthcare_service(client: httpx.AsyncClient) -> None:
    statement = (await client.get("/fhir/metadata")).json()
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    service = resources["HealthcareService"]
    assert [i["code"] for i in service["interaction"]] == ["read", "search-type"]
    assert {p["name"] for p in service["searchParam"]} == {"name", "service-category", "active"}
