"""Liveness, readiness and metrics endpoints (no authentication: they hold nobody's data)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app import migrations
from app.db import utcnow
from app.deps import EngineDep, SessionmakerDep, SettingsDep
from app.notifications import queue as notifications_queue
from app.ops.metrics import outbox_gauges

router = APIRouter(tags=["ops"])


@router.get("/livez", operation_id="ops-livez")
async def livez() -> dict[str, str]:
    """Liveness: the process answers. No I/O."""
    return {"status": "ok"}


async def _schema_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
        return await connection.run_sync(migrations.current_revision)


@router.get(
    "/readyz",
    operation_id="ops-readyz",
    responses={503: {"description": "database unreachable or schema behind the migration head"}},
)
async def readyz(engine: EngineDep, settings: SettingsDep) -> JSONResponse:
    """Readiness: the database answers and its schema is at the migration head (or at a newer
    release's revision, during a rolling upgrade)."""
    head = migrations.head_revision()
    checks: dict[str, Any] = {"head": head}
    try:
        current = await asyncio.wait_for(
            _schema_revision(engine), timeout=settings.database_timeout_s
        )
    except Exception as exc:
        checks.update(database="unreachable", error=type(exc).__name__)
        return JSONResponse({"status": "unavailable", "checks": checks}, status_code=503)
    checks.update(database="ok", schema=current)
    if migrations.is_behind(current):
        return JSONResponse({"status": "unavailable", "checks": checks}, status_code=503)
    return JSONResponse({"status": "ready", "checks": checks})


async def _outbox(sessionmaker: async_sessionmaker[AsyncSession]) -> bytes:
    async with sessionmaker() as session:
        found = await notifications_queue.depth(session)
    return outbox_gauges(
        found.undispatched, found.pending, found.oldest_at, found.by_status, utcnow()
    )


@router.get("/metrics", operation_id="ops-metrics", response_class=Response)
async def metrics(sessionmaker: SessionmakerDep, settings: SettingsDep) -> Response:
    """Prometheus metrics in the text exposition format, with the outbox's depth and age."""
    try:
        outbox = await asyncio.wait_for(_outbox(sessionmaker), timeout=settings.database_timeout_s)
    except Exception:  # the database is down: the process's own metrics still answer
        outbox = b""
    return Response(generate_latest() + outbox, media_type=CONTENT_TYPE_LATEST)
