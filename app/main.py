"""The FastAPI application: ``create_app()`` wires settings, database, auth, routes and errors."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import gc
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from sqlalchemy.ext.asyncio import AsyncEngine

from app import __released__, __version__
from app.areas import router as areas_router
from app.audit import router as audit_router
from app.auth import router as auth_router
from app.auth.tokens import TokenVerifier
from app.bookings import router as bookings_router
from app.caseload import router as caseload_router
from app.config import Environment, Settings, get_settings
from app.dashboard import router as dashboard_router
from app.db import create_engine, create_sessionmaker
from app.directory import fhir_router as directory_fhir_router
from app.directory import oruk_router
from app.directory import router as directory_router
from app.fhir import router as fhir_router
from app.fhir.capability import ServerCapability, capability_statement
from app.matching import router as matching_router
from app.matching import service as matching_service
from app.matching.learning import OutcomePriors
from app.matching.snapshot import Snapshots
from app.notifications import admin_router as notifications_admin_router
from app.notifications import router as notifications_router
from app.ops import contract, error_handlers, health
from app.ops.abuse import RateLimiter
from app.ops.input_guard import refuse_nul
from app.ops.middleware import DOCS_ASSETS, RequestMiddleware
from app.outcomes import router as outcomes_router
from app.person import questionnaire_router
from app.person import router as person_router
from app.questionnaires import router as questionnaires_router
from app.questionnaires.tokens import Guesses
from app.referrals import routers as referrals_routers
from app.referrals.writer import IntakeWriter
from app.reporting import router as reporting_router
from app.reporting import summary
from app.routing import router as routing_router
from app.terminology import router as terminology_router
from app.terminology import service as terminology_service

DESCRIPTION = """\
Social-prescribing referrals for the NHS in England: FHIR R4 intake and closed loop under
`/fhir`, the community directory, matching, bookings, outcomes and commissioner reports under
`/api/v1`. Every data endpoint needs `Authorization: Bearer <JWT>`, but the public Open Referral
UK feed of the directory under `/oruk` (read only, no person's data).
"""


def _operation_id(route: APIRoute) -> str:
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


# Registered in this order (a path two routers share goes to the first).
ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    fhir_router.router,
    audit_router.router,
    terminology_router.fhir_router,
    terminology_router.router,
    auth_router.router,
    referrals_routers.router,
    routing_router.router,
    outcomes_router.fhir_router,
    outcomes_router.router,
    directory_router.router,
    directory_fhir_router.router,
    oruk_router.router,
    areas_router.router,
    matching_router.router,
    matching_router.fhir_router,
    bookings_router.router,
    caseload_router.router,
    notifications_router.router,
    reporting_router.router,
    notifications_admin_router.router,
    dashboard_router.router,
    person_router.api_router,
    person_router.router,
    questionnaires_router.router,
    questionnaire_router.router,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = create_engine(settings)
    snapshots = Snapshots()
    # /docs loads its scripts, styles and icon from DOCS_ASSETS (the files of the package
    # fastapi-offline), nothing from another host: it works on an offline network. ReDoc is
    # off: its bundle loads its vendor's logo from the vendor's host.
    app = FastAPIOffline(
        static_url=DOCS_ASSETS,
        redoc_url=None,
        title="assetlink",
        version=__version__,
        description=DESCRIPTION,
        lifespan=_lifespan(settings, engine, snapshots),
        generate_unique_id_function=_operation_id,
        dependencies=[Depends(refuse_nul)],
    )
    _set_state(app, settings, engine, snapshots)
    _add_routes(app)
    error_handlers.install(app)
    contract.install(app)
    _add_middleware(app, settings)
    return app


def _lifespan(
    settings: Settings, engine: AsyncEngine, snapshots: Snapshots
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # What is built at start-up lives as long as the process: out of the collector's
        # sight, a full collection no longer walks it (a pause of ~0.1 s every few thousand
        # requests, a whole batch of referrals late).
        gc.collect()
        gc.freeze()
        warm_up = (
            asyncio.create_task(matching_service.warm_up(settings, snapshots))
            if settings.match_warmup
            else None
        )
        app.state.match_warmup = warm_up
        yield
        if warm_up is not None:
            warm_up.cancel()
        gc.unfreeze()
        await engine.dispose()

    return lifespan


def _set_state(app: FastAPI, settings: Settings, engine: AsyncEngine, snapshots: Snapshots) -> None:
    """The application's parts, read through the typed dependencies (``app/deps.py``)."""
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = create_sessionmaker(engine)
    if engine.dialect.name == "sqlite":
        app.state.sqlite_write_lock = asyncio.Lock()
    app.state.verifier = TokenVerifier(settings)
    app.state.need_mappings = terminology_service.NeedMappingCache()
    app.state.match_snapshots = snapshots
    app.state.outcome_priors = OutcomePriors()
    app.state.intake_writer = IntakeWriter(app.state)
    app.state.self_referral_limiter = (
        RateLimiter(
            rate=settings.self_referral_per_hour / 3600,
            burst=settings.self_referral_per_hour,
            verifier=app.state.verifier,
        )
        if settings.self_referral_per_hour
        else None
    )
    app.state.report_refresh = summary.SharedRefresh()
    app.state.questionnaire_guesses = Guesses(settings.questionnaire_link_guesses)
    app.state.capability_statement = capability_statement(
        _capability(), dt.date.fromisoformat(__released__)
    )


def _capability() -> ServerCapability:
    """What the FHIR server does, resource by resource (the CapabilityStatement)."""
    return ServerCapability(
        resources=[
            audit_router.CAPABILITY,
            directory_fhir_router.CAPABILITY,
            *(
                dataclasses.replace(cap, operations=(matching_router.MATCH_OPERATION,))
                if cap.type == "ServiceRequest"
                else cap
                for cap in referrals_routers.CAPABILITIES
            ),
            *outcomes_router.CAPABILITIES,
            notifications_router.CAPABILITY,
            terminology_router.CAPABILITY,
        ],
        system_interactions=list(referrals_routers.SYSTEM_INTERACTIONS),
    )


def _add_routes(app: FastAPI) -> None:
    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> RedirectResponse:
        """Browsers ask every page's host for it: the console's own icon."""
        return RedirectResponse(f"{DOCS_ASSETS}/favicon.png", status_code=308)

    for router in ROUTERS:
        app.include_router(router)
    app.mount(dashboard_router.STATIC_URL, dashboard_router.static_files(), name="dashboard-static")
    app.mount(person_router.STATIC_URL, person_router.static_files(), name="person-static")


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    limiter = (
        RateLimiter(
            rate=settings.rate_limit_per_s,
            burst=settings.rate_limit_burst,
            verifier=app.state.verifier,
        )
        if settings.rate_limit_per_s > 0
        else None
    )
    app.add_middleware(
        RequestMiddleware,
        max_body_bytes=settings.max_body_bytes,
        timeout_s=settings.request_timeout_s,
        limiter=limiter,
        hsts=settings.environment is Environment.PRODUCTION,
        body_limits=dict.fromkeys(person_router.PUBLIC_POSTS, settings.self_referral_max_bytes),
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "If-None-Exist", "Prefer"],
            expose_headers=["ETag", "Location", "Last-Modified", "X-Request-Id"],
        )
    app.add_middleware(oruk_router.PublicCors)  # outermost: /oruk is open to every origin


def __getattr__(name: str) -> FastAPI:
    """``app.main:app`` for ``uvicorn app.main:app``, built on first use from the environment."""
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(name)
