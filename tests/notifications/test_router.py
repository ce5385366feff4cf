"""``/fhir/Subscription`` (DESIGN.md 11): registration with a one-time secret, the rules as 422s
naming the element, each organisation's own subscriptions, deletion with its deliveries, and the
audit trail, on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit.models import AuditEvent
from app.auth.principal import Role
from app.db import utcnow
from app.fhir.examples import example
from app.main import create_app
from app.notifications.models import Delivery, OutboxEvent, Subscription
from app.notifications.subscriptions import SECRET_URL
from tests.conftest import TokenFactory, make_settings

URL = "/fhir/Subscription"
GP = (Role.REFERRER, "A81001")
OTHER_GP = (Role.REFERRER, "A81002")
ADMIN = (Role.ADMIN, "X26")


def subscription(**changes: Any) -> dict[str, Any]:
    resource = copy.deepcopy(example("subscription"))
    resource.update(changes)
    return resource


def channel(**changes: Any) -> dict[str, Any]:
    resource = subscription()
    resource["channel"].update(changes)
    return resource


async def create(
    client: httpx.AsyncClient, headers: dict[str, str], **changes: Any
) -> dict[str, Any]:
    response = await client.post(URL, json=subscription(**changes), headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def secrets_of(resource: dict[str, Any]) -> list[str]:
    return [e["valueString"] for e in resource.get("extension", []) if e["url"] == SECRET_URL]


async def count(session: AsyncSession, model: Any) -> int:
    return await session.scalar(select(func.count()).select_from(model)) or 0


async def test_create_returns_the_secret_once(
    client: httpx.AsyncClient, session: AsyncSession, auth: TokenFactory
) -> None:
    response = await client.post(URL, json=subscription(), headers=auth(*GP))

    assert response.status_code == 201, response.text
    created = response.json()
    sid = created["id"]
    assert response.headers["Location"] == f"http://testserver/fhir/Subscription/{sid}/_history/1"
    assert response.headers["ETag"] == 'W/"1"'
    assert "Last-Modified" in response.headers
    assert created["status"] == "active"
    assert created["meta"]["versionId"] == "1"
    [secret] = secrets_of(created)
    assert re.fullmatch(r"[0-9a-f]{64}", secret)  # 256 bits
    row = await session.get(Subscription, uuid.UUID(sid))
    assert row is not None
    assert (row.owner_ods, row.status, row.secret) == ("A81001", "active", secret)
    assert row.statuses == [
        "accepted",
        "rejected",
        "in-progress",
        "completed",
        "cancelled",
        "failed",
    ]
    assert row.endpoint == "https://gp-system.example.org/assetlink/notifications"
    assert secret not in str(row.resource)
    assert not {"id", "meta", "status"} & row.resource.keys()

    for read in (
        await client.get(f"{URL}/{sid}", headers=auth(*GP)),
        await client.get(URL, headers=auth(*GP)),
        await client.post(f"{URL}/_search", data={"_id": sid}, headers=auth(*GP)),
        await client.get(URL, headers=auth(*ADMIN)),
    ):
        assert read.status_code == 200, read.text
        assert sid in read.text
        assert secret not in read.text
        assert SECRET_URL not in read.text


async def test_prefer_minimal_still_returns_the_secret(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    """The create response is the only place the secret is ever shown."""
    headers = {**auth(*GP), "Prefer": "return=minimal"}
    response = await client.post(URL, json=subscription(), headers=headers)
    assert response.status_code == 201, response.text
    assert len(secrets_of(response.json())) == 1


async def test_a_bare_task_criteria_and_no_payload_are_stored_as_every_status_in_fhir_json(
    client: httpx.AsyncClient, session: AsyncSession, auth: TokenFactory
) -> None:
    resource = subscription(criteria="Task", end="2027-01-01T00:00:00Z")
    resource["channel"]["payload"] = "application/json"
    created = (await client.post(URL, json=resource, headers=auth(*GP))).json()
    row = await session.get(Subscription, uuid.UUID(created["id"]))
    assert row is not None
    assert row.statuses is None
    assert created["channel"]["payload"] == "application/fhir+json"
    read = (await client.get(f"{URL}/{created['id']}", headers=auth(*GP))).json()
    assert read["end"] == "2027-01-01T00:00:00Z"
    assert read["criteria"] == "Task"


BAD = [
    ("status off", subscription(status="off"), "Subscription.status"),
    ("criteria of another resource", subscription(criteria="Patient"), "Subscription.criteria"),
    ("another parameter", subscription(criteria="Task?owner=Y02718"), "Subscription.criteria"),
    ("a bad status code", subscription(criteria="Task?status=done"), "Subscription.criteria"),
    ("a websocket", channel(type="websocket"), "Subscription.channel.type"),
    ("plain http", channel(endpoint="http://gp.example.org/hook"), "Subscription.channel.endpoint"),
    ("no scheme", channel(endpoint="gp.example.org/hook"), "Subscription.channel.endpoint"),
    (
        "a user in the URL",
        channel(endpoint="https://me:pw@gp.example.org/hook"),
        "Subscription.channel.endpoint",
    ),
    (
        "an over-long endpoint",
        channel(endpoint="https://gp.example.org/" + "x" * 2048),
        "Subscription.channel.endpoint",
    ),
    ("an XML payload", channel(payload="application/fhir+xml"), "Subscription.channel.payload"),
    ("a reserved header", channel(header=["A: b", "Host: x"]), "Subscription.channel.header[1]"),
    ("a signature header", channel(header=["X-Assetlink-Signature: x"]), "channel.header[0]"),
    ("a header split", channel(header=["A: b\r\nC: d"]), "Subscription.channel.header[0]"),
    ("a header with no name", channel(header=["no colon"]), "Subscription.channel.header[0]"),
    (
        "a secret of the client's",
        subscription(extension=[{"url": SECRET_URL, "valueString": "x"}]),
        "Subscription.extension[0]",
    ),
]


@pytest.mark.parametrize(("resource", "where"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
async def test_a_bad_subscription_is_422_naming_the_element_and_writes_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    auth: TokenFactory,
    resource: dict[str, Any],
    where: str,
) -> None:
    response = await client.post(URL, json=resource, headers=auth(*GP))

    assert response.status_code == 422, response.text
    expressions = [e for issue in response.json()["issue"] for e in issue.get("expression", [])]
    assert any(where in e for e in expressions), expressions
    assert await count(session, Subscription) == 0
    assert await count(session, AuditEvent) == 0


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda r: r.pop("reason"), "Subscription.reason"),
        (lambda r: r.pop("criteria"), "Subscription.criteria"),
        (lambda r: r.update(topic="x"), "Subscription.topic"),
        (lambda r: r["channel"].update(header="A: b"), "Subscription.channel.header"),
        (lambda r: r.update(end="2027-01-01"), "Subscription.end"),
        (lambda r: r.update(reason="a\u0000b"), "Subscription.reason"),
        (lambda r: r.update(resourceType="Task"), "Subscription.resourceType"),
    ],
    ids=[
        "no reason",
        "no criteria",
        "an R5 element",
        "a header not a list",
        "end a date",
        "NUL",
        "a Task",
    ],
)
async def test_a_subscription_that_is_not_r4_is_400(
    client: httpx.AsyncClient, session: AsyncSession, auth: TokenFactory, change: Any, where: str
) -> None:
    resource = subscription()
    change(resource)
    response = await client.post(URL, json=resource, headers=auth(*GP))
    assert response.status_code == 400, response.text
    expressions = [e for issue in response.json()["issue"] for e in issue.get("expression", [])]
    assert where in expressions, expressions
    assert await count(session, Subscription) == 0


async def test_an_unparseable_body_is_400(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    response = await client.post(
        URL, content=b"{", headers={**auth(*GP), "Content-Type": "application/fhir+json"}
    )
    assert response.status_code == 400, response.text


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:8080/hook", "http://localhost/hook"])
async def test_plain_http_reaches_the_default_loopback_hosts(
    client: httpx.AsyncClient, auth: TokenFactory, endpoint: str
) -> None:
    response = await client.post(URL, json=channel(endpoint=endpoint), headers=auth(*GP))
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("endpoint", ["http://[::1]/hook", "http://127.0.0.2/hook"])
async def test_plain_http_to_an_unlisted_host_is_422(
    client: httpx.AsyncClient, auth: TokenFactory, endpoint: str
) -> None:
    response = await client.post(URL, json=channel(endpoint=endpoint), headers=auth(*GP))
    assert response.status_code == 422, response.text
    assert "127.0.0.1, localhost" in response.text


@pytest.fixture
async def listed_client(
    database_url: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app whose deployment lists ``receiver.test`` (and only it) for http."""
    app = create_app(make_settings(database_url, subscription_http_hosts="receiver.test"))
    app.state.sessionmaker = sessionmaker
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
    await app.state.engine.dispose()


async def test_plain_http_reaches_only_the_hosts_the_deployment_lists(
    listed_client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    listed = channel(endpoint="http://receiver.test:9000/hook")
    assert (await listed_client.post(URL, json=listed, headers=auth(*GP))).status_code == 201
    loopback = channel(endpoint="http://127.0.0.1:9000/hook")
    refused = await listed_client.post(URL, json=loopback, headers=auth(*GP))
    assert refused.status_code == 422, refused.text
    assert "receiver.test" in refused.text


async def test_each_referrer_reaches_only_its_own_organisations(
    client: httpx.AsyncClient, session: AsyncSession, auth: TokenFactory
) -> None:
    mine = await create(client, auth(*GP))
    theirs = await create(client, auth(*OTHER_GP))
    admins = await create(client, auth(*ADMIN))

    assert (await client.get(f"{URL}/{theirs['id']}", headers=auth(*GP))).status_code == 404
    assert (await client.delete(f"{URL}/{theirs['id']}", headers=auth(*GP))).status_code == 404
    found = (await client.get(URL, headers=auth(*GP))).json()
    assert found["total"] == 1
    assert [e["resource"]["id"] for e in found["entry"]] == [mine["id"]]
    by_id = (await client.get(f"{URL}?_id={theirs['id']}", headers=auth(*GP))).json()
    assert by_id["total"] == 0

    everything = (await client.get(URL, headers=auth(*ADMIN))).json()
    assert everything["total"] == 3
    assert {e["resource"]["id"] for e in everything["entry"]} == {
        mine["id"], theirs["id"], admins["id"]
    }  # fmt: skip
    assert (await client.get(f"{URL}/{theirs['id']}", headers=auth(*ADMIN))).status_code == 200
    owners = {row.id: row.owner_ods for row in await session.scalars(select(Subscription))}
    assert owners[uuid.UUID(admins["id"])] == "X26"  # the caller's organisation, always
    assert await session.get(Subscription, uuid.UUID(theirs["id"])) is not None


@pytest.mark.parametrize(
    ("role", "org"),
    [(Role.LINK_WORKER, "Y02718"), (Role.PROVIDER, "P00001"), (Role.COMMISSIONER, "C00001")],
)
async def test_other_roles_are_403(
    client: httpx.AsyncClient, session: AsyncSession, auth: TokenFactory, role: Role, org: str
) -> None:
    existing = await create(client, auth(*GP))
    headers = auth(role, org)
    for method, url in (
        ("POST", URL),
        ("GET", URL),
        ("POST", f"{URL}/_search"),
        ("GET", f"{URL}/{existing['id']}"),
        ("DELETE", f"{URL}/{existing['id']}"),
    ):
        body = subscription() if method == "POST" and url == URL else None
        response = await client.request(method, url, json=body, headers=headers)
        assert response.status_code == 403, (method, url, response.text)
    assert await count(session, Subscription) == 1


async def test_no_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post(URL, json=subscription())
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_an_unknown_id_is_404(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    for url in (f"{URL}/{uuid.uuid4()}", f"{URL}/not-a-uuid"):
        assert (await client.get(url, headers=auth(*GP))).status_code == 404
        assert (await client.delete(url, headers=auth(*GP))).status_code == 404


async def test_there_is_no_update(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    created = await create(client, auth(*GP))
    response = await client.put(f"{URL}/{created['id']}", json=created, headers=auth(*GP))
    assert response.status_code == 405, response.text


async def test_delete_takes_the_deliveries_with_it(
    client: httpx.AsyncClient, session: AsyncSession, auth: TokenFactory
) -> None:
    doomed = await create(client, auth(*GP))
    kept = await create(client, auth(*GP))
    event = OutboxEvent(
        task_id=uuid.uuid4(),
        task_version=2,
        task_status="accepted",
        requester_ods="A81001",
        occurred_at=utcnow(),
    )
    session.add(event)
    await session.flush()
    for sid in (doomed["id"], kept["id"]):
        session.add(
            Delivery(
                event_id=event.id,
                subscription_id=uuid.UUID(sid),
                status="pending",
                next_attempt_at=utcnow(),
            )
        )
    await session.commit()

    response = await client.delete(f"{URL}/{doomed['id']}", headers=auth(*GP))

    assert response.status_code == 204, response.text
    assert response.content == b""
    session.expunge_all()
    remaining = list(await session.scalars(select(Delivery.subscription_id)))
    assert remaining == [uuid.UUID(kept["id"])]
    assert await count(session, OutboxEvent) == 1  # the event is the Task's, not the subscription's
    assert await session.get(Subscription, uuid.UUID(doomed["id"])) is None
    assert (await client.get(f"{URL}/{doomed['id']}", headers=auth(*GP))).status_code == 404
    again = await client.delete(f"{URL}/{doomed['id']}", headers=auth(*GP))
    assert again.status_code == 404, again.text


async def test_search_by_status_and_pages(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    ids = [(await create(client, auth(*GP)))["id"] for _ in range(3)]

    first = (await client.get(f"{URL}?status=active&_count=2", headers=auth(*GP))).json()
    assert first["total"] == 3
    links = {link["relation"]: link["url"] for link in first["link"]}
    following = (await client.get(links["next"], headers=auth(*GP))).json()
    seen = [e["resource"]["id"] for e in first["entry"] + following["entry"]]
    assert sorted(seen) == sorted(ids)
    none = (await client.get(f"{URL}?status=error", headers=auth(*GP))).json()
    assert none["total"] == 0
    assert "entry" not in none
    strict = await client.get(
        f"{URL}?criteria=Task", headers={**auth(*GP), "Prefer": "handling=strict"}
    )
    assert strict.status_code == 400, strict.text
    bad = await client.get(f"{URL}?_count=many", headers=auth(*GP))
    assert bad.status_code == 400, bad.text


async def test_each_access_is_audited_without_a_patient(
    client: httpx.AsyncClient, session: AsyncSession, auth: TokenFactory
) -> None:
    created = await create(client, auth(*GP))
    sid = created["id"]
    await client.get(f"{URL}/{sid}", headers=auth(*GP))
    await client.get(URL, headers=auth(*GP))
    assert (await client.get(f"{URL}/{sid}", headers=auth(*OTHER_GP))).status_code == 404
    await client.delete(f"{URL}/{sid}", headers=auth(*GP))

    rows = (
        await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity_type == "Subscription")
            .order_by(AuditEvent.recorded_at, AuditEvent.id)
        )
    ).all()
    seen = sorted((r.operation, r.actor_org, r.outcome) for r in rows)
    assert seen == sorted(
        [
            ("create", "A81001", "0"),
            ("read", "A81001", "0"),
            ("search", "A81001", "0"),
            ("read", "A81002", "4"),
            ("delete", "A81001", "0"),
        ]
    )
    assert {r.entity_id for r in rows} == {sid}
    assert all(r.patient_id is None for r in rows)
    trail = await client.get(
        f"{URL.replace('Subscription', 'AuditEvent')}?entity=Subscription/{sid}",
        headers=auth(*ADMIN),
    )
    assert trail.status_code == 200, trail.text
