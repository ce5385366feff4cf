"""The ``/refer`` page over HTTP: the form and its CSRF token, the problems shown inline with a
summary, the confirmation that shows only a reference, the honeypot, the rate limit page."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.main import create_app
from app.person import forms
from app.referrals.models import Referral
from tests.conftest import FhirCapture, _client, make_settings

FORM = "application/x-www-form-urlencoded"


def form_fields(**overrides: Any) -> dict[str, Any]:
    born = dt.date.today().year - 40
    fields: dict[str, Any] = {
        "given_name": "Tomasz",
        "family_name": "Nowak",
        "birth_day": "3",
        "birth_month": "11",
        "birth_year": str(born),
        "postcode": "LS6 2QF",
        "mobile": "",
        "email": "tomasz@example.com",
        "about": "I lost my wife last year and I am on my own most days",
        "available_days": ["mon", "wed"],
        "interests": ["music-singing"],
        "attendance_mode": "in-person",
        "max_travel_km": "5",
        "language": "pl",
        "gp_practice": "B86001",
        "nhs_number": "",
        "consent": "yes",
        "website": "",
    }
    fields.update(overrides)
    return fields


async def open_form(client: httpx.AsyncClient) -> str:
    page = await client.get("/refer")
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    assert client.cookies.get(forms.CSRF_COOKIE) == token.group(1)
    return token.group(1)


async def post(client: httpx.AsyncClient, token: str | None, **overrides: Any) -> httpx.Response:
    fields = form_fields(**overrides)
    if token is not None:
        fields["csrf_token"] = token
    return await client.post("/refer", data=fields)


async def _referrals(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Referral)) or 0)


async def test_the_form_page_is_html_with_a_token_and_no_script(client: httpx.AsyncClient) -> None:
    page = await client.get("/refer")
    assert page.headers["content-type"].startswith("text/html")
    assert "<script" not in page.text
    assert "script-src" not in page.headers["content-security-policy"]
    assert "form-action 'self'" in page.headers["content-security-policy"]
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/refer" in cookie
    assert '<link rel="stylesheet" href="/static/person/person.css">' in page.text
    css = await client.get("/static/person/person.css")
    assert css.status_code == 200
    assert "cache-control" not in css.headers
    metrics = (await client.get("/metrics")).text
    assert 'route="/static/person/{path}",status="200"' in metrics


async def test_a_valid_form_shows_only_a_reference_and_what_happens_next(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await open_form(client)
    done = await post(client, token)
    assert done.status_code == 200, done.text
    reference = re.search(r'class="reference">([A-Z2-9]{5}-[A-Z2-9]{5})<', done.text)
    assert reference is not None
    for detail in ("Tomasz", "Nowak", "LS6", "tomasz@", "wife", "B86001"):
        assert detail not in done.text
    assert await _referrals(session) == 1
    stored = (await session.scalars(select(Referral))).one()
    assert stored.requester_ods == "self"
    assert stored.preferences["available_days"] == ["mon", "wed"]


async def test_problems_are_shown_inline_with_a_summary_and_nothing_is_stored(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await open_form(client)
    page = await post(
        client,
        token,
        given_name="",
        birth_day="31",
        birth_month="2",
        email="",
        nhs_number="1234567890",
        consent="",
        about="x" * 2001,
    )
    assert page.status_code == 422
    assert page.text.count('class="error-summary"') == 1
    assert "<title>Error: " in page.text
    for anchor in ("given_name", "birth_day", "mobile", "nhs_number", "consent", "about"):
        assert f'href="#{anchor}"' in page.text, anchor
    for field in ("given_name", "birth_date", "contact", "nhs_number", "consent", "about"):
        assert f'id="{field}-error"' in page.text, field
    assert 'value="Nowak"' in page.text  # what was typed is kept
    assert await _referrals(session) == 0


@pytest.mark.parametrize(
    ("token", "headers"),
    [
        (None, {}),
        ("forged", {}),
        ("cookie", {"origin": "https://evil.example"}),
    ],
)
async def test_a_post_without_the_token_or_from_another_site_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, token: str | None, headers: dict[str, str]
) -> None:
    real = await open_form(client)
    fields = form_fields()
    if token is not None:
        fields["csrf_token"] = real if token == "cookie" else token
    refused = await client.post("/refer", data=fields, headers=headers)
    assert refused.status_code == 403
    assert "timed out" in refused.text
    assert await _referrals(session) == 0


async def test_a_post_from_the_same_site_is_accepted(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await open_form(client)
    fields = form_fields(csrf_token=token)
    done = await client.post("/refer", data=fields, headers={"origin": "http://testserver"})
    assert done.status_code == 200
    assert await _referrals(session) == 1


async def test_a_filled_honeypot_shows_a_confirmation_and_stores_nothing(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    token = await open_form(client)
    done = await post(client, token, website="buy now")
    assert done.status_code == 200
    assert 'class="reference"' in done.text
    assert await _referrals(session) == 0


async def test_other_media_types_are_still_refused(client: httpx.AsyncClient) -> None:
    answer = await client.post("/refer", content=b"<x/>", headers={"content-type": "text/xml"})
    assert answer.status_code == 415


@pytest.fixture
async def limited(
    database_url: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    application = create_app(make_settings(database_url, self_referral_per_hour=1))
    application.state.sessionmaker = sessionmaker
    async with _client(application, FhirCapture()) as http:
        yield http
    await application.state.engine.dispose()


async def test_the_rate_limit_answers_with_a_page(limited: httpx.AsyncClient) -> None:
    token = await open_form(limited)
    assert (await post(limited, token)).status_code == 200
    refused = await post(limited, token, given_name="Again")
    assert refused.status_code == 429
    assert "Too many requests" in refused.text
    assert refused.headers["retry-after"]
