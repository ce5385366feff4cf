from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Role
from tests.areas.test_importer import load_fixture
from tests.conftest import TokenFactory

PROVIDER_ODS = "DEMOPROV1"
OTHER_ODS = "OTHERORG1"

BASE_ACTIVITY: dict[str, Any] = {
    "name": "Community Choir",
    "description": "Sing together every week; no experience needed.",
    "organization": {"name": "Dalston Arts Collective", "identifier": PROVIDER_ODS},
    "categories": ["music-singing"],
    "target_needs": ["loneliness-isolation"],
    "minimum_age": 18,
    "locations": [
        {
            "name": "Dalston Library",
            "address_1": "Dalston Square",
            "city": "London",
            "postcode": "E5 1AU",
            "latitude": 51.554725,
            "longitude": -0.047379,
            "accessibility": ["wheelchair", "hearing-loop"],
        }
    ],
    "attending_type": "in-person",
    "schedules": [{"freq": "WEEKLY", "byday": "TU,TH", "opens_at": "10:00", "closes_at": "12:00"}],
    "cost_options": [{"amount": 0}],
    "languages": ["en"],
    "capacity": {"maximum": 20, "available": 5},
}


def activity_body(**overrides: Any) -> dict[str, Any]:
    body = copy.deepcopy(BASE_ACTIVITY)
    body.update(overrides)
    return body


@pytest.fixture
async def areas(session: AsyncSession) -> None:
    await load_fixture(session)


@pytest.fixture
def admin(auth: TokenFactory) -> dict[str, str]:
    return auth(Role.ADMIN, "X26")


@pytest.fixture
def provider(auth: TokenFactory) -> dict[str, str]:
    return auth(Role.PROVIDER, PROVIDER_ODS)


CreateActivity = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def create_activity(client: httpx.AsyncClient, admin: dict[str, str]) -> CreateActivity:
    async def create(**overrides: Any) -> dict[str, Any]:
        response = await client.post(
            "/api/v1/directory/services", json=activity_body(**overrides), headers=admin
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    return create
