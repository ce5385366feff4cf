"""The official Open Referral UK schemas (README.md here) as ``jsonschema`` validators.

Formats are checked: ``uuid`` and ``email`` by jsonschema itself, ``date-time`` and ``uri``
here (jsonschema checks them only with optional packages this project does not need).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker

HERE = Path(__file__).parent
SERVICE: dict[str, Any] = json.loads((HERE / "schema_compiled_service.json").read_text())
OPENAPI: dict[str, Any] = json.loads((HERE / "schema_openapi.json").read_text())
PAGE_FIELDS = ("total_items", "total_pages", "page_number", "size", "first_page", "last_page")

FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parsed = dt.datetime.fromisoformat(value)
    return parsed.tzinfo is not None and "T" in value


@FORMATS.checks("uri", raises=ValueError)
def _uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and (parts.netloc or parts.path))


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FORMATS)


TAXONOMY_TERM = SERVICE["properties"]["attributes"]["items"]["properties"]["taxonomy_term"]
SERVICE_AT_LOCATION = SERVICE["properties"]["service_at_locations"]["items"]
TAXONOMY = {  # HSDS 3.0 schema/taxonomy.json (not in the reference copy): its required fields
    "type": "object",
    "required": ["id", "name", "description"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "name": {"type": "string"},
        "description": {"type": "string"},
        "uri": {"type": "string", "format": "uri"},
        "version": {"type": "string"},
    },
}
API_DETAILS = {
    **OPENAPI["paths"]["/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"],
    "required": ["version", "profile", "openapi_url"],
}


def page_schema(items: dict[str, Any]) -> dict[str, Any]:
    """The openapi's ``Page`` (every field required: ORUK says a list "must include" them)
    with ``contents`` of ``items``."""
    page = copy.deepcopy(OPENAPI["components"]["schemas"]["Page"])
    return {
        **page,
        "required": [*PAGE_FIELDS, "empty", "contents"],
        "properties": {**page["properties"], "contents": {"type": "array", "items": items}},
    }


@cache
def validators() -> dict[str, Draft202012Validator]:
    return {
        "service": _validator(SERVICE),
        "services": _validator(page_schema(SERVICE)),
        "taxonomy": _validator(TAXONOMY),
        "taxonomies": _validator(page_schema(TAXONOMY)),
        "taxonomy_term": _validator(TAXONOMY_TERM),
        "taxonomy_terms": _validator(page_schema(TAXONOMY_TERM)),
        "service_at_location": _validator(SERVICE_AT_LOCATION),
        "service_at_locations": _validator(page_schema(SERVICE_AT_LOCATION)),
        "api": _validator(API_DETAILS),
    }


def errors(kind: str, document: Any) -> list[str]:
    """Every way ``document`` breaks the official schema of ``kind`` ([] when valid)."""
    return [
        f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
        for e in validators()[kind].iter_errors(document)
    ]
