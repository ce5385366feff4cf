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

from app.errors import TIME_ZONE_REQUIRED, BadRequest, Issue

RESOURCE_TYPE = re.compile(r"^[A-Z][A-Za-z]{1,63}$")
# A date and a time with no time zone: refused by the dateTime and instant types (R4 datatypes)
NO_TIME_ZONE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")


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


NUL = "\x00"
EMPTY = "empty or null"
HAS_NUL = "contains U+0000 (NUL), which FHIR strings may not hold"


def _faults(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """``(path, fault)`` for each value FHIR JSON forbids: null values, empty arrays, objects
    and strings (json.html), and U+0000 in a string or a name (datatypes.html: no character
    below U+0020 but tab, CR and LF; PostgreSQL text cannot hold U+0000 either)."""
    if isinstance(value, dict):
        if not value:
            yield path, EMPTY
        for key, child in value.items():
            where = f"{path}.{key.replace(NUL, '')}"
            if NUL in key:
                yield where, HAS_NUL
            if child is None and not key.startswith("_"):
                yield where, EMPTY
            elif child is not None:
                yield from _faults(child, where)
    elif isinstance(value, list):
        if not value:
            yield path, EMPTY
        for index, child in enumerate(value):
            if child is not None:
                yield from _faults(child, f"{path}[{index}]")
    elif isinstance(value, str):
        if not value.strip():
            yield path, EMPTY
        elif NUL in value:
            yield path, HAS_NUL


def _has_fault(value: Any) -> bool:
    """Whether ``_faults`` finds anything (the same walk without building paths)."""
    if isinstance(value, dict):
        if not value:
            return True
        return any(
            NUL in key
            or (child is None and not key.startswith("_"))
            or (child is not None and _has_fault(child))
            for key, child in value.items()
        )
    if isinstance(value, list):
        return not value or any(child is not None and _has_fault(child) for child in value)
    return isinstance(value, str) and (not value.strip() or NUL in value)


def _error_message(error: Any) -> str:
    """fhir.resources' message, or what the caller must change when it is only a regex."""
    given = error.get("input")
    if isinstance(given, str) and NO_TIME_ZONE.match(given):
        return TIME_ZONE_REQUIRED
    return str(error["msg"])


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
    if _has_fault(resource):
        faults = list(itertools.islice(_faults(resource, where or resource_type), 20))
        raise BadRequest(
            "FHIR JSON has no null values, empty arrays, objects or strings"
            if all(fault == EMPTY for _, fault in faults)
            else "FHIR strings may not contain U+0000 (NUL)",
            [
                Issue(fault, path, code="structure" if fault == EMPTY else "value")
                for path, fault in faults
            ],
        )
    try:
        model_class(resource_type).model_validate(resource)
    except ValidationError as exc:
        issues = [
            Issue(
                _error_message(error),
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
