"""The caseload: reach, what each row shows (and never shows), filters, paging, the order."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.auth.principal import Role
from tests.conftest import TokenFactory
from tests.outcomes.conftest import outcome
from tests.referrals import factories

CASELOAD = "/api/v1/caseload"
SERVICE = "Y02718"  # the tests' default performer
NOW = dt.datetime.now(dt.UTC)


@dataclass
class Made:
    id: str
    nhs_number: str
    family: str


@pytest.fixture
def lw(auth: TokenFactory) -> dict[str, str]:
    return auth(Role.LINK_WORKER, SERVICE)


def _at(days_ago: int) -> str:
    return (NOW - dt.timedelta(days=days_ago)).isoformat()


async def _task(client: httpx.AsyncClient, admin: dict[str, str], referral_id: str) -> Any:
    bundle = (await client.get(f"/fhir/Task?focus={referral_id}", headers=admin)).json()
    return bundle["entry"][0]["resource"]


async def _move(
    client: httpx.AsyncClient, admin: dict[str, str], referral_id: str, *statuses: str
) -> None:
    for status in statuses:
        task = await _task(client, admin, referral_id)
        body = {k: v for k, v in task.items() if k not in ("statusReason", "businessStatus")}
        body["status"] = status
        if status == "on-hold":
            body["statusReason"] = {"text": "in hospital"}
        moved = await client.put(f"/fhir/Task/{task['id']}", json=body, headers=admin)
        assert moved.status_code == 200, moved.text


async def refer(
    client: httpx.AsyncClient,
    auth: TokenFactory,
    given: str,
    family: str,
    *,
    days_ago: int,
    statuses: tuple[str, ...] = (),
    measured_days_ago: int | None = None,
    performer: str | None = None,
) -> Made:
    number = factories.nhs_number()
    overrides: dict[str, Any] = {"authoredOn": _at(days_ago)}
    if performer:
        overrides["performer"] = [
            {"identifier": {"system": factories.ODS_SYSTEM, "value": performer}}
        ]
    sr = factories.service_request(
        person=factories.patient(number, name=[{"family": family, "given": [given]}]), **overrides
    )
    created = await client.post(
        "/fhir/ServiceRequest", json=sr, headers=auth(Role.REFERRER, "A81001")
    )
    assert created.status_code == 201, created.text
    referral_id = created.json()["id"]
    admin = auth(Role.ADMIN, "X26")
    await _move(client, admin, referral_id, *statuses)
    if measured_days_ago is not None:
        recorded = await client.post(
            f"/api/v1/referrals/{referral_id}/outcomes",
            json=outcome("ONS4", collected_at=_at(measured_days_ago)),
            headers=admin,
        )
        assert recorded.status_code == 201, recorded.text
    return Made(referral_id, number, family)


@pytest.fixture
async def people(client: httpx.AsyncClient, auth: TokenFactory) -> dict[str, Made]:
    made = {
        "overdue": await refer(
            client,
            auth,
            "Amelia",
            "Smith",
            days_ago=60,
            statuses=("accepted",),
            measured_days_ago=50,
        ),
        "new-older": await refer(client, auth, "Ben", "Jones", days_ago=30),
        "new": await refer(client, auth, "Cara", "Patel", days_ago=20),
        "uncontacted": await refer(
            client, auth, "Dev", "Khan", days_ago=25, statuses=("accepted",)
        ),
        "scheduled": await refer(
            client,
            auth,
            "Ella",
            "Brown",
            days_ago=10,
            statuses=("accepted",),
            measured_days_ago=5,
        ),
        "paused": await refer(
            client, auth, "Femi", "Adeyemi", days_ago=40, statuses=("accepted", "on-hold")
        ),
        "done": await refer(
            client,
            auth,
            "Gus",
            "Novak",
            days_ago=90,
            statuses=("accepted", "in-progress", "completed"),
        ),
        "elsewhere": await refer(client, auth, "Hana", "Ito", days_ago=70, performer="Y99999"),
    }
    return made


def ids(page: dict[str, Any]) -> list[str]:
    return [item["referral_id"] for item in page["items"]]


async def test_the_caseload_puts_what_needs_attention_first(
    client: httpx.AsyncClient,
    lw: dict[str, str],
    people: dict[str, Made],
    session: AsyncSession,
) -> None:
    response = await client.get(CASELOAD, headers=lw)
    assert response.status_code == 200, response.text
    page = response.json()
    order = ["overdue", "new-older", "new", "uncontacted", "scheduled", "paused"]
    assert ids(page) == [people[name].id for name in order]
    assert page["total"] == 6
    assert [item["attention"] for item in page["items"]] == [
        "follow-up-overdue",
        "awaiting-acceptance",
        "awaiting-acceptance",
        "awaiting-first-contact",
        "follow-up-scheduled",
        "on-hold",
    ]

    first = page["items"][0]
    assert first["person"]["display_name"] == "Amelia S."
    assert first["person"]["age"] >= 78
    assert first["needs"] == ["loneliness-isolation"]
    assert first["task_status"] == "accepted"
    assert first["stage"] == "first-contact"
    assert first["days_since_referral"] == 60
    due = dt.datetime.fromisoformat(first["next_follow_up_due"])
    assert abs(due - (NOW - dt.timedelta(days=50) + dt.timedelta(weeks=6))) < dt.timedelta(
        seconds=1
    )
    assert first["follow_up_overdue"] is True
    scheduled = page["items"][4]
    assert scheduled["follow_up_overdue"] is False
    assert dt.datetime.fromisoformat(scheduled["next_follow_up_due"]) > NOW
    assert page["items"][1]["next_follow_up_due"] is None  # not contacted yet
    assert page["items"][5]["next_follow_up_due"] is None  # on hold

    text = response.text
    for made in people.values():
        assert made.nhs_number not in text
        assert made.family not in text
    audited = await session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.operation == "search", AuditEvent.entity_id == people["overdue"].id)
    )
    assert audited == 1


async def test_filters_and_paging(
    client: httpx.AsyncClient, lw: dict[str, str], people: dict[str, Made]
) -> None:
    async def get(query: str) -> dict[str, Any]:
        response = await client.get(f"{CASELOAD}?{query}", headers=lw)
        assert response.status_code == 200, response.text
        return dict(response.json())

    assert ids(await get("overdue=true")) == [people["overdue"].id]
    assert people["overdue"].id not in ids(await get("overdue=false"))
    assert (await get("overdue=false"))["total"] == 5
    ended = await get("status=completed")
    assert ids(ended) == [people["done"].id]
    assert ended["items"][0]["attention"] == "ended"
    assert ids(await get("status=requested")) == [people["new-older"].id, people["new"].id]
    assert ids(await get("status=requested&status=on-hold")) == [
        people["new-older"].id,
        people["new"].id,
        people["paused"].id,
    ]
    assert set(ids(await get("stage=first-contact"))) == {
        people["overdue"].id,
        people["scheduled"].id,
    }
    second = await get("per_page=2&page=2")
    assert (second["total"], second["page"], second["per_page"]) == (6, 2, 2)
    assert ids(second) == [people["new"].id, people["uncontacted"].id]
    assert ids(await get("per_page=2&page=4")) == []
    assert (await client.get(f"{CASELOAD}?status=bogus", headers=lw)).status_code == 400
    assert (await client.get(f"{CASELOAD}?stage=bogus", headers=lw)).status_code == 400
    assert (await client.get(f"{CASELOAD}?per_page=101", headers=lw)).status_code == 400


async def test_reach(
    client: httpx.AsyncClient, auth: TokenFactory, people: dict[str, Made]
) -> None:
    elsewhere = people["elsewhere"].id
    mine = (await client.get(CASELOAD, headers=auth(Role.LINK_WORKER, SERVICE))).json()
    assert elsewhere not in ids(mine)
    theirs = (await client.get(CASELOAD, headers=auth(Role.LINK_WORKER, "Y99999"))).json()
    assert ids(theirs) == [elsewhere]
    everyone = (await client.get(CASELOAD, headers=auth(Role.ADMIN, "X26"))).json()
    assert everyone["total"] == 7
    assert elsewhere in ids(everyone)
    for role, org in (
        (Role.REFERRER, "A81001"),
        (Role.PROVIDER, "DEMOPROV1"),
        (Role.COMMISSIONER, "15N"),
    ):
        response = await client.get(CASELOAD, headers=auth(role, org))
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("application/problem+json")
    assert (await client.get(CASELOAD)).status_code == 401
