"""Reading FHIR JSON: strict parsing with ``fhir.resources.R4B`` (structure only).

``parse`` answers 400 for anything that is not well-formed R4 JSON of the expected type:
invalid JSON, duplicate keys, a wrong ``resourceType``, unknown elements (the FHIR JSON rules
forbid them), wrong types or cardinality. Code values and profile rules are the caller's job,
because fhir.resources does not check them. The domain gets the plain JSON back, never a
fhir.resources model.
"""

from __future__ import annotations

import importlib
import itertools
import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from pydantic import ValidationError

from app.errors import BadRequest, Issue

RESOURCE_TYPE = re.compile(r"^[A-Z][A-Za-z]{1,63}$")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def loads(body: bytes) -> Any:
    """JSON with the FHIR rules: UTF-8, no duplicate keys, no NaN/Infinity."""
    try:
        text = body.decode("utf-8")
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BadRequest(f"The body is not valid JSON: {exc}") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


@cache
def model_class(resource_type: str) -> Any:
    """The fhir.resources R4B model of a resource type; BadRequest for an unknown type."""
    try:
        if not RESOURCE_TYPE.match(resource_type):
            raise ImportError(resource_type)
        module = importlib.import_module(f"fhir.resources.R4B.{resource_type.lower()}")
        return getattr(module, resource_type)
    except (ImportError, AttributeError):
        raise BadRequest(
            f"{resource_type!r} is not an R4 resource type",
            [Issue("unknown resourceType", "resourceType", code="structure")],
        ) from None


def fhir_path(resource_type: str, loc: tuple[Any, ...]) -> str:
    """A pydantic error location as a FHIRPath-like expression: ``Patient.name[0].given``."""
    path = resource_type
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part[:1].isupper() and part not in ("__root__",):
            continue  # the resource type fhir.resources inserts for contained resources
        else:
            path += f".{part}"
    return path


def _empty_values(value: Any, path: str) -> Iterator[str]:
    """FHIR JSON has no null values, empty arrays, empty objects or empty strings (json.html)."""
    if isinstance(value, dict):
        if not value:
            yield path
        for key, child in value.items():
            if child is None and not key.startswith("_"):
                yield f"{path}.{key}"
            else:
                yield from _empty_values(child, f"{path}.{key}")
    elif isinstance(value, list):
        if not value:
            yield path
        for index, child in enumerate(value):
            if child is not None:
                yield from _empty_values(child, f"{path}[{index}]")
    elif isinstance(value, str) and not value.strip():
        yield path


def _has_empty(value: Any) -> bool:
    """Whether ``_empty_values`` finds anything (the same walk without building paths)."""
    if isinstance(value, dict):
        if not value:
            return True
        return any(
            (child is None and not key.startswith("_")) or (child is not None and _has_empty(child))
            for key, child in value.items()
        )
    if isinstance(value, list):
        return not value or any(child is not None and _has_empty(child) for child in value)
    return isinstance(value, str) and not value.strip()


def check_structure(resource: dict[str, Any], resource_type: str, where: str | None = None) -> None:
    """400 unless ``resource`` is structurally valid R4 JSON of ``resource_type``.

    ``where`` names it in the messages when it sits inside another resource
    (``ServiceRequest.contained[1]``)."""
    if not isinstance(resource, dict):
        raise BadRequest(f"Expected a {resource_type} resource (a JSON object)")
    given = resource.get("resourceType")
    if given != resource_type:
        raise BadRequest(
            f"Expected resourceType {resource_type}, got {given!r}",
            [Issue("wrong resourceType", f"{resource_type}.resourceType", code="structure")],
        )
    if _has_empty(resource):
        empty = list(itertools.islice(_empty_values(resource, where or resource_type), 20))
        raise BadRequest(
            "FHIR JSON has no null values, empty arrays, objects or strings",
            [Issue("empty or null", path, code="structure") for path in empty],
        )
    try:
        model_class(resource_type).model_validate(resource)
    except ValidationError as exc:
        issues = [
            Issue(
                f"{error['msg']}",
                fhir_path(where or resource_type, tuple(error["loc"])),
                code="structure",
            )
            for error in exc.errors()[:20]
        ]
        raise BadRequest(f"The {resource_type} is not valid FHIR R4", issues) from None
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as exc:
        # fhir.resources raises these for some shapes (an unknown contained resourceType...)
        raise BadRequest(
            f"The {resource_type} is not valid FHIR R4 ({type(exc).__name__}: {exc})",
            [Issue(str(exc), resource_type, code="structure")],
        ) from None
