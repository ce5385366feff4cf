"""A real browser for the tests and for ``tools/screenshots.py``: Debian's Chromium (installed by
``tests/setup/chromium.sh``, which ``make test`` runs), headless with a profile of its own,
driven through the DevTools protocol over one WebSocket.

A ``Page`` records what a test asks about a page: the URL of every request (to show that
nothing left the service's host), the console errors and uncaught exceptions, and the
Content-Security-Policy violations. It sets the viewport, storage before load, and JavaScript
on or off, and takes full-page PNG screenshots. ``axe(page)`` runs axe-core (pinned by
``tests/accessibility/package-lock.json``), injected through the protocol, never from a host.
Start one browser per test module: each launch costs about a second.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import itertools
import json
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import uvicorn
from websockets.sync.client import ClientConnection, connect

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
    "--hide-scrollbars",
    "--remote-debugging-port=0",
]
TIMEOUT_S = 20
AXE_PATH = Path(__file__).resolve().parent / "accessibility" / "axe-path"
# WCAG 2.2 AA as axe-core tags its rules; only these impacts fail a check.
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")
AXE_IMPACTS = ("serious", "critical")


class BrowserError(AssertionError):
    """The browser could not do what was asked (an AssertionError, so a test reads it so)."""


@dataclass(frozen=True)
class Viewport:
    name: str
    width: int
    height: int
    mobile: bool


DESKTOP = Viewport("desktop", 1280, 900, mobile=False)
PHONE = Viewport("phone", 375, 812, mobile=True)


class Page:
    """One browser tab. Events are read while a call waits for its answer, so ``requested``,
    ``errors`` and the in-flight requests are current after every call."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.requested: list[str] = []
        self.errors: list[str] = []
        self.status: int | None = None  # of the document ``open`` loaded last
        self._in_flight: set[str] = set()
        self._document_status: dict[str, int] = {}
        self._last_request_at = time.monotonic()
        self._loaded = False
        self._storage_script: str | None = None
        for domain in ("Network", "Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")
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
            if message.get("id") == call_id:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                result: dict[str, Any] = message["result"]
                return result
            self._event(message.get("method"), message.get("params", {}))

    def _event(self, method: str | None, params: dict[str, Any]) -> None:
        if method == "Network.requestWillBeSent":
            self.requested.append(params["request"]["url"])
            self._in_flight.add(params["requestId"])
            self._last_request_at = time.monotonic()
        elif method == "Network.responseReceived" and params["type"] == "Document":
            self._document_status[params["requestId"]] = params["response"]["status"]
        elif method in ("Network.loadingFinished", "Network.loadingFailed"):
            self._in_flight.discard(params["requestId"])
        elif method == "Page.loadEventFired":
            self._loaded = True
        elif method == "Runtime.consoleAPICalled" and params["type"] == "error":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            self.errors.append(f"console.error: {text}")
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details["text"]
            self.errors.append(f"uncaught: {text}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            entry = params["entry"]
            self.errors.append(f"{entry['source']}: {entry['text']} {entry.get('url', '')}".strip())

    def _read_events(self, seconds: float) -> None:
        """Reads the events that arrive within ``seconds``."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = json.loads(self.ws.recv(timeout=left))
            except TimeoutError:
                return
            self._event(message.get("method"), message.get("params", {}))

    def evaluate(self, expression: str, *, await_promise: bool = False) -> Any:
        """The value of a JavaScript expression in the page (also when its scripts are off)."""
        answer = self.call(
            "Runtime.evaluate",
            expression=expression,
            returnByValue=True,
            awaitPromise=await_promise,
        )
        if "exceptionDetails" in answer:
            details = answer["exceptionDetails"]
            raise BrowserError(details.get("exception", {}).get("description") or details["text"])
        return answer["result"].get("value")

    def settle(self, quiet_s: float = 0.5) -> None:
        """Waits until no request is in flight and none started for ``quiet_s`` (network idle:
        late images, fonts, a panel the page's script fetches)."""
        deadline = time.monotonic() + TIMEOUT_S
        while self._in_flight or time.monotonic() - self._last_request_at < quiet_s:
            if time.monotonic() > deadline:
                raise BrowserError(f"the network was still busy after {TIMEOUT_S} s")
            self._read_events(0.1)

    def open(self, url: str, *, until: str | None = None) -> str:
        """Navigates to ``url``, waits for its load event, for ``until`` in its text when given,
        and for the network to be idle; returns the page's text. ``requested``, ``errors`` and
        ``status`` (its HTTP status, after redirects) are then this page's."""
        self.requested.clear()
        self.errors.clear()
        self._document_status.clear()
        self._in_flight.clear()  # the last page's, cancelled by the navigation
        self._loaded = False
        answer = self.call("Page.navigate", url=url)
        error = answer.get("errorText")
        # An HTTP error with an empty body is still a page, with its status.
        if error and error != "net::ERR_HTTP_RESPONSE_CODE_FAILURE":
            raise BrowserError(f"{url}: {error}")
        loader = answer.get("loaderId", "")
        deadline = time.monotonic() + TIMEOUT_S
        text = ""
        while time.monotonic() < deadline:
            self._read_events(0.05)
            if self._loaded:
                text = self.evaluate("document.body ? document.body.innerText : ''")
                if until is None or until in text:
                    self.settle()
                    self.status = self._document_status.get(loader)
                    return str(self.evaluate("document.body ? document.body.innerText : ''"))
        raise BrowserError(
            f"{url} did not load{f' and show {until!r}' if until else ''} within {TIMEOUT_S} s;"
            f" requested {self.requested}:\n{text[:2000]}"
        )

    def foreign(self, origin: str) -> list[str]:
        """The requests that left ``origin`` (inline ``data:`` and ``blob:`` URLs stay)."""
        return [
            url
            for url in self.requested
            if urlsplit(url).scheme not in ("data", "blob") and not url.startswith(origin + "/")
        ]

    def set_viewport(self, viewport: Viewport) -> None:
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=viewport.width,
            height=viewport.height,
            deviceScaleFactor=1,
            mobile=viewport.mobile,
        )

    def set_javascript(self, *, enabled: bool) -> None:
        """Turns the page's own scripts off or on (``evaluate`` still works)."""
        self.call("Emulation.setScriptExecutionDisabled", value=not enabled)

    def set_session_storage(self, origin: str, items: dict[str, str]) -> None:
        """Puts ``items`` in ``sessionStorage`` of every later document of ``origin`` before
        its own scripts run (and no longer the items of an earlier call)."""
        if self._storage_script is not None:
            self.call("Page.removeScriptToEvaluateOnNewDocument", identifier=self._storage_script)
            self._storage_script = None
        if items:
            source = (
                f"if (location.origin === {json.dumps(origin)}) "
                f"for (const [k, v] of Object.entries({json.dumps(items)})) "
                "sessionStorage.setItem(k, v);"
            )
            answer = self.call("Page.addScriptToEvaluateOnNewDocument", source=source)
            self._storage_script = answer["identifier"]

    def screenshot(self, path: Path) -> bytes:
        """Writes a PNG of the whole page (not only the viewport) to ``path``."""
        size = self.call("Page.getLayoutMetrics")["cssContentSize"]
        viewport = self.evaluate("[window.innerWidth, window.innerHeight]")
        clip = {
            "x": 0,
            "y": 0,
            "width": max(size["width"], viewport[0]),
            "height": max(size["height"], viewport[1]),
            "scale": 1,
        }
        answer = self.call(
            "Page.captureScreenshot", format="png", captureBeyondViewport=True, clip=clip
        )
        png = base64.b64decode(answer["data"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png)
        return png


@contextlib.contextmanager
def serving(app: Any) -> Iterator[str]:
    """``app`` under uvicorn in a thread on a free loopback port: its base URL, until the end."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + TIMEOUT_S
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped"
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(TIMEOUT_S)


@contextlib.contextmanager
def launch(profile: Path) -> Iterator[Page]:
    """Starts Chromium with its profile in the empty folder ``profile``; its one tab, closed
    with the browser at the end."""
    if not CHROMIUM.exists():
        raise BrowserError(f"{CHROMIUM} is missing: run tests/setup/chromium.sh (make test does)")
    browser = subprocess.Popen(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + TIMEOUT_S
        while not port_file.exists() or not port_file.read_text().strip():
            if browser.poll() is not None:
                raise BrowserError("chromium exited")
            if time.monotonic() > deadline:
                raise BrowserError("chromium did not open its DevTools port")
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


@functools.cache
def _axe_source() -> str:
    installed = subprocess.run(
        [str(AXE_PATH)], capture_output=True, text=True, timeout=300, check=False
    )
    if installed.returncode != 0:
        raise BrowserError(f"{AXE_PATH} failed ({installed.returncode}): {installed.stderr}")
    return Path(installed.stdout.strip()).read_text()


def axe(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical WCAG 2.2 AA violations on the page as it is now: each
    with its rule ``id``, ``impact``, ``help`` and the CSS ``targets`` of the elements."""
    if not page.evaluate("typeof axe === 'object'"):
        page.evaluate(_axe_source())
    results = page.evaluate(
        f"axe.run(document, {{runOnly: {json.dumps(AXE_TAGS)}}})", await_promise=True
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "targets": [node["target"] for node in v["nodes"]],
        }
        for v in results["violations"]
        if v["impact"] in AXE_IMPACTS
    ]


# --- what the tests of the person's pages (tests/person, tests/questionnaires) ask of a page ---

NARROW = Viewport("320px", 320, 640, mobile=True)  # the narrowest the pages must fit


def wait_for_text(page: Page, words: str) -> str:
    """Waits (through a navigation) until the page's text holds ``words``; returns it."""
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            text = str(page.evaluate("document.body ? document.body.innerText : ''"))
            if words in text and page.evaluate("document.readyState") == "complete":
                page.settle()
                return text
        except BrowserError:  # the document is being replaced
            pass
        time.sleep(0.05)
    raise BrowserError(f"{words!r} was not shown within {TIMEOUT_S} s")


def click(page: Page, selector: str) -> None:
    page.evaluate(f"document.querySelector({selector!r}).click()")


def check_clean(
    page: Page, base: str, *, javascript: bool = True, status: str | None = None
) -> None:
    """No error (but Chromium's own line for a page answered ``status``, such as
    ``"422 (Unprocessable Entity)"``), nothing from another host, no CSP violation, no sideways
    scroll, no serious axe-core violation; JavaScript left as ``javascript``."""
    expected = (
        []
        if status is None
        else [f"network: Failed to load resource: the server responded with a status of {status}"]
    )
    assert [e.split(f" {base}")[0] for e in page.errors] == expected
    page.errors.clear()
    assert page.foreign(base) == []
    assert page.evaluate("window.cspViolations") == []
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, "the page scrolls sideways"
    # axe-core runs as a script (its timers stop when scripts are off); the pages have none of
    # their own, so turning them on for the check changes nothing in them.
    page.set_javascript(enabled=True)
    assert axe(page) == []
    page.set_javascript(enabled=javascript)
