"""``_history`` and ``vread`` for every versioned referral resource (ServiceRequest, Task,
Patient): the versions ``service.history`` keeps."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request, Response

from app.auth.context import Context
from app.db import SessionDep
from app.errors import NotFound, known_uuid
from app.fhir.http import fhir_base
from app.fhir.responses import FHIR_RESPONSES, FhirResponse
from app.referrals import service
from app.referrals.models import ResourceVersion
from app.referrals.routers.common import IdPath, ReadCaller, resource_response

VERSION = re.compile(r"[1-9][0-9]*")
MAX_VERSION = 2**31 - 1
"""``version_id`` is an INTEGER column: a larger number is no version (PostgreSQL's driver
refuses it as a parameter; "²" passes ``str.isdigit`` but not ``int``)."""


def _history_bundle(
    request: Request, resource_type: str, resource_id: str, rows: list[ResourceVersion]
) -> dict[str, Any]:
    base = fhir_base(request)
    entries = []
    for row in rows:
        first = row.version_id == 1
        entries.append(
            {
                "fullUrl": f"{base}/{resource_type}/{resource_id}",
                "resource": row.resource,
                "request": {
                    "method": "POST" if first else "PUT",
                    "url": resource_type if first else f"{resource_type}/{resource_id}",
                },
                "response": {
                    "status": "201 Created" if first else "200 OK",
                    "etag": f'W/"{row.version_id}"',
                    "lastModified": row.recorded_at.isoformat(),
                },
            }
        )
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "history",
        "total": len(entries),
        "link": [{"relation": "self", "url": f"{base}/{resource_type}/{resource_id}/_history"}],
    }
    if entries:
        bundle["entry"] = entries
    return bundle


def register_history(router: APIRouter, resource_type: str) -> None:
    name = resource_type.lower()

    @router.get(
        f"/fhir/{resource_type}/{{resource_id}}/_history",
        operation_id=f"fhir-history_{name}",
        response_class=FhirResponse,
        responses=FHIR_RESPONSES,
        summary=f"{resource_type} history",
    )
    async def history(
        request: Request, session: SessionDep, caller: ReadCaller, resource_id: IdPath
    ) -> Response:
        """Every version of the resource, newest first."""
        rows = await service.history(
            session,
            Context.of(request, caller),
            resource_type,
            known_uuid(resource_id, resource_type),
        )
        return FhirResponse(_history_bundle(request, resource_type, resource_id, rows))

    @router.get(
        f"/fhir/{resource_type}/{{resource_id}}/_history/{{version_id}}",
        operation_id=f"fhir-vread_{name}",
        response_class=FhirResponse,
        responses=FHIR_RESPONSES,
        summary=f"{resource_type} version",
    )
    async def vread(
        request: Request,
        session: SessionDep,
        caller: ReadCaller,
        resource_id: IdPath,
        version_id: str,
    ) -> Response:
        """One version of the resource."""
        if not VERSION.fullmatch(version_id) or int(version_id) > MAX_VERSION:
            raise NotFound(f"{resource_type}/{resource_id} has no version {version_id}")
        row = await service.vread(
            session,
            Context.of(request, caller),
            resource_type,
            known_uuid(resource_id, resource_type),
            int(version_id),
        )
        return resource_response(row.resource)
