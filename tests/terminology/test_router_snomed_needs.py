"""Admin endpoints for SNOMED CT -> need mappings, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Role
from app.terminology import service
from app.terminology.models import SnomedNeedMapping
from tests.conftest import TokenFactory

URL = "/api/v1/terminology/snomed-needs"
# "Referral to social prescribing service": a real, well-formed UK concept id, not shipped.
NEW_ID = "871731000000106"
SHIPPED_ID = "422650009"
BODY = {"display": "Test concept", "need": "other", "source": "local decision, test ICB"}


@pytest.fixture
def admin(auth: TokenFactory) -> dict[str, str]:
    return auth(Role.ADMIN, "X26", sub="admin-7")


async def _rows(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(SnomedNeedMapping)) or 0


async def test_list_shows_the_shipped_mappings(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.get(URL, headers=admin)
    assert response.status_code == 200
    items = response.json()["items"]
    by_id = {i["concept_id"]: i for i in items}
    assert by_id[SHIPPED_ID]["need"] == "loneliness-isolation"
    assert by_id[SHIPPED_ID]["origin"] == "shipped"
    assert by_id[SHIPPED_ID]["source"].startswith("https://")
    assert by_id[SHIPPED_ID]["created_by"] is None


async def test_put_creates_then_replaces_and_delete_removes(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    created = await client.put(f"{URL}/{NEW_ID}", json=BODY, headers=admin)
    assert created.status_code == 201
    body = created.json()
    assert body["origin"] == "admin"
    assert body["overrides_shipped"] is False
    assert body["created_by"] == "admin-7"
    row = await session.get(SnomedNeedMapping, NEW_ID)
    assert row is not None
    assert (row.need, row.display, row.created_by) == ("other", "Test concept", "admin-7")

    replaced = await client.put(f"{URL}/{NEW_ID}", json={**BODY, "need": "low-mood"}, headers=admin)
    assert replaced.status_code == 200
    assert replaced.json()["need"] == "low-mood"
    session.expire_all()  # the test's session read the row before the app replaced it
    assert await _rows(session) == 1
    assert (await service.need_mapping(session))[NEW_ID] == "low-mood"

    listed = (await client.get(URL, headers=admin)).json()["items"]
    assert {"concept_id": NEW_ID, "origin": "admin"}.items() <= next(
        i for i in listed if i["concept_id"] == NEW_ID
    ).items()

    deleted = await client.delete(f"{URL}/{NEW_ID}", headers=admin)
    assert deleted.status_code == 204
    assert await _rows(session) == 0
    again = await client.delete(f"{URL}/{NEW_ID}", headers=admin)
    assert again.status_code == 404


async def test_admin_row_overrides_a_shipped_one_until_deleted(
    client: httpx.AsyncClient, session: AsyncSession, admin: dict[str, str]
) -> None:
    response = await client.put(
        f"{URL}/{SHIPPED_ID}", json={**BODY, "need": "low-mood"}, headers=admin
    )
    assert response.status_code == 201
    assert response.json()["overrides_shipped"] is True
    assert (await service.need_mapping(session))[SHIPPED_ID] == "low-mood"
    items = (await client.get(URL, headers=admin)).json()["items"]
    assert [i["origin"] for i in items if i["concept_id"] == SHIPPED_ID] == ["admin"]

    assert (await client.delete(f"{URL}/{SHIPPED_ID}", headers=admin)).status_code == 204
    assert (await service.need_mapping(session))[SHIPPED_ID] == "loneliness-isolation"
    shipped_only = await client.delete(f"{URL}/{SHIPPED_ID}", headers=admin)
    assert shipped_only.status_code == 404
    assert "cannot be deleted" in shipped_only.json()["detail"]


@pytest.mark.parametrize(
    ("concept_id", "body", "field"),
    [
        ("422650008", BODY, "concept_id"),  # Verhoeff
        ("12345", BODY, "concept_id"),  # too short
        ("42265000x", BODY, "concept_id"),
        ("871731000000116", BODY, "concept_id"),  # partition of a description id
        (NEW_ID, {**BODY, "need": "lonely"}, "need"),
        (NEW_ID, {**BODY, "need": ""}, "need"),
        (NEW_ID, {"need": "other", "source": "x"}, "display"),
        (NEW_ID, {**BODY, "source": ""}, "source"),
        (NEW_ID, {**BODY, "display": "x" * 256}, "display"),
        (NEW_ID, {**BODY, "extra": 1}, "extra"),
    ],
)
async def test_bad_input_is_422_naming_the_field_and_changes_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    admin: dict[str, str],
    concept_id: str,
    body: dict[str, Any],
    field: str,
) -> None:
    response = await client.put(f"{URL}/{concept_id}", json=body, headers=admin)
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
    assert (await client.put(f"{URL}/{NEW_ID}", json=BODY, headers=headers)).status_code == 403
    assert (await client.delete(f"{URL}/{NEW_ID}", headers=headers)).status_code == 403
    assert await _rows(session) == 0


async def test_scope_must_allow_code_system_update(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    read_only = auth(Role.ADMIN, "X26", scope="system/CodeSystem.read")
    assert (await client.get(URL, headers=read_only)).status_code == 403
    write = auth(Role.ADMIN, "X26", scope="system/CodeSystem.write")
    assert (await client.get(URL, headers=write)).status_code == 200
