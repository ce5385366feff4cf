"""FastAPI dependencies: the verified caller, and the caller allowed to take an action."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app import deps
from app.auth.policy import Action, Reach, authorize
from app.auth.principal import Principal
from app.auth.tokens import no_bearer_token

_bearer = HTTPBearer(auto_error=False, description="JWT: HS256 (development) or RS256/ES256 (JWKS)")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def get_principal(request: Request, credentials: Credentials) -> Principal:
    """The verified caller; 401 with ``WWW-Authenticate`` when the token is missing or bad."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise no_bearer_token(request.headers.get("authorization"))
    principal = await deps.verifier_of(request).verify(credentials.credentials)
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


@dataclass(frozen=True)
class Caller:
    """A caller cleared for one action, with the records that action may reach."""

    principal: Principal
    action: Action
    reach: Reach


def allowed(
    action: Action,
) -> Callable[[Request, HTTPAuthorizationCredentials | None], Awaitable[Caller]]:
    """Dependency factory: ``caller: Annotated[Caller, Depends(allowed(Action.X))]``."""

    async def dependency(request: Request, credentials: Credentials) -> Caller:
        # get_principal called, not depended on: one level less for FastAPI to solve per request
        principal = await get_principal(request, credentials)
        return Caller(principal, action, authorize(principal, action))

    return dependency
