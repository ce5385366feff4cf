"""``/api/v1/notifications``: admins only; list deliveries; re-queue one or a subscription's."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.principal import Role
from app.notifications.models import Delivery, Subscription
from tests.conftest import TokenFactory
from tests.notifications import factories

BASE = "/api/v1/notifications"


async def failed_deliveries(
    client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    make_worker: Any,
    gp: dict[str, str],
    count: int,
) -> Subscription:
    """A subscription in error with ``count`` failed deliveries (its endpoint refuses
    connections: nothing listens on port 9 of loopback)."""
    sub = await factories.subscription(committed, "http://127.0.0.1:9/hook")
    for _ in range(count):
        await factories.referral_task(client, gp)
    await make_worker().run(once=True)  # every delivery is claimed and fails, leaving it due
    async with committed() as session:  # the retry budget spent at once, as if by the worker
        await session.execute(update(Delivery).values(status="failed", attempts=8))
        await session.execute(update(Subscription).values(status="error", error="test"))
        await session.commit()
    return sub


@pytest.mark.parametrize("role", [Role.REFERRER, Role.LINK_WORKER, Role.PROVIDER])
async def test_only_admins(client: httpx.AsyncClient, auth: TokenFactory, role: Role) -> None:
    headers = auth(role, "A81001")
    assert (await client.get(f"{BASE}/deliveries", headers=headers)).status_code == 403
    listed = await client.post(f"{BASE}/subscriptions/{uuid.uuid4()}/requeue", headers=headers)
    assert listed.status_code == 403
    assert listed.headers["content-type"] == "application/problem+json"


async def test_unknown_ids_are_404_and_bad_filters_400(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    for path in (
        f"{BASE}/deliveries/{uuid.uuid4()}/requeue",
        f"{BASE}/deliveries/not-an-id/requeue",
        f"{BASE}/subscriptions/{uuid.uuid4()}/requeue",
        f"{BASE}/subscriptions/not-an-id/requeue",
    ):
        found = await client.post(path, headers=admin)
        assert found.status_code == 404, path
        assert found.headers["content-type"] == "application/problem+json"
    bad = await client.get(f"{BASE}/deliveries?status=lost", headers=admin)
    assert bad.status_code == 400
    assert (await client.get(f"{BASE}/deliveries?per_page=101", headers=admin)).status_code == 400


async def test_failed_deliveries_listed_page_by_page_and_requeued_by_subscription(
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    make_worker: Any,
    gp: dict[str, str],
    admin: dict[str, str],
) -> None:
    sub = await failed_deliveries(committed_client, committed, make_worker, gp, 3)

    first = (
        await committed_client.get(f"{BASE}/deliveries?status=failed&per_page=2", headers=admin)
    ).json()
    second = (
        await committed_client.get(
            f"{BASE}/deliveries?status=failed&per_page=2&page=2", headers=admin
        )
    ).json()
    assert (first["total"], len(first["items"]), len(second["items"])) == (3, 2, 1)
    items = first["items"] + second["items"]
    assert len({i["id"] for i in items}) == 3
    assert {(i["status"], i["subscription_id"]) for i in items} == {("failed", str(sub.id))}
    assert all(i["last_error"].startswith("ConnectError") for i in items)
    pending = await committed_client.get(f"{BASE}/deliveries?status=pending", headers=admin)
    assert pending.json()["total"] == 0

    requeued = await committed_client.post(f"{BASE}/subscriptions/{sub.id}/requeue", headers=admin)
    assert requeued.json() == {"subscription_id": str(sub.id), "requeued": 3}
    rows = await factories.deliveries(committed)
    assert {(d.status, d.attempts) for d in rows} == {("pending", 0)}
    assert (await factories.subscription_row(committed, sub.id)).status == "active"
    again = await committed_client.post(f"{BASE}/subscriptions/{sub.id}/requeue", headers=admin)
    assert again.json()["requeued"] == 0
