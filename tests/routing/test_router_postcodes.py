"""``/api/v1/routing/postcodes``: the admin's postcode routes for self-referrals (the longest
matching prefix wins: docs/self-referral.md)."""

from __future__ import annotations

import httpx
import pytest

from app.auth.principal import Role
from app.routing.service import postcode_prefixes
from tests.conftest import TokenFactory

ROUTES = "/api/v1/routing/postcodes"


def test_the_prefixes_of_a_postcode_longest_first() -> None:
    assert postcode_prefixes("LS6 3AB") == ["LS6 3", "LS6", "LS"]
    assert postcode_prefixes("M1 1AE") == ["M1 1", "M1", "M"]
    assert postcode_prefixes("EC1A 1BB") == ["EC1A 1", "EC1A", "EC"]


async def test_put_list_replace_and_delete(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    admin = auth(Role.ADMIN, "X26")
    created = await client.put(f"{ROUTES}/ls6%203", json={"performer_ods": "rls63"}, headers=admin)
    assert created.status_code == 201
    assert created.json()["prefix"] == "LS6 3"
    assert created.json()["performer_ods"] == "RLS63"
    replaced = await client.put(f"{ROUTES}/LS6 3", json={"performer_ods": "RLS99"}, headers=admin)
    assert replaced.status_code == 200
    listed = (await client.get(ROUTES, headers=admin)).json()
    assert [(r["prefix"], r["performer_ods"]) for r in listed] == [("LS6 3", "RLS99")]
    assert (await client.delete(f"{ROUTES}/LS6 3", headers=admin)).status_code == 204
    assert (await client.delete(f"{ROUTES}/LS6 3", headers=admin)).status_code == 404
    assert (await client.get(ROUTES, headers=admin)).json() == []


@pytest.mark.parametrize("prefix", ["6LS", "LS6 3AB", "L1234", "LS 6"])
async def test_a_prefix_that_is_no_area_district_or_sector_is_422(
    client: httpx.AsyncClient, auth: TokenFactory, prefix: str
) -> None:
    answer = await client.put(
        f"{ROUTES}/{prefix}", json={"performer_ods": "RLS01"}, headers=auth(Role.ADMIN, "X26")
    )
    assert answer.status_code == 422


@pytest.mark.parametrize("role", [Role.LINK_WORKER, Role.REFERRER, Role.COMMISSIONER])
async def test_only_admins_manage_them(
    client: httpx.AsyncClient, auth: TokenFactory, role: Role
) -> None:
    headers = auth(role, "RLS01")
    assert (await client.get(ROUTES, headers=headers)).status_code == 403
    put = await client.put(f"{ROUTES}/LS", json={"performer_ods": "RLS01"}, headers=headers)
    assert put.status_code == 403
