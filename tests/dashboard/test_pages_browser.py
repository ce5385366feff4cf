"""The dashboard in a real browser (issue 18 "Must show"): each page, at desktop and phone width,
as a commissioner sees it over the report tests' seeded population — charts with their tables,
suppressed cells named and explained, no console error, no request to another host, no serious
axe-core violation — and refused to a provider or a referrer; signing in, the filters in the
URL, the CSV download, the pages without JavaScript behind a proxy, and the keyboard.

The app runs under uvicorn on a loopback port over one SQLite database, seeded once (committed)
by ``tests/reporting/population.py``; the browser is ``tests/browser.py``'s Chromium. One
database only: the pages' HTML comes from the same code whatever the database, and the figures
in it are the report API's on both backends (``test_views.py`` compares every cell on SQLite
and PostgreSQL); what is tested here is what the browser does with the pages.
"""

from __future__ import annotations

import asyncio
import csv
import io
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from app import migrations
from app.auth.principal import Role
from app.auth.tokens import mint_hs256
from app.dashboard.views import PAGES
from app.db import create_engine
from app.main import create_app
from tests.browser import (
    DESKTOP,
    PHONE,
    TIMEOUT_S,
    BrowserError,
    Page,
    Viewport,
    axe,
    launch,
    serving,
)
from tests.conftest import in_thread, make_settings
from tests.reporting import population

pytestmark = pytest.mark.browser

KEY = "assetlink.token"
NO_FIGURE = "\N{EN DASH}"  # a figure that does not exist (labels.number(None))
REFERRALS = 120  # enough for published figures on every page, and some suppressed
WINDOW = {"from": population.FROM.isoformat(), "to": population.AS_OF.isoformat()}
SIGN_IN = "Sign in to see the figures."
FORBIDDEN = "This dashboard is for commissioners: your role cannot read the reports."
PANEL_LOADED = "document.querySelector('#panel section') !== null"
MESSAGE_SHOWN = (
    "(document.querySelector('#panel .status')?.textContent ?? '').startsWith('Loading') === false"
)


def token(role: Role, org: str) -> str:
    return mint_hs256(make_settings("sqlite://"), role=role, org=org)


async def _seed(url: str) -> None:
    engine = create_engine(make_settings(url))
    async with async_sessionmaker(engine, expire_on_commit=False)() as session:
        await population.seed(session, referrals=REFERRALS)
        await session.commit()
    await engine.dispose()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app under uvicorn in a thread over the seeded population; its base URL."""
    url = f"sqlite:///{tmp_path_factory.mktemp('dashboard') / 'assetlink.db'}"
    in_thread(lambda: migrations.upgrade(url))
    in_thread(lambda: asyncio.run(_seed(url)))
    with serving(create_app(make_settings(url, match_warmup=False))) as base:
        yield base


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    with launch(tmp_path_factory.mktemp("chromium")) as page:
        page.call("Emulation.setFocusEmulationEnabled", enabled=True)  # keyboard focus shows
        yield page


@pytest.fixture
def page(browser: Page, server: str) -> Iterator[Page]:
    """The module's tab, left as each test found it: desktop, scripts on, no token, no header."""
    yield browser
    browser.set_viewport(DESKTOP)
    browser.set_javascript(enabled=True)
    browser.call("Network.setExtraHTTPHeaders", headers={})
    browser.set_session_storage(server, {})
    browser.open(f"{server}/livez")  # a document of the origin, to forget its storage
    browser.evaluate("sessionStorage.clear()")


def signed_in(page: Page, server: str, role: Role = Role.COMMISSIONER, org: str = "15N") -> str:
    bearer = token(role, org)
    page.set_session_storage(server, {KEY: bearer})
    return bearer


def wait_for(page: Page, expression: str) -> None:
    """Waits until ``expression`` is true in the page (through a navigation), then for the
    network to be idle."""
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        try:
            if page.evaluate(expression):
                break
        except BrowserError:  # the document is being replaced
            pass
        if time.monotonic() > deadline:
            raise BrowserError(f"{expression} was still false after {TIMEOUT_S} s")
        time.sleep(0.05)
    page.settle()


def url(server: str, slug: str, **params: str) -> str:
    return f"{server}/dashboard/{slug}?{urllib.parse.urlencode(WINDOW | params)}"


def check_clean(page: Page, server: str, *, refused: int | None = None) -> None:
    """No error, no request to another host, no CSP violation; with ``refused``, only
    Chromium's own log line for the panel request the service refused with that status."""
    expected = []
    if refused is not None:
        (request,) = [u for u in page.requested if "/panel" in u]
        expected = [
            f"network: Failed to load resource: the server responded with a status of {refused} "
            f"({'Unauthorized' if refused == 401 else 'Forbidden'}) {request}"
        ]
    assert page.errors == expected
    assert page.foreign(server) == []
    assert page.evaluate("window.cspViolations") == []


FIGURES = """(() => {
  const panel = document.getElementById('panel');
  const charts = [...panel.querySelectorAll('svg[role=img]')].map(svg => ({
    title: svg.querySelector('title')?.textContent ?? '',
    tables: svg.closest('.exhibit')?.querySelectorAll('table caption').length ?? 0,
    width: svg.getBoundingClientRect().width,
  }));
  const suppressed = [...panel.querySelectorAll('td.suppressed')].map(td => {
    const note = document.getElementById(td.getAttribute('aria-describedby'));
    return {
      text: td.textContent.trim(),
      note: note ? note.textContent : null,
      noteShown: note ? note.getClientRects().length > 0 : false,
    };
  });
  return {
    charts,
    suppressed,
    published: [...panel.querySelectorAll('td[data-figure]:not(.suppressed)')].length,
    tables: panel.querySelectorAll('table').length,
    overflow: document.documentElement.scrollWidth - window.innerWidth,
  };
})()"""


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=lambda v: v.name)
@pytest.mark.parametrize("slug", list(PAGES))
def test_each_page_shows_its_figures_charts_and_suppression_accessibly(
    page: Page, server: str, slug: str, viewport: Viewport
) -> None:
    signed_in(page, server)
    page.set_viewport(viewport)
    text = page.open(url(server, slug), until="About these figures")
    assert page.status == 200
    check_clean(page, server)
    shown = page.evaluate(FIGURES)
    assert shown["charts"], "no chart"
    for chart in shown["charts"]:
        assert chart["title"], chart
        assert chart["tables"] == 1, chart  # every chart has its table beside it
        assert 0 < chart["width"] <= viewport.width, chart
    assert shown["tables"] >= len(shown["charts"])
    assert shown["published"] > 0
    assert shown["suppressed"], "the seeded population has hidden cells on every page"
    for cell in shown["suppressed"]:
        assert cell["text"] == "suppressed"
        assert cell["noteShown"]
        assert "the next smallest is suppressed too" in cell["note"]
    assert "Referrals made from 1 Jul 2025 to 30 Jun 2026." in text
    assert shown["overflow"] <= 0, "the page scrolls sideways"  # tables scroll, not the page
    assert axe(page) == []


@pytest.mark.parametrize("role", [Role.PROVIDER, Role.REFERRER])
def test_a_provider_or_referrer_token_is_refused(page: Page, server: str, role: Role) -> None:
    signed_in(page, server, role, "A81001")
    for slug in PAGES:
        text = page.open(url(server, slug), until=FORBIDDEN)
        check_clean(page, server, refused=403)
        assert page.evaluate("document.querySelectorAll('#panel td, #panel svg').length") == 0
        assert "Referrals made from" not in text
        assert page.evaluate(f"sessionStorage.getItem({KEY!r})") is not None  # kept: not expired


def test_without_a_token_the_page_links_to_sign_in(page: Page, server: str) -> None:
    text = page.open(url(server, "overview"), until=SIGN_IN)
    check_clean(page, server)
    assert page.evaluate("document.querySelector('#panel a').getAttribute('href')") == (
        "/dashboard/sign-in"
    )
    assert not any("/panel" in u for u in page.requested)  # nothing asked without a token
    assert "Referrals made from" not in text


def test_a_token_not_accepted_is_forgotten(page: Page, server: str) -> None:
    page.set_session_storage(server, {KEY: "not-a-token"})
    page.open(url(server, "overview"), until="Your sign-in was not accepted or has expired.")
    check_clean(page, server, refused=401)
    assert page.evaluate(f"sessionStorage.getItem({KEY!r})") is None
    assert page.evaluate("document.querySelectorAll('#panel td').length") == 0


def _key(page: Page, key: str, code: int, text: str = "") -> None:
    for kind in ("keyDown", "keyUp"):
        page.call(
            "Input.dispatchKeyEvent",
            type=kind,
            key=key,
            code=key,
            windowsVirtualKeyCode=code,
            **({"text": text} if text and kind == "keyDown" else {}),
        )


def test_signing_in_keeps_the_token_in_session_storage_only(page: Page, server: str) -> None:
    bearer = token(Role.COMMISSIONER, "15N")
    page.open(f"{server}/dashboard/sign-in")
    page.evaluate("document.getElementById('token').focus()")
    page.call("Input.insertText", text=bearer)
    _key(page, "Enter", 13, "\r")  # the form submitted as a person would
    wait_for(page, f"location.pathname === '/dashboard/overview' && {PANEL_LOADED}")
    check_clean(page, server)
    assert page.evaluate(f"sessionStorage.getItem({KEY!r})") == bearer
    assert page.evaluate("localStorage.length") == 0
    assert page.evaluate("document.cookie") == ""
    assert page.call("Network.getCookies")["cookies"] == []
    assert page.evaluate("location.href") == f"{server}/dashboard/overview"
    assert not any(bearer in u for u in page.requested)
    assert page.evaluate("document.getElementById('sign-in-link').hidden") is True
    # signing out forgets it
    page.evaluate("document.getElementById('sign-out').click()")
    wait_for(page, "location.pathname === '/dashboard/sign-in'")
    assert page.evaluate(f"sessionStorage.getItem({KEY!r})") is None


def _panel(page: Page) -> list[str]:
    return list(
        page.evaluate("[...document.querySelectorAll('#panel td')].map(c => c.textContent)")
    )


def test_filters_change_the_url_and_the_figures_and_the_url_gives_the_same_view(
    page: Page, server: str
) -> None:
    signed_in(page, server)
    page.open(url(server, "outcomes"), until="About these figures")
    before = _panel(page)
    page.evaluate(
        "document.getElementById('from').value = '2026-01-01';"
        "document.getElementById('by').value = 'need';"
        "document.querySelector('form.filters button[type=submit]').click()"
    )
    wait_for(page, f"location.search.includes('by=need') && {PANEL_LOADED}")
    check_clean(page, server)
    address = page.evaluate("location.href")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(address).query)
    assert query == {"from": ["2026-01-01"], "to": [WINDOW["to"]], "by": ["need"]}
    after = _panel(page)
    assert after != before
    assert "Referrals made from 1 Jan 2026 to 30 Jun 2026." in page.evaluate(
        "document.body.innerText"
    )
    assert page.evaluate("document.getElementById('by').value") == "need"
    # bookmarked: the address alone, opened afresh, is the same view
    page.open("about:blank")
    page.open(address, until="About these figures")
    assert _panel(page) == after
    assert page.evaluate("document.getElementById('from').value") == "2026-01-01"


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def test_the_csv_button_downloads_the_figures_shown(
    page: Page, server: str, tmp_path: Path
) -> None:
    bearer = signed_in(page, server)
    page.call("Page.setDownloadBehavior", behavior="allow", downloadPath=str(tmp_path))
    page.open(url(server, "outcomes", by="sex"), until="About these figures")
    sections = page.evaluate(
        """[...document.querySelectorAll('#panel section')].map(s => ({
          csv: s.querySelector('button.csv').dataset.csv,
          filename: s.querySelector('button.csv').dataset.filename,
          cells: [...s.querySelectorAll('td[data-figure]')].map(td => ({
            table: [td.closest('table').dataset.instrument ?? '',
                    td.closest('table').dataset.measure ?? ''],
            key: td.dataset.key, figure: td.dataset.figure, text: td.textContent,
          })),
        }))"""
    )
    assert len(sections) == 3  # by quarter, by sex, and paired completion by route
    for n, section in enumerate(sections):
        page.evaluate(f"document.querySelectorAll('#panel button.csv')[{n}].click()")
        saved = tmp_path / section["filename"]
        wait_for(
            page,
            f"document.querySelectorAll('.download-status')[{n}]?.textContent === ' Downloaded.'",
        )
        deadline = time.monotonic() + TIMEOUT_S
        while not saved.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        api = httpx.get(
            server + section["csv"],
            headers={"Authorization": f"Bearer {bearer}", "Accept": "text/csv"},
            timeout=TIMEOUT_S,
        )
        assert saved.read_bytes() == api.content  # the report API's CSV, as it answered
        rows = list(csv.DictReader(io.StringIO(api.text)))
        group_by = urllib.parse.parse_qs(urllib.parse.urlsplit(section["csv"]).query)["group_by"]
        by_key = {
            (r.get("instrument", ""), r.get("measure", ""), "|".join(r[d] for d in group_by)): r
            for r in rows
        }
        for cell in section["cells"]:
            row = by_key[(*cell["table"], cell["key"])]
            if cell["text"] == "suppressed":
                assert row[cell["figure"]] == ""
                assert cell["figure"] in row["suppressed"].split()
            elif cell["text"] == NO_FIGURE:
                assert row[cell["figure"]] == ""
            else:
                assert _number(row[cell["figure"]]) == _number(cell["text"]), cell
    check_clean(page, server)


def test_without_javascript_a_proxys_authorization_header_gets_the_figures_inline(
    page: Page, server: str
) -> None:
    page.set_javascript(enabled=False)
    headers = {"Authorization": f"Bearer {token(Role.COMMISSIONER, '15N')}"}
    page.call("Network.setExtraHTTPHeaders", headers=headers)
    for slug in PAGES:
        text = page.open(url(server, slug))
        assert page.status == 200
        check_clean(page, server)
        assert "Referrals made from 1 Jul 2025 to 30 Jun 2026." in text
        assert page.evaluate("document.querySelectorAll('#panel svg[role=img]').length") > 0
        assert page.evaluate("document.querySelectorAll('#panel td.suppressed').length") > 0
        assert not any("/panel" in u for u in page.requested)  # in the page itself
    headers = {"Authorization": f"Bearer {token(Role.PROVIDER, 'A81001')}"}
    page.call("Network.setExtraHTTPHeaders", headers=headers)
    text = page.open(url(server, "equity"))
    assert page.status == 403
    assert FORBIDDEN in text
    assert page.evaluate("document.querySelectorAll('#panel td').length") == 0


TAB_STOPS = """(() => {
  const stops = [...document.querySelectorAll(
    'a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"])'
  )].filter(el => !el.disabled && el.getClientRects().length > 0);
  stops.forEach((el, k) => el.dataset.stop = String(k));
  return stops.map(el => el.id || el.textContent.trim().slice(0, 40) || el.tagName);
})()"""
FOCUSED = """(() => {
  const el = document.activeElement;
  return [el.dataset.stop ?? null, el.matches(':focus'), getComputedStyle(el).outlineStyle];
})()"""


def test_the_keyboard_reaches_the_skip_link_first_then_every_control(
    page: Page, server: str
) -> None:
    signed_in(page, server)
    page.open(url(server, "outcomes", by="age_band"), until="About these figures")
    stops = page.evaluate(TAB_STOPS)
    assert len(stops) > 10
    reached: list[int] = []
    # a date field takes several presses (day, month, year, its calendar button)
    for _ in range(4 * len(stops)):
        _key(page, "Tab", 9)
        stop, itself, outline = page.evaluate(FOCUSED)
        assert stop is not None, f"Tab went to something that is not a control after {reached}"
        if itself:  # not a part of a date field, which Chromium rings itself
            assert outline == "solid", stops[int(stop)]  # focus is visible (dashboard.css)
        if not reached or reached[-1] != int(stop):
            reached.append(int(stop))
        if int(stop) == len(stops) - 1:
            break
    assert reached == list(range(len(stops)))  # in the order of the page, each once
    assert page.evaluate("document.querySelector('[data-stop=\"0\"]').className") == "skip"
    # the skip link takes the keyboard to the page's content
    page.evaluate("document.querySelector('a.skip').focus()")
    _key(page, "Enter", 13, "\r")
    wait_for(page, "document.activeElement.id === 'main'")
    assert page.evaluate("location.hash") == "#main"
