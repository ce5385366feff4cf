"""The OpenAPI document as a contract a client (or a fuzzer) can hold the service to.

FastAPI documents the happy path. This completes it, in one place for every operation: the
errors each can answer, in the body each really has (an OperationOutcome on ``/fhir``,
problem+json elsewhere, ``app/ops/error_handlers.py``), a FHIR resource where FastAPI only
knows a response class, and OpenAPI links from the operations that create or list records to
the operations that read, change or delete them (so that schemathesis's stateful phase,
``tests/test_contract.py``, reaches real records, not only unknown ids).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from app.fhir import FHIR_JSON
from app.ops.abuse import UNLIMITED_PATHS
from app.ops.error_handlers import PROBLEM_JSON, is_fhir_path

_REF = "#/components/schemas/"

SCHEMAS: dict[str, dict[str, Any]] = {
    "Problem": {
        "title": "Problem",
        "description": "RFC 9457 problem details (every error outside /fhir)",
        "type": "object",
        "required": ["type", "title", "status"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
            "request_id": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                },
            },
        },
    },
    "OperationOutcome": {
        "title": "OperationOutcome",
        "description": "FHIR R4 OperationOutcome (every error under /fhir)",
        "type": "object",
        "required": ["resourceType", "issue"],
        "properties": {
            "resourceType": {"type": "string", "enum": ["OperationOutcome"]},
            "issue": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["severity", "code"],
                    "properties": {"severity": {"type": "string"}, "code": {"type": "string"}},
                },
            },
        },
    },
    "FhirResource": {
        "title": "FhirResource",
        "description": "A FHIR R4 resource (JSON); its profile is in /fhir/metadata",
        "type": "object",
        "required": ["resourceType"],
        "properties": {"resourceType": {"type": "string"}},
    },
}

ERRORS: dict[str, str] = {
    "400": "malformed parameters or body (not JSON, a NUL character, nested too deep)",
    "401": "missing or invalid bearer token",
    "403": "role or organisation not allowed",
    "404": "unknown, or not visible to the caller",
    "409": "conflicts with the record's state or with data stored meanwhile",
    "412": "If-Match does not name the current version",
    "413": "body too large",
    "422": "the body breaks a rule (the answer names the field)",
    "429": "the client's rate limit is spent (Retry-After)",
    "503": "the database is unavailable, or the request took too long; nothing changed "
    "(Retry-After)",
}


def _error_statuses(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    """The errors an operation can answer, from what it takes: every route refuses a malformed
    parameter; a token can be refused; a path names a record; a body can be refused."""
    statuses = ["400", "503"]  # 503: any request may run past the timeout
    if path not in UNLIMITED_PATHS:
        statuses.append("429")
    if operation.get("security"):
        statuses += ["401", "403"]
    if "{" in path:
        statuses.append("404")
    if method in ("post", "put", "patch", "delete") and operation.get("security"):
        statuses.append("409")
    headers = {p["name"].lower() for p in operation.get("parameters", []) if p["in"] == "header"}
    if "if-match" in headers:
        statuses.append("412")
    if "requestBody" in operation:
        statuses += ["413", "422"]
    return statuses


def _complete_responses(path: str, method: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    fhir = is_fhir_path(path)
    error = {PROBLEM_JSON: {"schema": {"$ref": _REF + "Problem"}}}
    if fhir:
        error = {FHIR_JSON: {"schema": {"$ref": _REF + "OperationOutcome"}}}
    default_422 = responses.get("422", {}).get("description") == "Validation Error"
    if default_422 and "requestBody" not in operation and not fhir:
        # FastAPI's, for any parameter; a bad query or path parameter is a 400 here
        # (error_handlers.py): only a route that says so answers 422 without a body
        del responses["422"]
    for status in _error_statuses(path, method, operation):
        responses.setdefault(status, {"description": ERRORS[status]})
    for status, response in responses.items():
        if status.startswith(("4", "5")):
            response["content"] = error
        elif FHIR_JSON in response.get("content", {}):
            media = response["content"][FHIR_JSON]
            if media.get("schema", {}).get("type") == "string":  # FhirResponse, no model
                media["schema"] = {"$ref": _REF + "FhirResource"}


def _link(operation_id: str, description: str, **parameters: str) -> dict[str, Any]:
    return {"operationId": operation_id, "description": description, "parameters": parameters}


_ID = "$response.body#/id"
_FIRST = "$response.body#/entry/0/resource/id"


def _referral(ref: str) -> dict[str, Any]:
    """Links to what a referral (its ServiceRequest's id at ``ref``) leads to."""
    return {
        "ReadServiceRequest": _link("fhir-read_service_request", "the referral", resource_id=ref),
        "UpdateServiceRequest": _link("fhir-update_service_request", "it", resource_id=ref),
        "ServiceRequestHistory": _link("fhir-history_servicerequest", "versions", resource_id=ref),
        "MatchServiceRequest": _link("fhir-match_service_request", "$match", resource_id=ref),
        "ListMatches": _link("matching-list_matches", "its matches", referral_id=ref),
        "ListBookings": _link("bookings-list_referral_bookings", "its bookings", referral_id=ref),
        "CreateBooking": _link("bookings-create_booking", "book a place", referral_id=ref),
        "ListOutcomes": _link("outcomes-list_outcomes", "its outcomes", referral_id=ref),
        "RecordOutcome": _link("outcomes-record_outcome", "record an outcome", referral_id=ref),
    }


_SERVICE_REQUEST = {
    **_referral(_ID),
    "ServiceRequestVersion": _link(
        "fhir-vread_servicerequest",
        "this version",
        resource_id=_ID,
        version_id="$response.body#/meta/versionId",
    ),
    "SearchTasks": _link(
        "fhir-search_tasks", "its Task", **{"query.focus": "ServiceRequest/{$response.body#/id}"}
    ),
}
_SERVICE = {
    "ReadService": _link("directory-read", "the service", activity_id=_ID),
    "ReplaceService": _link("directory-replace", "the service", activity_id=_ID),
    "DeleteService": _link("directory-delete", "the service", activity_id=_ID),
    "ReadHealthcareService": _link("fhir-read_healthcare_service", "as FHIR", activity_id=_ID),
    "ListServiceBookings": _link(
        "bookings-list_bookings", "its bookings", **{"query.activity_id": _ID}
    ),
}
_TASK = {
    "ReadTask": _link("fhir-read_task", "the Task", resource_id=_FIRST),
    "UpdateTask": _link("fhir-update_task", "the Task", resource_id=_FIRST),
    "TaskHistory": _link("fhir-history_task", "its versions", resource_id=_FIRST),
    "TaskVersion": _link(
        "fhir-vread_task",
        "this version",
        resource_id=_FIRST,
        version_id="$response.body#/entry/0/resource/meta/versionId",
    ),
}
_BOOKING = {
    "ReadBooking": _link("bookings-read_booking", "the booking", booking_id=_ID),
    "UpdateBooking": _link("bookings-update_booking", "the booking", booking_id=_ID),
}


def _first(operation_id: str, what: str, parameter: str) -> dict[str, Any]:
    return {f"Read{what}": _link(operation_id, f"the first {what}", **{parameter: _FIRST})}


LINKS: dict[tuple[str, str, str], dict[str, Any]] = {
    ("post", "/fhir/ServiceRequest", "201"): _SERVICE_REQUEST,
    ("post", "/fhir/ServiceRequest", "200"): _SERVICE_REQUEST,  # If-None-Exist matched one
    ("put", "/fhir/ServiceRequest/{resource_id}", "200"): _SERVICE_REQUEST,
    ("get", "/fhir/ServiceRequest", "200"): _referral(_FIRST),
    ("post", "/fhir/ServiceRequest/_search", "200"): _referral(_FIRST),
    ("get", "/fhir/Task", "200"): _TASK,
    ("post", "/fhir/Task/_search", "200"): _TASK,
    ("get", "/fhir/Patient", "200"): {
        **_first("fhir-read_patient", "Patient", "resource_id"),
        "PatientHistory": _link("fhir-history_patient", "its versions", resource_id=_FIRST),
        "PatientVersion": _link(
            "fhir-vread_patient",
            "this version",
            resource_id=_FIRST,
            version_id="$response.body#/entry/0/resource/meta/versionId",
        ),
    },
    ("get", "/fhir/Observation", "200"): _first(
        "fhir-read_observation", "Observation", "resource_id"
    ),
    ("get", "/fhir/AuditEvent", "200"): _first("fhir-read_audit_event", "AuditEvent", "event_id"),
    ("get", "/fhir/CodeSystem", "200"): _first(
        "fhir-read_code_system", "CodeSystem", "codesystem_id"
    ),
    ("get", "/fhir/Questionnaire", "200"): _first(
        "fhir-read_questionnaire", "Questionnaire", "resource_id"
    ),
    ("get", "/fhir/HealthcareService", "200"): _first(
        "fhir-read_healthcare_service", "HealthcareService", "activity_id"
    ),
    ("get", "/api/v1/referrals/{referral_id}/outcomes", "200"): {
        "ReadObservation": _link(
            "fhir-read_observation",
            "the first score",
            resource_id="$response.body#/outcomes/0/scores/0/observation_id",
        ),
        "ReadQuestionnaireResponse": _link(
            "fhir-read_questionnaire_response",
            "the first outcome's answers, when they came as a QuestionnaireResponse",
            resource_id="$response.body#/outcomes/0/questionnaire_response_id",
        ),
    },
    ("get", "/fhir/Subscription", "200"): {
        "ReadSubscription": _link("fhir-read_subscription", "the first", resource_id=_FIRST),
        "RequeueSubscription": _link(
            "notifications-requeue_subscription", "its deliveries", subscription_id=_FIRST
        ),
    },
    **{
        ("get", f"/fhir/{kind}/{{resource_id}}", "200"): {
            f"{kind}Version": _link(
                f"fhir-vread_{operation}",
                "this version",
                resource_id=_ID,
                version_id="$response.body#/meta/versionId",
            )
        }
        for kind, operation in (
            ("ServiceRequest", "servicerequest"),
            ("Task", "task"),
            ("Patient", "patient"),
            ("QuestionnaireResponse", "questionnaire_response"),
        )
    },
    ("post", "/fhir/QuestionnaireResponse", "201"): {
        "ReadQuestionnaireResponse": _link(
            "fhir-read_questionnaire_response", "the response", resource_id=_ID
        ),
        "QuestionnaireResponseVersion": _link(
            "fhir-vread_questionnaire_response",
            "this version",
            resource_id=_ID,
            version_id="$response.body#/meta/versionId",
        ),
    },
    ("post", "/fhir/Subscription", "201"): {
        "ReadSubscription": _link("fhir-read_subscription", "the subscription", resource_id=_ID),
        "DeleteSubscription": _link(
            "fhir-delete_subscription", "the subscription", resource_id=_ID
        ),
        "RequeueSubscription": _link(
            "notifications-requeue_subscription", "its deliveries", subscription_id=_ID
        ),
    },
    ("post", "/api/v1/directory/services", "201"): _SERVICE,
    ("put", "/api/v1/directory/services/{activity_id}", "200"): _SERVICE,
    ("get", "/api/v1/referrals/{referral_id}/matches", "200"): {
        "CreateBooking": {
            **_link(
                "bookings-create_booking",
                "book the first match",
                referral_id="$request.path.referral_id",
            ),
            "requestBody": {"activity_id": "$response.body#/matches/0/activity/id"},
        },
    },
    ("post", "/api/v1/referrals/{referral_id}/bookings", "201"): _BOOKING,
    ("post", "/api/v1/referrals/{referral_id}/outcomes", "201"): {
        "ReadObservation": _link(
            "fhir-read_observation",
            "its first score",
            resource_id="$response.body#/scores/0/observation_id",
        ),
    },
    ("get", "/api/v1/bookings", "200"): {
        "ReadBooking": _link(
            "bookings-read_booking", "the first", booking_id="$response.body#/items/0/id"
        ),
        "UpdateBooking": _link(
            "bookings-update_booking", "the first", booking_id="$response.body#/items/0/id"
        ),
    },
    ("get", "/api/v1/notifications/deliveries", "200"): {
        "RequeueDelivery": _link(
            "notifications-requeue_delivery", "the first", delivery_id="$response.body#/items/0/id"
        ),
    },
    ("put", "/api/v1/routing/{practice_ods}", "200"): {
        "DeleteRule": _link(
            "routing-delete_routing_rule", "the rule", practice_ods="$request.path.practice_ods"
        ),
    },
    ("put", "/api/v1/terminology/need-phrases/{phrase}", "201"): {
        "DeletePhrase": _link(
            "terminology-delete_need_phrase", "the phrase", phrase="$request.path.phrase"
        ),
    },
    ("put", "/api/v1/terminology/snomed-needs/{concept_id}", "201"): {
        "DeleteMapping": _link(
            "terminology-delete_snomed_need", "the mapping", concept_id="$request.path.concept_id"
        ),
    },
    **{  # the public ORUK feed: a list's first entity, read by its id
        ("get", f"/oruk/{kind}", "200"): {
            f"Read{operation.title()}": _link(
                f"oruk-{operation}", "the first", **{parameter: "$response.body#/contents/0/id"}
            )
        }
        for kind, operation, parameter in (
            ("services", "service", "service_id"),
            ("service_at_locations", "service_at_location", "location_id"),
            ("taxonomies", "taxonomy", "taxonomy_id"),
            ("taxonomy_terms", "taxonomy_term", "term_id"),
        )
    },
}
"""OpenAPI links by (method, path, status): where the records an answer names can be used."""


def install(app: FastAPI) -> None:
    """``app.openapi()`` answers FastAPI's document, completed (in place: FastAPI keeps it)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        return complete(generate())

    app.openapi = openapi  # type: ignore[method-assign]


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """Error answers, FHIR bodies and links added to every operation (idempotent)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(SCHEMAS)
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            _complete_responses(path, method, operation)
    for (method, path, status), links in LINKS.items():
        document["paths"][path][method]["responses"][status]["links"] = links
    return document
