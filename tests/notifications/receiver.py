"""A real HTTP receiver on 127.0.0.1 for the worker's deliveries, in a thread of its own.

It records every request (headers, body, when it started and ended) and can answer 500 to the
first ``fail_first`` requests, hold the first ``hang_first`` requests until ``release()`` (or
``hang_s``), and take ``delay_s`` over each answer.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    started: float
    ended: float = 0.0
    status: int = 0

    @property
    def event_id(self) -> str:
        return self.headers["x-assetlink-event-id"]

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    fail_first: int = 0
    hang_first: int = 0
    hang_s: float = 10.0
    delay_s: float = 0.0
    port: int = 0
    received: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _released: threading.Event = field(default_factory=threading.Event)
    hanging: threading.Event = field(default_factory=threading.Event)  # set: one is held

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def release(self) -> None:
        self._released.set()

    def delivered(self) -> list[Received]:
        """The requests answered 2xx."""
        with self._lock:
            return [r for r in self.received if 200 <= r.status < 300]

    def wait_until(self, done: Callable[[], bool], timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not done():
            assert time.monotonic() < deadline, "the receiver waited in vain"
            time.sleep(0.02)

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        with self._lock:
            number = len(self.received)
            record = Received(headers, body, time.monotonic())
            self.received.append(record)
        if number < self.hang_first:
            self.hanging.set()
            self._released.wait(self.hang_s)
        if self.delay_s:
            time.sleep(self.delay_s)
        status = 500 if number < self.fail_first else 200
        with self._lock:
            record.ended, record.status = time.monotonic(), status
        return status


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = receiver.handle({k.lower(): v for k, v in self.headers.items()}, body)
            try:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:  # the worker gave up on this request
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def running(receiver: Receiver) -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", receiver.port), _handler(receiver))
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release()
        server.shutdown()
        server.server_close()
