"""Request-side helpers for FHIR routes: the base URL and search requests from GET or POST."""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request

from app import deps
from app.errors import BadRequest
from app.fhir.search import SearchRequest
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
