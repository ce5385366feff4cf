"""The directory's activities as FHIR R4 ``HealthcareService`` (DESIGN.md 5.1), served at
``/fhir/HealthcareService`` so that every ``fullUrl`` the service emits (``$match``) resolves.
The mapping is written down in docs/fhir.md ("HealthcareService")."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.directory import schedules
from app.directory.schemas import ActivityRead, LocationRead, ScheduleWrite
from app.directory.vocabulary import Frequency, Gender, ServiceStatus
from app.errors import BadRequest, Issue
from app.fhir import CANONICAL_BASE
from app.fhir.search import token
from app.terminology.codesystems import (
    ACTIVITY_CATEGORY,
    ACTIVITY_CATEGORY_SYSTEM,
    NEED,
    NEED_SYSTEM,
    load,
)

ACTIVITY_SYSTEM = f"{CANONICAL_BASE}/sid/activity"  # directory activity ids
ACTIVITY_URL = f"{CANONICAL_BASE}/StructureDefinition/activity"
ACCESSIBILITY_URL = f"{CANONICAL_BASE}/StructureDefinition/location-accessibility"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
ORG_ID_LIST = "https://org-id.guide/list/"  # GB-CHC, GB-SC, GB-NIC, GB-COH
SERVICE_PROVISION = "http://terminology.hl7.org/CodeSystem/service-provision-conditions"
BCP_47 = "urn:ietf:bcp:47"
FHIR_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last"}
_DISPLAY = {
    system: {c.code: c.display for c in load(cs).concepts}
    for system, cs in ((ACTIVITY_CATEGORY_SYSTEM, ACTIVITY_CATEGORY), (NEED_SYSTEM, NEED))
}


def location_id(index: int) -> str:
    """The id of the activity's ``index``-th location (from 0) among ``contained``."""
    return f"loc{index + 1}"


def _coding(system: str, code: str) -> dict[str, Any]:
    coding = {"system": system, "code": code}
    if display := _DISPLAY[system].get(code):
        coding["display"] = display
    return {"coding": [coding]}


def _location(location: LocationRead, index: int) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Location", "id": location_id(index)}
    if location.accessibility:
        resource["extension"] = [
            {"url": ACCESSIBILITY_URL, "valueCode": code.value} for code in location.accessibility
        ]
    if location.name:
        resource["name"] = location.name
    if location.accessibility_description:
        resource["description"] = location.accessibility_description
    address = {
        "line": [location.address_1] if location.address_1 else None,
        "city": location.city,
        "postalCode": location.postcode,
    }
    if any(address.values()):
        resource["address"] = {k: v for k, v in address.items() if v}
    if location.latitude is not None and location.longitude is not None:
        resource["position"] = {"latitude": location.latitude, "longitude": location.longitude}
    return resource


def _provided_by(activity: ActivityRead) -> dict[str, Any] | None:
    org = activity.organization
    if org is None:
        return None
    reference: dict[str, Any] = {"display": org.name}
    scheme = (org.identifier_scheme or "").upper()
    if org.identifier and scheme:
        system = ODS_SYSTEM if scheme == "ODS" else ORG_ID_LIST + scheme
        reference["identifier"] = {"system": system, "value": org.identifier}
    elif org.identifier:
        reference["identifier"] = {"value": org.identifier}
    return reference


def _telecom(activity: ActivityRead) -> list[dict[str, Any]]:
    contact = activity.contact
    found = [
        ("phone", contact.phone if contact else None),
        ("email", contact.email if contact else None),
        ("email", activity.email),
        ("url", activity.url),
    ]
    seen: list[dict[str, Any]] = []
    for system, value in found:
        if value and {"system": system, "value": value} not in seen:
            seen.append({"system": system, "value": value})
    return seen


def _eligibility(activity: ActivityRead) -> list[dict[str, Any]]:
    low, high = activity.minimum_age, activity.maximum_age
    items: list[tuple[str, str | None]] = [
        (
            "Age",
            f"Ages {low} to {high}"
            if low is not None and high is not None
            else f"Ages {low} and over"
            if low is not None
            else f"Ages up to {high}"
            if high is not None
            else None,
        ),
        (
            "Sex",
            {Gender.FEMALE: "Women only", Gender.MALE: "Men only"}[activity.eligibility.gender]
            if activity.eligibility.gender
            else None,
        ),
        (
            "Service area",
            "Lives in " + ", ".join(activity.service_areas) if activity.service_areas else None,
        ),
        ("Other", activity.eligibility.description),
    ]
    return [{"code": {"text": text}, "comment": comment} for text, comment in items if comment]


def _time(value: dt.time | None) -> str | None:
    return value.isoformat("seconds") if value is not None else None


def _current(schedule: ScheduleWrite, today: dt.date) -> bool:
    return schedule.valid_to is None or schedule.valid_to >= today


def _available_time(schedule: ScheduleWrite) -> dict[str, Any] | None:
    weekdays = schedules.weekly_days(schedule)
    if weekdays is None:
        return None
    available: dict[str, Any] = {"daysOfWeek": [FHIR_DAYS[d] for d in weekdays]}
    if schedule.opens_at is None and schedule.closes_at is None:
        return available
    if start := _time(schedule.opens_at):
        available["availableStartTime"] = start
    if end := _time(schedule.closes_at):
        available["availableEndTime"] = end
    return available


def describe(schedule: ScheduleWrite) -> str:
    """A schedule that is not a plain weekly pattern, in words: "Monthly: second Monday,
    10:00 to 12:00"."""
    if schedule.description:
        return schedule.description
    every = "Monthly" if schedule.freq is Frequency.MONTHLY else "Weekly"
    if (schedule.interval or 1) > 1:
        unit = "months" if schedule.freq is Frequency.MONTHLY else "weeks"
        every = f"Every {schedule.interval} {unit}"
        if schedule.valid_from:
            every += f" from {schedule.valid_from.isoformat()}"
    days = ", ".join(
        (f"{ORDINALS.get(d.ordinal, str(d.ordinal))} " if d.ordinal else "") + DAY_NAMES[d.weekday]
        for d in schedules.days(schedule.byday)
    )
    times = " to ".join(t.strftime("%H:%M") for t in (schedule.opens_at, schedule.closes_at) if t)
    return ", ".join(part for part in (f"{every}: {days or 'days not given'}", times) if part)


def _activity_extension(activity: ActivityRead) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [
        {"url": "status", "valueCode": activity.status.value},
        {"url": "attendingType", "valueCode": activity.attending_type.value},
        {"url": "acceptingReferrals", "valueBoolean": activity.accepting_referrals},
    ]
    if activity.capacity.maximum is not None:
        parts.append({"url": "placesMaximum", "valueInteger": activity.capacity.maximum})
    if activity.capacity.available is not None:
        parts.append({"url": "placesAvailable", "valueInteger": activity.capacity.available})
    if activity.fees_description:
        parts.append({"url": "fees", "valueString": activity.fees_description})
    return {"url": ACTIVITY_URL, "extension": parts}


def healthcare_service(activity: ActivityRead, today: dt.date) -> dict[str, Any]:
    """An activity as an R4 ``HealthcareService``; its locations are contained ``Location``s
    (``#loc1``...). ``today`` decides which schedules have ended."""
    resource: dict[str, Any] = {
        "resourceType": "HealthcareService",
        "id": activity.id,
        "meta": {"lastUpdated": activity.last_modified.isoformat()},
    }
    if activity.locations:
        resource["contained"] = [_location(loc, i) for i, loc in enumerate(activity.locations)]
    resource["extension"] = [_activity_extension(activity)]
    resource["identifier"] = [{"system": ACTIVITY_SYSTEM, "value": activity.id}]
    resource["active"] = activity.status is ServiceStatus.ACTIVE
    optional: dict[str, Any] = {
        "providedBy": _provided_by(activity),
        "category": [_coding(ACTIVITY_CATEGORY_SYSTEM, c.value) for c in activity.categories],
        "location": [
            {"reference": f"#{location_id(i)}", **({"display": loc.name} if loc.name else {})}
            for i, loc in enumerate(activity.locations)
        ],
        "name": activity.name,
        "comment": activity.description,
        "telecom": _telecom(activity),
        "serviceProvisionCode": [
            {
                "coding": [
                    {"system": SERVICE_PROVISION, "code": "free", "display": "Free"}
                    if activity.has_free_option
                    else {"system": SERVICE_PROVISION, "code": "cost", "display": "Fees apply"}
                ]
            }
        ]
        if activity.cost_options
        else None,
        "eligibility": _eligibility(activity),
        "characteristic": [_coding(NEED_SYSTEM, n.value) for n in activity.target_needs],
        "communication": [
            {"coding": [{"system": BCP_47, "code": code}]} for code in activity.languages
        ],
    }
    current = [s for s in activity.schedules if _current(s, today)]
    optional["availableTime"] = [a for s in current if (a := _available_time(s)) is not None]
    optional["availabilityExceptions"] = (
        "; ".join(describe(s) for s in current if _available_time(s) is None) or None
    )
    resource.update({k: v for k, v in optional.items() if v})  # FHIR JSON has no empty values
    return resource


def category_codes(values: list[str]) -> list[str]:
    """``service-category`` token values as activity-category codes; a code of another system
    matches nothing (it is left out)."""
    codes = []
    for value in values:
        system, code = token(value)
        if system is None or system == ACTIVITY_CATEGORY_SYSTEM:
            codes.append(code)
    return codes


def active_flag(value: str | None) -> bool | None:
    """The ``active`` token: ``true`` or ``false``; anything else is 400."""
    if value is None:
        return None
    if value not in ("true", "false"):
        raise BadRequest(
            f"active: {value!r} is not true or false", [Issue("expected true or false", "active")]
        )
    return value == "true"
