"""The API console works offline: /docs, opened in a real headless Chromium, renders the API
and loads nothing from another host.

The app runs under uvicorn on a free loopback port; Chromium (Debian's, installed by
``tests/setup/chromium.sh``, which ``make test`` runs) is driven through the DevTools protocol,
which records every request the page makes.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn
from websockets.sync.client import ClientConnection, connect

from app.main import create_app
from tests.conftest import make_settings

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
]
TIMEOUT_S = 20

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real app under uvicorn in a thread; its base URL. The pages read no database."""
    database = tmp_path_factory.mktemp("docs") / "assetlink.db"
    app = create_app(make_settings(f"sqlite:///{database}", match_warmup=False))
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + TIMEOUT_S
    while not uvicorn_server.started:
        assert thread.is_alive(), "uvicorn stopped"
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    uvicorn_server.should_exit = True
    thread.join(TIMEOUT_S)


class Page:
    """One browser tab over the DevTools protocol, recording the URL of every request it makes."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.requested: list[str] = []
        self.call("Network.enable")
        self.call("Page.enable")
        # Every Content-Security-Policy violation the page meets (app/ops/abuse.py), kept.
        self.call(
            "Page.addScriptToEvaluateOnNewDocument",
            source="window.cspViolations = []; document.addEventListener("
            "'securitypolicyviolation', e => window.cspViolations.push(e.violatedDirective))",
        )

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self.ids)
        self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=TIMEOUT_S))
            if message.get("method") == "Network.requestWillBeSent":
                self.requested.append(message["params"]["request"]["url"])
            elif message.get("id") == call_id:
                assert "error" not in message, message
                result: dict[str, Any] = message["result"]
                return result

    def evaluate(self, expression: str) -> Any:
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"][
            "value"
        ]

    def settle(self, quiet_s: float = 0.5) -> None:
        """Waits until the page has made no new request for ``quiet_s`` (late images, fonts)."""
        seen, quiet_since = len(self.requested), time.monotonic()
        while time.monotonic() - quiet_since < quiet_s:
            time.sleep(0.1)
            self.evaluate("1")  # reads the events that arrived meanwhile
            if len(self.requested) != seen:
                seen, quiet_since = len(self.requested), time.monotonic()

    def open(self, url: str, *, until: str) -> str:
        """Navigates to ``url`` and waits until the page's text contains ``until``."""
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            text = self.evaluate("document.body ? document.body.innerText : ''")
            if until in text:
                self.settle()
                return str(text)
            time.sleep(0.1)
        pytest.fail(
            f"{url} did not show {until!r} within {TIMEOUT_S} s; requested {self.requested}:\n"
            f"{text[:2000]}"
        )


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run tests/setup/chromium.sh (make test does)", pytrace=False
        )
    profile = tmp_path_factory.mktemp("chromium")
    browser = subprocess.Popen(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + TIMEOUT_S
        while not port_file.exists() or not port_file.read_text().strip():
            assert browser.poll() is None, "chromium exited"
            assert time.monotonic() < deadline, "chromium did not open its DevTools port"
            time.sleep(0.05)
        port = port_file.read_text().split()[0]
        targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=TIMEOUT_S).json()
        tab = next(t for t in targets if t["type"] == "page")
        with connect(tab["webSocketDebuggerUrl"], max_size=None, open_timeout=TIMEOUT_S) as ws:
            yield Page(ws)
    finally:
        browser.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            browser.wait(TIMEOUT_S)
        if browser.poll() is None:
            browser.kill()


def _foreign(requested: list[str], origin: str) -> list[str]:
    """The requests that left the service's origin (inline data: and blob: URLs stay)."""
    return [
        url
        for url in requested
        if urlsplit(url).scheme not in ("data", "blob") and not url.startswith(origin + "/")
    ]


def test_swagger_ui_renders_the_api_from_the_service_alone(server: str, page: Page) -> None:
    page.requested.clear()
    text = page.open(f"{server}/docs", until="/fhir/ServiceRequest")
    assert "Authorize" in text
    assert f"{server}/openapi.json" in page.requested
    assert f"{server}/static/docs/swagger-ui-bundle.js" in page.requested
    assert _foreign(page.requested, server) == []
    assert page.evaluate("window.cspViolations") == []


def test_redoc_is_off(server: str) -> None:
    """ReDoc's bundle loads its logo from its vendor's host: off, Swagger UI is the console."""
    assert httpx.get(f"{server}/redoc", timeout=TIMEOUT_S).status_code == 404


def test_the_oauth2_redirect_page_is_served_from_the_service(server: str, page: Page) -> None:
    page.requested.clear()
    page.call("Page.navigate", url=f"{server}/docs/oauth2-redirect")
    page.settle()
    assert page.requested[0] == f"{server}/docs/oauth2-redirect"
    assert _foreign(page.requested, server) == []


def test_the_favicon_is_the_services_own(server: str) -> None:
    response = httpx.get(f"{server}/favicon.ico", follow_redirects=True, timeout=TIMEOUT_S)
    assert response.status_code == 200
    assert response.url.path == "/static/docs/favicon.png"
    assert response.content.startswith(b"\x89PNG")
