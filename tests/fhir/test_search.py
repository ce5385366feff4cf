"""The one FHIR search-and-page helper: ``SearchRequest.page`` and ``searchset_response``, and
every search endpoint answering through it."""

from __future__ import annotations

import httpx
import pytest

from app.auth.principal import Role
from app.errors import BadRequest
from app.fhir.capability import SearchParam
from app.fhir.search import SearchRequest, decode_cursor, encode_cursor
from tests.conftest import TokenFactory

NAME = (SearchParam("name", "string"),)


def _cursors(links: list[dict[str, str]]) -> dict[str, int]:
    found = {}
    for link in links:
        _, _, cursor = link["url"].partition("_cursor=")
        found[link["relation"]] = decode_cursor(cursor) if cursor else 0
    return found


def test_page_reads_count_and_cursor_after_the_resources_own_parameters() -> None:
    pairs = [("name", "a"), ("_count", "2"), ("_cursor", encode_cursor(4)), ("other", "1")]
    search = SearchRequest.from_pairs(pairs, None)
    assert search.values("name") == ["a"]
    page = search.page(NAME)
    assert (page.offset, page.count) == (4, 2)
    assert page.of(list(range(10))) == [4, 5]
    links = page.links("https://host/fhir/X", total=10)
    assert _cursors(links) == {"self": 4, "next": 6, "previous": 2}
    assert links[0]["url"].startswith("https://host/fhir/X?name=a&_count=2&other=1&_cursor=")


def test_page_refuses_unknown_parameters_when_strict() -> None:
    search = SearchRequest.from_pairs([("name", "a"), ("other", "1")], "handling=strict")
    search.values("name")
    with pytest.raises(BadRequest):
        search.page(NAME)
    lenient = SearchRequest.from_pairs([("name", "a"), ("other", "1")], None)
    lenient.values("name")
    assert lenient.page(NAME).pairs == (("name", "a"), ("other", "1"))


def test_last_page_has_no_next_link() -> None:
    search = SearchRequest.from_pairs([("_count", "5"), ("_cursor", encode_cursor(5))], None)
    page = search.page(())
    assert page.of(list(range(7))) == [5, 6]
    assert _cursors(page.links("https://host/fhir/X", total=7)) == {"self": 5, "previous": 0}


SEARCHES = [
    "ServiceRequest",
    "Patient",
    "Task",
    "Observation",
    "Questionnaire",
    "AuditEvent",
    "CodeSystem",
    "HealthcareService",
]


@pytest.mark.parametrize("resource_type", SEARCHES)
async def test_every_search_pages_through_the_helper(
    client: httpx.AsyncClient, auth: TokenFactory, resource_type: str
) -> None:
    admin = auth(Role.ADMIN, "X26")
    response = await client.get(f"/fhir/{resource_type}?_count=1&unknown=1", headers=admin)
    assert response.status_code == 200, response.text
    bundle = response.json()
    assert bundle["type"] == "searchset"
    self_link = bundle["link"][0]
    assert self_link == {
        "relation": "self",
        "url": f"http://testserver/fhir/{resource_type}?_count=1&unknown=1",
    }
    assert ("next" in _cursors(bundle["link"])) == (bundle["total"] > 1)
    strict = await client.get(
        f"/fhir/{resource_type}?unknown=1", headers={**admin, "Prefer": "handling=strict"}
    )
    assert strict.status_code == 400
    assert strict.json()["issue"][0]["code"] == "not-supported"
