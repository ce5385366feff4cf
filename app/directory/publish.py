"""Activities published as Open Referral UK (HSDS 3.0 UK profile) services: the inverse of
``app.directory.oruk``, so that importing what ``/oruk`` publishes gives the same activity.

Shapes follow ``OpenReferralUK/uk-profile:schema/compiled/service.json`` (a fully nested
service) and its ``openapi.json`` (``GET /``, the page envelope). Absent values are left out,
never ``null`` (the schema types them as strings, numbers...). Ids: a service is its activity's
id, a service_at_location its location row's id; every other nested object gets a UUID derived
from its owner and position (``uuid5``), the same every time the activity is published.

What HSDS-UK has no field for travels in the few extensions below, which the schema allows
(it closes no object) and ``oruk.map_service`` reads back: ``attending_type``,
``accepting_referrals`` (also said in words in ``alert`` when no referrals are taken),
``eligibility.gender``, a cost option's ``free``, a language's ``code``, a contact's
``phones``, HSDS 3.0 core's ``capacities`` (service_capacity), and accessibility codes as
``accessibility[].attributes[].taxonomy_term`` of the taxonomy ``accessibility``.

Taxonomies: the activity-category and need CodeSystems (``app/terminology``). Their terms are
published with a UUID id and the code as ``name`` (the importer maps a term by its id or by the
slug of its name; one of these ids comes back as the bare code); another feed's term keeps its
own id and name. Nothing of a person referred to an activity is in any of it: only the
directory's own tables are read.
"""

from __future__ import annotations

import datetime as dt
import uuid
from functools import cache
from typing import Any

from app import __version__
from app.directory.models import Activity, ActivityCategoryLink, Location, Organisation
from app.directory.vocabulary import ACCESSIBILITY_COLUMNS, Accessibility
from app.terminology.codesystems import ACTIVITY_CATEGORY, NEED, load, system_url

HSDS_VERSION = "3.0"
PROFILE_URL = "https://github.com/openreferral/uk-profile"
ORUK_OPENAPI_URL = (
    "https://raw.githubusercontent.com/openreferral/uk-profile/main/schema/openapi.json"
)
NAMESPACE = uuid.UUID("3b8f6e0a-51c4-4f8e-9d2a-6c0e7b1f4a93")
TAXONOMIES = (ACTIVITY_CATEGORY, NEED)
ACCESSIBILITY_TAXONOMY = "accessibility"
ACCESSIBILITY_LABELS = {
    Accessibility.WHEELCHAIR: "Wheelchair accessible",
    Accessibility.STEP_FREE: "Step-free access",
    Accessibility.HEARING_LOOP: "Hearing loop",
    Accessibility.LARGE_PRINT: "Large print available",
    Accessibility.BSL: "British Sign Language",
    Accessibility.QUIET_SPACE: "Quiet space",
}
NOT_ACCEPTING = "Not accepting new referrals at present."
IDENTIFIER_TYPES = {
    "ods": "ODS code",
    "GB-CHC": "Charity number",
    "GB-SC": "Charity number (Scotland)",
    "GB-NIC": "Charity number (Northern Ireland)",
    "GB-COH": "Company number",
}


def derived_id(*parts: str) -> str:
    """The UUID of a nested object: the same for the same owner and position."""
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def timestamp(value: dt.datetime) -> str:
    """RFC 3339 in UTC with a ``Z``."""
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _present(document: dict[str, Any]) -> dict[str, Any]:
    """Without the keys whose value is absent (None)."""
    return {k: v for k, v in document.items() if v is not None}


def api_details() -> dict[str, Any]:
    """ORUK ``GET /``."""
    return {
        "version": HSDS_VERSION,
        "profile": PROFILE_URL,
        "openapi_url": ORUK_OPENAPI_URL,
    }


# ---------------------------------------------------------------- taxonomies


def taxonomy_id(codesystem_id: str) -> str:
    return derived_id("taxonomy", codesystem_id)


def term_id(codesystem_id: str, code: str) -> str:
    return derived_id("taxonomy_term", codesystem_id, code)


def taxonomy(codesystem_id: str) -> dict[str, Any]:
    data = load(codesystem_id)
    return {
        "id": taxonomy_id(codesystem_id),
        "name": data.title,
        "description": data.description,
        "uri": data.url,
        "version": __version__,
    }


def taxonomies() -> list[dict[str, Any]]:
    return [taxonomy(c) for c in TAXONOMIES]


def taxonomy_term(codesystem_id: str, code: str) -> dict[str, Any]:
    """One concept of a CodeSystem as an ORUK taxonomy term: ``name`` is the code."""
    concept = next(c for c in load(codesystem_id).concepts if c.code == code)
    return {
        "id": term_id(codesystem_id, code),
        "name": code,
        "description": f"{concept.display}: {concept.definition}",
        "taxonomy": codesystem_id,
        "taxonomy_id": taxonomy_id(codesystem_id),
        "term_uri": f"{system_url(codesystem_id)}#{code}",
        "term": concept.display,
    }


@cache
def taxonomy_terms() -> tuple[dict[str, Any], ...]:
    """Every term of the published taxonomies, by taxonomy then code order."""
    return tuple(taxonomy_term(c, code) for c in TAXONOMIES for code in load(c).codes)


@cache
def codes_by_term_id() -> dict[str, tuple[str, str]]:
    """A published term id -> (its CodeSystem, its code)."""
    return {t["id"]: (t["taxonomy"], t["name"]) for t in taxonomy_terms()}


# ---------------------------------------------------------------- services


def _organization(org: Organisation) -> dict[str, Any]:
    identifiers = []
    if org.identifier:
        scheme = org.identifier_scheme
        identifiers.append(
            _present(
                {
                    "id": derived_id("organization_identifier", org.id),
                    "organization_id": org.id,
                    "identifier_scheme": scheme,
                    "identifier_type": IDENTIFIER_TYPES.get(scheme or "", "Provider identifier"),
                    "identifier": org.identifier,
                }
            )
        )
    return _present(
        {
            "id": org.id,
            "name": org.name,
            "description": org.description or "",
            "email": org.email,
            "website": org.url,
            "organization_identifiers": identifiers,
        }
    )


def _attribute(owner: str, link_type: str, term: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": derived_id("attribute", owner, term["id"]),
        "link_id": owner,
        "link_type": link_type,
        "taxonomy_term_id": term["id"],
        "taxonomy_term": term,
    }


def _category_term(link: ActivityCategoryLink) -> dict[str, Any]:
    if link.code is not None and link.term_id in (link.code, term_id(ACTIVITY_CATEGORY, link.code)):
        return taxonomy_term(ACTIVITY_CATEGORY, link.code)  # ours, or ours imported back
    name = link.label or link.code or link.term_id
    return _present(
        {
            "id": link.term_id,
            "name": name,
            "description": link.label or name,
            "taxonomy": link.taxonomy,
        }
    )


def _attributes(activity: Activity) -> list[dict[str, Any]]:
    terms = [_category_term(link) for link in activity.categories]
    terms += [taxonomy_term(NEED, need.code) for need in activity.needs]
    return [_attribute(activity.id, "service", term) for term in terms]


def _accessibility(location: Location) -> list[dict[str, Any]]:
    codes = [code for code, column in ACCESSIBILITY_COLUMNS.items() if getattr(location, column)]
    if not codes and location.accessibility_description is None:
        return []
    entry_id = derived_id("accessibility", str(location.id))
    terms = [
        {
            "id": derived_id("taxonomy_term", ACCESSIBILITY_TAXONOMY, code),
            "name": code.value,
            "description": ACCESSIBILITY_LABELS[code],
            "taxonomy": ACCESSIBILITY_TAXONOMY,
        }
        for code in codes
    ]
    return [
        _present(
            {
                "id": entry_id,
                "location_id": derived_id("location", str(location.id)),
                "description": location.accessibility_description,
                "attributes": [_attribute(entry_id, "accessibility", t) for t in terms],
            }
        )
    ]


def location(location: Location) -> dict[str, Any]:
    """The HSDS location of one of an activity's places (always physical)."""
    location_id = derived_id("location", str(location.id))
    addresses = []
    if location.address_1 or location.city or location.postcode:
        addresses.append(
            {
                "id": derived_id("address", str(location.id)),
                "location_id": location_id,
                "address_1": location.address_1 or "",
                "city": location.city or "",
                "state_province": "",
                "postal_code": location.postcode or "",
                "country": "GB",
                "address_type": "physical",
            }
        )
    return _present(
        {
            "id": location_id,
            "location_type": "physical",
            "name": location.name,
            "latitude": location.latitude,
            "longitude": location.longitude,
            "addresses": addresses,
            "accessibility": _accessibility(location),
        }
    )


def service_at_location(activity_id: str, place: Location) -> dict[str, Any]:
    return {
        "id": str(place.id),
        "service_id": activity_id,
        "location_id": derived_id("location", str(place.id)),
        "location": location(place),
    }


def _schedules(activity: Activity) -> list[dict[str, Any]]:
    return [
        _present(
            {
                "id": derived_id("schedule", activity.id, str(s.position)),
                "service_id": activity.id,
                "freq": s.freq or "WEEKLY",
                "interval": s.interval,
                "byday": s.byday,
                "opens_at": s.opens_at,
                "closes_at": s.closes_at,
                "valid_from": s.valid_from.isoformat() if s.valid_from else None,
                "valid_to": s.valid_to.isoformat() if s.valid_to else None,
                "description": s.description,
            }
        )
        for s in activity.schedules
    ]


def _cost_options(activity: Activity) -> list[dict[str, Any]]:
    return [
        _present(
            {
                "id": derived_id("cost_option", activity.id, str(c.position)),
                "service_id": activity.id,
                "option": c.option,
                "amount": float(c.amount) if c.amount is not None else None,
                "amount_description": c.amount_description,
                "free": c.free,
                "valid_from": c.valid_from.isoformat() if c.valid_from else None,
                "valid_to": c.valid_to.isoformat() if c.valid_to else None,
            }
        )
        for c in activity.cost_options
    ]


def _contacts(activity: Activity) -> list[dict[str, Any]]:
    """The activity's public contact, as its provider gave it for the directory."""
    contact = activity.contact
    if not contact:
        return []
    contact_id = derived_id("contact", activity.id)
    phone = contact.get("phone")
    phones = [{"id": derived_id("phone", activity.id), "number": phone}] if phone else None
    return [
        _present(
            {
                "id": contact_id,
                "service_id": activity.id,
                "name": contact.get("name"),
                "title": contact.get("title"),
                "email": contact.get("email"),
                "phones": phones,
            }
        )
    ]


def _capacities(activity: Activity) -> list[dict[str, Any]]:
    return [
        _present(
            {
                "id": derived_id("service_capacity", activity.id),
                "service_id": activity.id,
                "unit": {"id": derived_id("unit", "place"), "name": "place"},
                "available": activity.capacity_available,
                "maximum": activity.capacity_maximum,
                "description": "places",
                "updated": timestamp(activity.last_modified),
            }
        )
    ]


def service_summary(activity: Activity) -> dict[str, Any]:
    """A service's one-to-one fields (a row of ``GET /services``)."""
    eligibility = {"gender": activity.eligibility_gender} if activity.eligibility_gender else None
    return _present(
        {
            "id": activity.id,
            "organization_id": activity.organisation_id,
            "name": activity.name,
            "description": activity.description,
            "url": activity.url,
            "email": activity.email,
            "status": activity.status,
            "fees": activity.fees_description,
            "minimum_age": activity.minimum_age,
            "maximum_age": activity.maximum_age,
            "eligibility_description": activity.eligibility_description,
            "eligibility": eligibility,
            "alert": None if activity.accepting_referrals else NOT_ACCEPTING,
            "attending_type": activity.attending_type,
            "accepting_referrals": activity.accepting_referrals,
            "last_modified": timestamp(activity.last_modified),
        }
    )


def service(activity: Activity) -> dict[str, Any]:
    """The fully nested service (``GET /services/{id}``); every part must be loaded."""
    document = service_summary(activity)
    if activity.organisation is not None:
        document["organization"] = _organization(activity.organisation)
    document["service_areas"] = [
        _present(
            {
                "id": derived_id("service_area", activity.id, str(area.position)),
                "service_id": activity.id,
                "name": area.code or area.name,
                "service_area": area.code or area.name,
                "extent_type": "postcode district or local authority code" if area.code else None,
            }
        )
        for area in activity.service_areas
    ]
    document["service_at_locations"] = [
        service_at_location(activity.id, place) for place in activity.locations
    ]
    document["schedules"] = _schedules(activity)
    document["cost_options"] = _cost_options(activity)
    document["languages"] = [
        {"id": derived_id("language", activity.id, lang.code), "code": lang.code}
        for lang in activity.languages
    ]
    document["contacts"] = _contacts(activity)
    if activity.capacity_available is not None or activity.capacity_maximum is not None:
        document["capacities"] = _capacities(activity)
    document["attributes"] = _attributes(activity)
    return document
