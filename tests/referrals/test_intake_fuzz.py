"""Property-based: any mutation of a valid referral is answered 2xx or 4xx, never 5xx, and a
refused one writes nothing."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Role
from app.referrals.models import Referral
from tests.conftest import TokenFactory
from tests.referrals import factories

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


@st.composite
def mutated_referrals(draw: st.DrawFn) -> dict[str, Any]:
    payload = factories.service_request()
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(payload)
        path = draw(st.sampled_from(paths))
        parent: Any = payload
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["delete", "replace", "add"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "replace":
            parent[path[-1]] = draw(json_values)
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = draw(json_values)
    return payload


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(payload=mutated_referrals())
async def test_mutated_referrals_never_fail_the_server(
    client: httpx.AsyncClient, session: AsyncSession, auth: TokenFactory, payload: dict[str, Any]
) -> None:
    before = await session.scalar(select(func.count()).select_from(Referral))
    response = await client.post(
        "/fhir/ServiceRequest",
        content=json.dumps(copy.deepcopy(payload)).encode(),
        headers={**auth(Role.REFERRER, "A81001"), "Content-Type": "application/fhir+json"},
    )
    assert response.status_code < 500, response.text
    after = await session.scalar(select(func.count()).select_from(Referral))
    if response.status_code >= 400:
        assert response.json()["resourceType"] == "OperationOutcome"
        assert after == before
    else:
        assert response.status_code in (200, 201)
