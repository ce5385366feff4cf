"""Bundles the server sends: ``searchset`` pages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def searchset(
    base: str,
    matches: Sequence[dict[str, Any]],
    *,
    total: int,
    links: list[dict[str, str]],
    included: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    def entry(resource: dict[str, Any], mode: str) -> dict[str, Any]:
        return {
            "fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}",
            "resource": resource,
            "search": {"mode": mode},
        }

    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
    }
    entries = [entry(r, "match") for r in matches] + [entry(r, "include") for r in included]
    if entries:  # FHIR JSON has no empty arrays
        bundle["entry"] = entries
    return bundle
