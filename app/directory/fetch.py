"""Reading a live Open Referral UK feed over HTTP: ``GET {url}/services`` page by page, then
``GET {url}/services/{id}`` for each listed service (the ORUK API lists services with their
one-to-one fields only, ``service_list.json``; a list entry that already carries the nested
arrays is taken as it is).

Everything is read before anything is stored (``app.directory.sync``), so a feed that cannot be
read as a whole raises ``FeedError`` and the directory is left as it was: a server unreachable,
timing out or answering 5xx/429 after ``attempts`` tries with doubling backoff; an answer over
``max_bytes``, not JSON or not an ORUK page; a feed that changed while it was read (its
``total_items`` moved between pages, one id listed twice with different content, fewer distinct
services than announced, a listed service gone). No database access here.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

NESTED = ("service_at_locations", "schedules", "attributes")  # present: a fully nested entry


class FeedError(Exception):
    """The feed cannot be read as a whole; the message says why (for the report)."""


class _Gone(FeedError):
    """404 Not Found."""


@dataclass(frozen=True)
class FetchOptions:
    per_page: int = 100
    timeout_s: float = 30.0  # one request, headers to last byte
    max_bytes: int = 20_000_000  # one response
    attempts: int = 4  # a request tried at most this often (network errors, 5xx, 429)
    backoff_s: float = 0.5  # the first retry's delay; each next one doubles
    concurrency: int = 4  # detail requests in flight at once
    max_services: int = 500_000


@dataclass
class Fetched:
    """Every service of the feed (fully nested, in listing order) and how it was read."""

    services: list[dict[str, Any]]
    pages: int
    requests: int = 0
    retries: int = 0


class _Reader:
    def __init__(self, http: httpx.AsyncClient, base: str, options: FetchOptions) -> None:
        self.http = http
        self.base = base.rstrip("/")
        self.options = options
        self.requests = 0
        self.retries = 0

    async def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """The JSON of one GET, retried on network errors, 5xx and 429."""
        url = f"{self.base}{path}"
        for attempt in range(1, self.options.attempts + 1):
            self.requests += 1
            try:
                async with asyncio.timeout(self.options.timeout_s):
                    status, body = await self._read(url, params)
            except httpx.TooManyRedirects:
                raise FeedError(f"GET {path}: more than 5 redirects") from None
            except (httpx.HTTPError, TimeoutError) as exc:  # a network error, a bad redirect...
                problem = f"GET {path}: {_describe(exc, self.options.timeout_s)}"
            else:
                if status == 200:
                    return _json(path, body)
                if status == 404:
                    raise _Gone(f"GET {path} answered 404 Not Found")
                if status != 429 and status < 500:
                    raise FeedError(f"GET {path} answered HTTP {status}")
                problem = f"GET {path} answered HTTP {status}"
            if attempt == self.options.attempts:
                raise FeedError(f"{problem} ({attempt} attempts)")
            self.retries += 1
            await asyncio.sleep(self.options.backoff_s * 2 ** (attempt - 1))
        raise AssertionError("unreachable")  # pragma: no cover

    async def _read(self, url: str, params: dict[str, Any] | None) -> tuple[int, bytes]:
        async with self.http.stream(
            "GET", url, params=params, headers={"Accept": "application/json"}
        ) as response:
            if response.status_code != 200:
                return response.status_code, b""
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.options.max_bytes:
                raise FeedError(f"GET {url}: {declared} bytes, over {self.options.max_bytes}")
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > self.options.max_bytes:
                    raise FeedError(f"GET {url}: more than {self.options.max_bytes} bytes")
                chunks.append(chunk)
            return 200, b"".join(chunks)


def _describe(exc: BaseException, timeout_s: float) -> str:
    """In words, never the exception's class name (an error answer carries no such name)."""
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return f"no complete answer within {timeout_s:g} s"
    if isinstance(exc, httpx.ConnectError):
        return "cannot connect (refused, unreachable or an unknown host)"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the server broke the HTTP exchange off"
    return "a network error"


def _json(path: str, body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise FeedError(f"GET {path}: the answer is not JSON") from None


def _count(page: Any, key: str, path: str) -> int | None:
    value = page.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FeedError(f"GET {path}: `{key}` is not a whole number")
    return value


async def _page(reader: _Reader, number: int, params: dict[str, Any]) -> tuple[int, list[Any]]:
    """One page's ``total_items`` and contents, checked against the ORUK page envelope."""
    path = f"/services?page={number}"
    page = await reader.get("/services", {**params, "page": number})
    if not isinstance(page, dict) or not isinstance(page.get("contents"), list):
        raise FeedError(f"GET {path}: not an ORUK page (an object with `contents`)")
    total = _count(page, "total_items", path)
    if total is None:
        raise FeedError(f"GET {path}: the page has no `total_items`")
    given = _count(page, "page_number", path)
    if given is not None and given != number:
        raise FeedError(f"GET {path}: answered page {given}")
    return total, page["contents"]


def _listed(entries: list[Any], number: int, seen: dict[str, Any]) -> None:
    for i, entry in enumerate(entries):
        service_id = entry.get("id") if isinstance(entry, dict) else None
        if not isinstance(service_id, str) or not service_id:
            raise FeedError(f"page {number}, service {i}: no id (a service must be an object)")
        if service_id in seen and seen[service_id] != entry:
            raise FeedError(
                f"the feed changed while it was read: service {service_id!r} was listed twice "
                "with different content"
            )
        seen[service_id] = entry


async def fetch_services(
    http: httpx.AsyncClient,
    base_url: str,
    options: FetchOptions,
    *,
    modified_after: dt.datetime | None = None,
) -> Fetched:
    """Every service of the feed at ``base_url`` (modified on or after ``modified_after``)."""
    reader = _Reader(http, base_url, options)
    params: dict[str, Any] = {"per_page": options.per_page}
    if modified_after is not None:
        params["modified_after"] = (
            modified_after.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        )
    total, contents = await _page(reader, 1, params)
    if total > options.max_services:
        raise FeedError(f"the feed lists {total} services, more than {options.max_services}")
    seen: dict[str, Any] = {}
    _listed(contents, 1, seen)
    pages = 1
    # total_pages as announced may be absent; page size as served (a server may cap per_page)
    last = math.ceil(total / len(contents)) if contents else 1
    while pages < last:
        pages += 1
        again, contents = await _page(reader, pages, params)
        if again != total:
            raise FeedError(
                f"the feed changed while it was read: total_items was {total} on page 1 and "
                f"{again} on page {pages}"
            )
        if not contents:
            break
        _listed(contents, pages, seen)
    if len(seen) != total:
        raise FeedError(
            f"the feed changed while it was read (or pages overlap): it announced {total} "
            f"services and listed {len(seen)} distinct ones"
        )
    services = await _details(reader, list(seen.values()))
    return Fetched(services, pages, reader.requests, reader.retries)


async def _details(reader: _Reader, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each entry fully nested: as listed when it carries the nested arrays, else its
    ``GET /services/{id}``; ``options.concurrency`` requests at once."""
    gate = asyncio.Semaphore(reader.options.concurrency)

    async def full(entry: dict[str, Any]) -> dict[str, Any]:
        if all(isinstance(entry.get(key), list) for key in NESTED):
            return entry
        async with gate:
            try:
                found = await reader.get(f"/services/{quote(entry['id'], safe='')}")
            except _Gone:
                raise FeedError(
                    f"the feed changed while it was read: service {entry['id']!r} was "
                    "listed but is no longer found"
                ) from None
        if not isinstance(found, dict) or found.get("id") != entry["id"]:
            raise FeedError(f"GET /services/{entry['id']}: not the service listed")
        return found

    tasks = [asyncio.ensure_future(full(entry)) for entry in entries]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()
