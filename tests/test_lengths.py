"""Table-driven: every ``String(n)`` column a client fills refuses an over-long value with the
route's validation error (422 naming the element) and writes nothing, on SQLite and on
PostgreSQL (which alone enforces the length: without a rule, its refusal is a 500).

``test_every_bounded_column_is_accounted_for`` keeps the table honest: a new ``String(n)``
column fails it until a case sends it an over-long value or it is listed as not client-filled.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import String, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Role
from app.fhir.examples import example
from app.models import Base
from app.outcomes.fhir import MODE_URL
from app.referrals.fhir import STAGE_SYSTEM
from app.routing.models import RoutingRule
from app.terminology.models import SnomedNeedMapping
from tests.conftest import TokenFactory
from tests.directory.conftest import activity_body
from tests.directory.test_importer import FULL, IMPORT
from tests.outcomes.conftest import PERFORMER, new_referral, outcome, questionnaire_response
from tests.referrals import factories
from tests.referrals.factories import GP_SYSTEM, ODS_SYSTEM, REFERRAL_CODE, SNOMED

Payload = dict[str, Any]


def bounded_columns() -> dict[str, int]:
    """``table.column`` -> n, for every ``String(n)`` column of the models."""
    return {
        f"{table.name}.{column.name}": column.type.length
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, String) and column.type.length is not None
    }


LENGTHS = bounded_columns()


def over(column: str, fill: str = "x", prefix: str = "") -> str:
    """A value one character longer than ``column`` holds."""
    return prefix + fill * (LENGTHS[column] + 1 - len(prefix))


@dataclass
class Stored:
    """A referral accepted by its link-worker service (for the requests that need one)."""

    referral: Payload
    task: Payload


@dataclass
class Case:
    name: str
    columns: tuple[str, ...]  # the columns the over-long value would fill
    method: str
    path: str  # may hold {referral_id} and {task_id}
    body: Callable[[Stored | None], Any]
    expression: str  # an issue's expression (FHIR) or an error's field (JSON) contains this
    role: tuple[Role, str] = (Role.ADMIN, "X26")
    needs_referral: bool = False


def sr(**overrides: Any) -> Callable[[Stored | None], Payload]:
    return lambda _: factories.service_request(**overrides)


def sr_with(change: Callable[[Payload], None]) -> Callable[[Stored | None], Payload]:
    def build(_: Stored | None) -> Payload:
        resource = factories.service_request()
        change(resource)
        return resource

    return build


def bundle_with(change: Callable[[Payload], None]) -> Callable[[Stored | None], Payload]:
    def build(_: Stored | None) -> Payload:
        bundle = copy.deepcopy(factories.transaction())
        change(bundle)
        return bundle

    return build


def activity(**overrides: Any) -> Callable[[Stored | None], Payload]:
    return lambda _: activity_body(**overrides)


def organisation(**overrides: Any) -> Callable[[Stored | None], Payload]:
    def build(_: Stored | None) -> Payload:
        body = activity_body()
        body["organization"].update(overrides)
        return body

    return build


def nested(key: str, **overrides: Any) -> Callable[[Stored | None], Payload]:
    def build(_: Stored | None) -> Payload:
        body = activity_body()
        body[key][0].update(overrides)
        return body

    return build


def imported(change: Callable[[Payload], None]) -> Callable[[Stored | None], Any]:
    def build(_: Stored | None) -> Any:
        row = copy.deepcopy(FULL)
        change(row)
        return [row]

    return build


def task_update(**changes: Any) -> Callable[[Stored | None], Payload]:
    def build(stored: Stored | None) -> Payload:
        assert stored is not None
        body = {k: v for k, v in stored.task.items() if k not in ("meta", "lastModified")}
        body.update(changes)
        return body

    return build


def sr_update(**changes: Any) -> Callable[[Stored | None], Payload]:
    def build(stored: Stored | None) -> Payload:
        assert stored is not None
        body = {k: v for k, v in stored.referral.items() if k != "meta"}
        body.update(changes)
        return body

    return build


def response_with(change: Callable[[Payload], None]) -> Callable[[Stored | None], Payload]:
    def build(stored: Stored | None) -> Payload:
        assert stored is not None
        resource = questionnaire_response(stored.referral["id"], "SWEMWBS")
        change(resource)
        return resource

    return build


def json_outcome(**changes: Any) -> Callable[[Stored | None], Payload]:
    return lambda _: {**outcome("SWEMWBS"), **changes}


def subscription_with(change: Callable[[Payload], None]) -> Callable[[Stored | None], Payload]:
    def build(_: Stored | None) -> Payload:
        resource = example("subscription")
        change(resource)
        return resource

    return build


def _set(path: str, value: Any) -> Callable[[Payload], None]:
    """A change setting ``value`` at a dotted path (list indexes as numbers)."""

    def change(document: Payload) -> None:
        *parents, last = path.split(".")
        target: Any = document
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value

    return change


def _set_all(*changes: Callable[[Payload], None]) -> Callable[[Payload], None]:
    def change(document: Payload) -> None:
        for one in changes:
            one(document)

    return change


REFERRER = (Role.REFERRER, "A81001")
LINK_WORKER = (Role.LINK_WORKER, PERFORMER)
SR = "/fhir/ServiceRequest"
SERVICES = "/api/v1/directory/services"
SNOMED_NEEDS = "/api/v1/terminology/snomed-needs"
NEED_PHRASES = "/api/v1/terminology/need-phrases"
IDENTIFIER = [{"system": GP_SYSTEM, "value": "REF-LENGTHS-1"}]
REFERRAL_CODING = {"system": SNOMED, "code": REFERRAL_CODE}
BYDAY = "MO," * 21 + "TU"  # 65 characters, each day valid
LANGUAGE = "en-" + "-".join(["abcdefgh"] * 4)  # a well-formed BCP 47 shape, 38 characters

# The activity's id and every column that refers to it.
ACTIVITY_ID = (
    "activity.id",
    *(
        f"{table}.activity_id"
        for table in (
            "activity_category",
            "activity_language",
            "activity_need",
            "cost_option",
            "location",
            "schedule",
            "service_area",
        )
    ),
)

CASES = [
    # --- FHIR referral intake: POST /fhir/ServiceRequest (contained Patient and Consent)
    Case(
        "identifier.value",
        ("referral_identifier.value",),
        "POST",
        SR,
        sr(identifier=[{"system": GP_SYSTEM, "value": over("referral_identifier.value")}]),
        "ServiceRequest.identifier[0].value",
        role=REFERRER,
    ),
    Case(
        "identifier.system",
        ("referral_identifier.system",),
        "POST",
        SR,
        sr(
            identifier=[
                {
                    "system": over("referral_identifier.system", prefix="https://example.org/"),
                    "value": "REF-1",
                }
            ]
        ),
        "ServiceRequest.identifier[0].system",
        role=REFERRER,
    ),
    Case(
        "code.coding.code",
        ("referral_coding.code",),
        "POST",
        SR,
        sr(
            code={
                "coding": [
                    REFERRAL_CODING,
                    {"system": "urn:oid:1.2.3", "code": over("referral_coding.code")},
                ]
            }
        ),
        "ServiceRequest.code.coding[1].code",
        role=REFERRER,
    ),
    Case(
        "code.coding.system",
        ("referral_coding.system",),
        "POST",
        SR,
        sr(
            code={
                "coding": [
                    REFERRAL_CODING,
                    {"system": over("referral_coding.system", prefix="urn:x:"), "code": "c"},
                ]
            }
        ),
        "ServiceRequest.code.coding[1].system",
        role=REFERRER,
    ),
    Case(
        "category.coding.code",
        ("referral_coding.code",),
        "POST",
        SR,
        sr(category=[{"coding": [{"system": SNOMED, "code": over("referral_coding.code")}]}]),
        "ServiceRequest.category[0].coding[0].code",
        role=REFERRER,
    ),
    Case(
        "requester ODS code (an administrator may refer for any practice)",
        ("referral.requester_ods", "task.requester_ods"),
        "POST",
        SR,
        sr(
            requester={
                "identifier": {"system": ODS_SYSTEM, "value": over("referral.requester_ods")}
            }
        ),
        "ServiceRequest.requester.identifier.value",
    ),
    Case(
        "performer ODS code",
        ("referral.performer_ods", "task.owner_ods"),
        "POST",
        SR,
        sr(performer=[{"identifier": {"system": ODS_SYSTEM, "value": over("task.owner_ods")}}]),
        "ServiceRequest.performer[0].identifier.value",
        role=REFERRER,
    ),
    Case("status", ("referral.status",), "POST", SR, sr(status=over("referral.status")), "status"),
    Case("intent", ("referral.intent",), "POST", SR, sr(intent=over("referral.intent")), "intent"),
    Case(
        "Patient NHS number",
        ("patient.nhs_number",),
        "POST",
        SR,
        sr_with(
            _set(
                "contained.0.identifier",
                [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9" * 11}],
            )
        ),
        "ServiceRequest.contained[0].identifier",
        role=REFERRER,
    ),
    Case(
        "Patient postcode",
        ("patient.postcode",),
        "POST",
        SR,
        sr_with(_set("contained.0.address", [{"postalCode": over("patient.postcode", "A")}])),
        "ServiceRequest.contained[0].address.postalCode",
        role=REFERRER,
    ),
    Case(
        "Patient gender",
        ("patient.gender",),
        "POST",
        SR,
        sr_with(_set("contained.0.gender", over("patient.gender"))),
        "ServiceRequest.contained[0].gender",
        role=REFERRER,
    ),
    Case(
        "contained Consent status",
        ("consent.status",),
        "POST",
        SR,
        sr_with(_set("contained.1.status", over("consent.status"))),
        "ServiceRequest.contained[1].status",
        role=REFERRER,
    ),
    # --- FHIR transaction Bundle: POST /fhir
    Case(
        "Bundle: ServiceRequest identifier.value",
        ("referral_identifier.value",),
        "POST",
        "/fhir",
        bundle_with(_set("entry.1.resource.identifier.0.value", over("referral_identifier.value"))),
        "ServiceRequest.identifier[0].value",
        role=REFERRER,
    ),
    Case(
        "Bundle: category code",
        ("referral_coding.code",),
        "POST",
        "/fhir",
        bundle_with(
            _set("entry.1.resource.category.0.coding.0.code", over("referral_coding.code"))
        ),
        "ServiceRequest.category[0].coding[0].code",
        role=REFERRER,
    ),
    Case(
        "Bundle: Consent status",
        ("consent.status",),
        "POST",
        "/fhir",
        bundle_with(_set("entry.2.resource.status", over("consent.status"))),
        "Consent.status",
        role=REFERRER,
    ),
    # --- FHIR updates of a stored referral
    Case(
        "Task.status",
        ("task.status",),
        "PUT",
        "/fhir/Task/{task_id}",
        task_update(status=over("task.status")),
        "Task.status",
        role=LINK_WORKER,
        needs_referral=True,
    ),
    Case(
        "Task.businessStatus",
        ("task.business_status",),
        "PUT",
        "/fhir/Task/{task_id}",
        task_update(
            businessStatus={
                "coding": [{"system": STAGE_SYSTEM, "code": over("task.business_status")}]
            }
        ),
        "Task.businessStatus",
        role=LINK_WORKER,
        needs_referral=True,
    ),
    Case(
        "ServiceRequest PUT status",
        ("referral.status",),
        "PUT",
        "/fhir/ServiceRequest/{referral_id}",
        sr_update(status=over("referral.status")),
        "ServiceRequest.status",
        role=REFERRER,
        needs_referral=True,
    ),
    Case(
        "QuestionnaireResponse.questionnaire",
        ("outcome_record.instrument",),
        "POST",
        "/fhir/QuestionnaireResponse",
        response_with(_set("questionnaire", "https://example.org/Questionnaire/" + "x" * 40)),
        "QuestionnaireResponse.questionnaire",
        role=LINK_WORKER,
        needs_referral=True,
    ),
    Case(
        "QuestionnaireResponse mode",
        ("outcome_record.mode",),
        "POST",
        "/fhir/QuestionnaireResponse",
        response_with(_set("extension.1", {"url": MODE_URL, "valueCode": "x" * 17})),
        "QuestionnaireResponse.extension",
        role=LINK_WORKER,
        needs_referral=True,
    ),
    # --- outcomes and bookings (JSON)
    Case(
        "outcome instrument",
        ("outcome_record.instrument", "outcome_score.instrument"),
        "POST",
        "/api/v1/referrals/{referral_id}/outcomes",
        json_outcome(instrument=over("outcome_record.instrument")),
        "instrument",
        role=LINK_WORKER,
        needs_referral=True,
    ),
    Case(
        "outcome timepoint",
        ("outcome_record.timepoint", "outcome_score.timepoint"),
        "POST",
        "/api/v1/referrals/{referral_id}/outcomes",
        json_outcome(timepoint=over("outcome_record.timepoint")),
        "timepoint",
        role=LINK_WORKER,
        needs_referral=True,
    ),
    Case(
        "booking activity_id",
        ("booking.activity_id", "activity.id"),
        "POST",
        "/api/v1/referrals/{referral_id}/bookings",
        lambda _: {"activity_id": over("activity.id")},
        "activity_id",
        role=LINK_WORKER,
        needs_referral=True,
    ),
    Case(
        "booking status",
        ("booking.status",),
        "PATCH",
        f"/api/v1/bookings/{uuid.uuid4()}",
        lambda _: {"status": over("booking.status")},
        "status",
        role=LINK_WORKER,
    ),
    Case(
        "unsuitable reason",
        ("unsuitable_mark.reason",),
        "PUT",
        "/api/v1/referrals/{referral_id}/matches/some-activity/unsuitable",
        lambda _: {"reason": over("unsuitable_mark.reason")},
        "reason",
        role=LINK_WORKER,
        needs_referral=True,
    ),
    Case(
        "unsuitable note",
        ("unsuitable_mark.note",),
        "PUT",
        "/api/v1/referrals/{referral_id}/matches/some-activity/unsuitable",
        lambda _: {"reason": "other", "note": over("unsuitable_mark.note")},
        "note",
        role=LINK_WORKER,
        needs_referral=True,
    ),
    # --- directory: POST /services (PUT shares the body)
    Case("activity id", ACTIVITY_ID, "POST", SERVICES, activity(id=over("activity.id")), "id"),
    Case(
        "activity name",
        ("activity.name",),
        "POST",
        SERVICES,
        activity(name=over("activity.name")),
        "name",
    ),
    Case(
        "activity url",
        ("activity.url",),
        "POST",
        SERVICES,
        activity(url=over("activity.url")),
        "url",
    ),
    Case(
        "activity email",
        ("activity.email",),
        "POST",
        SERVICES,
        activity(email=over("activity.email")),
        "email",
    ),
    Case(
        "activity status",
        ("activity.status",),
        "POST",
        SERVICES,
        activity(status=over("activity.status")),
        "status",
    ),
    Case(
        "activity attending_type",
        ("activity.attending_type",),
        "POST",
        SERVICES,
        activity(attending_type=over("activity.attending_type")),
        "attending_type",
    ),
    Case(
        "activity eligibility gender",
        ("activity.eligibility_gender",),
        "POST",
        SERVICES,
        activity(eligibility={"gender": over("activity.eligibility_gender")}),
        "eligibility.gender",
    ),
    Case(
        "activity categories",
        ("activity_category.term_id", "activity_category.code"),
        "POST",
        SERVICES,
        activity(categories=[over("activity_category.term_id")]),
        "categories.0",
    ),
    Case(
        "activity target_needs",
        ("activity_need.code",),
        "POST",
        SERVICES,
        activity(target_needs=[over("activity_need.code")]),
        "target_needs.0",
    ),
    Case(
        "activity languages",
        ("activity_language.code",),
        "POST",
        SERVICES,
        activity(languages=[LANGUAGE]),
        "languages.0",
    ),
    Case(
        "activity languages (PUT)",
        ("activity_language.code",),
        "PUT",
        f"{SERVICES}/some-activity",
        activity(languages=[LANGUAGE]),
        "languages.0",
    ),
    Case(
        "service area code",
        ("service_area.code",),
        "POST",
        SERVICES,
        activity(service_areas=[over("service_area.code", "E")]),
        "service_areas",
    ),
    Case(
        "organisation id",
        ("organisation.id", "activity.organisation_id"),
        "POST",
        SERVICES,
        organisation(id=over("organisation.id")),
        "organization.id",
    ),
    Case(
        "organisation name",
        ("organisation.name",),
        "POST",
        SERVICES,
        organisation(name=over("organisation.name")),
        "organization.name",
    ),
    Case(
        "organisation identifier",
        ("organisation.identifier",),
        "POST",
        SERVICES,
        organisation(identifier=over("organisation.identifier", "A")),
        "organization.identifier",
    ),
    Case(
        "organisation identifier_scheme",
        ("organisation.identifier_scheme",),
        "POST",
        SERVICES,
        organisation(identifier_scheme=over("organisation.identifier_scheme")),
        "organization.identifier_scheme",
    ),
    Case(
        "organisation url",
        ("organisation.url",),
        "POST",
        SERVICES,
        organisation(url=over("organisation.url")),
        "organization.url",
    ),
    Case(
        "organisation email",
        ("organisation.email",),
        "POST",
        SERVICES,
        organisation(email=over("organisation.email")),
        "organization.email",
    ),
    Case(
        "location name",
        ("location.name",),
        "POST",
        SERVICES,
        nested("locations", name=over("location.name")),
        "locations.0.name",
    ),
    Case(
        "location address_1",
        ("location.address_1",),
        "POST",
        SERVICES,
        nested("locations", address_1=over("location.address_1")),
        "locations.0.address_1",
    ),
    Case(
        "location city",
        ("location.city",),
        "POST",
        SERVICES,
        nested("locations", city=over("location.city")),
        "locations.0.city",
    ),
    Case(
        "location postcode",
        ("location.postcode",),
        "POST",
        SERVICES,
        nested("locations", postcode="E5 1AU E5 1AU"),
        "locations.0.postcode",
    ),
    Case(
        "schedule byday",
        ("schedule.byday",),
        "POST",
        SERVICES,
        nested("schedules", byday=BYDAY),
        "schedules.0.byday",
    ),
    Case(
        "schedule freq",
        ("schedule.freq",),
        "POST",
        SERVICES,
        nested("schedules", freq=over("schedule.freq")),
        "schedules.0.freq",
    ),
    Case(
        "schedule opens_at",
        ("schedule.opens_at", "schedule.closes_at"),
        "POST",
        SERVICES,
        nested("schedules", opens_at=over("schedule.opens_at")),
        "schedules.0.opens_at",
    ),
    Case(
        "cost option",
        ("cost_option.option",),
        "POST",
        SERVICES,
        nested("cost_options", option=over("cost_option.option")),
        "cost_options.0.option",
    ),
    Case(
        "cost amount_description",
        ("cost_option.amount_description",),
        "POST",
        SERVICES,
        nested("cost_options", amount_description=over("cost_option.amount_description")),
        "cost_options.0.amount_description",
    ),
    # --- directory import (all or nothing: one bad row, nothing imported)
    Case(
        "import: organisation identifier_scheme",
        ("organisation.identifier_scheme",),
        "POST",
        IMPORT,
        imported(
            _set(
                "organization.organization_identifiers",
                [
                    {
                        "identifier_scheme": over("organisation.identifier_scheme"),
                        "identifier_type": "charity number",
                        "identifier": "1090001",
                    }
                ],
            )
        ),
        "[0].organization.organization_identifiers[0].identifier_scheme",
    ),
    Case(
        "import: organisation name",
        ("organisation.name",),
        "POST",
        IMPORT,
        imported(_set("organization.name", over("organisation.name"))),
        "[0].organization.name",
    ),
    Case(
        "import: activity id",
        ACTIVITY_ID,
        "POST",
        IMPORT,
        imported(_set("id", over("activity.id"))),
        "[0].id",
    ),
    Case(
        "import: activity name",
        ("activity.name",),
        "POST",
        IMPORT,
        imported(_set("name", over("activity.name"))),
        "[0].name",
    ),
    Case(
        "import: schedule byday",
        ("schedule.byday",),
        "POST",
        IMPORT,
        imported(_set("schedules.0.byday", BYDAY)),
        "[0].schedules.0.byday",
    ),
    # --- routing rules and terminology mappings (admin)
    Case(
        "routing practice_ods",
        ("routing_rule.practice_ods",),
        "PUT",
        f"/api/v1/routing/{over('routing_rule.practice_ods', 'A')}",
        lambda _: {"performer_ods": "Y02718"},
        "practice_ods",
    ),
    Case(
        "routing performer_ods",
        ("routing_rule.performer_ods",),
        "PUT",
        "/api/v1/routing/A81001",
        lambda _: {"performer_ods": over("routing_rule.performer_ods", "A")},
        "performer_ods",
    ),
    Case(
        "SNOMED mapping concept_id",
        ("snomed_need_mapping.concept_id",),
        "PUT",
        f"{SNOMED_NEEDS}/{'1' * 19}",
        lambda _: {"display": "Lonely", "need": "loneliness-isolation", "source": "test"},
        "concept_id",
    ),
    Case(
        "SNOMED mapping display",
        ("snomed_need_mapping.display",),
        "PUT",
        f"{SNOMED_NEEDS}/871731000000106",
        lambda _: {
            "display": over("snomed_need_mapping.display"),
            "need": "loneliness-isolation",
            "source": "test",
        },
        "display",
    ),
    Case(
        "SNOMED mapping need",
        ("snomed_need_mapping.need",),
        "PUT",
        f"{SNOMED_NEEDS}/871731000000106",
        lambda _: {"display": "x", "need": over("snomed_need_mapping.need"), "source": "test"},
        "need",
    ),
    Case(
        "SNOMED mapping source",
        ("snomed_need_mapping.source",),
        "PUT",
        f"{SNOMED_NEEDS}/871731000000106",
        lambda _: {
            "display": "x",
            "need": "loneliness-isolation",
            "source": over("snomed_need_mapping.source"),
        },
        "source",
    ),
    Case(
        "need phrase phrase",
        ("need_phrase.phrase",),
        "PUT",
        f"{NEED_PHRASES}/{over('need_phrase.phrase')}",
        lambda _: {"need": "housing", "note": "test"},
        "phrase",
    ),
    Case(
        "need phrase need",
        ("need_phrase.need",),
        "PUT",
        f"{NEED_PHRASES}/hoarding",
        lambda _: {"need": over("need_phrase.need"), "note": "test"},
        "need",
    ),
    Case(
        "need phrase note",
        ("need_phrase.note",),
        "PUT",
        f"{NEED_PHRASES}/hoarding",
        lambda _: {"need": "housing", "note": over("need_phrase.note")},
        "note",
    ),
    # --- FHIR Subscription: POST /fhir/Subscription
    Case(
        "Subscription channel.endpoint",
        ("subscription.endpoint",),
        "POST",
        "/fhir/Subscription",
        subscription_with(
            _set(
                "channel.endpoint",
                over("subscription.endpoint", prefix="https://gp-system.example.org/"),
            )
        ),
        "Subscription.channel.endpoint",
        role=REFERRER,
    ),
]

# FHIR strings may not hold U+0000 (R4 datatypes): refused once, where FHIR JSON is parsed
# (app/fhir/codec.py), in every string of every resource the API accepts: 400 naming the element.
NUL_CASES = [
    Case(
        "NUL in identifier.value",
        (),
        "POST",
        SR,
        sr(identifier=[{"system": GP_SYSTEM, "value": "REF\u0000-1"}]),
        "ServiceRequest.identifier[0].value",
        role=REFERRER,
    ),
    Case(
        "NUL in identifier.system",
        (),
        "POST",
        SR,
        sr(identifier=[{"system": "urn:x:a\u0000b", "value": "REF-1"}]),
        "ServiceRequest.identifier[0].system",
        role=REFERRER,
    ),
    Case(
        "NUL in category code",
        (),
        "POST",
        SR,
        sr(category=[{"coding": [{"system": SNOMED, "code": "4106\u000006002"}]}]),
        "ServiceRequest.category[0].coding[0].code",
        role=REFERRER,
    ),
    Case(
        "NUL in performer ODS code",
        (),
        "POST",
        SR,
        sr(performer=[{"identifier": {"system": ODS_SYSTEM, "value": "Y02\u0000718"}}]),
        "ServiceRequest.performer[0].identifier.value",
        role=REFERRER,
    ),
    Case(
        "NUL in the contained Patient's family name",
        (),
        "POST",
        SR,
        sr_with(_set("contained.0.name.0.family", "Apple\u0000garth")),
        "ServiceRequest.contained[0].name[0].family",
        role=REFERRER,
    ),
    Case(
        "NUL in a note",
        (),
        "POST",
        SR,
        sr(note=[{"text": "call\u0000me"}]),
        "ServiceRequest.note[0].text",
        role=REFERRER,
    ),
    Case(
        "NUL in a reason's text",
        (),
        "POST",
        SR,
        sr_with(_set("reasonCode.0.text", "Lonely\u0000")),
        "ServiceRequest.reasonCode[0].text",
        role=REFERRER,
    ),
    Case(
        "NUL in the contained Consent",
        (),
        "POST",
        SR,
        sr_with(_set("contained.1.dateTime", "2026-11-01T09:55:00\u0000+00:00")),
        "ServiceRequest.contained[1].dateTime",
        role=REFERRER,
    ),
    Case(
        "NUL in a Bundle's Patient",
        (),
        "POST",
        "/fhir",
        bundle_with(_set("entry.0.resource.name.0.family", "Apple\u0000garth")),
        "Bundle.entry[0].resource.name[0].family",
        role=REFERRER,
    ),
    Case(
        "NUL in a Bundle entry's request.url",
        (),
        "POST",
        "/fhir",
        bundle_with(_set("entry.2.request.url", "Con\u0000sent")),
        "Bundle.entry[2].request.url",
        role=REFERRER,
    ),
    Case(
        "NUL in a ServiceRequest PUT",
        (),
        "PUT",
        "/fhir/ServiceRequest/{referral_id}",
        sr_update(note=[{"text": "call\u0000me"}]),
        "ServiceRequest.note[0].text",
        role=REFERRER,
        needs_referral=True,
    ),
    Case(
        "NUL in a Task PUT",
        (),
        "PUT",
        "/fhir/Task/{task_id}",
        task_update(status="on-hold", statusReason={"text": "moved\u0000away"}),
        "Task.statusReason.text",
        role=LINK_WORKER,
        needs_referral=True,
    ),
    Case(
        "NUL in a QuestionnaireResponse answer",
        (),
        "POST",
        "/fhir/QuestionnaireResponse",
        response_with(_set("item.0.linkId", "1\u0000")),
        "QuestionnaireResponse.item[0].linkId",
        role=LINK_WORKER,
        needs_referral=True,
    ),
    Case(
        "NUL in a Subscription's reason",
        (),
        "POST",
        "/fhir/Subscription",
        subscription_with(_set("reason", "Task\u0000changes")),
        "Subscription.reason",
        role=REFERRER,
    ),
    Case(
        "NUL in a Subscription's channel.header",
        (),
        "POST",
        "/fhir/Subscription",
        subscription_with(_set("channel.header", ["Authorization: Bearer a\u0000b"])),
        "Subscription.channel.header[0]",
        role=REFERRER,
    ),
    Case(
        "NUL in an element's name",
        (),
        "POST",
        SR,
        sr_with(lambda r: r.update({"no\u0000te": [{"text": "x"}]})),
        "ServiceRequest.note",
        role=REFERRER,
    ),
]

# Bounded columns no request fills with a value of its own, and why.
NOT_FROM_CLIENTS = {
    **{
        name: "reference data loaded from the shipped ONS files (app/areas/data), not a request"
        for name in LENGTHS
        if name.split(".")[0] in ("postcode", "postcode_district", "lsoa_deprivation")
    },
    **{
        name: "written by the server; the caller's values are validated or cut to fit first "
        "(sub, outcome text: app/audit/service.py; request id: ops/middleware.REQUEST_ID; "
        "org: a token's ODS code)"
        for name in LENGTHS
        if name.startswith("audit_event.")
    },
    **{
        name: "derived by the reports' refresh from stored rows (app/reporting/summary.py)"
        for name in LENGTHS
        if name.startswith("report_")
    },
    **{
        name: "written by the server and the delivery worker (app/notifications/)"
        for name in LENGTHS
        if name.split(".")[0] in ("outbox_event", "delivery")
    },
    "subscription.owner_ods": "the token's org (an ODS code)",
    "subscription.status": "active | error | off, by the server",
    "subscription.secret": "made by the server (64 hex characters)",
    "subscription.error": "set by the delivery worker, never by a request",
    "activity_change.activity_id": "written by a trigger from activity.id (migration 0009)",
    "booking.booked_by": "the token's sub, cut to the column (bookings/service.py)",
    "unsuitable_mark.marked_by": "the token's sub, cut to the column (matching/unsuitable.py)",
    "unsuitable_mark.activity_id": "a path parameter, refused over activity.id's length (400)",
    "booking.cancelled_reason": "set by the server (bookings/repository.py cancel_open)",
    "outcome_record.recorded_by": "the token's sub, cut to the column (outcomes/service.py)",
    "outcome_score.measure": "derived by the scorer (outcomes/instruments.py)",
    "outcome_score.band": "derived by the scorer",
    "outcome_score.category": "a validated ONS loneliness answer, checked by the scorer",
    "routing_rule.updated_by": "the token's sub, cut to the column (test_a_long_sub_is_kept_cut)",
    "postcode_route.updated_by": "the token's sub, cut to the column (routing/service.py _put)",
    "postcode_route.prefix": "refused unless an area, district or sector (6 at most, 422)",
    "postcode_route.performer_ods": "refused unless an ODS code (12 at most, 422)",
    "snomed_need_mapping.created_by": "the token's sub, cut to the column (same test)",
    "need_phrase.created_by": "the token's sub, cut to the column (same test)",
    "referral_need.found_in": "an element path the resolver writes (reasonCode[i].text)",
    "referral_coding.element": "code | category, by the server",
    "referral_need.need": "codes of the need CodeSystem only (terminology/resolver.py)",
    "resource_version.resource_type": "the server's resource types",
    "activity.source": "api | import | demo, by route",
    "location.source_id": "not filled (always null)",
    "activity_category.label": "import: cut to the column (directory/oruk.py _terms)",
    "activity_category.taxonomy": "import: cut to the column (directory/oruk.py _terms)",
    **{
        name: "written by the server and the messages worker (app/messages/): kinds, channels "
        "and statuses are the server's words, template ids come from settings, the key is "
        "made by the server, Notify's error and receipt status are cut to fit (notify.py)"
        for name in LENGTHS
        if name.startswith("message.")
    },
    "activity.source_feed_id": "8 hex digits made by the server from the feed's URL (sync.py)",
    "activity.source_id": "a synced service's id, refused unless ORUK's id pattern (64 at most)",
    "activity.source_digest": "a SHA-256 made by the server (directory/sync.py)",
    "directory_feed.id": "8 hex digits made by the server from the feed's URL (sync.py)",
    "directory_feed.url": "refused over 2048 characters (sync.py feed: the API, the CLI, settings)",
    "directory_feed.last_error": "the sync's reason, cut to the column (sync.py)",
    "outcome_record.source": "json | questionnaire-response | link, by route",
    "questionnaire_link.instrument": "checked against the instruments (422 over any)",
    "questionnaire_link.timepoint": "baseline | follow-up | exit (422 otherwise), or the schedule",
    "questionnaire_link.channel": "sms | email (422 otherwise)",
    "questionnaire_link.sent_by": "the token's sub, cut to the column (questionnaires/service.py)",
    "questionnaire_link.schedule_key": "made by the follow-up schedule from ids and a week count",
    "questionnaire_link_token.token_hash": "a SHA-256 in hex (64 characters), by the server",
}


def test_every_bounded_column_is_accounted_for() -> None:
    covered = {column for case in CASES for column in case.columns}
    assert not covered - LENGTHS.keys(), "cases name columns that do not exist"
    assert not set(NOT_FROM_CLIENTS) - LENGTHS.keys()
    unaccounted = LENGTHS.keys() - covered - NOT_FROM_CLIENTS.keys()
    assert not unaccounted, f"String(n) columns with no over-long case: {sorted(unaccounted)}"


async def _row_counts(session: AsyncSession) -> dict[str, int]:
    counts = {}
    for table in Base.metadata.sorted_tables:
        if table.name == "audit_event":
            continue  # refused accesses are audited on purpose
        counts[table.name] = await session.scalar(select(func.count()).select_from(table)) or 0
    return counts


def _named(response: httpx.Response) -> list[str]:
    """The elements a 422 names: OperationOutcome expressions or problem+json fields."""
    body = response.json()
    if body.get("resourceType") == "OperationOutcome":
        return [e for issue in body["issue"] for e in issue.get("expression", [])]
    return [error["field"] for error in body.get("errors", [])]


async def _refused(
    client: httpx.AsyncClient, session: AsyncSession, auth: TokenFactory, case: Case, status: int
) -> httpx.Response:
    """``case``'s request answered ``status`` naming its element, with nothing written."""
    stored: Stored | None = None
    if case.needs_referral:
        made = await new_referral(client, auth(*REFERRER), auth(*LINK_WORKER))
        read = await client.get(f"{SR}/{made.referral_id}", headers=auth(*REFERRER))
        stored = Stored(read.json(), made.task)
    path = case.path.format(
        referral_id=stored.referral["id"] if stored else "",
        task_id=stored.task["id"] if stored else "",
    )
    before = await _row_counts(session)

    response = await client.request(
        case.method, path, json=case.body(stored), headers=auth(*case.role)
    )

    assert response.status_code == status, response.text
    named = _named(response)
    assert any(case.expression in n for n in named), (named, response.text)
    assert await _row_counts(session) == before
    return response


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_an_over_long_value_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, auth: TokenFactory, case: Case
) -> None:
    await _refused(client, session, auth, case, 422)


@pytest.mark.parametrize("case", NUL_CASES, ids=[c.name for c in NUL_CASES])
async def test_a_nul_in_a_fhir_string_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, auth: TokenFactory, case: Case
) -> None:
    response = await _refused(client, session, auth, case, 400)
    assert "NUL" in response.text


async def test_an_over_long_language_in_an_import_is_ignored_with_a_warning(
    client: httpx.AsyncClient, session: AsyncSession, auth: TokenFactory
) -> None:
    """The importer's rule for a language it cannot use: dropped, with a warning naming it."""
    row = copy.deepcopy(FULL)
    row["languages"] = [{"code": LANGUAGE}, {"code": "pl"}]
    response = await client.post(IMPORT, json=[row], headers=auth(Role.ADMIN, "X26"))
    assert response.status_code == 200, response.text
    warnings = [w["field"] for w in response.json()["rows"][0]["warnings"]]
    assert "languages[0]" in warnings
    read = await client.get(f"{SERVICES}/{row['id']}", headers=auth(Role.ADMIN, "X26"))
    assert read.json()["languages"] == ["pl"]


async def test_a_long_sub_is_kept_cut(
    client: httpx.AsyncClient, session: AsyncSession, auth: TokenFactory
) -> None:
    """A token's sub longer than the ``*_by`` columns: stored cut to fit, as the audit does."""
    admin = auth(Role.ADMIN, "X26", sub="s" * 300)
    routed = await client.put(
        "/api/v1/routing/A81001", json={"performer_ods": "Y02718"}, headers=admin
    )
    assert routed.status_code == 201, routed.text
    assert routed.json()["updated_by"] == "s" * LENGTHS["routing_rule.updated_by"]
    mapped = await client.put(
        f"{SNOMED_NEEDS}/871731000000106",
        json={"display": "Lonely", "need": "loneliness-isolation", "source": "test"},
        headers=admin,
    )
    assert mapped.status_code in (200, 201), mapped.text
    assert mapped.json()["created_by"] == "s" * LENGTHS["snomed_need_mapping.created_by"]
    phrase = await client.put(
        f"{NEED_PHRASES}/hoarding", json={"need": "housing", "note": "test"}, headers=admin
    )
    assert phrase.status_code == 201, phrase.text
    assert phrase.json()["created_by"] == "s" * LENGTHS["need_phrase.created_by"]
    rule = await session.get(RoutingRule, "A81001")
    mapping = await session.get(SnomedNeedMapping, "871731000000106")
    assert rule is not None
    assert mapping is not None
    assert len(rule.updated_by) == LENGTHS["routing_rule.updated_by"]
