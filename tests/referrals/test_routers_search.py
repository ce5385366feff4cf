"""ServiceRequest, Task and Patient search: every parameter, paging, includes, POST _search."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.auth.principal import Role
from tests.conftest import TokenFactory
from tests.referrals import factories

ODS = "https://fhir.nhs.uk/Id/ods-organization-code"


@pytest.fixture
async def referrals(client: httpx.AsyncClient, auth: TokenFactory) -> list[dict[str, Any]]:
    """Five referrals from A81001: three people, two performers, different authored dates."""
    gp = auth(Role.REFERRER, "A81001")
    numbers = [factories.nhs_number() for _ in range(3)]
    made = []
    for index in range(5):
        payload = factories.service_request(
            identifier_value=f"SEARCH-{index}",
            person=factories.patient(numbers[index % 3]),
            authoredOn=f"2026-10-0{index + 1}T09:00:00+00:00",
        )
        if index == 4:
            payload["performer"] = [{"identifier": {"system": ODS, "value": "Y33333"}}]
            payload["reasonCode"] = [{"text": "debt worries"}]
        response = await client.post("/fhir/ServiceRequest", json=payload, headers=gp)
        assert response.status_code == 201
        made.append(response.json())
    return made


async def search(client: httpx.AsyncClient, headers: dict[str, str], query: str) -> dict[str, Any]:
    response = await client.get(f"/fhir/ServiceRequest?{query}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def ids(bundle: dict[str, Any], mode: str = "match") -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == mode]


@pytest.fixture
def gp(auth: TokenFactory) -> dict[str, str]:
    return auth(Role.REFERRER, "A81001")


async def test_each_parameter(
    client: httpx.AsyncClient, gp: dict[str, str], referrals: list[dict[str, Any]]
) -> None:
    first = referrals[0]
    patient = first["subject"]["reference"]
    cases = {
        f"_id={first['id']}": 1,
        f"identifier={factories.GP_SYSTEM}|SEARCH-1": 1,
        "identifier=SEARCH-2": 1,
        f"patient={patient}": 2,
        f"subject={patient}": 2,
        f"patient={patient.split('/')[1]}": 2,
        "status=active": 5,
        "status=revoked": 0,
        "intent=order": 5,
        "intent=plan,order": 5,
        "code=http://snomed.info/sct|871731000000106": 5,
        "code=871731000000106": 5,
        "category=http://snomed.info/sct|410606002": 5,
        "category=999": 0,
        "authored=2026-10-02": 1,
        "authored=ge2026-10-03": 3,
        "authored=lt2026-10-03": 2,
        "authored=gt2026-10-03T09:00:00Z": 2,
        "authored=le2026-10": 5,
        "authored=ge2026-10-02&authored=le2026-10-03": 2,
        "requester=A81001": 5,
        "requester=Organization/A81001": 5,
        f"requester:identifier={ODS}|A81001": 5,
        "performer=Y33333": 1,
        "performer=Y02718": 4,
        "_lastUpdated=ge2020-01-01": 5,
        "_lastUpdated=lt2020-01-01": 0,
    }
    for query, expected in cases.items():
        assert (await search(client, gp, query))["total"] == expected, query


async def test_patient_identifier(
    client: httpx.AsyncClient, gp: dict[str, str], referrals: list[dict[str, Any]]
) -> None:
    patient = (await client.get(f"/fhir/{referrals[0]['subject']['reference']}", headers=gp)).json()
    number = patient["identifier"][0]["value"]
    bundle = await search(
        client, gp, f"patient:identifier=https://fhir.nhs.uk/Id/nhs-number|{number}"
    )
    assert bundle["total"] == 2
    found = await client.get(
        f"/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|{number}", headers=gp
    )
    assert found.json()["total"] == 1


async def test_paging_with_opaque_cursors(
    client: httpx.AsyncClient, gp: dict[str, str], referrals: list[dict[str, Any]]
) -> None:
    seen: list[str] = []
    url: str | None = "/fhir/ServiceRequest?_count=2&_sort=authored"
    pages = 0
    while url:
        bundle = (await client.get(url, headers=gp)).json()
        assert bundle["total"] == 5
        seen += ids(bundle)
        links = {link["relation"]: link["url"] for link in bundle["link"]}
        url = links.get("next", "").removeprefix("http://testserver") or None
        pages += 1
        if pages > 1:
            assert "previous" in links
    assert pages == 3
    assert seen == [r["id"] for r in referrals]  # sorted by authored ascending
    descending = await search(client, gp, "_sort=-authored")
    assert ids(descending) == [r["id"] for r in reversed(referrals)]


async def test_count_zero_and_max(
    client: httpx.AsyncClient, gp: dict[str, str], referrals: list[dict[str, Any]]
) -> None:
    empty = await search(client, gp, "_count=0")
    assert empty["total"] == 5
    assert "entry" not in empty
    assert len(ids(await search(client, gp, "_count=1000"))) == 5  # capped at 100, not an error


async def test_include_and_revinclude(
    client: httpx.AsyncClient, gp: dict[str, str], referrals: list[dict[str, Any]]
) -> None:
    bundle = await search(
        client, gp, "_include=ServiceRequest:subject&_revinclude=Task:focus&_count=3"
    )
    included = [e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "include"]
    kinds = sorted({r["resourceType"] for r in included})
    assert kinds == ["Patient", "Task"]
    matched = set(ids(bundle))
    tasks = [r for r in included if r["resourceType"] == "Task"]
    assert {t["focus"]["reference"].split("/")[1] for t in tasks} == matched


async def test_post_search(
    client: httpx.AsyncClient, gp: dict[str, str], referrals: list[dict[str, Any]]
) -> None:
    response = await client.post(
        "/fhir/ServiceRequest/_search", data={"performer": "Y33333"}, headers=gp
    )
    assert response.status_code == 200
    assert response.json()["total"] == 1


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ("authored=notadate", {}),
        ("authored=ap2026-01-01", {}),
        ("status:not=active", {}),
        ("patient:missing=true", {}),
        ("_sort=priority", {}),
        ("_include=ServiceRequest:requester", {}),
        ("_revinclude=Observation:based-on", {}),
        ("_count=-1", {}),
        ("requester=not an ods", {}),
        ("colour=blue", {"Prefer": "handling=strict"}),
    ],
)
async def test_bad_searches(
    client: httpx.AsyncClient, gp: dict[str, str], query: str, headers: dict[str, str]
) -> None:
    response = await client.get(f"/fhir/ServiceRequest?{query}", headers={**gp, **headers})
    assert response.status_code == 400, query
    assert response.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize(
    "value", ["ge2026-01-01T10:00", "2026-01-01T10:00:00", "eq2026-10-03T09:00:00.5"]
)
async def test_a_time_without_a_time_zone_is_refused_saying_so(
    client: httpx.AsyncClient, gp: dict[str, str], value: str
) -> None:
    response = await client.get(f"/fhir/ServiceRequest?authored={value}", headers=gp)
    assert response.status_code == 400, response.text
    issue = response.json()["issue"][0]
    assert issue["expression"] == ["authored"]
    assert "a time zone is required" in issue["diagnostics"]


async def test_unknown_parameters_are_ignored_by_default(
    client: httpx.AsyncClient, gp: dict[str, str], referrals: list[dict[str, Any]]
) -> None:
    assert (await search(client, gp, "colour=blue"))["total"] == 5


async def test_task_search(
    client: httpx.AsyncClient, auth: TokenFactory, referrals: list[dict[str, Any]]
) -> None:
    lw = auth(Role.LINK_WORKER, "Y02718")
    gp = auth(Role.REFERRER, "A81001")

    async def tasks(headers: dict[str, str], query: str) -> int:
        response = await client.get(f"/fhir/Task?{query}", headers=headers)
        assert response.status_code == 200, response.text
        return int(response.json()["total"])

    assert await tasks(lw, "") == 4  # Y33333's referral is not this service's
    assert await tasks(lw, "owner=Y02718&status=requested") == 4
    assert await tasks(gp, "requester=A81001") == 5
    assert await tasks(gp, f"focus=ServiceRequest/{referrals[0]['id']}") == 1
    assert await tasks(gp, f"patient={referrals[0]['subject']['reference']}") == 2
    assert await tasks(gp, "status=completed") == 0
    assert await tasks(gp, "_lastUpdated=ge2020-01-01") == 5
    assert (await client.get("/fhir/Task?status:below=x", headers=gp)).status_code == 400
