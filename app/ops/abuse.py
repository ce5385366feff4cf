"""Abuse controls the request middleware (``app/ops/middleware.py``) applies to every request:
a per-client rate limit, and the security headers of every response.

The rate limit is a token bucket per client, in this process's memory: a client is the
verified token's ``sub`` and ``org`` when the request carries a valid bearer token, else the
client's address (behind a proxy, the address the server was told: uvicorn's
``--forwarded-allow-ips``). Each process keeps its own buckets, so with N API processes or
replicas a client may make up to N times the configured rate. The probes (``/livez``,
``/readyz``) are never limited: an orchestrator must always reach them.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import time
from collections import OrderedDict
from dataclasses import dataclass

from app.auth.tokens import TokenVerifier
from app.errors import AppError, TooManyRequests

UNLIMITED_PATHS = frozenset({"/livez", "/readyz"})
MAX_CLIENTS = 10_000
"""Buckets kept at most; the least recently seen client's is dropped first (a client unseen
for long has a full bucket anyway at any rate that matters)."""


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """``rate`` requests a second on average, ``burst`` at once, for each client."""

    def __init__(self, *, rate: float, burst: int, verifier: TokenVerifier) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.verifier = verifier
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    async def check(self, path: str, client: str, authorization: str | None) -> AppError | None:
        """The 429 to answer, or None when the request may go on (and then it is counted)."""
        if path in UNLIMITED_PATHS:
            return None
        key = await self._key(client, authorization)
        now = time.monotonic()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self.burst, now)
            if len(self._buckets) > MAX_CLIENTS:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        wait_s = max(1, math.ceil((1.0 - bucket.tokens) / self.rate))
        return TooManyRequests(
            f"Too many requests from this client; retry after {wait_s} s",
            headers={"Retry-After": str(wait_s)},
        )

    async def _key(self, client: str, authorization: str | None) -> str:
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            try:
                # The same cache the route's own check then reads: verified once per token.
                principal = await self.verifier.verify(token.strip())
            except AppError:
                return f"address:{client}"  # an invalid token counts against its sender
            return f"token:{principal.sub}|{principal.org}"
        return f"address:{client}"


# Security headers (OWASP ASVS 14.4). The API answers JSON only: nothing in it may run, be
# framed or be kept by a browser or proxy (its answers hold people's data).
CSP = b"content-security-policy"
API_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (CSP, b"default-src 'none'; frame-ancestors 'none'"),
    (b"cache-control", b"no-store"),
)
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
DOCS_PAGES = frozenset({"/docs", "/docs/oauth2-redirect"})
DASHBOARD = "/dashboard"
DASHBOARD_POLICY = (
    CSP,
    b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    b"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
)
"""The dashboard's pages (app/dashboard): its own script and style sheet, no inline script or
style, requests to this service only; its forms (the filters) submit to it."""
SELF_REFERRAL_PAGE = "/refer"
QUESTIONNAIRE_PAGES = "/q/"  # /q/{token}
PERSON_POLICY = (
    CSP,
    b"default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
    b"form-action 'self'; frame-ancestors 'none'",
)
"""The person's pages (app/person): their own style sheet, no script at all; their forms
submit to this service only."""


def person_page(path: str) -> bool:
    """A page of the person's (app/person): the self-referral form and the questionnaire pages,
    HTML forms posted without a token, under ``PERSON_POLICY``."""
    return path == SELF_REFERRAL_PAGE or path.startswith(QUESTIONNAIRE_PAGES)


INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def docs_policy(page: bytes) -> bytes:
    """The CSP of a /docs page: its own scripts, styles and images only, and of its inline
    scripts exactly those in this page (by hash): no injected script runs. Swagger UI sets
    style attributes, hence the inline styles."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(s).digest()).decode()}'"
        for s in INLINE_SCRIPT.findall(page)
    )
    return (
        f"default-src 'none'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ).encode()


PUBLIC_FEED = "/oruk"
"""The public Open Referral UK feed (``app/directory/oruk_router.py``): the directory, nothing of
a person; caches may keep it and revalidate it with its ``ETag``."""
PUBLIC_CACHE = (b"cache-control", b"public, no-cache")


def security_headers(path: str, *, hsts: bool) -> list[tuple[bytes, bytes]]:
    """The headers every answer gets (a /docs page's CSP is set by ``docs_policy``)."""
    headers = [h for h in API_HEADERS if not (path in DOCS_PAGES and h[0] == CSP)]
    if path == DASHBOARD or path.startswith(DASHBOARD + "/"):
        headers = [DASHBOARD_POLICY if h[0] == CSP else h for h in headers]
    if person_page(path):
        headers = [PERSON_POLICY if h[0] == CSP else h for h in headers]
    if path.startswith(("/static/", DASHBOARD + "/static/")):  # no data in them: cacheable
        headers = [h for h in headers if h[0] != b"cache-control"]
    if path == PUBLIC_FEED or path.startswith(PUBLIC_FEED + "/"):  # public: cache, revalidate
        headers = [PUBLIC_CACHE if h[0] == b"cache-control" else h for h in headers]
    if hsts:
        headers.append(HSTS)
    return headers
