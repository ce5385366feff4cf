"""FHIR endpoints that belong to no one domain: the CapabilityStatement."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.deps import CapabilityStatementDep
from app.fhir.responses import FhirResponse

router = APIRouter(prefix="/fhir", tags=["fhir"])


@router.get(
    "/metadata",
    operation_id="fhir-metadata",
    response_class=FhirResponse,
    responses={200: {"content": {"application/fhir+json": {}}}},
)
async def metadata(statement: CapabilityStatementDep) -> Any:
    """The CapabilityStatement: the resources, interactions and search parameters implemented."""
    return FhirResponse(statement)
