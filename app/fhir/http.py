"""Helpers for FHIR routes: the base URL, search requests from GET or POST, and the searchset
Bundle answering them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from app import deps
from app.errors import BadRequest
from app.fhir.bundle import searchset
from app.fhir.responses import FhirResponse
from app.fhir.search import Page, SearchRequest
from app.ops.input_guard import refuse_nul_parameters


def fhir_base(request: Request) -> str:
    """The absolute ``[base]`` of this FHIR server, e.g. ``https://host/fhir``."""
    root = deps.settings_of(request).public_base_url or str(request.base_url)
    return root.rstrip("/") + "/fhir"


async def search_request(request: Request) -> SearchRequest:
    """Search parameters from the query string, plus the form body of ``POST _search``."""
    pairs = list(request.query_params.multi_items())
    if request.method == "POST":
        body = await request.body()
        try:
            pairs += parse_qsl(
                body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body)
            )
        except (UnicodeDecodeError, ValueError):
            raise BadRequest("The _search body is not application/x-www-form-urlencoded") from None
        refuse_nul_parameters(pairs)
    return SearchRequest.from_pairs(pairs, request.headers.get("prefer"))


def searchset_response(
    request: Request,
    resource_type: str,
    page: Page,
    matches: Sequence[dict[str, Any]],
    *,
    total: int,
    included: Sequence[dict[str, Any]] = (),
) -> FhirResponse:
    """One page of a search: a ``searchset`` Bundle with the total and its self, next and
    previous links (an opaque ``_cursor`` each)."""
    base = fhir_base(request)
    links = page.links(f"{base}/{resource_type}", total)
    return FhirResponse(searchset(base, matches, total=total, links=links, included=included))
