"""The CodeSystems: exactly DESIGN.md's code lists, served at /fhir/CodeSystem to every role."""

from __future__ import annotations

import httpx
import pytest

from app.auth.principal import Role
from app.terminology import codesystems
from tests.conftest import TokenFactory

# Transcribed from DESIGN.md 5.4 and 5.2; a change to either must be deliberate.
DESIGN_CODES = {
    "need": [
        "loneliness-isolation",
        "low-mood",
        "anxiety-stress",
        "long-term-condition",
        "physical-inactivity",
        "bereavement",
        "carer-support",
        "debt-finance",
        "housing",
        "employment-learning",
        "other",
    ],
    "activity-category": [
        "arts-creative",
        "music-singing",
        "heritage-museums",
        "libraries-reading",
        "nature-green",
        "gardening",
        "physical-activity",
        "walking",
        "dance",
        "social-groups",
        "befriending",
        "learning-skills",
        "volunteering",
        "advice-welfare",
        "carers-support",
        "bereavement-support",
        "peer-support",
        "digital-skills",
        "food-cooking",
    ],
    "referral-stage": [
        "contact-attempted",
        "first-contact",
        "plan-agreed",
        "activity-booked",
        "attending",
        "follow-up-due",
    ],
}
BASE = "https://w3id.org/assetlink/fhir/CodeSystem"


@pytest.mark.parametrize("codesystem_id", list(DESIGN_CODES))
def test_content_is_exactly_the_design_list(codesystem_id: str) -> None:
    resource = codesystems.to_fhir(codesystems.load(codesystem_id))
    assert [c["code"] for c in resource["concept"]] == DESIGN_CODES[codesystem_id]
    assert resource["url"] == f"{BASE}/{codesystem_id}"
    assert resource["status"] == "active"
    assert resource["content"] == "complete"
    assert resource["caseSensitive"] is True
    assert resource["count"] == len(DESIGN_CODES[codesystem_id])
    for concept in resource["concept"]:
        assert concept["display"].strip()
        definition = concept["definition"]
        assert definition.endswith(".")
        assert definition.count(". ") == 0, f"{concept['code']}: one sentence"


def test_system_constants() -> None:
    assert f"{BASE}/need" == codesystems.NEED_SYSTEM
    assert f"{BASE}/activity-category" == codesystems.ACTIVITY_CATEGORY_SYSTEM
    assert f"{BASE}/referral-stage" == codesystems.REFERRAL_STAGE_SYSTEM
    assert codesystems.need_codes() == frozenset(DESIGN_CODES["need"])


@pytest.mark.parametrize("role", list(Role))
async def test_every_role_reads_each_code_system(
    client: httpx.AsyncClient, auth: TokenFactory, role: Role
) -> None:
    for codesystem_id in DESIGN_CODES:
        response = await client.get(f"/fhir/CodeSystem/{codesystem_id}", headers=auth(role, "X26"))
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/fhir+json"
        body = response.json()
        assert body["resourceType"] == "CodeSystem"
        assert body["id"] == codesystem_id
    # (the fhir_capture fixture runs every resource through the independent validator)


async def test_unknown_id_is_404_with_an_outcome(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    response = await client.get("/fhir/CodeSystem/nope", headers=auth(Role.REFERRER, "A81001"))
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"


async def test_a_token_is_needed(client: httpx.AsyncClient) -> None:
    response = await client.get("/fhir/CodeSystem/need")
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("", ["need", "activity-category", "referral-stage"]),
        (f"url={BASE}/need", ["need"]),
        (f"url={BASE}/need,{BASE}/referral-stage", ["need", "referral-stage"]),
        (f"url={BASE}/ne", []),
        ("name=assetlinkactivity", ["activity-category"]),
        ("name=AssetlinkNeed", ["need"]),
        ("name=Need", []),
        ("_id=referral-stage", ["referral-stage"]),
        ("_id=need&name=AssetlinkReferral", []),
        ("unknown=1", ["need", "activity-category", "referral-stage"]),
    ],
)
async def test_search(
    client: httpx.AsyncClient, auth: TokenFactory, query: str, ids: list[str]
) -> None:
    response = await client.get(f"/fhir/CodeSystem?{query}", headers=auth(Role.COMMISSIONER, "X26"))
    assert response.status_code == 200
    bundle = response.json()
    assert bundle["type"] == "searchset"
    assert bundle["total"] == len(ids)
    assert [e["resource"]["id"] for e in bundle.get("entry", [])] == ids
    for entry in bundle.get("entry", []):
        assert entry["fullUrl"].endswith(f"/fhir/CodeSystem/{entry['resource']['id']}")


async def test_search_by_post_and_paging(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    headers = auth(Role.PROVIDER, "RXA")
    response = await client.post(
        "/fhir/CodeSystem/_search",
        content="_count=2",
        headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    first = response.json()
    assert first["total"] == 3
    assert [e["resource"]["id"] for e in first["entry"]] == ["need", "activity-category"]
    next_url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    second = (await client.get(next_url, headers=headers)).json()
    assert [e["resource"]["id"] for e in second["entry"]] == ["referral-stage"]


async def test_strict_handling_and_bad_modifiers(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    headers = auth(Role.LINK_WORKER, "Y02718")
    strict = await client.get(
        "/fhir/CodeSystem?unknown=1", headers={**headers, "Prefer": "handling=strict"}
    )
    assert strict.status_code == 400
    modifier = await client.get("/fhir/CodeSystem?name:contains=need", headers=headers)
    assert modifier.status_code == 400
    assert modifier.json()["issue"][0]["expression"] == ["name:contains"]


async def test_capability_statement_lists_code_system(client: httpx.AsyncClient) -> None:
    statement = (await client.get("/fhir/metadata")).json()
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    code_system = resources["CodeSystem"]
    assert [i["code"] for i in code_system["interaction"]] == ["read", "search-type"]
    assert {p["name"] for p in code_system["searchParam"]} == {"url", "name", "_id"}
