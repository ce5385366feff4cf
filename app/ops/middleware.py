"""The request middleware: request id, rate limit (429, ``app.ops.abuse``), body limit (413),
media type (415), JSON nesting depth (400, ``app.ops.input_guard.too_deep``), request timeout
(503), security headers, access log, metrics.

A request still running after ``ASSETLINK_REQUEST_TIMEOUT_S`` is cancelled and answered 503
(when its answer has not begun; a streamed answer, ``STREAMING`` in the request's state, has no
deadline once it has begun): its transaction is rolled back like any failed one. A referral
already handed to the intake writer's batch may still be stored; a retry with the same
identifier finds it (idempotent intake), never a second one.

The access-log line of an error answer names its reason (``"error": "not-found"``): the codes
``render`` left in the request's state, never anything from the body.

A pure ASGI middleware (no ``BaseHTTPMiddleware``) so it adds little to every request.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import (
    AppError,
    InternalError,
    Issue,
    PayloadTooLarge,
    ServiceUnavailable,
    UnsupportedMediaType,
)
from app.ops.abuse import (
    CSP,
    DOCS_PAGES,
    RateLimiter,
    docs_policy,
    person_page,
    security_headers,
)
from app.ops.error_handlers import ERROR_CODE, render
from app.ops.input_guard import nul_in_path, too_deep
from app.ops.metrics import HTTP_LATENCY, HTTP_REQUESTS

access_log = logging.getLogger("assetlink.access")

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
JSON_TYPES = ("application/json", "application/fhir+json", "application/problem+json")
FORM_TYPE = "application/x-www-form-urlencoded"
BODY_METHODS = {"POST", "PUT", "PATCH"}
FRAMEWORK_PATHS = {"/docs", "/docs/oauth2-redirect", "/openapi.json"}
DOCS_ASSETS = "/static/docs"  # the files of /docs (app.main); no data in their paths
DASHBOARD_ASSETS = "/dashboard/static"  # the dashboard's script and style sheet
PERSON_ASSETS = "/static/person"  # the style sheet of the person's pages (app/person)
STREAMING = "streaming"  # set in the request's state by a route that streams its answer


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _is_json(media_type: str) -> bool:
    return media_type in JSON_TYPES or media_type.endswith("+json")


def _accepts(path: str, media_type: str) -> bool:
    if _is_json(media_type):
        return True
    if media_type != FORM_TYPE:
        return False
    return path.endswith("/_search") or person_page(path)  # FHIR search by POST, a page


def _timed_out(timeout_s: float) -> ServiceUnavailable:
    return ServiceUnavailable(
        f"The request took longer than {timeout_s:g} s and was stopped; retry shortly",
        [Issue(f"The request took longer than {timeout_s:g} s and was stopped", code="timeout")],
        headers={"Retry-After": "5"},
    )


class RequestMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        timeout_s: float = 30.0,
        limiter: RateLimiter | None = None,
        hsts: bool = False,
        body_limits: dict[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_limits = body_limits or {}  # path -> a smaller limit (the public forms)
        self.timeout_s = timeout_s
        self.limiter = limiter
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        given = headers.get("x-request-id", "")
        request_id = given if REQUEST_ID.match(given) else str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id
        status, started = 500, False
        extra = [
            *security_headers(scope["path"], hsts=self.hsts),
            (b"x-request-id", request_id.encode()),
        ]
        send_with_id = (
            self._with_docs_policy(send, extra)
            if scope["path"] in DOCS_PAGES
            else self._with_headers(send, extra)
        )

        deadline = asyncio.timeout(self.timeout_s)

        async def send_counted(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
                if scope["state"].get(STREAMING) and not deadline.expired():
                    deadline.reschedule(None)  # a stream has no deadline once it began
            await send_with_id(message)

        try:
            async with deadline:
                await self._handle(scope, receive, send_counted, headers)
        except TimeoutError:
            if started:
                raise  # the answer has begun: the server closes the connection
            await render(Request(scope), _timed_out(self.timeout_s))(scope, receive, send_counted)
        except Exception:
            # Answered 500 by the outermost handler, after this line is written.
            scope["state"].setdefault(ERROR_CODE, InternalError.code)
            raise
        finally:
            self._record(scope, request_id, status, time.perf_counter() - started)

    async def _handle(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str]
    ) -> None:
        rejection = None
        if self.limiter is not None:
            client = scope.get("client")
            rejection = await self.limiter.check(
                scope["path"], client[0] if client else "", headers.get("authorization")
            )
        rejection = rejection or self._reject(scope, headers)
        limit = self.body_limits.get(scope["path"], self.max_body_bytes)
        if rejection is None and self._json_body(scope, headers):
            receive, rejection = await self._check_json(receive, limit)
        if rejection is not None:
            await render(Request(scope), rejection)(scope, receive, send)
        else:
            await self.app(scope, self._limited(receive, limit), send)

    @staticmethod
    def _with_headers(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        return send_with_headers

    @staticmethod
    def _with_docs_policy(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
        """A /docs page is held whole (a few kB) to give it the CSP of its own inline scripts."""
        held: list[Message] = []

        async def send_docs(message: Message) -> None:
            held.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                start, *body = held
                page = b"".join(m.get("body", b"") for m in body)
                start["headers"] = [*start.get("headers", []), *extra, (CSP, docs_policy(page))]
                for held_message in (start, *body):
                    await send(held_message)

        return send_docs

    def _reject(self, scope: Scope, headers: dict[str, str]) -> AppError | None:
        if (nul := nul_in_path(scope["path"])) is not None:
            return nul
        length = headers.get("content-length")
        limit = self.body_limits.get(scope["path"], self.max_body_bytes)
        if length is not None and (not length.isdigit() or int(length) > limit):
            return PayloadTooLarge(f"The request body is larger than {limit} bytes")
        has_body = (length is not None and int(length) > 0) or "transfer-encoding" in headers
        if scope["method"] in BODY_METHODS and has_body:
            media_type = _media_type(headers.get("content-type", ""))
            if not _accepts(scope["path"], media_type):
                return UnsupportedMediaType(
                    f"Content-Type {media_type or '(none)'!r} is not accepted; "
                    "send application/fhir+json or application/json"
                )
        return None

    @staticmethod
    def _json_body(scope: Scope, headers: dict[str, str]) -> bool:
        return scope["method"] in BODY_METHODS and _is_json(
            _media_type(headers.get("content-type", ""))
        )

    async def _check_json(self, receive: Receive, limit: int) -> tuple[Receive, AppError | None]:
        """The body read whole (at most the limit) and checked for depth before any route
        decodes it; the app then receives the same messages."""
        messages: list[Message] = []
        limited = self._limited(receive, limit)
        try:
            while not messages or (
                messages[-1]["type"] == "http.request" and messages[-1].get("more_body")
            ):
                messages.append(await limited())
        except PayloadTooLarge as error:
            return receive, error
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        return replay, too_deep(body)

    @staticmethod
    def _limited(receive: Receive, limit: int) -> Receive:
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLarge(f"The request body is larger than {limit} bytes")
            return message

        return limited_receive

    @staticmethod
    def _record(scope: Scope, request_id: str, status: int, elapsed: float) -> None:
        route: Any = scope.get("route")
        template = getattr(route, "path", None)
        if template is None:  # FastAPI's own pages carry no route; their paths hold no data
            path = scope["path"]
            if path in FRAMEWORK_PATHS:
                template = path
            elif path.startswith(DOCS_ASSETS + "/"):
                template = DOCS_ASSETS + "/{path}"
            elif path.startswith(DASHBOARD_ASSETS + "/"):
                template = DASHBOARD_ASSETS + "/{path}"
            elif path.startswith(PERSON_ASSETS + "/"):
                template = PERSON_ASSETS + "/{path}"
            else:
                template = "(unmatched)"
        method = scope["method"]
        HTTP_REQUESTS.labels(method, template, str(status)).inc()
        HTTP_LATENCY.labels(method, template).observe(elapsed)
        state = scope.get("state", {})
        principal = state.get("principal")
        reason = {"error": state[ERROR_CODE]} if ERROR_CODE in state else {}
        access_log.info(
            "request",
            extra={
                "request_id": request_id,
                "method": method,
                "route": template,
                "status": status,
                **reason,
                "duration_ms": round(elapsed * 1000, 2),
                "sub": getattr(principal, "sub", None),
                "role": getattr(principal, "role", None),
                "org": getattr(principal, "org", None),
            },
        )
