"""Request id, body limit, media type, malformed JSON, access log and metrics."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from app.auth.principal import Role
from app.config import Settings
from app.main import create_app
from app.ops import error_handlers
from app.ops.logging import JsonFormatter
from app.ops.middleware import RequestMiddleware
from app.terminology.codesystems import NEED_SYSTEM
from tests.conftest import TokenFactory, make_settings
from tests.referrals import factories

NHS_NUMBER = "9434765919"


async def test_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/livez", headers={"X-Request-Id": "abc-123"})
    assert response.headers["X-Request-Id"] == "abc-123"


async def test_request_id_is_generated_when_absent_or_unsafe(client: httpx.AsyncClient) -> None:
    generated = (await client.get("/livez")).headers["X-Request-Id"]
    assert len(generated) == 36
    unsafe = (await client.get("/livez", headers={"X-Request-Id": "a\tb c"})).headers[
        "X-Request-Id"
    ]
    assert unsafe != "a\tb c"


async def test_oversized_body_is_413(database_url: str, auth: TokenFactory) -> None:
    app = create_app(make_settings(database_url, max_body_bytes=100))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        response = await http.post(
            "/fhir/AuditEvent/_search",
            content=b"date=" + b"2" * 200,
            headers={
                **auth(Role.ADMIN, "X26"),
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
    assert response.status_code == 413
    assert response.json()["issue"][0]["code"] == "too-costly"
    await app.state.engine.dispose()


async def test_oversized_streamed_body_is_413(database_url: str, auth: TokenFactory) -> None:
    """A chunked body with no Content-Length is counted as it arrives."""
    app = create_app(make_settings(database_url, max_body_bytes=100))

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(10):
            yield b"date=" + b"2" * 20

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        response = await http.post(
            "/fhir/AuditEvent/_search",
            content=chunks(),
            headers={
                **auth(Role.ADMIN, "X26"),
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
    assert response.status_code == 413
    await app.state.engine.dispose()


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", ""])
async def test_wrong_media_type_is_415(client: httpx.AsyncClient, content_type: str) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = await client.post("/fhir/AuditEvent/_search", content=b"{}", headers=headers)
    assert response.status_code == 415
    assert response.json()["resourceType"] == "OperationOutcome"


async def test_json_route_errors_are_problem_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 404
    assert body["title"] == "Not found"


async def test_fhir_route_errors_are_operation_outcomes(client: httpx.AsyncClient) -> None:
    response = await client.get("/fhir/NoSuchType")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/fhir+json"
    assert response.json()["issue"][0]["code"] == "not-found"


class Thing(BaseModel):
    name: str
    size: int


def _json_app(settings: Settings) -> FastAPI:
    """A minimal app with the service's own error handling and middleware around a JSON body."""
    app = FastAPI()

    @app.post("/api/v1/things")
    async def create_thing(thing: Thing) -> Thing:
        return thing

    error_handlers.install(app)
    app.add_middleware(RequestMiddleware, max_body_bytes=settings.max_body_bytes)
    return app


@pytest.mark.parametrize("body", [b"{", b'{"name": "x",}', b"\xff\xfe", b"[1, 2"])
async def test_malformed_json_is_400(body: bytes) -> None:
    app = _json_app(make_settings("sqlite://"))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        response = await http.post(
            "/api/v1/things", content=body, headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("depth", [65, 50_000])
@pytest.mark.parametrize("path", ["/api/v1/things", "/fhir/QuestionnaireResponse"])
async def test_a_body_nested_too_deeply_is_400_saying_the_limit(depth: int, path: str) -> None:
    app = _json_app(make_settings("sqlite://"))
    body = b"[" * depth + b"]" * depth
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        response = await http.post(path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert "nested more than 64 levels deep" in response.text
    assert "recursion" not in response.text


async def test_a_body_nested_64_deep_is_read() -> None:
    app = _json_app(make_settings("sqlite://"))
    name = "[" * 62 + '"x"' + "]" * 62  # in an object: 64 deep; brackets inside strings ignored
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        response = await http.post(
            "/api/v1/things",
            content=f'{{"name": {name}, "size": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}}',
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["name", "size"]


async def test_invalid_json_content_is_422_naming_the_field() -> None:
    app = _json_app(make_settings("sqlite://"))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        response = await http.post("/api/v1/things", json={"name": "x", "size": "big"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "size"


async def test_one_json_log_line_per_request_without_identifiers(
    client: httpx.AsyncClient, auth: TokenFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="assetlink.access")
    await client.get(
        f"/fhir/AuditEvent?altid={NHS_NUMBER}",
        headers={**auth(Role.ADMIN, "X26"), "X-Request-Id": "req-1"},
    )
    await client.get(f"/fhir/Patient/{NHS_NUMBER}")
    records = [r for r in caplog.records if r.name == "assetlink.access"]
    assert len(records) == 2
    first = records[0].__dict__
    assert first["request_id"] == "req-1"
    assert first["route"] == "/fhir/AuditEvent"
    assert first["status"] == 200
    assert first["role"] == "admin"
    assert records[1].__dict__["route"] == "/fhir/Patient/{resource_id}"
    lines = [JsonFormatter().format(r) for r in caplog.records]
    assert all(json.loads(line) for line in lines)
    assert NHS_NUMBER not in "\n".join(lines)


async def test_metrics_count_requests_by_route(client: httpx.AsyncClient) -> None:
    await client.get("/livez")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert (
        'assetlink_http_requests_total{method="GET",route="/livez",status="200"}' in response.text
    )
    assert "assetlink_http_request_duration_seconds_bucket" in response.text


async def test_metrics_name_framework_routes_too(client: httpx.AsyncClient) -> None:
    assert (await client.get("/docs")).status_code == 200
    metrics = (await client.get("/metrics")).text
    assert 'assetlink_http_requests_total{method="GET",route="/docs",status="200"}' in metrics


async def _access_line(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, method: str, url: str, **kw: Any
) -> tuple[int, dict[str, Any]]:
    """Sends one request; its status and its access-log line, as JSON."""
    caplog.clear()
    caplog.set_level(logging.INFO, logger="assetlink.access")
    response = await client.request(method, url, **kw)
    (record,) = [r for r in caplog.records if r.name == "assetlink.access"]
    return response.status_code, json.loads(JsonFormatter().format(record))


async def test_access_log_names_the_reason_of_an_error_without_personal_data(
    client: httpx.AsyncClient, auth: TokenFactory, caplog: pytest.LogCaptureFixture
) -> None:
    gp, admin = auth(Role.REFERRER, "A81001"), auth(Role.ADMIN, "X26")
    person = factories.patient(NHS_NUMBER, name=[{"family": "Okafor", "given": ["Grace"]}])
    too_long = factories.service_request(person=person, identifier_value="R" * 300)
    unknown_need = factories.service_request(
        person=person, reasonCode=[{"coding": [{"system": NEED_SYSTEM, "code": "no-such"}]}]
    )
    cases: list[tuple[int, str, str, str, dict[str, Any]]] = [
        (401, "login", "GET", "/fhir/ServiceRequest", {}),
        (403, "forbidden", "GET", "/fhir/AuditEvent", {"headers": gp}),
        (404, "not-found", "GET", f"/fhir/Patient/{NHS_NUMBER}", {"headers": gp}),
        (404, "not-found", "GET", f"/api/v1/nothing/{NHS_NUMBER}", {}),
        (400, "invalid", "GET", f"/fhir/ServiceRequest?_count={NHS_NUMBER}x", {"headers": gp}),
        (415, "not-supported", "POST", "/fhir/ServiceRequest", {"content": b"Grace Okafor"}),
        (422, "too-long", "POST", "/fhir/ServiceRequest", {"json": too_long, "headers": gp}),
        (
            422,
            "code-invalid",
            "POST",
            "/fhir/ServiceRequest",
            {"json": unknown_need, "headers": gp},
        ),
        (
            422,
            "invalid",
            "PUT",
            "/api/v1/routing/A81001",
            {"json": {"x": NHS_NUMBER}, "headers": admin},
        ),
    ]
    for status, code, method, url, kw in cases:
        got, line = await _access_line(client, caplog, method, url, **kw)
        assert (got, line.get("error")) == (status, code), (method, url)
        text = json.dumps(line)
        assert NHS_NUMBER not in text
        assert "Okafor" not in text
        assert "R" * 30 not in text
    _, ok = await _access_line(client, caplog, "GET", "/livez")
    assert "error" not in ok


async def test_access_log_names_413_from_the_middleware(
    database_url: str, auth: TokenFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(make_settings(database_url, max_body_bytes=100))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:

        async def streamed():  # type: ignore[no-untyped-def]
            yield b"{" + b" " * 200 + b"}"

        for content in (b"{" + b" " * 200 + b"}", streamed()):
            status, line = await _access_line(
                http,
                caplog,
                "POST",
                "/fhir/ServiceRequest",
                content=content,
                headers={**auth(Role.REFERRER, "A81001"), "Content-Type": "application/json"},
            )
            assert (status, line["error"]) == (413, "too-costly")
    await app.state.engine.dispose()
