"""``/api/v1/notifications``: the admin's view of failed deliveries, and re-queueing them."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from app.auth.dependencies import Caller, allowed
from app.auth.policy import Action
from app.db import SessionDep
from app.errors import known_uuid
from app.notifications import admin, queue
from app.notifications.schemas import DeliveryPage, DeliveryRead, Requeued

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])

AdminCaller = Annotated[Caller, Depends(allowed(Action.NOTIFICATION_ADMIN))]


def _read(view: queue.DeliveryView) -> DeliveryRead:
    d = view.delivery
    return DeliveryRead(
        id=d.id,
        event_id=d.event_id,
        task_id=view.task_id,
        task_version=view.task_version,
        subscription_id=d.subscription_id,
        status=d.status,
        attempts=d.attempts,
        last_status=d.last_status,
        last_error=d.last_error,
        created_at=d.created_at,
        last_attempt_at=d.last_attempt_at,
        next_attempt_at=d.next_attempt_at,
        delivered_at=d.delivered_at,
    )


@router.get(
    "/deliveries", operation_id="notifications-list_deliveries", response_model=DeliveryPage
)
async def list_deliveries(
    session: SessionDep,
    caller: AdminCaller,
    status: Annotated[Literal["pending", "delivered", "failed"] | None, Query()] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> DeliveryPage:
    """Deliveries of Task change notifications, oldest first (``status=failed``: the ones that
    spent their retry budget)."""
    total, views = await admin.list_deliveries(session, status, (page - 1) * per_page, per_page)
    return DeliveryPage(total=total, page=page, per_page=per_page, items=[_read(v) for v in views])


@router.post(
    "/deliveries/{delivery_id}/requeue",
    operation_id="notifications-requeue_delivery",
    response_model=Requeued,
    responses={409: {"description": "the delivery is not failed"}},
)
async def requeue_delivery(session: SessionDep, caller: AdminCaller, delivery_id: str) -> Requeued:
    """Send a failed delivery again (a fresh retry budget, due now); its subscription is active
    again."""
    subscription_id = await admin.requeue_delivery(session, known_uuid(delivery_id, "delivery"))
    return Requeued(subscription_id=subscription_id, requeued=1)


@router.post(
    "/subscriptions/{subscription_id}/requeue",
    operation_id="notifications-requeue_subscription",
    response_model=Requeued,
)
async def requeue_subscription(
    session: SessionDep, caller: AdminCaller, subscription_id: str
) -> Requeued:
    """Send every failed delivery of a subscription again; the subscription is active again."""
    found = known_uuid(subscription_id, "Subscription")
    return Requeued(
        subscription_id=found, requeued=await admin.requeue_subscription(session, found)
    )
