"""The CapabilityStatement (``GET /fhir/metadata``): exactly what this server implements.

Each FHIR feature declares a ``ResourceCapability``; ``create_app`` hands them all to
``capability_statement``, so the statement grows with the features and never claims more.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from app import __version__
from app.fhir import FHIR_JSON, FHIR_VERSION


@dataclass(frozen=True)
class SearchParam:
    name: str
    type: str  # number | date | string | token | reference | composite | quantity | uri | special
    documentation: str = ""


@dataclass(frozen=True)
class Operation:
    name: str
    definition: str


@dataclass(frozen=True)
class ResourceCapability:
    type: str
    interactions: tuple[str, ...]
    search_params: tuple[SearchParam, ...] = ()
    operations: tuple[Operation, ...] = ()
    search_include: tuple[str, ...] = ()
    search_rev_include: tuple[str, ...] = ()
    versioning: str = "versioned"
    conditional_create: bool = False
    update_create: bool = False
    documentation: str = ""


@dataclass
class ServerCapability:
    resources: list[ResourceCapability] = field(default_factory=list)
    system_interactions: list[str] = field(default_factory=list)


def _resource(cap: ResourceCapability) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "type": cap.type,
        "interaction": [{"code": code} for code in cap.interactions],
        "versioning": cap.versioning,
        "readHistory": "vread" in cap.interactions,
        "updateCreate": cap.update_create,
        "conditionalCreate": cap.conditional_create,
    }
    if cap.documentation:
        entry["documentation"] = cap.documentation
    if cap.search_include:
        entry["searchInclude"] = list(cap.search_include)
    if cap.search_rev_include:
        entry["searchRevInclude"] = list(cap.search_rev_include)
    if cap.search_params:
        entry["searchParam"] = [
            {
                "name": p.name,
                "type": p.type,
                **({"documentation": p.documentation} if p.documentation else {}),
            }
            for p in cap.search_params
        ]
    if cap.operations:
        entry["operation"] = [{"name": o.name, "definition": o.definition} for o in cap.operations]
    return entry


def capability_statement(server: ServerCapability, released: dt.date) -> dict[str, Any]:
    rest: dict[str, Any] = {
        "mode": "server",
        "documentation": "assetlink: social-prescribing referrals, closed loop via Task",
        "security": {
            "cors": True,
            "description": (
                "Bearer JWT in the Authorization header: RS256/ES256 verified against the "
                "deployment's JWKS (HS256 in development). Claims: sub, role, org (ODS code), "
                "optional SMART scope. See DESIGN.md section 4."
            ),
        },
        "resource": [_resource(cap) for cap in sorted(server.resources, key=lambda c: c.type)],
    }
    if server.system_interactions:
        rest["interaction"] = [{"code": code} for code in server.system_interactions]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": released.isoformat(),
        "publisher": "assetlink",
        "kind": "instance",
        "software": {"name": "assetlink", "version": __version__},
        "implementation": {"description": "assetlink social-prescribing referral service"},
        "fhirVersion": FHIR_VERSION,
        "format": [FHIR_JSON, "json"],
        "rest": [rest],
    }
