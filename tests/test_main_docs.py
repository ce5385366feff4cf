"""The API console works offline: /docs, opened in a real headless Chromium, renders the API
and loads nothing from another host.

The app runs under uvicorn on a free loopback port; the browser is ``tests/browser.py``'s
(Debian's Chromium over the DevTools protocol), which records every request the page makes.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from app.main import create_app
from tests.browser import TIMEOUT_S, Page, launch, serving
from tests.conftest import make_settings

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app under uvicorn in a thread; its base URL. The pages read no database."""
    database = tmp_path_factory.mktemp("docs") / "assetlink.db"
    with serving(create_app(make_settings(f"sqlite:///{database}", match_warmup=False))) as url:
        yield url


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    with launch(tmp_path_factory.mktemp("chromium")) as page:
        yield page


def test_swagger_ui_renders_the_api_from_the_service_alone(server: str, page: Page) -> None:
    text = page.open(f"{server}/docs", until="/fhir/ServiceRequest")
    assert page.status == 200
    assert "Authorize" in text
    assert f"{server}/openapi.json" in page.requested
    assert f"{server}/static/docs/swagger-ui-bundle.js" in page.requested
    assert page.foreign(server) == []
    assert page.evaluate("window.cspViolations") == []


def test_redoc_is_off(server: str) -> None:
    """ReDoc's bundle loads its logo from its vendor's host: off, Swagger UI is the console."""
    assert httpx.get(f"{server}/redoc", timeout=TIMEOUT_S).status_code == 404


def test_the_oauth2_redirect_page_is_served_from_the_service(server: str, page: Page) -> None:
    page.open(f"{server}/docs/oauth2-redirect")
    assert page.requested[0] == f"{server}/docs/oauth2-redirect"
    assert page.foreign(server) == []


def test_the_favicon_is_the_services_own(server: str) -> None:
    response = httpx.get(f"{server}/favicon.ico", follow_redirects=True, timeout=TIMEOUT_S)
    assert response.status_code == 200
    assert response.url.path == "/static/docs/favicon.png"
    assert response.content.startswith(b"\x89PNG")
