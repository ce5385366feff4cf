"""A strict stand-in for GOV.UK Notify's REST API on 127.0.0.1, in a thread of its own.

The real service is not reachable from here, so the tests drive the real client
(``notifications-python-client``) against this server, which answers as Notify documents
(https://docs.notifications.service.gov.uk/rest-api.html) and refuses what Notify refuses:

- every request needs ``Authorization: Bearer <JWT>``, HS256, signed with the secret of the API
  key, ``iss`` the service id, ``iat`` within 30 seconds of now (401 without a token, 403
  ``AuthError`` otherwise);
- ``POST /v2/notifications/sms`` and ``/email``: the template must exist (declared here with
  its ``((placeholders))``) and be of that type, every placeholder must be given, the phone
  number must be a UK mobile number and the address an email address (400 ``ValidationError``
  or ``BadRequestError``, Notify's words); else 201 with the new notification's id;
- ``GET /v2/notifications/{id}`` (404 ``NoResultFound`` when unknown) and
  ``GET /v2/notifications?reference=...``.

A test can make the next requests fail (``fail_next``: 500, 429, 503...), make Notify accept a
message and then lose its answer (``lose_next_answers``: the notification exists, the client
sees 500, as when a connection drops after Notify committed), set a notification's status
(``set_status``), and read what was sent (``sent``).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

PLACEHOLDER = re.compile(r"\(\(([^()]+)\)\)")
UK_MOBILE = re.compile(r"^(?:\+44|0044|0)7\d{9}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
IAT_BOUND_S = 30  # Notify's tolerance for the token's iat


@dataclass(frozen=True)
class Template:
    type: str  # sms | email
    body: str
    subject: str = ""

    def fields(self) -> list[str]:
        return sorted({m.strip().lower() for m in PLACEHOLDER.findall(self.body + self.subject)})

    def render(self, values: dict[str, Any], text: str) -> str:
        lowered = {k.lower(): str(v) for k, v in values.items()}
        return PLACEHOLDER.sub(lambda m: lowered[m.group(1).strip().lower()], text)


@dataclass
class Sent:
    id: str
    type: str
    to: str
    template_id: str
    personalisation: dict[str, Any]
    reference: str | None
    body: str
    status: str = "created"
    created_at: str = ""
    completed_at: str | None = None


def _error(status: int, error: str, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"status_code": status, "errors": [{"error": error, "message": message}]}


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())


@dataclass
class NotifyFake:
    templates: dict[str, Template]
    service_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    secret: str = field(default_factory=lambda: str(uuid.uuid4()))
    port: int = 0
    fail_next: list[int] = field(default_factory=list)  # statuses to answer, in order
    lose_next_answers: int = 0
    sent: list[Sent] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def api_key(self) -> str:
        return f"assetlink_test-{self.service_id}-{self.secret}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def set_status(self, notify_id: str, status: str) -> None:
        with self._lock:
            for item in self.sent:
                if item.id == notify_id:
                    item.status = status
                    item.completed_at = _now()

    # --- the API ---------------------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        path = urlsplit(target).path
        with self._lock:
            self.requests.append((method, path))
        refused = self._authenticate(headers.get("authorization", ""))
        if refused is not None:
            return refused
        with self._lock:
            failing = self.fail_next.pop(0) if self.fail_next else None
        if failing == 429:
            return _error(
                429,
                "RateLimitError",
                "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds",
            )
        if failing is not None:
            return _error(failing, "Exception", "Internal server error")
        if method == "POST" and path in ("/v2/notifications/sms", "/v2/notifications/email"):
            return self._send(path.rsplit("/", 1)[1], body)
        if method == "GET" and path == "/v2/notifications":
            return self._list(parse_qs(urlsplit(target).query))
        if method == "GET" and path.startswith("/v2/notifications/"):
            return self._get(path.rsplit("/", 1)[1])
        return _error(404, "NotFound", "The requested URL was not found on the server.")

    def _authenticate(self, header: str) -> tuple[int, dict[str, Any]] | None:
        if not header.startswith("Bearer "):
            return _error(401, "AuthError", "Unauthorized: authentication token must be provided")
        token = header.removeprefix("Bearer ")
        try:
            if jwt.get_unverified_header(token).get("alg") != "HS256":
                return _error(403, "AuthError", "Invalid token: algorithm used is not HS256")
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return _error(403, "AuthError", "Invalid token: signature, api token not found")
        if unverified.get("iss") != self.service_id:
            return _error(403, "AuthError", "Invalid token: service not found")
        try:
            claims = jwt.decode(
                token, self.secret, algorithms=["HS256"], options={"verify_iat": False}
            )
        except jwt.PyJWTError:
            return _error(403, "AuthError", "Invalid token: API key not found")
        iat = claims.get("iat")
        if not isinstance(iat, int) or abs(time.time() - iat) > IAT_BOUND_S:
            return _error(
                403, "AuthError", "Error: Your system clock must be accurate to within 30 seconds"
            )
        return None

    def _send(self, kind: str, body: bytes) -> tuple[int, dict[str, Any]]:
        try:
            data = json.loads(body)
        except ValueError:
            return _error(400, "BadRequestError", "Invalid JSON supplied in POST data")
        template_id = str(data.get("template_id", ""))
        try:
            uuid.UUID(template_id)
        except ValueError:
            return _error(400, "ValidationError", "template_id is not a valid UUID")
        template = self.templates.get(template_id)
        if template is None:
            return _error(400, "BadRequestError", "Template not found")
        if template.type != kind:
            return _error(
                400,
                "BadRequestError",
                f"{kind} template is not suitable for {template.type} notification",
            )
        values = data.get("personalisation") or {}
        given = {str(k).lower() for k in values}
        missing = [f for f in template.fields() if f not in given]
        if missing:
            return _error(400, "BadRequestError", f"Missing personalisation: {', '.join(missing)}")
        to = str(data.get("phone_number" if kind == "sms" else "email_address", ""))
        if kind == "sms" and not UK_MOBILE.match(re.sub(r"[\s().-]", "", to)):
            return _error(400, "ValidationError", "phone_number Not a UK mobile number")
        if kind == "email" and not EMAIL.match(to):
            return _error(400, "ValidationError", "email_address Not a valid email address")
        item = Sent(
            id=str(uuid.uuid4()),
            type=kind,
            to=to,
            template_id=template_id,
            personalisation=dict(values),
            reference=data.get("reference"),
            body=template.render(values, template.body),
            created_at=_now(),
        )
        with self._lock:
            self.sent.append(item)
            lose = self.lose_next_answers > 0
            self.lose_next_answers -= int(lose)
        if lose:
            return _error(500, "Exception", "Internal server error")
        content: dict[str, Any] = {"body": item.body}
        if kind == "sms":
            content["from_number"] = "GOVUK"
        else:
            content |= {
                "subject": template.render(values, template.subject),
                "from_email": "assetlink@notifications.service.gov.uk",
                "one_click_unsubscribe_url": None,
            }
        return 201, {
            "id": item.id,
            "reference": item.reference,
            "content": content,
            "uri": f"{self.url}/v2/notifications/{item.id}",
            "template": {
                "id": template_id,
                "version": 1,
                "uri": f"{self.url}/services/{self.service_id}/templates/{template_id}",
            },
            "scheduled_for": None,
        }

    def _view(self, item: Sent) -> dict[str, Any]:
        return {
            "id": item.id,
            "reference": item.reference,
            "email_address": item.to if item.type == "email" else None,
            "phone_number": item.to if item.type == "sms" else None,
            "type": item.type,
            "status": item.status,
            "template": {"id": item.template_id, "version": 1, "uri": ""},
            "body": item.body,
            "created_at": item.created_at,
            "sent_at": item.created_at,
            "completed_at": item.completed_at,
        }

    def _get(self, notify_id: str) -> tuple[int, dict[str, Any]]:
        try:
            uuid.UUID(notify_id)
        except ValueError:
            return _error(400, "ValidationError", "notification_id is not a valid UUID")
        with self._lock:
            found = [s for s in self.sent if s.id == notify_id]
        if not found:
            return _error(404, "NoResultFound", "No result found")
        return 200, self._view(found[0])

    def _list(self, query: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        reference = (query.get("reference") or [None])[0]
        with self._lock:
            found = [s for s in self.sent if reference is None or s.reference == reference]
        return 200, {
            "notifications": [self._view(s) for s in reversed(found)],
            "links": {"current": f"{self.url}/v2/notifications"},
        }


class _Handler(BaseHTTPRequestHandler):
    fake: NotifyFake

    def _answer(self, method: str) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, payload = self.fake.handle(method, self.path, headers, body)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


@contextmanager
def running(fake: NotifyFake) -> Iterator[NotifyFake]:
    handler = type("Handler", (_Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    fake.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
