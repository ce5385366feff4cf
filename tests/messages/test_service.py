"""Queuing a message: once per idempotency key, only to a person who can be reached, on the
channel that has a template (the hook the questionnaire links will call)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.db import transaction
from app.messages import service
from tests.conftest import TokenFactory
from tests.messages.conftest import NOON, booked_place, messages


async def test_a_key_queues_one_message_however_often_it_is_asked(
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    auth: TokenFactory,
    message_settings: Settings,
) -> None:
    booking = await booked_place(committed_client, auth)
    settings = message_settings.model_copy(
        update={"notify_template_questionnaire_link_email": str(uuid.uuid4())}
    )
    referral_id = uuid.UUID(booking["referral_id"])

    async def queue(settings: Settings, kind: str = service.QUESTIONNAIRE_LINK) -> bool:
        async with transaction(committed, write=True) as session:
            return await service.queue_message(
                session,
                settings,
                kind=kind,
                key="questionnaire-link:test-1",
                referral_id=referral_id,
                personalisation={"link": "https://example.org/q/abc"},
                now=NOON,
            )

    answers = [await queue(settings), await queue(settings)]
    assert answers == [False, False]  # the person has a mobile; this kind has no text template

    settings = settings.model_copy(
        update={"notify_template_questionnaire_link_sms": str(uuid.uuid4())}
    )
    answers += [await queue(settings), await queue(settings)]
    assert answers[2:] == [True, False]
    [stored] = await messages(committed)
    assert (stored.kind, stored.channel, stored.status, stored.booking_id) == (
        "questionnaire-link",
        "sms",
        "pending",
        None,
    )
    assert stored.template_id == settings.notify_template_questionnaire_link_sms

    with pytest.raises(ValueError, match="unknown message kind"):
        await queue(settings, "newsletter")
