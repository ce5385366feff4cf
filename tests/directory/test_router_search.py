from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.directory.conftest import CreateActivity

SERVICES = "/api/v1/directory/services"
# Two fixture postcodes about 2.9 km apart: E5 1AU (Clapton) and a location in De Beauvoir
CLAPTON = {"postcode": "E5 1AU", "latitude": 51.554725, "longitude": -0.047379}
DE_BEAUVOIR = {"postcode": "N1 4AA", "latitude": 51.5390, "longitude": -0.0800}


def located(where: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"name": "Hall", **where}]


async def search(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> dict[str, Any]:
    response = await client.get(SERVICES, params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def names(page: dict[str, Any]) -> list[str]:
    return [item["name"] for item in page["contents"]]


async def test_the_envelope_and_paging(
    client: httpx.AsyncClient, admin: dict[str, str], create_activity: CreateActivity
) -> None:
    for i in range(5):
        await create_activity(name=f"Activity {i}")
    first = await search(client, admin, per_page=2)
    assert {k: v for k, v in first.items() if k != "contents"} == {
        "total_items": 5,
        "total_pages": 3,
        "page_number": 1,
        "size": 2,
        "first_page": True,
        "last_page": False,
        "empty": False,
    }
    assert names(first) == ["Activity 0", "Activity 1"]
    last = await search(client, admin, per_page=2, page=3)
    assert names(last) == ["Activity 4"]
    assert (last["first_page"], last["last_page"]) == (False, True)
    beyond = await search(client, admin, per_page=2, page=4)
    assert beyond["empty"] is True
    assert beyond["contents"] == []
    assert beyond["total_items"] == 5
    item = first["contents"][0]
    assert set(item) == {
        "id", "name", "description", "url", "email", "status", "organization",
        "attending_type", "minimum_age", "maximum_age", "accepting_referrals",
        "has_free_option", "capacity", "last_modified", "distance",
    }  # fmt: skip


async def test_an_empty_directory(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    page = await search(client, admin)
    assert page["total_items"] == 0
    assert page["total_pages"] == 0
    assert page["empty"] is True
    assert page["last_page"] is True


async def test_search_matches_name_and_description(
    client: httpx.AsyncClient, admin: dict[str, str], create_activity: CreateActivity
) -> None:
    await create_activity(name="Tea Dance", description="Waltz and foxtrot")
    await create_activity(name="Reading Group", description="Books, tea and biscuits")
    await create_activity(name="50% off pottery", description="Clay")
    assert names(await search(client, admin, search="WALTZ")) == ["Tea Dance"]
    assert names(await search(client, admin, search="tea")) == ["Reading Group", "Tea Dance"]
    assert names(await search(client, admin, search="50%")) == ["50% off pottery"]
    assert names(await search(client, admin, search="%")) == ["50% off pottery"]


async def test_taxonomy_term_id_is_the_category(
    client: httpx.AsyncClient, admin: dict[str, str], create_activity: CreateActivity
) -> None:
    await create_activity(name="Choir", categories=["music-singing"])
    await create_activity(name="Walk", categories=["walking", "nature-green"])
    assert names(await search(client, admin, taxonomy_term_id="walking")) == ["Walk"]
    assert names(await search(client, admin, taxonomy_term_id="nature-green")) == ["Walk"]
    assert names(await search(client, admin, taxonomy_term_id="gardening")) == []


async def test_ages_follow_the_oruk_definitions(
    client: httpx.AsyncClient, admin: dict[str, str], create_activity: CreateActivity
) -> None:
    await create_activity(name="Open", minimum_age=None, maximum_age=None)
    await create_activity(name="Adults", minimum_age=18, maximum_age=None)
    await create_activity(name="Over 65s", minimum_age=65, maximum_age=None)
    await create_activity(name="Youth", minimum_age=11, maximum_age=25)
    # "a minimum age of at least the value"
    assert names(await search(client, admin, minimum_age=18)) == ["Adults", "Over 65s"]
    # "a maximum age equal to or below the value"
    assert names(await search(client, admin, maximum_age=30)) == ["Youth"]
    assert names(await search(client, admin, maximum_age=20)) == []


@pytest.mark.parametrize("day", ["TU", "tue", "Tuesday"])
async def test_day(
    client: httpx.AsyncClient, admin: dict[str, str], create_activity: CreateActivity, day: str
) -> None:
    await create_activity(name="Tuesdays", schedules=[{"byday": "TU,TH"}])
    await create_activity(name="Second Tuesday", schedules=[{"freq": "MONTHLY", "byday": "2TU"}])
    await create_activity(name="Saturdays", schedules=[{"byday": "SA"}])
    await create_activity(name="Unscheduled", schedules=[])
    assert names(await search(client, admin, day=day)) == ["Second Tuesday", "Tuesdays"]


async def test_postcode_and_proximity(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_activity: CreateActivity,
    areas: None,
) -> None:
    await create_activity(name="Near", locations=located(CLAPTON))
    await create_activity(name="Far", locations=located(DE_BEAUVOIR))
    await create_activity(name="Online", locations=[], attending_type="online")
    await create_activity(name="Unknown place", locations=[{"name": "Somewhere"}])
    near = await search(client, admin, postcode="E5 1AU", proximity=1000)
    assert names(near) == ["Near"]
    assert near["contents"][0]["distance"] == 0.0
    both = await search(client, admin, postcode="e51au", proximity=5000)
    assert names(both) == ["Near", "Far"]  # nearest first
    assert 2500 < both["contents"][1]["distance"] < 3500
    # a postcode missing from the lookup is measured from its district's centre
    assert "Near" in names(await search(client, admin, postcode="E5 0AA", proximity=3000))


async def test_postcode_alone_applies_service_areas(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_activity: CreateActivity,
    areas: None,
) -> None:
    await create_activity(name="Anywhere", service_areas=[])
    await create_activity(name="Hackney residents", service_areas=["E09000012"])
    await create_activity(name="E8 only", service_areas=["E8"])
    await create_activity(name="Elsewhere", service_areas=["M1", "E08000003"])
    assert names(await search(client, admin, postcode="E5 1AU")) == [
        "Anywhere",
        "Hackney residents",
    ]
    assert names(await search(client, admin, postcode="E8 0AA")) == ["Anywhere", "E8 only"]
    assert len(names(await search(client, admin))) == 4


async def test_proximity_pages_are_nearest_first_with_an_exact_total(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_activity: CreateActivity,
    areas: None,
) -> None:
    """Each activity counts once, at its nearest location; equal distances go by id; service
    areas still apply; the same answer every time (PostgreSQL switches prepared statements to
    a generic plan after five executions, so the search runs eight times)."""
    step = 0.0009  # about 100 m of latitude
    expected = []
    for i in range(7):
        where = {"latitude": CLAPTON["latitude"] + step * i, "longitude": CLAPTON["longitude"]}
        locations = located(where)
        if i == 3:  # a second, farther location must not make it count twice
            locations.append({"name": "Annexe", **{**where, "latitude": where["latitude"] + 0.003}})
        created = await create_activity(name=f"At {i}00 m", locations=locations)
        expected.append(created["id"])
    twins = sorted(
        [
            (await create_activity(name="Twin", locations=located(DE_BEAUVOIR)))["id"]
            for _ in range(2)
        ]
    )
    await create_activity(name="Elsewhere only", locations=located(CLAPTON), service_areas=["M1"])
    await create_activity(name="E5 only", locations=located(CLAPTON), service_areas=["E5"])
    for _ in range(8):
        first = await search(client, admin, postcode="E5 1AU", proximity=4000, per_page=4)
        assert first["total_items"] == 10  # 7 + 2 twins + "E5 only"; not "Elsewhere only"
        assert first["total_pages"] == 3
        pages = [first] + [
            await search(client, admin, postcode="E5 1AU", proximity=4000, per_page=4, page=n)
            for n in (2, 3)
        ]
        items = [item for page in pages for item in page["contents"]]
        assert len({item["id"] for item in items}) == 10
        distances = [item["distance"] for item in items]
        assert distances == sorted(distances)
        ranked = [item["id"] for item in items if item["name"].startswith("At ")]
        assert ranked == expected
        assert [item["id"] for item in items if item["name"] == "Twin"] == twins
        assert items[-1]["name"] == "Twin"


async def test_filters_combine(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    create_activity: CreateActivity,
    areas: None,
) -> None:
    await create_activity(
        name="Choir Tuesday", categories=["music-singing"], schedules=[{"byday": "TU"}]
    )
    await create_activity(
        name="Choir Friday", categories=["music-singing"], schedules=[{"byday": "FR"}]
    )
    await create_activity(name="Walk Tuesday", categories=["walking"], schedules=[{"byday": "TU"}])
    page = await search(
        client,
        admin,
        taxonomy_term_id="music-singing",
        day="TU",
        search="choir",
        postcode="E5 1AU",
        proximity=500,
        minimum_age=18,
    )
    assert names(page) == ["Choir Tuesday"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"per_page": 0}, "per_page"),
        ({"per_page": 101}, "per_page"),
        ({"page": 0}, "page"),
        ({"page": "first"}, "page"),
        ({"minimum_age": -1}, "minimum_age"),
        ({"maximum_age": "old"}, "maximum_age"),
        ({"day": "someday"}, "day"),
        ({"proximity": 1000}, "postcode"),
        ({"proximity": 0, "postcode": "E5 1AU"}, "proximity"),
        ({"postcode": "not a postcode"}, "postcode"),
        ({"search": "x" * 201}, "search"),
        ({"search": "tea\x00"}, "search"),
        ({"taxonomy_term_id": "\x00"}, "taxonomy_term_id"),
    ],
)
async def test_malformed_parameters_are_400_naming_the_parameter(
    client: httpx.AsyncClient, admin: dict[str, str], params: dict[str, Any], field: str
) -> None:
    response = await client.get(SERVICES, params=params, headers=admin)
    assert response.status_code == 400, response.text
    assert field in {e["field"] for e in response.json()["errors"]}


async def test_an_unlocatable_postcode_with_proximity_is_422(
    client: httpx.AsyncClient, admin: dict[str, str], areas: None
) -> None:
    response = await client.get(
        SERVICES, params={"postcode": "M1 1AA", "proximity": 1000}, headers=admin
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "postcode"
