"""The application's long-lived parts as typed dependencies.

``create_app`` (app/main.py) sets them on ``app.state``; each is read from there by one function
here. Endpoints take them as parameters (``settings: SettingsDep``); code that runs outside an
endpoint's signature (the session dependency, the verified caller, the FHIR base URL, the
request context) calls the function itself. A part of one domain has its provider in that
domain's ``dependencies.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.auth.tokens import TokenVerifier
from app.config import Settings

T = TypeVar("T")


def settings_of(request: Request) -> Settings:
    found: Settings = request.app.state.settings
    return found


def engine_of(request: Request) -> AsyncEngine:
    found: AsyncEngine = request.app.state.engine
    return found


def sessionmaker_of(request: Request) -> async_sessionmaker[AsyncSession]:
    found: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    return found


def write_lock_of(request: Request) -> asyncio.Lock | None:
    """This process's SQLite writer lock; None on PostgreSQL."""
    found: asyncio.Lock | None = getattr(request.app.state, "sqlite_write_lock", None)
    return found


def verifier_of(request: Request) -> TokenVerifier:
    found: TokenVerifier = request.app.state.verifier
    return found


def capability_statement_of(request: Request) -> dict[str, Any]:
    found: dict[str, Any] = request.app.state.capability_statement
    return found


def provider(read: Callable[[Request], T]) -> Callable[[Request], Awaitable[T]]:
    """``read`` as a dependency: a coroutine, which FastAPI awaits instead of sending a plain
    function to its thread pool."""

    async def provide(request: Request) -> T:
        return read(request)

    return provide


SettingsDep = Annotated[Settings, Depends(provider(settings_of))]
EngineDep = Annotated[AsyncEngine, Depends(provider(engine_of))]
SessionmakerDep = Annotated[async_sessionmaker[AsyncSession], Depends(provider(sessionmaker_of))]
WriteLockDep = Annotated[asyncio.Lock | None, Depends(provider(write_lock_of))]
CapabilityStatementDep = Annotated[dict[str, Any], Depends(provider(capability_statement_of))]
