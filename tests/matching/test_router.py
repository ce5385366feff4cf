"""Matches through the API: the prefilter, the engine, the counts, the FHIR $match Bundle."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest

from app.auth.principal import Role
from tests.conftest import TokenFactory
from tests.directory.conftest import CreateActivity, activity_body
from tests.referrals import factories

HOME = "E5 1BF"  # in the Hackney area fixture
NEAR = {"latitude": 51.564673, "longitude": -0.062645, "postcode": HOME}


def _location(**overrides: Any) -> list[dict[str, Any]]:
    return [
        {
            "name": "Hall",
            "address_1": "1 High St",
            "city": "London",
            **NEAR,
            "accessibility": ["wheelchair"],
            **overrides,
        }
    ]


async def _refer(
    client: httpx.AsyncClient, auth: TokenFactory, postcode: str, **overrides: Any
) -> dict[str, Any]:
    """A referral of a person living at ``postcode`` (the factory's defaults otherwise)."""
    person = factories.patient(address=[{"postalCode": postcode}])
    payload = factories.service_request(person=person, **overrides)
    response = await client.post(
        "/fhir/ServiceRequest", json=payload, headers=auth(Role.REFERRER, "A81001")
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture
async def referral(client: httpx.AsyncClient, auth: TokenFactory, areas: None) -> dict[str, Any]:
    return await _refer(client, auth, HOME)  # in person, 5 km, Tue/Thu, free only, music


@pytest.fixture
def lw(auth: TokenFactory) -> dict[str, str]:
    return auth(Role.LINK_WORKER, "Y02718")


async def test_matches_respect_the_rules_and_explain_themselves(
    client: httpx.AsyncClient,
    lw: dict[str, str],
    referral: dict[str, Any],
    create_activity: CreateActivity,
) -> None:
    choir = await create_activity(name="Choir", locations=_location())
    await create_activity(name="Paid choir", locations=_location(), cost_options=[{"amount": 5}])
    await create_activity(name="Closed choir", locations=_location(), status="inactive")
    await create_activity(
        name="Far choir", locations=_location(latitude=51.70, longitude=-0.062645)
    )
    await create_activity(
        name="Full choir", locations=_location(), capacity={"maximum": 10, "available": 0}
    )
    await create_activity(name="Youth choir", locations=_location(), minimum_age=11, maximum_age=18)
    await create_activity(
        name="Weekend choir", locations=_location(), schedules=[{"freq": "WEEKLY", "byday": "SA"}]
    )
    online = await create_activity(name="Online choir", attending_type="online", locations=[])

    response = await client.get(f"/api/v1/referrals/{referral['id']}/matches", headers=lw)
    assert response.status_code == 200, response.text
    body = response.json()
    names = [m["activity"]["name"] for m in body["matches"]]
    assert names[0] == "Choir"
    assert set(names) == {"Choir", "Online choir"}
    excluded = {e["rule"]: e["count"] for e in body["excluded"]}
    assert excluded == {1: 1, 2: 1, 3: 1, 4: 0, 5: 0, 6: 1, 7: 0, 8: 1, 9: 1}
    assert body["eligible"] == 2
    assert body["considered"] == 8
    top = body["matches"][0]
    assert top["activity"]["id"] == choir["id"]
    assert 0 <= top["score"] <= 1
    assert set(top["components"]) == {
        "need_fit",
        "interest_fit",
        "proximity",
        "language_fit",
        "day_fit",
        "spare_capacity",
        "equity",
        "group_fit",
        "situation_fit",
        "outcome",
    }
    assert "Free" in top["reasons"]
    assert any("km away" in r or "m away" in r for r in top["reasons"])
    assert top["distance_km"] == pytest.approx(0.0, abs=0.05)
    assert body["matches"][1]["activity"]["id"] == online["id"]
    assert body["matches"][1]["attendance"] == "online"
    again = (await client.get(f"/api/v1/referrals/{referral['id']}/matches", headers=lw)).json()
    assert again["matches"] == body["matches"]


async def test_include_full_offers_the_waiting_list(
    client: httpx.AsyncClient,
    lw: dict[str, str],
    referral: dict[str, Any],
    create_activity: CreateActivity,
) -> None:
    await create_activity(
        name="Full choir", locations=_location(), capacity={"maximum": 10, "available": 0}
    )
    url = f"/api/v1/referrals/{referral['id']}/matches"
    assert (await client.get(url, headers=lw)).json()["matches"] == []
    offered = (await client.get(f"{url}?include_full=true", headers=lw)).json()["matches"]
    assert [m["waitlist"] for m in offered] == [True]


async def test_unknown_location_matches_only_remote_activities(
    client: httpx.AsyncClient,
    auth: TokenFactory,
    lw: dict[str, str],
    areas: None,
    create_activity: CreateActivity,
) -> None:
    referral = await _refer(client, auth, "ZE3 9JZ")
    await create_activity(name="Choir", locations=_location())
    await create_activity(name="Phone friends", attending_type="phone", locations=[])
    body = (await client.get(f"/api/v1/referrals/{referral['id']}/matches", headers=lw)).json()
    assert [m["activity"]["name"] for m in body["matches"]] == ["Phone friends"]
    assert len([w for w in body["warnings"] if "unknown" in w.lower()]) == 1  # said once
    bundle = (await client.get(f"/fhir/ServiceRequest/{referral['id']}/$match", headers=lw)).json()
    outcomes = [e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "outcome"]
    assert len(outcomes) == 1
    assert [i["diagnostics"] for i in outcomes[0]["issue"]] == body["warnings"]


async def test_fhir_match_bundle(
    client: httpx.AsyncClient,
    lw: dict[str, str],
    referral: dict[str, Any],
    create_activity: CreateActivity,
) -> None:
    await create_activity(name="Choir", locations=_location())
    response = await client.get(f"/fhir/ServiceRequest/{referral['id']}/$match?limit=5", headers=lw)
    assert response.status_code == 200
    bundle = response.json()
    entry = bundle["entry"][0]
    assert entry["resource"]["resourceType"] == "HealthcareService"
    assert 0 < entry["search"]["score"] <= 1
    reasons = [
        e["valueString"]
        for e in entry["resource"]["extension"][0]["extension"]
        if e["url"] == "reason"
    ]
    assert "Free" in reasons
    # (the validator checks the Bundle at teardown)


async def test_limits_and_access(
    client: httpx.AsyncClient, auth: TokenFactory, lw: dict[str, str], referral: dict[str, Any]
) -> None:
    url = f"/api/v1/referrals/{referral['id']}/matches"
    assert (await client.get(f"{url}?limit=0", headers=lw)).status_code == 400
    assert (await client.get(f"{url}?limit=51", headers=lw)).status_code == 400
    assert (await client.get(url, headers=auth(Role.LINK_WORKER, "Y99999"))).status_code == 404
    assert (await client.get(url, headers=auth(Role.REFERRER, "A81001"))).status_code == 403
    assert (await client.get(url, headers=auth(Role.ADMIN, "X26"))).status_code == 200
    assert (await client.get("/api/v1/referrals/not-an-id/matches", headers=lw)).status_code == 404


async def test_matches_follow_directory_changes_and_bookings(
    client: httpx.AsyncClient,
    admin: dict[str, str],
    lw: dict[str, str],
    referral: dict[str, Any],
    create_activity: CreateActivity,
) -> None:
    """Each process keeps a snapshot of the directory: creates, replacements, deletes and
    bookings made through the API between two match requests are all in the second one."""
    url = f"/api/v1/referrals/{referral['id']}/matches"

    async def matches() -> tuple[dict[str, list[str]], dict[int, int]]:
        body = (await client.get(url, headers=lw)).json()
        found = {m["activity"]["name"]: m["reasons"] for m in body["matches"]}
        return found, {e["rule"]: e["count"] for e in body["excluded"]}

    choir = await create_activity(name="Choir", locations=_location())
    last = await create_activity(
        name="Last place", locations=_location(), capacity={"maximum": 10, "available": 1}
    )
    found, _ = await matches()
    assert set(found) == {"Choir", "Last place"}
    assert "1 place left" in found["Last place"]
    assert "5 places left" in found["Choir"]

    # created
    gig = await create_activity(name="Gig", locations=_location())
    found, _ = await matches()
    assert set(found) == {"Choir", "Last place", "Gig"}

    # replaced: no longer accepting referrals, then accepting again with a new name
    body = activity_body(name="Choir", locations=_location(), accepting_referrals=False)
    assert (
        await client.put(f"/api/v1/directory/services/{choir['id']}", json=body, headers=admin)
    ).status_code == 200
    found, excluded = await matches()
    assert set(found) == {"Last place", "Gig"}
    assert excluded[1] == 1
    body = activity_body(name="New choir", locations=_location())
    assert (
        await client.put(f"/api/v1/directory/services/{choir['id']}", json=body, headers=admin)
    ).status_code == 200
    found, excluded = await matches()
    assert set(found) == {"New choir", "Last place", "Gig"}
    assert excluded[1] == 0

    # deleted
    assert (
        await client.delete(f"/api/v1/directory/services/{gig['id']}", headers=admin)
    ).status_code == 204
    found, excluded = await matches()
    assert set(found) == {"New choir", "Last place"}
    assert sum(excluded.values()) == 0

    # booked: the last place goes (rule 3), another activity's count of places drops
    task = (await client.get(f"/fhir/Task?focus={referral['id']}", headers=lw)).json()
    task = task["entry"][0]["resource"]
    accepted = await client.put(
        f"/fhir/Task/{task['id']}", json={**task, "status": "accepted"}, headers=lw
    )
    assert accepted.status_code == 200
    booked = await client.post(
        f"/api/v1/referrals/{referral['id']}/bookings",
        json={"activity_id": last["id"]},
        headers=lw,
    )
    assert booked.status_code == 201, booked.text
    found, excluded = await matches()
    assert set(found) == {"New choir"}
    assert excluded[3] == 1
    assert (
        await client.post(
            f"/api/v1/referrals/{referral['id']}/bookings",
            json={"activity_id": choir["id"]},
            headers=lw,
        )
    ).status_code == 201
    found, _ = await matches()
    assert "4 places left" in found["New choir"]

    # cancelled: the place comes back
    cancelled = await client.patch(
        f"/api/v1/bookings/{booked.json()['id']}", json={"status": "cancelled"}, headers=lw
    )
    assert cancelled.status_code == 200, cancelled.text
    found, excluded = await matches()
    assert set(found) == {"New choir", "Last place"}
    assert "1 place left" in found["Last place"]
    assert excluded[3] == 0


async def test_fhir_match_honours_count(
    client: httpx.AsyncClient,
    lw: dict[str, str],
    referral: dict[str, Any],
    create_activity: CreateActivity,
) -> None:
    """DESIGN 5.1: operations honour ``_count`` like searches (default 10, max 50)."""
    for n in range(12):
        await create_activity(name=f"Choir {n:02}", locations=_location())
    url = f"/fhir/ServiceRequest/{referral['id']}/$match"

    def matched(bundle: dict[str, Any]) -> list[str]:
        return [e["resource"]["name"] for e in bundle["entry"] if e["search"]["mode"] == "match"]

    two = await client.get(f"{url}?_count=2", headers=lw)
    assert two.status_code == 200, two.text
    every = (await client.get(f"{url}?_count=50", headers=lw)).json()
    assert len(matched(every)) == 12
    assert matched(two.json()) == matched(every)[:2]
    assert len(matched((await client.get(url, headers=lw)).json())) == 10  # default
    assert len(matched((await client.get(f"{url}?_count=500", headers=lw)).json())) == 12
    assert len(matched((await client.get(f"{url}?limit=3", headers=lw)).json())) == 3
    counted = (await client.get(f"{url}?_count=0", headers=lw)).json()
    assert (counted["total"], "entry" in counted) == (12, False)
    assert (await client.get(f"{url}?_count=2&limit=2", headers=lw)).status_code == 400
    for bad in ("two", "-1", "1.5", "²"):
        refused = await client.get(f"{url}?_count={bad}", headers=lw)
        assert refused.status_code == 400, bad
        assert refused.json()["resourceType"] == "OperationOutcome"


def _next_dates(weekdays: set[int], count: int) -> list[str]:
    """The next ``count`` dates from today (UTC) falling on ``weekdays`` (Monday 0)."""
    day, found = dt.datetime.now(dt.UTC).date(), []
    while len(found) < count:
        if day.weekday() in weekdays:
            found.append(day.isoformat())
        day += dt.timedelta(days=1)
    return found


async def test_match_items_say_when_and_where_with_rounded_figures(
    client: httpx.AsyncClient,
    lw: dict[str, str],
    referral: dict[str, Any],
    create_activity: CreateActivity,
) -> None:
    choir = await create_activity(
        name="Choir",
        locations=[
            {
                "name": "Far hall",
                "address_1": "9 Far Rd",
                "city": "London",
                "latitude": 51.60,
                "longitude": -0.062645,
                "accessibility": ["wheelchair"],
            },
            *_location(name="Near hall", latitude=51.5712, longitude=-0.0571),
        ],
        schedules=[{"freq": "WEEKLY", "byday": "TU,TH", "opens_at": "10:00", "closes_at": "12:00"}],
    )
    body = (await client.get(f"/api/v1/referrals/{referral['id']}/matches", headers=lw)).json()
    [match] = body["matches"]
    expected_sessions = [
        {"date": d, "start_time": "10:00:00", "end_time": "12:00:00"}
        for d in _next_dates({1, 3}, 3)
    ]
    assert match["next_sessions"] == expected_sessions
    assert match["venue"] == {
        "name": "Near hall",
        "address_1": "1 High St",
        "city": "London",
        "postcode": HOME,
    }
    assert match["distance_km"] == round(match["distance_km"], 1) == 0.8
    assert match["score"] == round(match["score"], 3)
    assert all(v == round(v, 3) for v in match["components"].values())

    bundle = (await client.get(f"/fhir/ServiceRequest/{referral['id']}/$match", headers=lw)).json()
    entry = bundle["entry"][0]
    assert entry["search"]["score"] == match["score"]
    service = entry["resource"]
    assert service["id"] == choir["id"]
    parts = service["extension"][0]["extension"]
    by_url: dict[str, list[dict[str, Any]]] = {}
    for part in parts:
        by_url.setdefault(part["url"], []).append(part)
    assert by_url["distanceKm"] == [{"url": "distanceKm", "valueDecimal": 0.8}]
    [venue] = by_url["venue"]
    contained = {f"#{c['id']}": c for c in service["contained"]}
    assert contained[venue["valueReference"]["reference"]]["name"] == "Near hall"
    sessions = [
        {s["url"]: next(v for k, v in s.items() if k.startswith("value")) for s in e["extension"]}
        for e in by_url["session"]
    ]
    assert sessions == [
        {"date": s["date"], "start": s["start_time"], "end": s["end_time"]}
        for s in expected_sessions
    ]


async def test_a_need_found_in_free_text_ranks_and_is_quoted(
    client: httpx.AsyncClient,
    auth: TokenFactory,
    lw: dict[str, str],
    areas: None,
    create_activity: CreateActivity,
) -> None:
    referral_id = (await _refer(client, auth, HOME, reasonCode=[{"text": "Money worries"}]))["id"]
    await create_activity(name="Choir", locations=_location())  # the person's interest
    await create_activity(
        name="Debt advice",
        categories=["advice-welfare"],
        target_needs=["debt-finance"],
        locations=_location(),
    )
    body = (await client.get(f"/api/v1/referrals/{referral_id}/matches", headers=lw)).json()
    assert [m["activity"]["name"] for m in body["matches"]] == ["Debt advice", "Choir"]
    quoted = "Targets debt and money worries (from the referral: 'Money worries')"
    assert body["matches"][0]["reasons"][0] == quoted
    assert not any("Money worries" in r for r in body["matches"][1]["reasons"])

    bundle = (await client.get(f"/fhir/ServiceRequest/{referral_id}/$match", headers=lw)).json()
    reasons = [
        e["valueString"]
        for e in bundle["entry"][0]["resource"]["extension"][0]["extension"]
        if e["url"] == "reason"
    ]
    assert quoted in reasons


async def test_the_referrals_words_and_group_wishes_reach_the_ranking(
    client: httpx.AsyncClient,
    auth: TokenFactory,
    lw: dict[str, str],
    areas: None,
    create_activity: CreateActivity,
) -> None:
    """The GP's words name the person's condition and the preferences a small group: an
    activity whose eligibility text is for another condition comes after one whose description
    is for theirs, and a big choir after a small group (issue 19)."""
    referral = await _refer(
        client,
        auth,
        HOME,
        reasonCode=[
            {
                "coding": [{"system": factories.NEED_SYSTEM, "code": "long-term-condition"}],
                "text": "COPD, breathless",
            }
        ],
        extension=[
            factories.preferences(
                availableDay=[{"valueCode": "tue"}], groupPreference=[{"valueCode": "small-group"}]
            )
        ],
    )
    sight = await create_activity(
        name="Sight Loss Social Club",
        target_needs=["long-term-condition"],
        categories=["social-groups"],
        eligibility={"description": "People with sight loss"},
        locations=_location(),
    )
    lungs = await create_activity(
        name="Singing Club",
        description="Breathing and singing for people with COPD, in a small group.",
        target_needs=["long-term-condition"],
        categories=["music-singing"],
        locations=_location(latitude=51.5600),
    )
    body = (await client.get(f"/api/v1/referrals/{referral['id']}/matches", headers=lw)).json()
    assert [m["activity"]["id"] for m in body["matches"]] == [lungs["id"], sight["id"]]
    first, second = body["matches"]
    assert "Made for people with a lung condition" in first["reasons"]
    assert "Small group" in first["reasons"]
    assert "Made for people with sight loss" in second["reasons"]
    assert first["components"]["group_fit"] == 1.0
