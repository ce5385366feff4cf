"""Screenshots of the dashboard for the docs: each page at desktop (1280 px) and phone (375 px)
width, as a commissioner sees it over the demo data, in docs/screenshots/<page>-<width>.png.

Makes a fresh SQLite database in a temporary folder (``assetlink migrate``, ``seed-demo``,
``refresh-reports``), mints a commissioner token (``assetlink token``), serves this checkout's
app (``assetlink serve``) on a free loopback port, and opens each URL in tests/browser.py's
headless Chromium with the token in ``sessionStorage`` (``assetlink.token``, where
/dashboard/sign-in keeps it). A page is taken once it has loaded and the network is idle (its
script has fetched the panel and put it in), or once ``--ready`` matches an element. A page
that answers an error, logs an error, or requests another host is reported, and the command
then exits 1 (its screenshots are still written). Each PNG is written with a palette of its 256
commonest colours (the rest drawn as the nearest of them, in the browser): a page is flat
colours and text, so it looks the same at a third of the size.

    make screenshots
    .venv/bin/python tools/screenshots.py --urls /docs      # any page of the app
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import DESKTOP, PHONE, TIMEOUT_S, Page, launch  # noqa: E402

PAGES = ("/dashboard/overview", "/dashboard/outcomes", "/dashboard/equity", "/dashboard/directory")
STORAGE_KEY = "assetlink.token"
COMMISSIONER_ORG = "15N"  # the demo commissioner's (app/cli.py DEMO_ORGS)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _assetlink(env: dict[str, str], *args: str) -> str:
    """Runs this checkout's ``assetlink`` command; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"assetlink {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def _serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"assetlink serve exited ({server.returncode}):\n{log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/livez", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    server.terminate()
    sys.exit(f"assetlink serve did not answer within 60 s:\n{log.read_text()}")


def _name(url: str) -> str:
    """``/dashboard/outcomes?by=need`` -> ``outcomes-by-need``; ``/docs`` -> ``docs``."""
    parts = urlsplit(url)
    name = parts.path.rstrip("/").rsplit("/", 1)[-1] or "index"
    if parts.query:
        name += "-" + re.sub(r"[^A-Za-z0-9]+", "-", parts.query).strip("-")
    return name


def _wait_for(page: Page, selector: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not page.evaluate(f"document.querySelector({selector!r}) !== null"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no element matches {selector!r} after {TIMEOUT_S} s")
        time.sleep(0.1)
    page.settle()


# In the page: the screenshot's pixels as indices into its 256 commonest colours.
PALETTE = """(async (png) => {
  const image = new Image();
  image.src = "data:image/png;base64," + png;
  await image.decode();
  const canvas = document.createElement("canvas");
  [canvas.width, canvas.height] = [image.width, image.height];
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  const pixels = new Uint32Array(context.getImageData(0, 0, image.width, image.height).data.buffer);
  const counts = new Map();
  for (const p of pixels) counts.set(p, (counts.get(p) || 0) + 1);
  const palette = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 256).map(([p]) => p);
  const index = new Map(palette.map((p, k) => [p, k]));
  const rgb = p => [p & 255, (p >>> 8) & 255, (p >>> 16) & 255];
  const nearest = p => {
    const [r, g, b] = rgb(p);
    let best = 0, distance = Infinity;
    palette.forEach((q, k) => {
      const [s, t, u] = rgb(q);
      const d = (r - s) ** 2 + (g - t) ** 2 + (b - u) ** 2;
      if (d < distance) [best, distance] = [k, d];
    });
    index.set(p, best);
    return best;
  };
  const indices = new Uint8Array(pixels.length);
  pixels.forEach((p, i) => { indices[i] = index.get(p) ?? nearest(p); });
  let text = "";
  for (let i = 0; i < indices.length; i += 0x8000)
    text += String.fromCharCode(...indices.subarray(i, i + 0x8000));
  return {width: image.width, palette: palette.map(rgb), indices: btoa(text)};
})"""


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")


def _small_png(page: Page, png: bytes) -> bytes:
    """``png`` with a palette (colour type 3) of its 256 commonest colours."""
    found = page.evaluate(f"{PALETTE}({base64.b64encode(png).decode()!r})", await_promise=True)
    width, indices = found["width"], base64.b64decode(found["indices"])
    rows = b"".join(b"\0" + indices[y : y + width] for y in range(0, len(indices), width))
    header = width.to_bytes(4, "big") + (len(indices) // width).to_bytes(4, "big") + b"\x08\x03"
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header + b"\0\0\0"),
            _chunk(b"PLTE", bytes(c for colour in found["palette"] for c in colour)),
            _chunk(b"IDAT", zlib.compress(rows, 9)),
            _chunk(b"IEND", b""),
        ]
    )


def _shoot(page: Page, base: str, urls: list[str], out: Path, ready: str | None) -> list[str]:
    """Takes every URL at each width; the problems seen."""
    problems = []
    for viewport in (DESKTOP, PHONE):
        page.set_viewport(viewport)
        for url in urls:
            page.open(base + url)
            if ready:
                _wait_for(page, ready)
            path = out / f"{_name(url)}-{viewport.width}.png"
            path.write_bytes(_small_png(page, page.screenshot(path)))
            print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
            if page.status is None or page.status >= 400:
                problems.append(f"{url}: HTTP {page.status}")
            problems += [f"{url} ({viewport.name}): {e}" for e in page.errors]
            problems += [f"{url}: requested another host: {u}" for u in page.foreign(base)]
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--urls", nargs="+", default=list(PAGES), help="paths of the app")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--ready", help="CSS selector to wait for besides network idle")
    parser.add_argument("--activities", default="300", help="demo activities (seed-demo)")
    parser.add_argument("--referrals", default="2000", help="demo referrals (seed-demo)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="assetlink-screenshots-") as folder:
        tmp = Path(folder)
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "ASSETLINK_ENVIRONMENT": "development",
            "ASSETLINK_DATABASE_URL": f"sqlite:///{tmp / 'assetlink.db'}",
            "ASSETLINK_JWT_SECRET": secrets.token_hex(32),  # this run's only
            "ASSETLINK_MATCH_WARMUP": "false",
            "ASSETLINK_LOG_LEVEL": "WARNING",
        }
        _assetlink(env, "migrate")
        demo = ("--activities", args.activities, "--referrals", args.referrals)
        _assetlink(env, "seed-demo", *demo)
        _assetlink(env, "refresh-reports")
        token = _assetlink(env, "token", "--role", "commissioner", "--org", COMMISSIONER_ORG)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = _serve(env, port, tmp / "serve.log")
        try:
            (tmp / "chromium").mkdir()
            with launch(tmp / "chromium") as page:
                page.set_session_storage(base, {STORAGE_KEY: token.strip()})
                problems = _shoot(page, base, args.urls, args.out, args.ready)
        finally:
            server.terminate()
            server.wait(30)
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
