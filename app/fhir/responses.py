"""FHIR JSON responses (``application/fhir+json``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from email.utils import format_datetime
from typing import Any, TypeVar

import pydantic_core
from fastapi import APIRouter
from starlette.responses import Response

from app.fhir import FHIR_JSON, examples
from app.fhir.outcome import information

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


class FhirResponse(Response):
    media_type = FHIR_JSON

    def render(self, content: Any) -> bytes:
        """Compact UTF-8 JSON; pydantic-core's encoder (the same bytes as ``json.dumps`` with
        ``ensure_ascii=False`` and compact separators, but for exponents: ``1e-7``)."""
        return pydantic_core.to_json(content)


def http_date(moment: dt.datetime) -> str:
    return format_datetime(moment.astimezone(dt.UTC), usegmt=True)


def version_headers(resource: dict[str, Any]) -> dict[str, str]:
    """``ETag`` and ``Last-Modified`` of a resource, from its ``meta``."""
    meta = resource.get("meta", {})
    headers = {"ETag": f'W/"{meta.get("versionId", "1")}"'}
    if "lastUpdated" in meta:
        headers["Last-Modified"] = http_date(dt.datetime.fromisoformat(meta["lastUpdated"]))
    return headers


def return_preference(prefer: str | None) -> str:
    """``Prefer: return=minimal | representation | OperationOutcome`` (default representation)."""
    for part in (prefer or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "return" and value in ("minimal", "representation", "OperationOutcome"):
            return value
    return "representation"


def written(
    resource: dict[str, Any],
    *,
    status: int,
    prefer: str | None,
    location: str | None = None,
    message: str = "",
) -> Response:
    """The answer to a create or update, honouring ``Prefer: return=``."""
    headers = version_headers(resource)
    if location:
        headers["Location"] = location
    match return_preference(prefer):
        case "minimal":
            return Response(status_code=status, headers=headers)
        case "OperationOutcome":
            return FhirResponse(information(message or "ok"), status_code=status, headers=headers)
        case _:
            return FhirResponse(resource, status_code=status, headers=headers)


def fhir_body(*example_names: str) -> dict[str, Any]:
    """OpenAPI documentation of a FHIR route's body (read raw, not by FastAPI), with complete
    examples from ``app/fhir/examples``."""
    media: dict[str, Any] = {"schema": {"type": "object"}}
    if example_names:
        media["examples"] = {
            name: {"summary": examples.SUMMARIES[name], "value": examples.example(name)}
            for name in example_names
        }
    content = {FHIR_JSON: media, "application/json": dict(media)}
    return {"requestBody": {"required": True, "content": content}}


FHIR_BODY = fhir_body()
FHIR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"description": text, "content": {FHIR_JSON: {}}}
    for code, text in {
        400: "not parseable FHIR JSON, or a malformed search",
        401: "missing or invalid bearer token",
        403: "role or organisation not allowed",
        404: "unknown, or not visible to the caller",
        409: "state conflict",
        412: "If-Match mismatch, or an ambiguous conditional create",
        413: "body too large",
        415: "unsupported media type",
        422: "a rule of DESIGN.md 5.1/5.2 is broken (the OperationOutcome names the element)",
    }.items()
}


def search_routes(
    router: APIRouter,
    path: str,
    operation_id: str,
    responses: dict[int | str, dict[str, Any]] | None = None,
) -> Callable[[Endpoint], Endpoint]:
    """Register a FHIR search at ``GET path`` and ``POST path/_search`` (form-encoded), as R4
    http.html asks; the POST operation's id ends in ``_post``."""

    def register(endpoint: Endpoint) -> Endpoint:
        for route, method, op in (
            (f"{path}/_search", "POST", f"{operation_id}_post"),
            (path, "GET", operation_id),
        ):
            router.api_route(
                route,
                methods=[method],
                operation_id=op,
                response_class=FhirResponse,
                responses=responses,
            )(endpoint)
        return endpoint

    return register
