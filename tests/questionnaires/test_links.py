"""Questionnaires from a link, end to end: a link worker sends it, the worker texts it through
Notify, the person answers it on /q/{token}; scored as a link worker's record; single use,
expiry, guesses, CSRF."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from typing import Any

import httpx
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit.models import AuditEvent
from app.auth.principal import Role
from app.questionnaires.models import QuestionnaireLinkToken
from app.questionnaires.tokens import token_hash
from tests.conftest import TokenFactory
from tests.messages.notify_fake import NotifyFake
from tests.outcomes.conftest import VALID
from tests.questionnaires.conftest import (
    GUESSES,
    MOBILE,
    SMS_LINK,
    Send,
    accepted_person,
    links,
    open_page,
    records,
    set_link,
    task_of,
)

FORM = {k: str(v) for k, v in VALID["SWEMWBS"].items()}


async def answer(client: httpx.AsyncClient, token: str, form: dict[str, str]) -> httpx.Response:
    page, csrf = await open_page(client, token)
    assert page.status_code == 200, page.text
    return await client.post(f"/q/{token}", data={**form, "csrf_token": csrf})


def _scores(outcome: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (s["measure"], s["value"], s["band"], s["category"], s["lonely"]) for s in outcome["scores"]
    ]


async def test_a_link_answered_is_scored_and_moves_the_task_as_a_link_workers_record(
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    auth: TokenFactory,
    lw: dict[str, str],
    fake: NotifyFake,
    send: Send,
) -> None:
    referral_id, token = await send()
    [sent] = fake.sent
    assert (sent.type, sent.to, sent.template_id) == ("sms", MOBILE, SMS_LINK)
    assert sent.personalisation["first_name"] == "Grace"

    page, _ = await open_page(committed_client, token)
    assert "Hello Grace" in page.text
    assert "Okafor" not in page.text
    assert "short versions of the questions" in page.text  # SWEMWBS wording is licensed
    assert '<link rel="stylesheet" href="/static/person/person.css">' in page.text  # /refer's
    assert "script-src" not in page.headers["content-security-policy"]  # /refer's policy
    assert "form-action 'self'" in page.headers["content-security-policy"]
    done = await answer(committed_client, token, FORM)
    assert done.status_code == 200
    assert "We have your answers" in done.text

    # the same answers, posted by a link worker for another person
    other = await accepted_person(committed_client, auth)
    posted = await committed_client.post(
        f"/api/v1/referrals/{other.referral_id}/outcomes",
        json={
            "instrument": "SWEMWBS",
            "timepoint": "baseline",
            "collected_at": dt.datetime.now(dt.UTC).isoformat(),
            "mode": "self",
            "answers": VALID["SWEMWBS"],
        },
        headers=lw,
    )
    assert posted.status_code == 201, posted.text
    listed = await committed_client.get(f"/api/v1/referrals/{referral_id}/outcomes", headers=lw)
    [from_link] = listed.json()["outcomes"]
    assert (from_link["source"], from_link["timepoint"], from_link["mode"]) == (
        "link",
        "baseline",
        "self",
    )
    assert from_link["recorded_by"] == "self"
    assert _scores(from_link) == _scores(posted.json())
    assert [s["value"] for s in from_link["scores"] if s["measure"] == "metric"] == [15.32]
    mine, theirs = (
        await task_of(committed_client, lw, referral_id),
        await task_of(committed_client, lw, other.referral_id),
    )
    assert (mine["status"], mine.get("businessStatus")) == (
        theirs["status"],
        theirs.get("businessStatus"),
    )
    assert mine.get("businessStatus") is not None  # the baseline moved it on
    [link] = await links(committed)
    assert link.used_at is not None
    assert link.record_id is not None
    async with committed() as session:
        trail = (
            await session.execute(
                select(
                    AuditEvent.operation,
                    AuditEvent.entity_type,
                    AuditEvent.actor_role,
                    AuditEvent.actor_org,
                ).where(AuditEvent.actor_sub == "self")
            )
        ).all()
    assert {tuple(t) for t in trail} == {  # the person, as on /refer: role and org self
        ("read", "QuestionnaireLink", "self", "self"),
        ("create", "OutcomeRecord", "self", "self"),
        ("update", "Task", "self", "self"),
    }


async def test_no_token_is_stored_anywhere(
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    send: Send,
) -> None:
    _, token = await send()
    async with committed() as session:
        hashes = list(await session.scalars(select(QuestionnaireLinkToken.token_hash)))
        rows = [
            str(r)
            for table in (
                "message",
                "questionnaire_link",
                "questionnaire_link_token",
                "audit_event",
            )
            for r in (await session.execute(text(f"SELECT * FROM {table}"))).all()  # noqa: S608
        ]
    assert hashes == [token_hash(token)]
    assert not any(token in row for row in rows)
    assert len(token) == 43  # 32 bytes from secrets: 256 bits


async def test_a_link_used_twice_is_gone_and_changes_nothing(
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    send: Send,
) -> None:
    _, token = await send()
    _page, csrf = await open_page(committed_client, token)
    first = await committed_client.post(f"/q/{token}", data={**FORM, "csrf_token": csrf})
    assert first.status_code == 200
    again = await committed_client.post(f"/q/{token}", data={**FORM, "1": "5", "csrf_token": csrf})
    assert again.status_code == 410
    assert "already been used" in again.text
    assert (await committed_client.get(f"/q/{token}")).status_code == 410
    [record] = await records(committed)
    assert record.answers["1"] == 2


async def test_an_expired_link_is_gone_kindly(
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    send: Send,
) -> None:
    _, token = await send()
    _page, csrf = await open_page(committed_client, token)
    [link] = await links(committed)
    await set_link(committed, link.id, expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))

    gone = await committed_client.get(f"/q/{token}")
    assert gone.status_code == 410
    assert "has expired" in gone.text
    assert "14 days" in gone.text
    assert "Grace" not in gone.text
    posted = await committed_client.post(f"/q/{token}", data={**FORM, "csrf_token": csrf})
    assert posted.status_code == 410
    assert await records(committed) == []


async def test_guessed_links_are_not_found_then_refused(
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    send: Send,
) -> None:
    _, token = await send()
    answers = [
        await committed_client.get(f"/q/{secrets.token_urlsafe(32)}") for _ in range(GUESSES)
    ]
    assert [a.status_code for a in answers] == [404] * GUESSES
    assert "We cannot find this page" in answers[0].text
    assert "Grace" not in answers[0].text
    refused = await committed_client.get(f"/q/{token}")  # even the real one, from this address
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert "Grace" not in refused.text


async def test_a_post_without_the_forms_token_or_from_another_site_stores_nothing(
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    send: Send,
) -> None:
    _, token = await send()
    _page, csrf = await open_page(committed_client, token)
    forged = await committed_client.post(f"/q/{token}", data={**FORM, "csrf_token": "forged"})
    assert forged.status_code == 400
    assert "timed out" in forged.text
    other_site = await committed_client.post(
        f"/q/{token}", data={**FORM, "csrf_token": csrf}, headers={"origin": "https://evil.example"}
    )
    assert other_site.status_code == 403
    missing = await committed_client.post(f"/q/{token}", data={"1": "3", "csrf_token": csrf})
    assert missing.status_code == 422
    assert "There is a problem" in missing.text
    assert await records(committed) == []
    assert (await committed_client.get(f"/q/{token}")).status_code == 200  # still open


async def test_a_link_needs_a_person_who_can_be_reached_and_an_accepted_referral(
    committed_client: httpx.AsyncClient,
    auth: TokenFactory,
    lw: dict[str, str],
) -> None:
    landline = [{"system": "phone", "value": "020 7946 0000"}]
    person = await accepted_person(committed_client, auth, telecom=landline)
    path = f"/api/v1/referrals/{person.referral_id}/questionnaire-links"
    unreachable = await committed_client.post(path, json={"instrument": "UCLA3"}, headers=lw)
    assert unreachable.status_code == 422, unreachable.text
    unknown = await committed_client.post(path, json={"instrument": "PHQ9"}, headers=lw)
    assert unknown.status_code == 422
    elsewhere = await committed_client.post(
        path,
        json={"instrument": "UCLA3"},
        headers=auth(Role.LINK_WORKER, "Y99999"),
    )
    assert elsewhere.status_code == 404


async def test_two_answers_at_once_store_one(
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    send: Send,
) -> None:
    _, token = await send()
    _, csrf = await open_page(committed_client, token)
    first, second = await asyncio.gather(
        committed_client.post(f"/q/{token}", data={**FORM, "csrf_token": csrf}),
        committed_client.post(f"/q/{token}", data={**FORM, "csrf_token": csrf}),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 410]
    assert len(await records(committed)) == 1
