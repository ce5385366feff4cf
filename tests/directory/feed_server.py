"""A real Open Referral UK feed on 127.0.0.1 (a random port, a thread of its own) for the sync
tests and the sync benchmark.

It serves ``GET /services`` (the ORUK page envelope, ``page``, ``per_page``, ``modified_after``
on ``last_modified``; list entries with their one-to-one fields only, as
``service_list.json``) and ``GET /services/{id}`` (the fully nested service). Faults on demand:
``fail_once`` (request keys answered 503 the first time), ``fail_always`` (500 every time),
``raw`` (a body served as is), ``moved_to`` (301 to another feed), ``after`` (a callback run
once an answer is made, before it is sent: the feed changing mid-sync), ``delay_s``. Every
request is recorded as its path and its decoded query, sorted by name.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class Feed:
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    max_per_page: int = 1000
    fail_once: set[str] = field(default_factory=set)
    fail_always: set[str] = field(default_factory=set)
    raw: dict[str, bytes] = field(default_factory=dict)
    after: dict[str, Callable[[Feed], None]] = field(default_factory=dict)
    delay_s: float = 0.0
    moved_to: str | None = None  # every request answered 301 to this base URL + the path
    requests: list[str] = field(default_factory=list)
    port: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/oruk"

    def put(self, *services: dict[str, Any]) -> None:
        with self.lock:
            for service in services:
                self.services[service["id"]] = copy.deepcopy(service)

    def remove(self, service_id: str) -> None:
        with self.lock:
            del self.services[service_id]

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, bytes]:
        key = path + (f"?page={query['page'][0]}" if "page" in query else "")
        with self.lock:
            self.requests.append(
                path + "?" * bool(query) + "&".join(f"{k}={v[0]}" for k, v in sorted(query.items()))
            )
            if key in self.fail_always:
                return 500, b"{}"
            if key in self.fail_once:
                self.fail_once.discard(key)
                return 503, b"{}"
            if key in self.raw:
                return 200, self.raw[key]
            if path == "/oruk/services":
                return 200, json.dumps(self._page(query)).encode()
            service = self.services.get(unquote(path.removeprefix("/oruk/services/")))
            if not path.startswith("/oruk/services/") or service is None:
                return 404, b'{"detail": "not found"}'
            return 200, json.dumps(service).encode()

    def _page(self, query: dict[str, list[str]]) -> dict[str, Any]:
        page = int(query.get("page", ["1"])[0])
        per_page = min(int(query.get("per_page", ["50"])[0]), self.max_per_page)
        rows = list(self.services.values())
        if "modified_after" in query:
            since = dt.datetime.fromisoformat(query["modified_after"][0])
            rows = [r for r in rows if dt.datetime.fromisoformat(r["last_modified"]) >= since]
        total_pages = math.ceil(len(rows) / per_page)
        contents = [_listed(r) for r in rows[(page - 1) * per_page : page * per_page]]
        return {
            "total_items": len(rows),
            "total_pages": total_pages,
            "page_number": page,
            "size": len(contents),
            "first_page": page == 1,
            "last_page": page >= total_pages,
            "empty": not contents,
            "contents": contents,
        }


def _listed(service: dict[str, Any]) -> dict[str, Any]:
    """A list entry: the one-to-one fields and the organisation (``service_list.json``)."""
    return {k: v for k, v in service.items() if not isinstance(v, list)}


@contextmanager
def serve(feed: Feed) -> Iterator[Feed]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms ACK wait

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            status, body = feed.answer(parts.path, query)
            if feed.moved_to is not None:
                status, body = 301, b""
            key = parts.path + (f"?page={query['page'][0]}" if "page" in query else "")
            hook = feed.after.pop(key, None)
            if hook is not None:  # the feed changes once this answer is made
                hook(feed)
            if feed.delay_s:
                time.sleep(feed.delay_s)
            self.send_response(status)
            if status == 301:
                self.send_header("Location", f"{feed.moved_to}{self.path.removeprefix('/oruk')}")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a client that gave up (a timeout test) closed the connection

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    feed.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield feed
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def generated(
    count: int, *, start: int = 0, modified: str = "2026-11-01T09:00:00Z"
) -> list[dict[str, Any]]:
    """``count`` small, valid, fully nested services ("gen-<n>"), each run by its own
    organisation."""
    return [
        {
            "id": f"gen-{n}",
            "name": f"Walking group {n}",
            "description": "A friendly walk in the park.",
            "status": "active",
            "last_modified": modified,
            "organization": {"id": f"org-{n % 7}", "name": f"Friends of Park {n % 7}"},
            "service_at_locations": [
                {
                    "id": f"sal-{n}",
                    "location": {
                        "id": f"loc-{n}",
                        "location_type": "physical",
                        "name": "Park gate",
                        "latitude": 51.54 + (n % 100) / 10_000,
                        "longitude": -0.05,
                        "addresses": [{"id": f"a-{n}", "address_1": "Park Road", "city": "London"}],
                    },
                }
            ],
            "schedules": [{"id": f"s-{n}", "freq": "WEEKLY", "byday": "WE", "opens_at": "10:00"}],
            "attributes": [{"id": f"t-{n}", "taxonomy_term": {"id": "walking", "name": "Walking"}}],
            "cost_options": [{"id": f"c-{n}", "amount": 0}],
            "languages": [{"id": f"l-{n}", "code": "en"}],
            "contacts": [],
            "service_areas": [],
        }
        for n in range(start, start + count)
    ]
