"""References inside FHIR JSON: where each one is, and pointing some of them elsewhere."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from typing import Any

Path = tuple[str | int, ...]  # keys and list indexes from a resource to one of its elements


def references(value: Any, path: Path = ()) -> Iterator[tuple[Path, str]]:
    """``(path, reference)`` for every Reference in ``value``: the path of its JSON object."""
    if isinstance(value, dict):
        reference = value.get("reference")
        if isinstance(reference, str):
            yield path, reference
        for key, child in value.items():
            if isinstance(child, dict | list):
                yield from references(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            if isinstance(child, dict | list):
                yield from references(child, (*path, index))


def repointed(resource: dict[str, Any], paths: Sequence[Path], reference: str) -> dict[str, Any]:
    """A copy of ``resource`` whose Reference at each of ``paths`` is ``reference``; only the
    objects and arrays on those paths are copied, the rest is shared."""
    result = dict(resource)
    for path in paths:
        parent: Any = result
        for step in path:
            parent[step] = copy.copy(parent[step])
            parent = parent[step]
        parent["reference"] = reference
    return result
