"""``POST /api/v1/referrals/{id}/questionnaire-links``: a link worker sends the person a
one-time link to a wellbeing questionnaire (docs/questionnaires.md)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from app.auth.context import Context
from app.auth.dependencies import Caller, allowed
from app.auth.policy import Action
from app.db import SessionDep, utcnow
from app.deps import SettingsDep
from app.questionnaires import service
from app.questionnaires.schemas import LinkCreate, LinkRead

router = APIRouter(prefix="/api/v1/referrals", tags=["outcomes"])

WriteCaller = Annotated[Caller, Depends(allowed(Action.OUTCOME_WRITE))]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing or invalid bearer token"},
    403: {"description": "role not allowed (link workers of the referral's service and admins)"},
    404: {"description": "unknown referral, or not one of the caller's organisation"},
    409: {"description": "the referral has not been accepted, or no public base URL is set"},
    422: {"description": "unknown instrument; the person cannot be reached on that channel"},
}


@router.post(
    "/{referral_id}/questionnaire-links",
    operation_id="outcomes-send_questionnaire_link",
    status_code=202,
    response_model=LinkRead,
    responses=ERRORS,
)
async def send_questionnaire_link(
    referral_id: uuid.UUID,
    body: LinkCreate,
    request: Request,
    session: SessionDep,
    caller: WriteCaller,
    settings: SettingsDep,
) -> LinkRead:
    """Send the person a one-time link to a questionnaire by text or email; 202 once queued."""
    link = await service.send_link(
        session,
        Context.of(request, caller),
        settings,
        referral_id,
        instrument=body.instrument,
        channel=body.channel,
        timepoint=body.timepoint,
        now=utcnow(),
    )
    return LinkRead(
        id=link.id,
        referral_id=link.referral_id,
        instrument=link.instrument,
        timepoint=link.timepoint,
        channel=link.channel,
        created_at=link.created_at,
        expires_at=link.expires_at,
        status="queued",
    )
