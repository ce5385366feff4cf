"""One error hierarchy for the whole service.

Raise an ``AppError`` subclass anywhere; one set of handlers renders it as a FHIR
``OperationOutcome`` on ``/fhir`` routes and as RFC 9457 ``application/problem+json`` elsewhere.

    AppError
    ├── BadRequest             400  unparseable JSON or FHIR, malformed search value
    ├── Unauthorized           401  missing, malformed, expired or badly signed token
    ├── Forbidden              403  the role or organisation does not allow the action
    ├── NotFound               404  unknown route or id (also: not visible to the caller)
    ├── MethodNotAllowed       405
    ├── Conflict               409  state conflict (illegal transition, no place left, duplicate)
    ├── PreconditionFailed     412  If-Match mismatch, ambiguous conditional create
    ├── PayloadTooLarge        413
    ├── UnsupportedMediaType   415
    ├── Unprocessable          422  well-formed but invalid content
    ├── TooManyRequests        429  the client's rate limit is spent (Retry-After)
    ├── BadGateway             502  a server this one reads from failed (an ORUK feed to sync)
    └── ServiceUnavailable     503  the database is unreachable, or the request took too long

Each issue carries a FHIR issue type (``code``), a message and optionally the ``expression``
(FHIRPath or field path) of the element at fault.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar


@dataclass(frozen=True)
class Issue:
    message: str
    expression: str | None = None
    code: str | None = None  # FHIR issue type; defaults to the error's own
    severity: str = "error"


@dataclass(eq=False)
class AppError(Exception):
    """Base of every error the service answers with; never raised itself."""

    message: str
    issues: Sequence[Issue] = field(default_factory=tuple)
    headers: Mapping[str, str] = field(default_factory=dict)

    status: ClassVar[int] = 500
    code: ClassVar[str] = "exception"
    title: ClassVar[str] = "Internal error"

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def all_issues(self) -> list[Issue]:
        return list(self.issues) or [Issue(self.message)]


class BadRequest(AppError):
    status, code, title = 400, "invalid", "Bad request"


class Unauthorized(AppError):
    status, code, title = 401, "login", "Unauthorised"


class Forbidden(AppError):
    status, code, title = 403, "forbidden", "Forbidden"


class NotFound(AppError):
    status, code, title = 404, "not-found", "Not found"


class MethodNotAllowed(AppError):
    status, code, title = 405, "not-supported", "Method not allowed"


class Conflict(AppError):
    status, code, title = 409, "conflict", "Conflict"


class PreconditionFailed(AppError):
    status, code, title = 412, "conflict", "Precondition failed"


class PayloadTooLarge(AppError):
    status, code, title = 413, "too-costly", "Payload too large"


class UnsupportedMediaType(AppError):
    status, code, title = 415, "not-supported", "Unsupported media type"


class Unprocessable(AppError):
    status, code, title = 422, "invalid", "Unprocessable content"


class TooManyRequests(AppError):
    status, code, title = 429, "throttled", "Too many requests"


class BadGateway(AppError):
    status, code, title = 502, "exception", "Bad gateway"


class ServiceUnavailable(AppError):
    status, code, title = 503, "transient", "Service unavailable"


class InternalError(AppError):
    """Rendered for an unexpected exception; its message never includes the exception text."""


TIME_ZONE_REQUIRED = (
    "a time zone is required: a date with a time is YYYY-MM-DDThh:mm:ss followed by Z or "
    "+hh:mm / -hh:mm (e.g. 2026-11-01T10:00:00Z)"
)
"""The answer to a time given without a time zone, wherever one is read (FHIR or JSON)."""


def known_uuid(raw: str, label: str) -> uuid.UUID:
    """An id in a URL: one this service could have issued, else 404 (``label`` names it)."""
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound(f"{label}/{raw} is not known") from None


ERRORS_BY_STATUS: dict[int, type[AppError]] = {
    cls.status: cls
    for cls in (
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        MethodNotAllowed,
        Conflict,
        PreconditionFailed,
        PayloadTooLarge,
        UnsupportedMediaType,
        Unprocessable,
        TooManyRequests,
        ServiceUnavailable,
    )
}
