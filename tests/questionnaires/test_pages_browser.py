"""The questionnaire page ``/q/{token}`` in headless Chromium (issue 21 "Must show"), with
JavaScript on and off, at 320 px: the person opens their link, sends it half answered (the
problems shown), answers it, and the scores stored equal those of the same answers posted by a
link worker. Every state (the form, its problems, the thanks, a used link) has no serious or
critical axe-core violation, no sideways scroll, nothing from another host, no CSP violation.

The app runs under uvicorn on a loopback port over one SQLite database (committed); the
browser is ``tests/browser.py``'s Chromium. The link's token is minted by the code the worker
runs at a send (``questionnaires_service.link_fields``), without Notify: what is tested here is
the page (the sending is ``test_links.py``'s, on both databases).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app import migrations
from app.auth.principal import Role
from app.auth.tokens import mint_hs256
from app.config import Settings
from app.db import create_engine, create_sessionmaker, utcnow
from app.main import create_app
from app.questionnaires import service as questionnaires_service
from tests.browser import NARROW, Page, check_clean, click, launch, serving, wait_for_text
from tests.conftest import in_thread, make_settings
from tests.outcomes.conftest import PERFORMER, VALID
from tests.referrals import factories

pytestmark = pytest.mark.browser

ANSWERS = VALID["SWEMWBS"]  # each item 2: "Rarely", the second choice
THANKS = "We have your answers"


def headers(role: Role, org: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_hs256(make_settings('sqlite://'), role=role, org=org)}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('questionnaire') / 'assetlink.db'}"
    in_thread(lambda: migrations.upgrade(url))
    settings = make_settings(
        url,
        match_warmup=False,
        public_base_url="https://assetlink.example.nhs.uk",
        notify_template_questionnaire_link_sms="7b2f4e8c-3f5e-4a53-9a53-7a1f6c0e2c01",
    )
    with serving(create_app(settings)) as base:
        yield base, settings


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    with launch(tmp_path_factory.mktemp("chromium")) as page:
        yield page


def accepted(base: str) -> str:
    person = factories.patient(telecom=[{"system": "phone", "value": "07700 900463"}])
    created = httpx.post(
        f"{base}/fhir/ServiceRequest",
        json=factories.service_request(person=person),
        headers=headers(Role.REFERRER, "A81001"),
    )
    assert created.status_code == 201, created.text
    referral_id: str = created.json()["id"]
    lw = headers(Role.LINK_WORKER, PERFORMER)
    task = httpx.get(f"{base}/fhir/Task?focus={referral_id}", headers=lw).json()["entry"][0][
        "resource"
    ]
    body = {k: v for k, v in task.items() if k not in ("meta", "lastModified")}
    moved = httpx.put(
        f"{base}/fhir/Task/{task['id']}", json={**body, "status": "accepted"}, headers=lw
    )
    assert moved.status_code == 200, moved.text
    return referral_id


def link_token(base: str, settings: Settings, referral_id: str) -> str:
    """A link sent by a link worker, and the token its message would carry."""
    sent = httpx.post(
        f"{base}/api/v1/referrals/{referral_id}/questionnaire-links",
        json={"instrument": "SWEMWBS"},
        headers=headers(Role.LINK_WORKER, PERFORMER),
    )
    assert sent.status_code == 202, sent.text

    async def mint() -> str:
        engine = create_engine(settings)
        try:
            async with create_sessionmaker(engine)() as session, session.begin():
                key = questionnaires_service.link_key(uuid.UUID(sent.json()["id"]))
                fields = await questionnaires_service.link_fields(session, settings, key, utcnow())
        finally:
            await engine.dispose()
        assert fields is not None
        return fields["link"].rsplit("/", 1)[1]

    return in_thread(lambda: asyncio.run(mint()))


def scores(outcome: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(s["measure"], s["value"]) for s in outcome["scores"]]


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_a_questionnaire_answered_from_its_link_scores_as_a_link_worker(
    browser: Page, server: tuple[str, Settings], javascript: bool
) -> None:
    base, settings = server
    referral_id = accepted(base)
    token = link_token(base, settings, referral_id)
    browser.set_viewport(NARROW)
    browser.set_javascript(enabled=javascript)
    try:
        text = browser.open(f"{base}/q/{token}", until="Hello Grace")
        assert browser.status == 200
        assert "Okafor" not in text
        check_clean(browser, base, javascript=javascript)

        click(browser, "#item-1-1")  # one answer of seven: the others are missing
        click(browser, "button[type=submit]")
        text = wait_for_text(browser, "There is a problem")
        assert browser.evaluate("document.title").startswith("Error: ")
        check_clean(browser, base, javascript=javascript, status="422 (Unprocessable Entity)")

        for item, value in ANSWERS.items():
            click(browser, f"#item-{item}-{value - 1}")
        click(browser, "button[type=submit]")
        wait_for_text(browser, THANKS)
        check_clean(browser, base, javascript=javascript)

        browser.open(f"{base}/q/{token}", until="already been used")
        assert browser.status == 410
        check_clean(browser, base, javascript=javascript, status="410 (Gone)")
    finally:
        browser.set_javascript(enabled=True)

    lw = headers(Role.LINK_WORKER, PERFORMER)
    [answered] = httpx.get(f"{base}/api/v1/referrals/{referral_id}/outcomes", headers=lw).json()[
        "outcomes"
    ]
    assert (answered["source"], answered["answers"]) == ("link", ANSWERS)
    posted = httpx.post(
        f"{base}/api/v1/referrals/{accepted(base)}/outcomes",
        json={
            "instrument": "SWEMWBS",
            "timepoint": "baseline",
            "collected_at": dt.datetime.now(dt.UTC).isoformat(),
            "mode": "self",
            "answers": ANSWERS,
        },
        headers=lw,
    )
    assert posted.status_code == 201, posted.text
    assert scores(answered) == scores(posted.json())
