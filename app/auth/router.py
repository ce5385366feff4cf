"""``GET /api/v1/whoami``: what the service understood of the caller's token."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from app.auth.dependencies import PrincipalDep

router = APIRouter(prefix="/api/v1", tags=["auth"])


class PrincipalRead(BaseModel):
    sub: str
    role: str
    org: str
    scopes: list[str] | None


@router.get("/whoami", operation_id="auth-whoami", response_model=PrincipalRead)
async def whoami(principal: PrincipalDep) -> PrincipalRead:
    """The verified claims of the bearer token: subject, role, organisation and scopes."""
    scopes = sorted(principal.scopes) if principal.scopes is not None else None
    return PrincipalRead(sub=principal.sub, role=principal.role, org=principal.org, scopes=scopes)
