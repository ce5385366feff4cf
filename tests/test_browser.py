"""The browser harness (tests/browser.py) sees what the page tests rely on: an accessibility
failure, a console error, an uncaught exception, a request to another host; and its viewport,
storage, JavaScript switch and screenshots do what they say. The pages are tiny fixed HTML
served from a local test server, each with a known fault or none."""

from __future__ import annotations

import http.server
import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from tests.browser import DESKTOP, PHONE, Page, axe, launch

pytestmark = pytest.mark.browser

HEAD = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width"><title>{title}</title>'
    '<link rel="icon" href="data:,"></head>'  # no request for /favicon.ico
)
PIXEL = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8Bw"
    "HwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)
# The dashboard's Content-Security-Policy, on the pages that run no script of their own: axe
# is evaluated through the protocol, which it does not block.
STRICT = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
STRICT_PAGES = ("/clean", "/missing-alt")
PAGES = {
    "/clean": "<main><h1>Clean</h1><p>Nothing wrong here.</p></main>",
    "/missing-alt": f'<main><h1>Missing alt</h1><img src="{PIXEL}"></main>',
    "/throws": (
        '<main><h1>Throws</h1><img alt="" src="/missing.png"></main>'
        "<script>console.error('panel failed'); throw new Error('boom')</script>"
    ),
    # {port}: the test server's; "localhost" is another host than the page's 127.0.0.1.
    "/foreign": (
        f'<main><h1>Foreign</h1><img alt="" src="{PIXEL}">'
        '<img alt="" src="http://localhost:{port}/pixel.png"></main>'
    ),
    "/storage": (
        '<main><h1>Storage</h1><p id="token">scripts off</p></main><script>'
        "document.getElementById('token').textContent = "
        "'token=' + sessionStorage.getItem('assetlink.token')</script>"
    ),
    "/tall": '<main><h1>Tall</h1><div style="height: 3000px">A long page</div></main>',
}


class _Handler(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str]]] = []  # (Host header, path) of every request

    def do_GET(self) -> None:
        type(self).seen.append((self.headers["Host"], self.path))
        port = self.headers["Host"].rsplit(":", 1)[1]
        body = PAGES.get(self.path)
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        html = (HEAD.format(title=self.path[1:]) + f"<body>{body}</body></html>").replace(
            "{port}", port
        )
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        if self.path in STRICT_PAGES:
            self.send_header("Content-Security-Policy", STRICT)
        self.end_headers()
        self.wfile.write(html.encode())

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads ``seen``."""


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    with launch(tmp_path_factory.mktemp("chromium")) as page:
        yield page


def test_a_clean_page_has_no_errors_no_foreign_request_and_no_violation(
    origin: str, page: Page
) -> None:
    assert "Nothing wrong here." in page.open(f"{origin}/clean")
    assert page.status == 200
    assert page.errors == []
    assert page.foreign(origin) == []
    assert axe(page) == []
    assert page.evaluate("window.cspViolations") == []


def test_axe_finds_an_image_without_alt(origin: str, page: Page) -> None:
    page.open(f"{origin}/missing-alt")
    violations = axe(page)
    assert [(v["id"], v["impact"], v["targets"]) for v in violations] == [
        ("image-alt", "critical", [["img"]])
    ]
    assert page.foreign(origin) == []  # axe itself is injected, never fetched
    assert page.evaluate("window.cspViolations") == []


def test_console_errors_exceptions_and_failed_loads_are_captured(origin: str, page: Page) -> None:
    page.open(f"{origin}/throws")
    assert "console.error: panel failed" in page.errors
    assert any(e.startswith("uncaught: Error: boom\n    at ") for e in page.errors), page.errors
    assert any(
        e.startswith("network: Failed to load resource") and e.endswith(f"{origin}/missing.png")
        for e in page.errors
    ), page.errors
    assert len(page.errors) == 3
    page.open(f"{origin}/clean")
    assert page.errors == []  # each page's own


def test_the_documents_http_status_is_read(origin: str, page: Page) -> None:
    page.open(f"{origin}/nowhere")
    assert page.status == 404
    page.open(f"{origin}/clean")
    assert page.status == 200


def test_a_request_to_another_host_is_detected(origin: str, page: Page) -> None:
    port = origin.rsplit(":", 1)[1]
    _Handler.seen.clear()
    page.open(f"{origin}/foreign")
    assert page.foreign(origin) == [f"http://localhost:{port}/pixel.png"]
    assert (f"localhost:{port}", "/pixel.png") in _Handler.seen  # it was really sent


def test_session_storage_is_set_before_the_pages_scripts_run(origin: str, page: Page) -> None:
    port = origin.rsplit(":", 1)[1]
    page.set_session_storage(origin, {"assetlink.token": "a.b.c"})
    try:
        assert "token=a.b.c" in page.open(f"{origin}/storage")
        assert "token=null" in page.open(f"http://localhost:{port}/storage")  # not its origin
    finally:
        page.set_session_storage(origin, {})
    page.open(f"{origin}/clean")
    page.evaluate("sessionStorage.clear()")
    assert "token=null" in page.open(f"{origin}/storage")


def test_javascript_off_runs_no_script_of_the_page(origin: str, page: Page) -> None:
    page.set_javascript(enabled=False)
    try:
        assert "scripts off" in page.open(f"{origin}/storage")
        assert page.evaluate("document.title") == "storage"  # the harness still reads the page
    finally:
        page.set_javascript(enabled=True)
    assert "token=" in page.open(f"{origin}/storage")


def _png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_screenshots_are_the_whole_page_at_the_viewports_width(
    origin: str, page: Page, tmp_path: Path
) -> None:
    try:
        page.set_viewport(PHONE)
        page.open(f"{origin}/tall")
        assert page.evaluate("window.innerWidth") == 375
        width, height = _png_size(page.screenshot(tmp_path / "tall-375.png"))
        assert width == 375
        assert height > 3000
        assert (tmp_path / "tall-375.png").read_bytes()[:4] == b"\x89PNG"
    finally:
        page.set_viewport(DESKTOP)
    page.open(f"{origin}/clean")
    assert _png_size(page.screenshot(tmp_path / "clean-1280.png")) == (1280, 900)
