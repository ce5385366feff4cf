"""``/oruk``: every answer valid against the official ORUK schemas (tests/directory/oruk_schemas)
at several directory sizes, public (no token, CORS ``*`` there only, GET/HEAD/OPTIONS), the
filters, paging, conditional GET, and errors."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Role
from app.directory import feed, publish
from app.directory.models import Activity
from app.main import create_app
from tests.conftest import TokenFactory, make_settings
from tests.directory.conftest import BASE_ACTIVITY, CreateActivity
from tests.directory.oruk_schemas import errors

FULL: dict[str, Any] = {
    "description": "Sing together every week; no experience needed.",
    "url": "https://example.org/choir",
    "email": "choir@example.org",
    "target_needs": ["loneliness-isolation", "low-mood"],
    "maximum_age": 99,
    "eligibility": {"description": "Adults of Hackney", "gender": "female"},
    "service_areas": ["E8", "E09000012"],
    "locations": [
        {**BASE_ACTIVITY["locations"][0], "accessibility_description": "Lift to every floor"},
        {"name": "Online room"},
    ],
    "schedules": [
        {
            "freq": "WEEKLY",
            "interval": 1,
            "byday": "TU,TH",
            "opens_at": "10:00",
            "closes_at": "12:00",
            "valid_from": "2026-01-01",
            "valid_to": "2027-12-31",
            "description": "Term time",
        }
    ],
    "cost_options": [
        {"amount": 0, "option": "Everyone"},
        {"amount": 3.5, "amount_description": "per session", "valid_from": "2026-01-01"},
    ],
    "fees_description": "Free for the first month",
    "languages": ["en", "pl"],
    "capacity": {"maximum": 20, "available": 5},
    "accepting_referrals": False,
    "contact": {"title": "Choir leader", "phone": "020 7946 0000", "email": "hi@example.org"},
}
MINIMAL: dict[str, Any] = {
    "description": None,
    "categories": [],
    "target_needs": [],
    "minimum_age": None,
    "locations": [],
    "attending_type": "online",
    "schedules": [],
    "cost_options": [],
    "languages": [],
    "capacity": {},
}
# Every key a published document may have: nothing else (nothing of a person) ever appears.
KEYS = {
    *("total_items", "total_pages", "page_number", "size", "first_page", "last_page", "empty"),
    *("contents", "version", "profile", "openapi_url", "uri", "term_uri", "term"),
    *("id", "name", "description", "url", "email", "status", "fees", "minimum_age"),
    *("maximum_age", "eligibility_description", "eligibility", "gender", "alert"),
    *("attending_type", "accepting_referrals", "last_modified", "organization_id"),
    *("organization", "website", "organization_identifiers", "identifier_scheme"),
    *("identifier_type", "identifier", "service_areas", "service_area", "extent_type"),
    *("service_id", "service_at_locations", "location_id", "location", "location_type"),
    *("latitude", "longitude", "addresses", "address_1", "city", "state_province"),
    *("postal_code", "country", "address_type", "accessibility", "attributes", "link_id"),
    *("link_type", "taxonomy_term_id", "taxonomy_term", "taxonomy", "taxonomy_id"),
    *("schedules", "freq", "interval", "byday", "opens_at", "closes_at", "valid_from"),
    *("valid_to", "cost_options", "option", "amount", "amount_description", "free"),
    *("languages", "code", "contacts", "title", "phones", "number", "capacities", "unit"),
    *("available", "maximum", "updated", "service"),
}


def keys_of(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value).union(*(keys_of(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(keys_of(v) for v in value))
    return set()


async def oruk(client: httpx.AsyncClient, path: str, kind: str, **params: Any) -> Any:
    """GET ``/oruk{path}`` without a token: 200, public CORS, an ETag, and a body valid
    against the official schema of ``kind``."""
    response = await client.get(f"/oruk{path}", params=params, headers={"Origin": "https://x.org"})
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["etag"].startswith('"')
    document = response.json()
    assert errors(kind, document) == []
    assert keys_of(document) <= KEYS
    return document


async def ndjson(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/oruk/services", params={"format": "ndjson", **params})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-ndjson"
    assert response.text == "" or response.text.endswith("\n")
    services = [json.loads(line) for line in response.text.splitlines()]
    for document in services:
        assert errors("service", document) == []
        assert keys_of(document) <= KEYS
    return services


async def test_api_details(client: httpx.AsyncClient) -> None:
    details = await oruk(client, "/", "api")

    assert details["version"] == "3.0"
    assert details["openapi_url"].endswith("/schema/openapi.json")


async def test_an_empty_directory(client: httpx.AsyncClient) -> None:
    page = await oruk(client, "/services", "services")

    assert page == {
        "total_items": 0,
        "total_pages": 0,
        "page_number": 1,
        "size": 0,
        "first_page": True,
        "last_page": True,
        "empty": True,
        "contents": [],
    }
    assert (await oruk(client, "/service_at_locations", "service_at_locations"))["empty"]
    assert await ndjson(client) == []


async def test_one_service_fully_nested_with_every_optional_field(
    client: httpx.AsyncClient, create_activity: CreateActivity
) -> None:
    created = await create_activity(**FULL)

    page = await oruk(client, "/services", "services")
    document = await oruk(client, f"/services/{created['id']}", "service")

    assert page["total_items"] == page["size"] == 1
    assert page["contents"][0] == {k: v for k, v in document.items() if k in page["contents"][0]}
    assert document["status"] == "active"
    assert document["organization"]["organization_identifiers"][0]["identifier"] == "DEMOPROV1"
    place = document["service_at_locations"][0]["location"]
    assert place["addresses"][0]["postal_code"] == "E5 1AU"
    assert place["accessibility"][0]["description"] == "Lift to every floor"
    codes = [a["taxonomy_term"]["name"] for a in place["accessibility"][0]["attributes"]]
    assert codes == ["wheelchair", "hearing-loop"]
    assert document["schedules"][0]["byday"] == "TU,TH"
    assert [c.get("amount") for c in document["cost_options"]] == [0, 3.5]
    assert [lang["code"] for lang in document["languages"]] == ["en", "pl"]
    assert document["contacts"][0]["phones"][0]["number"] == "020 7946 0000"
    assert document["capacities"][0]["available"] == 5
    assert document["accepting_referrals"] is False
    assert document["alert"] == publish.NOT_ACCEPTING
    terms = [a["taxonomy_term"] for a in document["attributes"]]
    assert [t["name"] for t in terms] == ["music-singing", "loneliness-isolation", "low-mood"]
    for term in terms:  # each term of the service is one of /oruk/taxonomy_terms
        assert await oruk(client, f"/taxonomy_terms/{term['id']}", "taxonomy_term") == term


async def test_a_service_with_every_optional_field_absent(
    client: httpx.AsyncClient, create_activity: CreateActivity
) -> None:
    created = await create_activity(**MINIMAL)

    document = await oruk(client, f"/services/{created['id']}", "service")

    assert document["service_at_locations"] == document["attributes"] == []
    assert "capacities" not in document
    assert "description" not in document
    assert document["attending_type"] == "online"


async def test_pages_of_several_services(
    client: httpx.AsyncClient, create_activity: CreateActivity
) -> None:
    ids = {(await create_activity(name=f"Group {i}"))["id"] for i in range(7)}

    pages = [await oruk(client, "/services", "services", page=n, per_page=3) for n in (1, 2, 3)]
    full = await oruk(client, "/services", "services", page=2, per_page=3, full="true")
    beyond = await oruk(client, "/services", "services", page=4, per_page=3)

    assert [(p["size"], p["first_page"], p["last_page"]) for p in pages] == [
        (3, True, False),
        (3, False, False),
        (1, False, True),
    ]
    assert all((p["total_items"], p["total_pages"]) == (7, 3) for p in pages)
    assert {s["id"] for p in pages for s in p["contents"]} == ids
    assert [s["id"] for s in full["contents"]] == [s["id"] for s in pages[1]["contents"]]
    assert all("service_at_locations" in s for s in full["contents"])
    assert beyond["empty"]
    assert beyond["last_page"]
    capped = await oruk(client, "/services", "services", per_page=10_000)
    assert capped["size"] == 7


async def test_every_service_as_ndjson_in_chunks(
    client: httpx.AsyncClient, create_activity: CreateActivity, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.directory.feed.STREAM_CHUNK", 3)
    ids = [(await create_activity(name=f"Group {i}", **FULL))["id"] for i in range(7)]
    await create_activity(name="Walk", categories=["walking"])

    services = await ndjson(client)
    singers = await ndjson(client, taxonomy_term_id="music-singing")

    assert [s["id"] for s in services] == sorted(services_ids := [s["id"] for s in services])
    assert len(services) == len(set(services_ids)) == 8
    assert sorted(s["id"] for s in singers) == sorted(ids)
    single = await oruk(client, f"/services/{ids[0]}", "service")
    assert next(s for s in services if s["id"] == ids[0]) == single
    monkeypatch.setattr("app.directory.feed.STREAM_CHUNK", 4)  # a chunk ends with the last one
    assert len(await ndjson(client)) == 8


async def test_modified_after(
    client: httpx.AsyncClient, create_activity: CreateActivity, session: AsyncSession
) -> None:
    old = await create_activity(name="Old")
    new = await create_activity(name="New")
    then = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    await session.execute(
        update(Activity).where(Activity.id == old["id"]).values(last_modified=then)
    )
    await session.commit()

    since = await oruk(client, "/services", "services", modified_after="2026-06-01T00:00:00Z")
    naive = await oruk(client, "/services", "services", modified_after="2026-01-01T00:00:00")
    streamed = await ndjson(client, modified_after="2026-01-01T00:00:01+00:00")

    assert [s["id"] for s in since["contents"]] == [new["id"]]
    assert naive["total_items"] == 2  # on or after; a time without a zone is UTC
    assert [s["id"] for s in streamed] == [new["id"]]
    bad = await client.get("/oruk/services", params={"modified_after": "yesterday"})
    assert bad.status_code == 400


async def test_statuses_and_places_as_a_public_directory_shows_them(
    client: httpx.AsyncClient, create_activity: CreateActivity
) -> None:
    for status in ("active", "inactive", "defunct", "temporarily closed"):
        await create_activity(name=status, status=status, capacity={"maximum": 10, "available": 0})

    page = await oruk(client, "/services", "services", full="true")

    assert sorted(s["status"] for s in page["contents"]) == [
        "active",
        "defunct",
        "inactive",
        "temporarily closed",
    ]
    assert all(s["capacities"][0]["available"] == 0 for s in page["contents"])


async def test_taxonomies_and_their_terms(
    client: httpx.AsyncClient, create_activity: CreateActivity
) -> None:
    walk = await create_activity(name="Walk", categories=["walking"], target_needs=["low-mood"])
    await create_activity(name="Choir", target_needs=[])

    taxonomies = await oruk(client, "/taxonomies", "taxonomies")
    terms = [await oruk(client, "/taxonomy_terms", "taxonomy_terms", page=n) for n in (1, 2)]

    assert [t["uri"].rsplit("/", 1)[1] for t in taxonomies["contents"]] == [
        "activity-category",
        "need",
    ]
    for taxonomy in taxonomies["contents"]:
        assert await oruk(client, f"/taxonomies/{taxonomy['id']}", "taxonomy") == taxonomy
    assert terms[0]["total_items"] == len(publish.taxonomy_terms())
    walking = publish.term_id("activity-category", "walking")
    low_mood = publish.term_id("need", "low-mood")
    for term in (walking, low_mood, "walking", "low-mood"):
        found = await oruk(client, "/services", "services", taxonomy_term_id=term)
        assert [s["id"] for s in found["contents"]] == [walk["id"]]
    need_taxonomy = taxonomies["contents"][1]["id"]
    found = await oruk(client, "/services", "services", taxonomy_id=need_taxonomy)
    assert [s["id"] for s in found["contents"]] == [walk["id"]]


@pytest.mark.usefixtures("areas")
async def test_service_at_locations(
    client: httpx.AsyncClient, create_activity: CreateActivity
) -> None:
    created = await create_activity(**FULL)
    await create_activity(name="Far away", locations=[{"name": "Leeds", "postcode": "LS1 1UR"}])

    page = await oruk(client, "/service_at_locations", "service_at_locations")
    near = await oruk(
        client, "/service_at_locations", "service_at_locations", postcode="E5 1AU", proximity=2000
    )
    one = await oruk(
        client, f"/service_at_locations/{near['contents'][0]['id']}", "service_at_location"
    )

    assert page["total_items"] == 3
    assert [s["service_id"] for s in near["contents"]] == [created["id"]]
    assert errors("service", one["service"]) == []
    assert one["service"]["id"] == created["id"]
    services_near = await oruk(client, "/services", "services", postcode="E5 1AU", proximity=2000)
    assert [s["id"] for s in services_near["contents"]] == [created["id"]]
    assert [s["id"] for s in await ndjson(client, postcode="E5 1AU", proximity=2000)] == [
        created["id"]
    ]


async def test_conditional_get(
    client: httpx.AsyncClient, create_activity: CreateActivity, admin: dict[str, str]
) -> None:
    created = await create_activity()
    path = f"/oruk/services/{created['id']}"
    first = await client.get(path)
    tag, modified = first.headers["etag"], first.headers["last-modified"]

    same = await client.get(path, headers={"If-None-Match": tag})
    unmodified = await client.get(path, headers={"If-Modified-Since": modified})
    older = await client.get(path, headers={"If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"})
    listed = await client.get("/oruk/services")
    list_same = await client.get(
        "/oruk/services", headers={"If-None-Match": listed.headers["etag"]}
    )

    assert (same.status_code, same.content, same.headers["etag"]) == (304, b"", tag)
    assert first.headers["cache-control"] == same.headers["cache-control"] == "public, no-cache"
    assert unmodified.status_code == 304
    assert older.status_code == 200
    assert list_same.status_code == 304
    changed = await client.put(
        f"/api/v1/directory/services/{created['id']}",
        json={**created, "name": "Renamed choir"},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    again = await client.get(path, headers={"If-None-Match": tag})
    assert again.status_code == 200
    assert again.headers["etag"] != tag
    assert again.json()["name"] == "Renamed choir"


async def test_get_head_and_options_only(
    client: httpx.AsyncClient, create_activity: CreateActivity
) -> None:
    created = await create_activity()
    path = f"/oruk/services/{created['id']}"

    head = await client.head(path)
    preflight = await client.options(
        path,
        headers={"Origin": "https://x.org", "Access-Control-Request-Method": "GET"},
    )

    assert head.status_code == 200
    assert head.headers["etag"]
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "GET" in preflight.headers["access-control-allow-methods"]
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        refused = await client.request(method, path, json={})
        assert refused.status_code == 405, method
        assert refused.headers["access-control-allow-origin"] == "*"
    assert (await client.head("/oruk/services", params={"format": "ndjson"})).status_code == 200


async def test_unknown_ids_and_bad_parameters(client: httpx.AsyncClient) -> None:
    for path in (
        "/services/6a1c0c56-0000-4000-8000-000000000000",
        "/services/not%20an%20id",
        "/service_at_locations/6a1c0c56-0000-4000-8000-000000000000",
        "/service_at_locations/nope",
        "/taxonomies/nope",
        "/taxonomy_terms/walking",
    ):
        response = await client.get(f"/oruk{path}")
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"
        assert "No " in response.json()["detail"]
        assert response.headers["access-control-allow-origin"] == "*"
    for params in (
        {"page": 0},
        {"per_page": 0},
        {"minimum_age": -1},
        {"format": "xml"},
        {"day": "someday"},
        {"postcode": "nowhere"},
        {"proximity": 100},
        {"full": "maybe"},
    ):
        response = await client.get("/oruk/services", params=params)
        assert response.status_code == 400, params
        assert response.headers["content-type"] == "application/problem+json"


async def _app_client(database_url: str, sessionmaker: Any, **overrides: Any) -> Any:
    application = create_app(make_settings(database_url, **overrides))
    application.state.sessionmaker = sessionmaker
    return application


async def test_cors_is_open_on_oruk_only(
    database_url: str, sessionmaker: Any, auth: TokenFactory
) -> None:
    application = await _app_client(
        database_url, sessionmaker, cors_origins=["https://console.example"]
    )
    other = {"Origin": "https://other.example"}
    preflight = {**other, "Access-Control-Request-Method": "GET"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application), base_url="http://testserver"
    ) as http:
        feed = await http.get("/oruk/services", headers=other)
        feed_preflight = await http.options("/oruk/services", headers=preflight)
        api = await http.get(
            "/api/v1/directory/services", headers={**other, **auth(Role.ADMIN, "X26")}
        )
        api_preflight = await http.options("/api/v1/directory/services", headers=preflight)
        console = await http.get(
            "/api/v1/directory/services",
            headers={"Origin": "https://console.example", **auth(Role.ADMIN, "X26")},
        )
    await application.state.engine.dispose()

    assert feed.status_code == 200
    assert feed.headers["access-control-allow-origin"] == "*"
    assert feed_preflight.status_code == 204
    assert feed_preflight.headers["access-control-allow-origin"] == "*"
    assert api.status_code == 200
    assert "access-control-allow-origin" not in api.headers
    assert api_preflight.headers.get("access-control-allow-origin") is None
    assert console.headers["access-control-allow-origin"] == "https://console.example"


async def test_rate_limited_by_address_like_every_client_without_a_token(
    database_url: str, sessionmaker: Any
) -> None:
    application = await _app_client(
        database_url, sessionmaker, rate_limit_per_s=0.01, rate_limit_burst=3
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application, client=("203.0.113.9", 4000)),
        base_url="http://testserver",
    ) as http:
        answers = [await http.get("/oruk/services") for _ in range(4)]
    await application.state.engine.dispose()

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].headers["access-control-allow-origin"] == "*"
    assert answers[-1].headers["retry-after"]


async def test_what_is_published_imports_as_the_same_activity(
    client: httpx.AsyncClient, create_activity: CreateActivity, admin: dict[str, str]
) -> None:
    created = await create_activity(**FULL)
    published = (await client.get(f"/oruk/services/{created['id']}")).json()
    path = f"/api/v1/directory/services/{created['id']}"
    assert (await client.delete(path, headers=admin)).status_code == 204

    report = await client.post("/api/v1/directory/import", json=[published], headers=admin)
    imported = (await client.get(path, headers=admin)).json()

    assert report.status_code == 200, report.text
    assert report.json()["created"] == 1
    server_set = ("last_modified", "taxonomy_terms", "locations")
    assert {k: v for k, v in imported.items() if k not in server_set} == {
        k: v for k, v in created.items() if k not in server_set
    }
    assert [{**p, "id": None} for p in imported["locations"]] == [
        {**p, "id": None} for p in created["locations"]
    ]
    again = (await client.get(f"/oruk/services/{created['id']}")).json()
    places = ("service_at_locations", "last_modified", "capacities")  # new rows, new time
    assert {k: v for k, v in again.items() if k not in places} == {
        k: v for k, v in published.items() if k not in places
    }
    assert [p["location"]["addresses"][0]["postal_code"] for p in again[places[0]][:1]] == [
        "E5 1AU"
    ]


async def test_the_stream_outlasts_the_request_timeout(
    database_url: str,
    sessionmaker: Any,
    create_activity: CreateActivity,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for i in range(3):
        await create_activity(name=f"Group {i}")
    application = await _app_client(database_url, sessionmaker, request_timeout_s=2)
    chunk_of = feed.repository.services_after

    async def slow_chunk(*args: Any) -> list[Activity]:
        await asyncio.sleep(1)
        return await chunk_of(*args)

    monkeypatch.setattr("app.directory.feed.STREAM_CHUNK", 1)
    monkeypatch.setattr(feed.repository, "services_after", slow_chunk)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application), base_url="http://testserver"
    ) as http:
        streamed = await http.get("/oruk/services", params={"format": "ndjson"})
    await application.state.engine.dispose()

    assert streamed.status_code == 200
    assert len(streamed.text.splitlines()) == 3  # 4 chunks of 1 s: past the 2 s timeout
