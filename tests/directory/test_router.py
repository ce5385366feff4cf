from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.auth.principal import Role
from tests.conftest import TokenFactory
from tests.directory.conftest import (
    OTHER_ODS,
    PROVIDER_ODS,
    CreateActivity,
    activity_body,
)

SERVICES = "/api/v1/directory/services"


def fields(response: httpx.Response) -> set[str]:
    return {e["field"] for e in response.json().get("errors", [])}


async def test_create_read_round_trip(
    client: httpx.AsyncClient, admin: dict[str, str], areas: None
) -> None:
    response = await client.post(SERVICES, json=activity_body(id="choir-1"), headers=admin)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"{SERVICES}/choir-1"
    read = (await client.get(f"{SERVICES}/choir-1", headers=admin)).json()
    assert read == response.json()
    assert read["organization"]["identifier"] == PROVIDER_ODS
    assert read["categories"] == ["music-singing"]
    assert read["taxonomy_terms"] == [
        {"id": "music-singing", "name": None, "taxonomy": None, "category": "music-singing"}
    ]
    assert read["locations"][0]["accessibility"] == ["wheelchair", "hearing-loop"]
    assert read["locations"][0]["postcode"] == "E5 1AU"
    assert read["schedules"][0]["opens_at"] == "10:00:00"
    assert read["cost_options"][0]["free"] is True
    assert read["has_free_option"] is True
    assert read["capacity"] == {"maximum": 20, "available": 5}
    assert read["status"] == "active"


async def test_a_location_without_coordinates_is_placed_at_its_postcode(
    client: httpx.AsyncClient, admin: dict[str, str], areas: None
) -> None:
    body = activity_body(locations=[{"name": "Hall", "postcode": "e5 1au"}])
    created = (await client.post(SERVICES, json=body, headers=admin)).json()
    assert created["locations"][0]["latitude"] == 51.554725
    unknown = activity_body(locations=[{"name": "Hall", "postcode": "M1 1AA"}])
    created = (await client.post(SERVICES, json=unknown, headers=admin)).json()
    assert created["locations"][0]["latitude"] is None


async def test_every_role_reads_the_directory(
    client: httpx.AsyncClient, auth: TokenFactory, create_activity: CreateActivity
) -> None:
    created = await create_activity()
    for role, org in [
        (Role.REFERRER, "A81001"),
        (Role.LINK_WORKER, "Y02718"),
        (Role.PROVIDER, OTHER_ODS),
        (Role.COMMISSIONER, "15N"),
    ]:
        headers = auth(role, org)
        assert (await client.get(SERVICES, headers=headers)).status_code == 200
        one = await client.get(f"{SERVICES}/{created['id']}", headers=headers)
        assert one.status_code == 200
    assert (await client.get(SERVICES)).status_code == 401


@pytest.mark.parametrize(("role", "org"), [(Role.REFERRER, "A81001"), (Role.COMMISSIONER, "15N")])
async def test_only_providers_and_admins_write(
    client: httpx.AsyncClient, auth: TokenFactory, role: Role, org: str
) -> None:
    response = await client.post(SERVICES, json=activity_body(), headers=auth(role, org))
    assert response.status_code == 403


async def test_a_provider_writes_its_own_organisations_activities(
    client: httpx.AsyncClient, provider: dict[str, str]
) -> None:
    created = await client.post(SERVICES, json=activity_body(), headers=provider)
    assert created.status_code == 201
    activity_id = created.json()["id"]
    changed = await client.put(
        f"{SERVICES}/{activity_id}", json=activity_body(name="Choir (new day)"), headers=provider
    )
    assert changed.status_code == 200
    assert changed.json()["name"] == "Choir (new day)"
    assert changed.json()["organization"]["id"] == created.json()["organization"]["id"]
    deleted = await client.delete(f"{SERVICES}/{activity_id}", headers=provider)
    assert deleted.status_code == 204
    assert (await client.get(f"{SERVICES}/{activity_id}", headers=provider)).status_code == 404


async def test_a_provider_cannot_change_another_organisations_activity(
    client: httpx.AsyncClient, auth: TokenFactory, create_activity: CreateActivity
) -> None:
    theirs = await create_activity(organization={"name": "Other charity", "identifier": OTHER_ODS})
    me = auth(Role.PROVIDER, PROVIDER_ODS)
    url = f"{SERVICES}/{theirs['id']}"
    put = await client.put(
        url,
        json=activity_body(organization={"name": "Mine", "identifier": PROVIDER_ODS}),
        headers=me,
    )
    assert put.status_code == 403
    assert (await client.delete(url, headers=me)).status_code == 403
    other_org = activity_body(organization={"name": "Other", "identifier": OTHER_ODS})
    assert (await client.post(SERVICES, json=other_org, headers=me)).status_code == 403
    # claiming the other organisation's id under one's own identifier is refused too
    hijack = activity_body(
        organization={
            "id": theirs["organization"]["id"],
            "name": "Other",
            "identifier": PROVIDER_ODS,
        }
    )
    assert (await client.post(SERVICES, json=hijack, headers=me)).status_code == 403
    unchanged = (await client.get(url, headers=me)).json()
    assert unchanged == theirs


async def test_a_provider_cannot_give_its_activity_away(
    client: httpx.AsyncClient, provider: dict[str, str]
) -> None:
    created = (await client.post(SERVICES, json=activity_body(), headers=provider)).json()
    away = activity_body(organization={"name": "Other", "identifier": OTHER_ODS})
    response = await client.put(f"{SERVICES}/{created['id']}", json=away, headers=provider)
    assert response.status_code == 403


async def test_admin_writes_anything_and_conflicts_are_409(
    client: httpx.AsyncClient, admin: dict[str, str], create_activity: CreateActivity
) -> None:
    created = await create_activity(id="fixed-id")
    again = await client.post(SERVICES, json=activity_body(id="fixed-id"), headers=admin)
    assert again.status_code == 409
    mismatch = await client.put(
        f"{SERVICES}/{created['id']}", json=activity_body(id="other-id"), headers=admin
    )
    assert mismatch.status_code == 422
    assert fields(mismatch) == {"id"}
    missing = await client.put(f"{SERVICES}/nope", json=activity_body(), headers=admin)
    assert missing.status_code == 404
    assert (await client.delete(f"{SERVICES}/nope", headers=admin)).status_code == 404
    assert (await client.get(f"{SERVICES}/nope", headers=admin)).status_code == 404
    # a NUL is refused before any route (app/ops/input_guard.py)
    assert (await client.get(f"{SERVICES}/a%00b", headers=admin)).status_code == 400
    assert (await client.get(f"{SERVICES}/{'x' * 65}", headers=admin)).status_code == 404


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"status": "open"}, "status"),
        ({"categories": ["knitting"]}, "categories.0"),
        ({"target_needs": ["boredom"]}, "target_needs.0"),
        ({"minimum_age": -1}, "minimum_age"),
        ({"minimum_age": 60, "maximum_age": 18}, "maximum_age"),
        ({"attending_type": "carrier-pigeon"}, "attending_type"),
        ({"service_areas": ["Hackney"]}, "service_areas"),
        ({"languages": ["English"]}, "languages.0"),
        ({"capacity": {"maximum": 5, "available": 6}}, "capacity.available"),
        ({"capacity": {"maximum": -5}}, "capacity.maximum"),
        ({"cost_options": [{"amount": -2}]}, "cost_options.0.amount"),
        ({"cost_options": [{"amount": 5, "free": True}]}, "cost_options.0.free"),
        ({"locations": [{"latitude": 100, "longitude": 0}]}, "locations.0.latitude"),
        ({"locations": [{"latitude": 51.5}]}, "locations.0.longitude"),
        ({"locations": [{"postcode": "ABC 1234"}]}, "locations.0.postcode"),
        ({"locations": [{"accessibility": ["ramp"]}]}, "locations.0.accessibility.0"),
        ({"schedules": [{"byday": "Tuesday"}]}, "schedules.0.byday"),
        ({"schedules": [{"freq": "DAILY"}]}, "schedules.0.freq"),
        ({"schedules": [{"opens_at": "25:00"}]}, "schedules.0.opens_at"),
        (
            {"schedules": [{"opens_at": "12:00", "closes_at": "10:00"}]},
            "schedules.0.closes_at",
        ),
        (
            {"schedules": [{"valid_from": "2026-02-01", "valid_to": "2026-01-01"}]},
            "schedules.0.valid_to",
        ),
        ({"organization": {"name": "x", "identifier": "no"}}, "organization.identifier"),
        ({"organization": None}, "organization"),
        ({"eligibility": {"gender": "any"}}, "eligibility.gender"),
        ({"colour": "blue"}, "colour"),
        ({"id": "has spaces"}, "id"),
        ({"description": "nul\x00"}, "description"),
        ({"languages": ["en", "\x00"]}, "languages.1"),
    ],
)
async def test_invalid_bodies_are_422_naming_the_field(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    overrides: dict[str, Any],
    field: str,
) -> None:
    response = await client.post(SERVICES, json=activity_body(**overrides), headers=admin)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in fields(response)
    assert (await client.get(SERVICES, headers=admin)).json()["total_items"] == 0


async def test_a_body_that_is_not_json_is_400(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post(
        SERVICES, content=b"{not json", headers={**admin, "Content-Type": "application/json"}
    )
    assert response.status_code == 400


async def test_a_document_read_can_be_written_back(
    client: httpx.AsyncClient, provider: dict[str, str], create_activity: CreateActivity
) -> None:
    created = await create_activity()
    url = f"{SERVICES}/{created['id']}"
    read = await client.get(url, headers=provider)
    etag = read.headers["etag"]
    assert etag[0] == etag[-1] == '"'
    document = read.json()
    assert {"taxonomy_terms", "last_modified", "has_free_option"} <= set(document)
    assert "id" in document["locations"][0]

    written = await client.put(url, json=document, headers={**provider, "If-Match": etag})
    assert written.status_code == 200, written.text
    assert written.headers["etag"] != etag  # a new representation (last_modified moved)
    assert (await client.get(url, headers=provider)).headers["etag"] == written.headers["etag"]
    again = written.json()
    for key in ("name", "categories", "capacity", "schedules", "cost_options"):
        assert again[key] == document[key]

    document["has_free_option"] = False  # server-managed: ignored, not an error
    assert (await client.put(url, json=document, headers=provider)).status_code == 200
    assert (await client.get(url, headers=provider)).json()["has_free_option"] is True

    unknown = await client.put(url, json={**document, "colour": "blue"}, headers=provider)
    assert unknown.status_code == 422
    assert fields(unknown) == {"colour"}
    document["locations"][0]["colour"] = "blue"
    unknown = await client.put(url, json=document, headers=provider)
    assert unknown.status_code == 422
    assert fields(unknown) == {"locations.0.colour"}


async def test_two_editors_cannot_overwrite_each_other(
    client: httpx.AsyncClient, provider: dict[str, str], create_activity: CreateActivity
) -> None:
    created = await create_activity()
    url = f"{SERVICES}/{created['id']}"
    one, two = [await client.get(url, headers=provider) for _ in range(2)]
    assert one.headers["etag"] == two.headers["etag"]

    saved = await client.put(
        url,
        json={**one.json(), "name": "Choir (Tuesdays)"},
        headers={**provider, "If-Match": one.headers["etag"]},
    )
    assert saved.status_code == 200
    stale = await client.put(
        url,
        json={**two.json(), "description": "Now with tea"},
        headers={**provider, "If-Match": two.headers["etag"]},
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"].startswith("application/problem+json")
    assert (await client.get(url, headers=provider)).json()["name"] == "Choir (Tuesdays)"
    weak = await client.put(
        url, json=saved.json(), headers={**provider, "If-Match": f"W/{saved.headers['etag']}"}
    )
    assert weak.status_code == 412  # If-Match compares strongly (RFC 9110 13.1.1)
    anything = await client.put(url, json=saved.json(), headers={**provider, "If-Match": "*"})
    assert anything.status_code == 200
    assert (
        await client.put(
            f"{SERVICES}/nope",
            json={**saved.json(), "id": None},
            headers={**provider, "If-Match": "*"},
        )
    ).status_code == 404


async def test_create_answers_with_an_etag(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post(SERVICES, json=activity_body(), headers=admin)
    assert response.status_code == 201
    read = await client.get(response.headers["location"], headers=admin)
    assert response.headers["etag"] == read.headers["etag"]
