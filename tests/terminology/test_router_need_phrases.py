"""Admin endpoints for free-text phrases -> needs, and their effect on the intake."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Role
from app.referrals.models import ReferralNeed
from app.terminology.models import NeedPhrase
from tests.conftest import TokenFactory
from tests.referrals import factories

URL = "/api/v1/terminology/need-phrases"
BODY = {"need": "housing", "note": "hoarding puts tenancies at risk (local decision, test ICB)"}


@pytest.fixture
def admin(auth: TokenFactory) -> dict[str, str]:
    return auth(Role.ADMIN, "X26", sub="admin-7")


async def _rows(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(NeedPhrase)) or 0


async def _needs_of_text(
    client: httpx.AsyncClient, session: AsyncSession, auth: TokenFactory, text: str
) -> list[str]:
    payload = factories.service_request(reasonCode=[{"text": text}])
    response = await client.post(
        "/fhir/ServiceRequest", json=payload, headers=auth(Role.REFERRER, "A81001")
    )
    assert response.status_code == 201, response.text
    rows = await session.scalars(
        select(ReferralNeed.need).where(
            ReferralNeed.referral_id == uuid.UUID(response.json()["id"])
        )
    )
    return sorted(rows)


async def test_list_shows_the_shipped_phrases(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.get(URL, headers=admin)
    assert response.status_code == 200
    by_phrase = {i["phrase"]: i for i in response.json()["items"]}
    assert by_phrase["money worries"]["need"] == "debt-finance"
    assert by_phrase["money worries"]["origin"] == "shipped"
    assert by_phrase["money worries"]["note"]
    assert by_phrase["money worries"]["created_by"] is None


async def test_an_admin_phrase_takes_effect_at_once_until_deleted(
    client: httpx.AsyncClient, session: AsyncSession, auth: TokenFactory, admin: dict[str, str]
) -> None:
    assert await _needs_of_text(client, session, auth, "Hoarding at home") == ["other"]

    created = await client.put(f"{URL}/Hoarding", json=BODY, headers=admin)
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["phrase"], body["need"], body["origin"]) == ("hoarding", "housing", "admin")
    assert (body["overrides_shipped"], body["created_by"]) == (False, "admin-7")
    row = await session.get(NeedPhrase, "hoarding")
    assert row is not None
    assert (row.need, row.note) == ("housing", BODY["note"])
    assert await _needs_of_text(client, session, auth, "Hoarding at home") == ["housing"]

    replaced = await client.put(f"{URL}/hoarding", json={**BODY, "need": "low-mood"}, headers=admin)
    assert replaced.status_code == 200
    session.expire_all()  # the test's session read the row before the app replaced it
    assert await _rows(session) == 1
    assert await _needs_of_text(client, session, auth, "Hoarding at home") == ["low-mood"]

    assert (await client.delete(f"{URL}/HOARDING", headers=admin)).status_code == 204
    assert await _rows(session) == 0
    assert await _needs_of_text(client, session, auth, "Hoarding at home") == ["other"]
    assert (await client.delete(f"{URL}/hoarding", headers=admin)).status_code == 404


async def test_an_admin_row_overrides_a_shipped_phrase(
    client: httpx.AsyncClient, session: AsyncSession, auth: TokenFactory, admin: dict[str, str]
) -> None:
    assert await _needs_of_text(client, session, auth, "wants a job") == ["employment-learning"]
    response = await client.put(
        f"{URL}/job", json={"need": "other", "note": "too broad here"}, headers=admin
    )
    assert response.status_code == 201
    assert response.json()["overrides_shipped"] is True
    assert await _needs_of_text(client, session, auth, "wants a job") == ["other"]
    items = (await client.get(URL, headers=admin)).json()["items"]
    assert [i["origin"] for i in items if i["phrase"] == "job"] == ["admin"]
    assert (await client.delete(f"{URL}/job", headers=admin)).status_code == 204
    shipped_only = await client.delete(f"{URL}/job", headers=admin)
    assert shipped_only.status_code == 404
    assert "cannot be deleted" in shipped_only.json()["detail"]


@pytest.mark.parametrize(
    ("phrase", "body", "field"),
    [
        ("!!!", BODY, "phrase"),
        ("x" * 101, BODY, "phrase"),
        ("hoarding", {**BODY, "need": "lonely"}, "need"),
        ("hoarding", {"need": "housing"}, "note"),
        ("hoarding", {**BODY, "note": ""}, "note"),
        ("hoarding", {**BODY, "extra": 1}, "extra"),
    ],
)
async def test_bad_input_is_422_naming_the_field_and_changes_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    phrase: str,
    body: dict[str, Any],
    field: str,
) -> None:
    response = await client.put(f"{URL}/{phrase}", json=body, headers=admin)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]
    assert await _rows(session) == 0


@pytest.mark.parametrize(
    "role", [Role.REFERRER, Role.LINK_WORKER, Role.PROVIDER, Role.COMMISSIONER]
)
async def test_only_admins(
    client: httpx.AsyncClient, session: AsyncSession, auth: TokenFactory, role: Role
) -> None:
    headers = auth(role, "A81001")
    assert (await client.get(URL, headers=headers)).status_code == 403
    assert (await client.put(f"{URL}/hoarding", json=BODY, headers=headers)).status_code == 403
    assert (await client.delete(f"{URL}/job", headers=headers)).status_code == 403
    assert await _rows(session) == 0
