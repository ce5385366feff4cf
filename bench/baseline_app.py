"""The baseline for bench/intake.py: parse and validate a ServiceRequest, answer 201, no database.

Served by uvicorn with the same flags and worker count as the real service, so the ratio
"intake / baseline" measures what the service adds on top of reading and validating the body
with fhir.resources (auth, the rules of DESIGN.md 5.1, the database, the audit, the response).
Run as a script (``make bench`` runs every bench/*.py) it only builds the app and exits.
"""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from fhir.resources.R4B.servicerequest import ServiceRequest
from pydantic import ValidationError

app = FastAPI(title="intake baseline")


@app.get("/livez")
async def livez() -> dict[str, str]:
    """Liveness, for the benchmark to wait on."""
    return {"status": "ok"}


@app.post("/fhir/ServiceRequest")
async def create_service_request(request: Request) -> Response:
    """Validate the body as an R4B ServiceRequest; 201 without storing anything."""
    body = await request.body()
    try:
        ServiceRequest.model_validate_json(body)
    except ValidationError as exc:
        return Response(str(exc), status_code=400, media_type="text/plain")
    return Response(status_code=201)
