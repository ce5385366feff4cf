"""Renders every error: OperationOutcome on ``/fhir``, ``application/problem+json`` elsewhere.

Nothing escapes as a bare 500: framework errors are mapped onto the ``app.errors`` hierarchy,
a database that cannot be reached becomes 503, and anything unexpected is logged (without the
request body or parameters) and answered with a generic 500 outcome.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.db import unavailable
from app.errors import (
    ERRORS_BY_STATUS,
    TIME_ZONE_REQUIRED,
    AppError,
    BadRequest,
    Conflict,
    InternalError,
    Issue,
    ServiceUnavailable,
    Unprocessable,
)
from app.fhir import FHIR_JSON
from app.fhir.outcome import outcome_for

log = logging.getLogger("assetlink.errors")

PROBLEM_JSON = "application/problem+json"


def is_fhir_path(path: str) -> bool:
    return path == "/fhir" or path.startswith("/fhir/")


ERROR_CODE = "error_code"
"""Key in the request's state (``scope["state"]``) under which ``render`` leaves the codes of the
error it answered, for the access log: the OperationOutcome's issue codes, which are also the
problem+json answer's; fixed words, never a value from the request."""


def error_code(error: AppError) -> str:
    """``not-found``; ``too-long,invalid`` when the issues carry several codes."""
    return ",".join(dict.fromkeys(issue.code or error.code for issue in error.all_issues()))


def render(request: Request, error: AppError) -> JSONResponse:
    setattr(request.state, ERROR_CODE, error_code(error))
    headers = dict(error.headers)
    if is_fhir_path(request.url.path):
        return JSONResponse(
            outcome_for(error), status_code=error.status, headers=headers, media_type=FHIR_JSON
        )
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": error.title,
        "status": error.status,
        "detail": error.message,
        "instance": request.url.path,
    }
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    if error.issues:
        body["errors"] = [
            {"field": issue.expression, "message": issue.message} for issue in error.issues
        ]
    return JSONResponse(body, status_code=error.status, headers=headers, media_type=PROBLEM_JSON)


_REQUEST_PARTS = ("body", "query", "path", "header")


def _location(loc: tuple[Any, ...]) -> str:
    """("body", "answers", "3") -> "answers.3"; ("query", "limit") -> "limit"."""
    parts = loc[1:] if loc and loc[0] in _REQUEST_PARTS else loc
    return ".".join(str(p) for p in parts) or (str(loc[0]) if loc else "")


def validation_error(exc: RequestValidationError, *, fhir: bool) -> AppError:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return BadRequest("The request body is not valid JSON")
    locations = [tuple(e.get("loc", ())) for e in errors]
    issues = [
        Issue(
            TIME_ZONE_REQUIRED
            if e.get("type") == "timezone_aware"
            else str(e.get("msg", "invalid")),
            _location(loc),
        )
        for e, loc in zip(errors, locations, strict=True)
    ]
    if fhir or all(loc[:1] != ("body",) for loc in locations):
        # A malformed search parameter or path is a bad request in FHIR and in plain REST alike.
        return BadRequest("The request has invalid parameters", issues)
    return Unprocessable("The request body is invalid", issues)


def database_error(exc: Exception) -> AppError | None:
    """The answer to a database exception, or None for a programming error (a bug: 500)."""
    if isinstance(exc, sa_exc.IntegrityError):
        return Conflict("The change conflicts with data stored meanwhile; retry the request")
    if isinstance(exc, sa_exc.DataError):
        return Unprocessable("A value cannot be stored (too long or out of range)")
    if isinstance(exc, sa_exc.DBAPIError) and not unavailable(exc):
        return None
    return ServiceUnavailable(
        "The database is unavailable; retry shortly.",
        headers={"Retry-After": "5"},
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        return render(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return render(request, validation_error(exc, fhir=is_fhir_path(request.url.path)))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        cls = ERRORS_BY_STATUS.get(exc.status_code, InternalError)
        message = str(exc.detail) if exc.detail else cls.title
        if exc.status_code == 404 and message == "Not Found":
            message = f"No route {request.method} {request.url.path}"
        return render(request, cls(message, headers=dict(exc.headers or {})))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled %s on %s", type(exc).__name__, request.url.path, exc_info=exc)
        return render(request, InternalError("An unexpected error occurred; it has been logged"))

    async def _database(request: Request, exc: Exception) -> JSONResponse:
        error = database_error(exc)
        if error is None:
            return await _unexpected(request, exc)
        log.warning("database error answered %s: %s", error.status, type(exc).__name__)
        return render(request, error)

    for db_exc in (sa_exc.DBAPIError, sa_exc.TimeoutError, ConnectionError, socket.gaierror):
        app.add_exception_handler(db_exc, _database)
