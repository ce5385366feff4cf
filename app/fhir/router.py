"""FHIR endpoints that belong to no one domain: the CapabilityStatement."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from app.fhir.responses import FhirResponse

router = APIRouter(prefix="/fhir", tags=["fhir"])


@router.get(
    "/metadata",
    operation_id="fhir-metadata",
    response_class=FhirResponse,
    responses={200: {"content": {"application/fhir+json": {}}}},
)
async def metadata(request: Request) -> Any:
    """The CapabilityStatement: the resources, interactions and search parameters implemented."""
    return FhirResponse(request.app.state.capability_statement)
