"""The ``/refer`` page in headless Chromium (issue 21 "Must show"), with JavaScript on and off:
a person fills the form and sends it, and the link worker of the service their postcode routes
to finds it in their caseload marked as a self-referral. Every state of the page (empty, with
problems, the confirmation) has no serious or critical axe-core violation, fits 320 px without
scrolling sideways, loads nothing from another host and meets no CSP violation.

The app runs under uvicorn on a loopback port over one SQLite database (committed), with a
postcode route LS6 -> RLS06; the browser is ``tests/browser.py``'s Chromium. One database: the
pages are the same whatever the database (the API tests run on both).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest

from app import migrations
from app.auth.principal import Role
from app.auth.tokens import mint_hs256
from app.main import create_app
from tests.browser import (
    DESKTOP,
    NARROW,
    PHONE,
    TIMEOUT_S,
    Page,
    check_clean,
    click,
    launch,
    serving,
    wait_for_text,
)
from tests.conftest import in_thread, make_settings

pytestmark = pytest.mark.browser

ROUTED = "RLS06"
DONE = "We have your request"
PROBLEM = "There is a problem"


def token(role: Role, org: str) -> str:
    return mint_hs256(make_settings("sqlite://"), role=role, org=org)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app under uvicorn in a thread, with a postcode route; its base URL."""
    url = f"sqlite:///{tmp_path_factory.mktemp('refer') / 'assetlink.db'}"
    in_thread(lambda: migrations.upgrade(url))
    with serving(create_app(make_settings(url, match_warmup=False))) as base:
        admin = {"Authorization": f"Bearer {token(Role.ADMIN, 'X26')}"}
        route = httpx.put(
            f"{base}/api/v1/routing/postcodes/LS6", json={"performer_ods": ROUTED}, headers=admin
        )
        assert route.status_code == 201, route.text
        yield base


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    with launch(tmp_path_factory.mktemp("chromium")) as page:
        yield page


@pytest.fixture
def page(browser: Page) -> Iterator[Page]:
    yield browser
    browser.set_viewport(PHONE)
    browser.set_javascript(enabled=True)


def type_into(page: Page, element_id: str, words: str) -> None:
    """Types ``words`` into a field as a keyboard would (no script of the page involved)."""
    page.evaluate(f"document.getElementById({element_id!r}).focus()")
    page.call("Input.insertText", text=words)


def fill(page: Page, given_name: str, *, with_problems: bool = False) -> None:
    born = dt.date.today().year - (15 if with_problems else 52)
    type_into(page, "given_name", given_name)
    type_into(page, "family_name", "Okonjo")
    for part, value in (("day", "9"), ("month", "4"), ("year", str(born))):
        type_into(page, f"birth_{part}", value)
    type_into(page, "postcode", "ls6 1an")
    type_into(page, "mobile", "07700 900 123")
    type_into(page, "about", "My husband died in the spring and the days are long")
    for selector in ("#interests-gardening", "#available_days-tue", "#attendance_mode-in-person"):
        click(page, selector)
    if not with_problems:
        click(page, "#consent")


def caseload(server: str) -> list[dict[str, object]]:
    worker = {"Authorization": f"Bearer {token(Role.LINK_WORKER, ROUTED)}"}
    answer = httpx.get(f"{server}/api/v1/caseload", headers=worker, timeout=TIMEOUT_S)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, object]] = answer.json()["items"]
    return items


@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_a_person_refers_themselves_and_the_link_worker_sees_it(
    page: Page, server: str, javascript: bool
) -> None:
    page.set_viewport(NARROW)
    page.set_javascript(enabled=javascript)
    name = f"Ngozi{'Js' if javascript else 'NoJs'}"
    text = page.open(f"{server}/refer", until="Ask for support")
    assert page.status == 200
    check_clean(page, server, javascript=javascript)  # the empty form

    fill(page, name, with_problems=True)
    click(page, "button[type=submit]")
    text = wait_for_text(page, PROBLEM)
    assert "You need to be 16 or older to use this form" in text
    assert "Tick the box to say you agree" in text
    assert page.evaluate("document.title").startswith("Error: ")
    # with its problems: 422
    check_clean(page, server, status="422 (Unprocessable Entity)", javascript=javascript)

    page.evaluate("document.getElementById('birth_year').value = ''")
    type_into(page, "birth_year", str(dt.date.today().year - 52))
    click(page, "#consent")
    click(page, "button[type=submit]")
    text = wait_for_text(page, DONE)
    reference = page.evaluate("document.querySelector('.reference').textContent")
    assert len(reference) == 11
    assert name not in text
    assert "Okonjo" not in text
    check_clean(page, server, javascript=javascript)  # the confirmation

    [case] = [c for c in caseload(server) if name in str(c["person"])]
    assert case["route"] == "self"
    assert case["task_status"] == "requested"
    assert "bereavement" in str(case["needs"])


def test_the_page_works_at_desktop_width_too(page: Page, server: str) -> None:
    page.set_viewport(DESKTOP)
    page.open(f"{server}/refer", until="Ask for support")
    check_clean(page, server)


def test_another_service_does_not_see_them(server: str) -> None:
    other = {"Authorization": f"Bearer {token(Role.LINK_WORKER, 'Y02718')}"}
    answer = httpx.get(f"{server}/api/v1/caseload", headers=other, timeout=TIMEOUT_S)
    assert all(item["route"] != "self" for item in answer.json()["items"])
