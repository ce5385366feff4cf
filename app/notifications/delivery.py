"""A delivery as plain values: who hears an event, the body, its signature, the retry delay.

The body is a FHIR ``history`` Bundle with one entry: the Task as that event's change left it
(its version), so a receiver sees every step even when several changes waited in the outbox.
Its id is the event id, the same on every retry, for the receiver to de-duplicate (delivery is
at least once). ``X-Assetlink-Signature`` is ``sha256=`` and the hex HMAC-SHA256 of the exact
body bytes, keyed with the subscription's secret (DESIGN.md 11).

Retries wait ``backoff``: exponential from the first delay, capped, with "equal jitter" (half
the delay fixed, half random; AWS Architecture Blog, "Exponential Backoff And Jitter", 2015), so
the receivers of a burst that failed together are not retried all at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import random
from collections.abc import Sequence
from typing import Any

DEFAULT_BASE_URL = "http://127.0.0.1:8000"  # fullUrls when ASSETLINK_PUBLIC_BASE_URL is unset
SIGNATURE_HEADER = "X-Assetlink-Signature"
EVENT_HEADER = "X-Assetlink-Event-Id"
SUBSCRIPTION_HEADER = "X-Assetlink-Subscription"
ERROR_LENGTH = 200  # how much of an error is kept on the delivery row


def hears(
    statuses: Sequence[str] | None,
    end: str | None,
    task_status: str,
    occurred_at: dt.datetime,
) -> bool:
    """Whether a subscription's criteria take an event of its own organisation: the Task status
    is one it asked for (None: every status) and the change came before the subscription's
    ``end``. (That the Task is its organisation's, and that the subscription is active and was
    registered before the change, the fan-out's query has already settled.)"""
    if statuses is not None and task_status not in statuses:
        return False
    return end is None or occurred_at < _instant(end)


def _instant(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


def _fhir_instant(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def history_bundle(
    task: dict[str, Any],
    *,
    event_id: str,
    occurred_at: dt.datetime,
    recorded_at: dt.datetime,
    base_url: str,
) -> dict[str, Any]:
    """The Bundle a subscriber receives for one event: ``task`` is the Task version it made."""
    version = int(task["meta"]["versionId"])
    url = f"Task/{task['id']}"
    return {
        "resourceType": "Bundle",
        "id": event_id,
        "meta": {"lastUpdated": _fhir_instant(occurred_at)},
        "type": "history",
        "timestamp": _fhir_instant(occurred_at),
        "total": 1,
        "entry": [
            {
                "fullUrl": f"{base_url.rstrip('/')}/fhir/{url}",
                "resource": task,
                "request": {"method": "POST" if version == 1 else "PUT", "url": url},
                "response": {
                    "status": "201 Created" if version == 1 else "200 OK",
                    "etag": f'W/"{version}"',
                    "lastModified": _fhir_instant(recorded_at),
                },
            }
        ],
    }


def encode(bundle: dict[str, Any]) -> bytes:
    """The body's bytes: compact UTF-8 JSON (the signature covers exactly these)."""
    return json.dumps(bundle, separators=(",", ":"), ensure_ascii=False).encode()


def signature(secret: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of body keyed with secret>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def headers(
    body: bytes,
    *,
    secret: str,
    event_id: str,
    subscription_id: str,
    channel_headers: Sequence[str] = (),
) -> dict[str, str]:
    """The request's headers: the subscription's own ``channel.header`` ("Name: value") first,
    then the ones this service sets (which registration forbids a subscription to set)."""
    found: dict[str, str] = {}
    for line in channel_headers:
        name, _, value = line.partition(":")
        if name.strip():
            found[name.strip()] = value.strip()
    found.update(
        {
            "Content-Type": "application/fhir+json",
            SIGNATURE_HEADER: signature(secret, body),
            EVENT_HEADER: event_id,
            SUBSCRIPTION_HEADER: subscription_id,
        }
    )
    return found


def backoff(attempts: int, *, first_s: float, max_s: float, rng: random.Random) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt (1 for the first): the delay
    doubles from ``first_s`` up to ``max_s``; half of it is fixed, half random ("equal jitter")."""
    ceiling = min(max_s, first_s * 2.0 ** min(max(attempts - 1, 0), 60))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


def short_error(message: str) -> str:
    """An error as kept on the row: one line, at most ``ERROR_LENGTH`` characters."""
    line = " ".join(message.split())
    return line if len(line) <= ERROR_LENGTH else line[: ERROR_LENGTH - 3] + "..."
