"""Sync a live Open Referral UK feed into the directory (``assetlink sync-directory``,
``POST /api/v1/directory/syncs``, the worker's schedule; docs/oruk.md).

All or nothing per sync: every service is read (``app.directory.fetch``) and mapped exactly as a
file import maps it (``importer.map_rows``) before one transaction stores them
(``importer.store``: created, updated, unchanged), so a feed that cannot be read, a service that
cannot be stored or a feed that changed mid-sync leaves the directory as it was, and the error
says why. A full sync (no ``modified_after``) also marks the feed's activities it no longer
lists inactive (never deleted: bookings point to them).

Ids: a feed's ``id`` is the first 8 hex digits of the SHA-256 of its normalised URL; its
service ``S`` becomes the activity ``{feed}:{S}`` (``{feed}::{sha256(S)[:48]}`` when that would
pass 64 characters), its organisations likewise, so several feeds feed one directory without
clashing and the same feed gives the same ids in every database.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit import service as audit
from app.config import Settings
from app.db import transaction, utcnow
from app.directory import feed_repository, importer
from app.directory.fetch import FeedError, FetchOptions, fetch_services
from app.directory.models import DirectoryFeed
from app.directory.oruk import Mapped
from app.directory.schemas import ImportReport, SyncReport
from app.errors import BadGateway, BadRequest, Conflict, Issue, Unprocessable

log = logging.getLogger("assetlink.directory.sync")

SOURCE = "sync"
MAX_ID = 64
URL_MAX_LENGTH = 2048  # directory_feed.url
SYNC_ACCESS = audit.Access("$sync-directory", "HealthcareService")  # what the audit records


@dataclass(frozen=True)
class Feed:
    id: str
    url: str


def feed_of(raw_url: str) -> Feed:
    """The feed at ``raw_url`` (http or https, no query or fragment), its URL normalised
    (scheme and host lower-case, no trailing slash) and its id derived from it."""
    parts = urlsplit(raw_url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise BadRequest(
            f"{raw_url!r} is not an http(s) URL of an ORUK API",
            [Issue("expected http(s)://host/path of the API's root", "url")],
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise BadRequest(
            "The feed URL must not carry a query, a fragment or credentials",
            [Issue("the API's root only", "url")],
        )
    url = urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), "", ""))
    if len(url) > URL_MAX_LENGTH:
        raise BadRequest(
            f"The feed URL is longer than {URL_MAX_LENGTH} characters",
            [Issue(f"{URL_MAX_LENGTH} characters at most", "url")],
        )
    return Feed(hashlib.sha256(url.encode()).hexdigest()[:8], url)


def activity_id(feed_id: str, source_id: str) -> str:
    """The directory's id of a feed's service (or organisation) ``source_id``."""
    plain = f"{feed_id}:{source_id}"
    if len(plain) <= MAX_ID:
        return plain
    return f"{feed_id}::{hashlib.sha256(source_id.encode()).hexdigest()[:48]}"


def fetch_options(settings: Settings) -> FetchOptions:
    return FetchOptions(
        per_page=settings.directory_sync_per_page,
        timeout_s=settings.directory_sync_timeout_s,
        max_bytes=settings.directory_sync_max_bytes,
        attempts=settings.directory_sync_attempts,
    )


def _namespace(feed: Feed, mapped: list[Mapped]) -> dict[str, str]:
    """Give each mapped service (and its organisation) the feed's ids; activity id -> the
    feed's id of the service."""
    source_ids: dict[str, str] = {}
    for m in mapped:
        if m.id is None or m.errors:
            continue
        source_ids[activity_id(feed.id, m.id)] = m.id
        m.id = activity_id(feed.id, m.id)
        if m.organisation_id is not None:
            m.organisation_id = activity_id(feed.id, m.organisation_id)
        if m.organisation is not None:
            m.organisation = {**m.organisation, "id": m.organisation_id}
    return source_ids


async def _record_failure(
    sessionmaker: async_sessionmaker[AsyncSession],
    lock: asyncio.Lock | None,
    feed: Feed,
    reason: str,
    actor: audit.Actor | None,
) -> None:
    async with transaction(sessionmaker, write=True, lock=lock) as session:
        await _ensure_feed(session, feed)
        await feed_repository.update_feed(
            session, feed.id, last_attempt_at=utcnow(), last_error=reason[:500]
        )
    if actor is not None:
        await audit.record_denied(sessionmaker, actor, SYNC_ACCESS, reason)


async def _ensure_feed(session: AsyncSession, feed: Feed) -> DirectoryFeed:
    found = await feed_repository.get_feed(session, feed.id)
    if found is None:
        await feed_repository.insert_feed(session, feed.id, feed.url)
        found = await feed_repository.get_feed(session, feed.id)
        assert found is not None
    elif found.url != feed.url:
        raise Conflict(
            f"Feed id {feed.id} belongs to {found.url}; this URL cannot be synced",
            [Issue("another feed has this URL's id", "url")],
        )
    return found


async def sync_feed(
    sessionmaker: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    raw_url: str,
    options: FetchOptions,
    *,
    since: dt.datetime | None = None,
    full: bool = False,
    lock: asyncio.Lock | None = None,
    actor: audit.Actor | None = None,
    today: dt.date | None = None,
) -> SyncReport:
    """Read the feed, then store it in one transaction; ``BadGateway`` (the feed) or
    ``Unprocessable`` (its services) and nothing changed otherwise.

    ``since`` asks for services modified after it; else ``full`` or a feed never synced reads
    everything (and marks the vanished inactive), and otherwise the last sync's start time is
    ``modified_after``."""
    feed = feed_of(raw_url)
    if since is not None and full:
        raise BadRequest(
            "A full sync reads every service: give `since` or `full`, not both",
            [Issue("not with full", "since")],
        )
    async with transaction(sessionmaker, write=False) as session:
        known = await feed_repository.get_feed(session, feed.id)
        last = known.last_synced_at if known is not None else None
    modified_after = since if since is not None else (None if full else last)
    started = utcnow()
    try:
        fetched = await fetch_services(http, feed.url, options, modified_after=modified_after)
    except FeedError as exc:
        reason = f"nothing was changed: {exc}"
        await _record_failure(sessionmaker, lock, feed, reason, actor)
        raise BadGateway(f"The feed {feed.url} cannot be synced; {reason}") from None
    # mapping is CPU work (~0.3 ms a service): in a thread, so the API's other requests go on
    mapped = await asyncio.to_thread(importer.map_rows, fetched.services, today or dt.date.today())
    source_ids = _namespace(feed, mapped)
    try:
        async with transaction(sessionmaker, write=True, lock=lock) as session:
            report = await _apply(session, feed, mapped, source_ids, modified_after, started)
            if actor is not None:
                audit.record(session, actor, SYNC_ACCESS)
    except Unprocessable as exc:
        await _record_failure(sessionmaker, lock, feed, exc.message, actor)
        raise
    return SyncReport(
        **report.model_dump(),
        feed_id=feed.id,
        url=feed.url,
        full=modified_after is None,
        modified_after=modified_after,
        pages=fetched.pages,
        requests=fetched.requests,
        retries=fetched.retries,
        started_at=started,
    )


async def _apply(
    session: AsyncSession,
    feed: Feed,
    mapped: list[Mapped],
    source_ids: dict[str, str],
    modified_after: dt.datetime | None,
    started: dt.datetime,
) -> ImportReport:
    await _ensure_feed(session, feed)
    await importer.unlink_unknown_organisations(session, mapped)
    importer.check(mapped, "services", "nothing was changed")
    report = await importer.store(
        session, mapped, source=SOURCE, feed_id=feed.id, source_ids=source_ids
    )
    values: dict[str, object] = {"last_synced_at": started, "last_attempt_at": started}
    if modified_after is None:
        report.deactivated = await feed_repository.deactivate_missing(
            session, feed.id, set(source_ids), utcnow()
        )
        values["last_full_sync_at"] = started
    await feed_repository.update_feed(session, feed.id, last_error=None, **values)
    return report


# ---------------------------------------------------------------- the worker's schedule


async def run_scheduled(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    stopping: asyncio.Event,
    *,
    once: bool = False,
    clock: Callable[[], dt.datetime] = utcnow,
) -> None:
    """Sync each of ``settings.directory_feeds`` every ``directory_sync_interval_s`` (full
    every ``directory_full_sync_interval_s``) until ``stopping`` is set; ``once``: one pass.
    Among several workers, the one that marks a feed attempted first syncs it."""
    interval = dt.timedelta(seconds=settings.directory_sync_interval_s)
    full_every = dt.timedelta(seconds=settings.directory_full_sync_interval_s)
    options = fetch_options(settings)
    while not stopping.is_set():
        for url in settings.directory_feeds:
            if stopping.is_set():
                return
            await _scheduled_one(sessionmaker, http, url, options, interval, full_every, clock())
        if once:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), timeout=min(60.0, interval.total_seconds()))


async def _scheduled_one(
    sessionmaker: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    url: str,
    options: FetchOptions,
    interval: dt.timedelta,
    full_every: dt.timedelta,
    now: dt.datetime,
) -> None:
    try:
        feed = feed_of(url)
        async with transaction(sessionmaker, write=True) as session:
            row = await _ensure_feed(session, feed)
            full = row.last_full_sync_at is None or row.last_full_sync_at <= now - full_every
            claimed = await feed_repository.claim_feed(session, feed.id, now, now - interval)
        if not claimed:
            return
        report = await sync_feed(sessionmaker, http, url, options, full=full)
    except (BadGateway, BadRequest, Conflict, Unprocessable) as exc:
        log.warning("directory sync failed", extra={"feed": url, "error": exc.message[:300]})
        return
    except Exception:  # the database, a bug: logged; deliveries and the next pass go on
        log.exception("directory sync failed", extra={"feed": url})
        return
    log.info(
        "directory sync done",
        extra={
            "feed": feed.id,
            "services_created": report.created,
            "services_updated": report.updated,
            "services_unchanged": report.unchanged,
            "services_deactivated": report.deactivated,
        },
    )
