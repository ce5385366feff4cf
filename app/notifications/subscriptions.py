"""R4 Subscriptions as this service takes them (DESIGN.md 11): the rules, and the resource.

``check_subscription`` reads a structurally valid Subscription (``app.fhir.codec``) and
returns what is stored, or 422 naming every element at fault: ``criteria`` is ``Task``,
optionally ``Task?status=a,b`` with Task status codes; ``channel.type`` ``rest-hook``;
``channel.endpoint`` an absolute https URL (plain http only to the hosts the deployment lists,
for development); ``channel.payload`` FHIR JSON; ``channel.header`` lines ``Name: value`` that
leave the headers of a delivery (its signature, event id, framing) to the worker.
``subscription_resource`` renders a stored row; the secret only ever at creation.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from app.db import column_length
from app.errors import Issue, Unprocessable
from app.fhir import CANONICAL_BASE, FHIR_JSON
from app.notifications.models import Subscription
from app.referrals.lifecycle import TASK_STATUSES

SECRET_URL = f"{CANONICAL_BASE}/StructureDefinition/subscription-secret"
PAYLOADS = (FHIR_JSON, "application/json")  # the second is taken as the first (DESIGN.md 5)
ACCEPTED_STATUSES = ("requested", "active")  # on create; stored and answered as ``active``
ENDPOINT_MAX = column_length(Subscription.endpoint)
# A delivery's own headers (the worker sets them) and the hop-by-hop ones (RFC 9110 7.6.1).
RESERVED_HEADERS = frozenset(
    {
        "content-type",
        "content-length",
        "host",
        "x-assetlink-signature",
        "x-assetlink-event-id",
        "x-assetlink-subscription",
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
FIELD_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # RFC 9110 5.1: a token
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # RFC 9110 5.5: no CTL in a value but HTAB
SERVER_SET = ("id", "meta", "status", "error")  # kept in columns, not in the stored resource


@dataclass(frozen=True)
class SubscriptionDraft:
    """What a valid Subscription registers: the Task statuses it narrows to (None: all), where
    deliveries go, and the resource to store (without the elements the server sets)."""

    statuses: list[str] | None
    endpoint: str
    resource: dict[str, Any]


def criteria_statuses(criteria: str) -> list[str] | None:
    """``Task`` -> None; ``Task?status=a,b`` -> ``[a, b]``; else ValueError saying why."""
    resource_type, question, query = criteria.partition("?")
    if resource_type != "Task":
        raise ValueError("only Task changes can be subscribed to: Task or Task?status=a,b")
    if not question:
        return None
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise ValueError("the query is not name=value: Task?status=a,b") from None
    if [name for name, _ in pairs] != ["status"]:
        raise ValueError("the one search parameter allowed is status, once: Task?status=a,b")
    statuses = list(dict.fromkeys(pairs[0][1].split(",")))
    unknown = [s for s in statuses if s not in TASK_STATUSES]
    if unknown:
        raise ValueError(
            f"not Task status codes: {', '.join(map(repr, unknown))} "
            f"(one of {', '.join(TASK_STATUSES)})"
        )
    return statuses


def endpoint_problem(endpoint: str, http_hosts: Collection[str]) -> str | None:
    """Why ``endpoint`` cannot receive deliveries, or None."""
    if len(endpoint) > ENDPOINT_MAX:
        return f"longer than {ENDPOINT_MAX} characters"
    try:
        url = urlsplit(endpoint)
        url.port  # noqa: B018 (a port out of range raises here)
    except ValueError:
        return "not a URL"
    if not url.hostname or url.scheme not in ("http", "https"):
        return "an absolute https URL is required"
    if url.username is not None or url.password is not None:
        return "may not hold a user name or password (send credentials in channel.header)"
    if url.fragment or endpoint.endswith("#"):
        return "may not have a fragment"
    if url.scheme == "http" and url.hostname.lower() not in {h.lower() for h in http_hosts}:
        allowed = ", ".join(sorted(http_hosts)) or "none"
        return f"https is required (plain http only to the hosts {allowed})"
    return None


def header_problem(line: str) -> str | None:
    """Why ``line`` cannot be sent as a header of each delivery, or None."""
    name, colon, value = line.partition(":")
    if not colon or not FIELD_NAME.match(name):
        return "not 'Name: value' with a valid HTTP field name"
    if CONTROL.search(value):
        return "the value may not hold CR, LF or other control characters"
    if name.lower() in RESERVED_HEADERS:
        return f"{name} is set by the server on each delivery and may not be set here"
    return None


def _channel_issues(channel: dict[str, Any], http_hosts: Collection[str]) -> list[Issue]:
    issues = []
    if channel["type"] != "rest-hook":
        issues.append(Issue("only rest-hook is supported", "Subscription.channel.type"))
    endpoint = channel.get("endpoint")
    problem = "required" if endpoint is None else endpoint_problem(endpoint, http_hosts)
    if problem:
        code = "too-long" if problem.startswith("longer") else None
        issues.append(Issue(problem, "Subscription.channel.endpoint", code=code))
    if channel.get("payload", FHIR_JSON).lower() not in PAYLOADS:
        issues.append(Issue(f"only {FHIR_JSON} is delivered", "Subscription.channel.payload"))
    for index, line in enumerate(channel.get("header", [])):
        if problem := header_problem(line):
            issues.append(Issue(problem, f"Subscription.channel.header[{index}]"))
    return issues


def _issues(body: dict[str, Any], http_hosts: Collection[str]) -> list[Issue]:
    issues = []
    if body["status"] not in ACCEPTED_STATUSES:
        issues.append(Issue("a new subscription's status is requested", "Subscription.status"))
    if "error" in body:
        issues.append(Issue("set by the server", "Subscription.error"))
    try:
        criteria_statuses(body["criteria"])
    except ValueError as exc:
        issues.append(Issue(str(exc), "Subscription.criteria"))
    issues += _channel_issues(body["channel"], http_hosts)
    for index, extension in enumerate(body.get("extension", [])):
        if extension.get("url") == SECRET_URL:
            issues.append(Issue("the server makes the secret", f"Subscription.extension[{index}]"))
    for element in ("modifierExtension", "contained", "implicitRules"):
        if element in body:
            issues.append(Issue("not supported", f"Subscription.{element}", code="not-supported"))
    return issues


def check_subscription(body: dict[str, Any], http_hosts: Collection[str]) -> SubscriptionDraft:
    """The registration of a structurally valid R4 Subscription, or 422 naming each element
    at fault. ``http_hosts``: the hosts an endpoint may reach over plain http."""
    issues = _issues(body, http_hosts)
    if issues:
        raise Unprocessable("The Subscription cannot be registered: see each issue", issues)
    resource = {k: v for k, v in body.items() if k not in SERVER_SET}
    resource["channel"] = {**body["channel"], "payload": FHIR_JSON}
    return SubscriptionDraft(
        criteria_statuses(body["criteria"]), body["channel"]["endpoint"], resource
    )


def subscription_resource(row: Subscription, secret: str | None = None) -> dict[str, Any]:
    """The stored Subscription as R4 JSON; with ``secret`` (at creation only) in its
    extension."""
    stored = dict(row.resource)
    resource: dict[str, Any] = {
        "resourceType": "Subscription",
        "id": str(row.id),
        "meta": {"versionId": str(row.version_id), "lastUpdated": row.updated_at.isoformat()},
        **{k: v for k, v in stored.items() if k != "resourceType"},
        "status": row.status,
    }
    if row.error:
        resource["error"] = row.error
    if secret is not None:
        resource["extension"] = [
            *stored.get("extension", []),
            {"url": SECRET_URL, "valueString": secret},
        ]
    return resource


def end_of(row: Subscription) -> dt.datetime | None:
    """The instant the subscription ends (``end``), if it has one."""
    end = row.resource.get("end")
    return None if end is None else dt.datetime.fromisoformat(end)


def is_live(row: Subscription, now: dt.datetime) -> bool:
    """Whether ``row`` is to receive deliveries at ``now``: active and not ended."""
    end = end_of(row)
    return row.status == "active" and (end is None or now < end)
