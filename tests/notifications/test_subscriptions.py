"""The Subscription rules and rendering (app/notifications/subscriptions.py), without a database."""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from typing import Any

import pytest

from app.errors import Unprocessable
from app.fhir import FHIR_JSON
from app.fhir.examples import example
from app.notifications.models import Subscription
from app.notifications.subscriptions import (
    ENDPOINT_MAX,
    SECRET_URL,
    check_subscription,
    criteria_statuses,
    endpoint_problem,
    header_problem,
    is_live,
    subscription_resource,
)

HOSTS = ("127.0.0.1", "localhost")
NOW = dt.datetime(2026, 11, 1, 10, 0, tzinfo=dt.UTC)


def body(**changes: Any) -> dict[str, Any]:
    resource = copy.deepcopy(example("subscription"))
    resource.update(changes)
    return resource


def channel(**changes: Any) -> dict[str, Any]:
    resource = body()
    resource["channel"].update(changes)
    return resource


def named(resource: dict[str, Any], hosts: tuple[str, ...] = HOSTS) -> list[str]:
    with pytest.raises(Unprocessable) as caught:
        check_subscription(resource, hosts)
    return [issue.expression or "" for issue in caught.value.issues]


def row(**values: Any) -> Subscription:
    defaults: dict[str, Any] = {
        "id": uuid.uuid4(),
        "version_id": 1,
        "owner_ods": "A81001",
        "status": "active",
        "statuses": None,
        "endpoint": "https://gp.example.org/hook",
        "secret": "s" * 64,
        "error": None,
        "resource": check_subscription(body(), HOSTS).resource,
        "updated_at": NOW,
    }
    return Subscription(**{**defaults, **values})


@pytest.mark.parametrize(
    ("criteria", "statuses"),
    [
        ("Task", None),
        ("Task?status=completed", ["completed"]),
        ("Task?status=completed,cancelled,completed", ["completed", "cancelled"]),
        ("Task?status=completed%2Ccancelled", ["completed", "cancelled"]),
    ],
)
def test_criteria_narrow_to_task_statuses(criteria: str, statuses: list[str] | None) -> None:
    assert criteria_statuses(criteria) == statuses


@pytest.mark.parametrize(
    "criteria",
    [
        "ServiceRequest",
        "Task?",
        "task",
        "Task?status=done",
        "Task?status=completed,",
        "Task?status=",
        "Task?code=fulfill",
        "Task?status=completed&status=cancelled",
        "Task?status=completed&owner=Y02718",
        "Task?status:not=completed",
        "Task?status",
        "Observation?status=final",
    ],
)
def test_other_criteria_are_refused(criteria: str) -> None:
    with pytest.raises(ValueError, match="Task"):
        criteria_statuses(criteria)
    assert named(body(criteria=criteria)) == ["Subscription.criteria"]


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://gp.example.org/hook",
        "https://gp.example.org:8443/hook?practice=A81001",
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://LOCALHOST:9/hook",
    ],
)
def test_endpoints_that_can_receive(endpoint: str) -> None:
    assert endpoint_problem(endpoint, HOSTS) is None


@pytest.mark.parametrize(
    ("endpoint", "why"),
    [
        ("http://gp.example.org/hook", "https is required"),
        ("ftp://gp.example.org/hook", "absolute https URL"),
        ("/relative/hook", "absolute https URL"),
        ("https:///hook", "absolute https URL"),
        ("urn:uuid:0c3c7e3a-1d6c-4bb5-8b3a-4c1f0b7c2f11", "absolute https URL"),
        ("https://user:pw@gp.example.org/hook", "user name or password"),
        ("https://user@gp.example.org/hook", "user name or password"),
        ("https://gp.example.org:99999/hook", "not a URL"),
        ("https://gp.example.org/hook#part", "fragment"),
        ("https://gp.example.org/" + "x" * ENDPOINT_MAX, "longer than"),
    ],
)
def test_endpoints_that_cannot_receive(endpoint: str, why: str) -> None:
    problem = endpoint_problem(endpoint, HOSTS)
    assert problem is not None
    assert why in problem
    assert named(channel(endpoint=endpoint)) == ["Subscription.channel.endpoint"]


def test_plain_http_reaches_only_the_listed_hosts() -> None:
    assert endpoint_problem("http://receiver.test/hook", ("receiver.test",)) is None
    assert endpoint_problem("http://127.0.0.1/hook", ("receiver.test",)) is not None
    assert endpoint_problem("http://127.0.0.1/hook", ()) is not None


@pytest.mark.parametrize(
    "line", ["Authorization: Bearer abc", "X-Practice:A81001", "X-Empty:", "X-Tab: a\tb"]
)
def test_headers_that_may_be_sent(line: str) -> None:
    assert header_problem(line) is None


@pytest.mark.parametrize(
    "line",
    [
        "no colon",
        ": no name",
        "Bad Name: x",
        "Bad(name): x",
        "X-Split: a\r\nX-Injected: b",
        "X-Bell: a\x07",
        "Content-Type: text/plain",
        "content-length: 3",
        "Host: elsewhere.example.org",
        "X-Assetlink-Signature: sha256=00",
        "x-assetlink-event-id: 1",
        "X-Assetlink-Subscription: 1",
        "Connection: close",
        "Transfer-Encoding: chunked",
        "Upgrade: h2c",
        "TE: trailers",
    ],
)
def test_headers_that_may_not_be_sent(line: str) -> None:
    assert header_problem(line) is not None
    resource = channel(header=["X-Fine: yes", line])
    assert named(resource) == ["Subscription.channel.header[1]"]


def test_every_fault_is_named_together() -> None:
    resource = body(status="off", error="x", criteria="Patient")
    resource["channel"] = {
        "type": "websocket",
        "endpoint": "http://gp.example.org/hook",
        "payload": "application/xml",
        "header": ["Host: x"],
    }
    resource["extension"] = [{"url": SECRET_URL, "valueString": "mine"}]
    resource["modifierExtension"] = [{"url": "https://example.org/x", "valueBoolean": True}]
    assert named(resource) == [
        "Subscription.status",
        "Subscription.error",
        "Subscription.criteria",
        "Subscription.channel.type",
        "Subscription.channel.endpoint",
        "Subscription.channel.payload",
        "Subscription.channel.header[0]",
        "Subscription.extension[0]",
        "Subscription.modifierExtension",
    ]


def test_an_endpoint_is_required() -> None:
    resource = body()
    del resource["channel"]["endpoint"]
    assert named(resource) == ["Subscription.channel.endpoint"]


@pytest.mark.parametrize("payload", [None, FHIR_JSON, "application/json", "Application/FHIR+JSON"])
def test_the_payload_is_stored_as_fhir_json(payload: str | None) -> None:
    resource = channel(payload=payload)
    if payload is None:
        del resource["channel"]["payload"]
    draft = check_subscription(resource, HOSTS)
    assert draft.resource["channel"]["payload"] == FHIR_JSON


def test_the_stored_resource_leaves_the_server_set_elements_out() -> None:
    sent = body(id="mine", meta={"versionId": "7"}, status="active", end="2027-01-01T00:00:00Z")
    draft = check_subscription(sent, HOSTS)
    assert draft.statuses == [
        "accepted", "rejected", "in-progress", "completed", "cancelled", "failed"
    ]  # fmt: skip
    assert draft.endpoint == sent["channel"]["endpoint"]
    assert not {"id", "meta", "status", "error"} & draft.resource.keys()
    assert draft.resource["end"] == "2027-01-01T00:00:00Z"


def test_the_rendering_shows_the_secret_only_when_given() -> None:
    stored = row(
        resource={**row().resource, "extension": [{"url": "https://x.org/e", "valueCode": "a"}]}
    )
    read = subscription_resource(stored)
    assert read["status"] == "active"
    assert read["meta"] == {"versionId": "1", "lastUpdated": NOW.isoformat()}
    assert SECRET_URL not in str(read)
    assert "s" * 64 not in str(read)
    created = subscription_resource(stored, "ab" * 32)
    assert created["extension"] == [
        {"url": "https://x.org/e", "valueCode": "a"},
        {"url": SECRET_URL, "valueString": "ab" * 32},
    ]


def test_the_rendering_shows_the_workers_error() -> None:
    read = subscription_resource(row(status="error", error="endpoint answered 500 five times"))
    assert (read["status"], read["error"]) == ("error", "endpoint answered 500 five times")


def test_a_subscription_is_live_while_active_and_not_ended() -> None:
    assert is_live(row(), NOW)
    ends = {**row().resource, "end": "2026-11-01T10:00:00.5Z"}
    assert is_live(row(resource=ends), NOW)
    assert not is_live(row(resource=ends), NOW + dt.timedelta(seconds=1))
    assert not is_live(row(status="error"), NOW)
    assert not is_live(row(status="off"), NOW)
