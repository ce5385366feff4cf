"""Directory use cases: search, read, write (providers: their own organisation only), import."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.areas import postcodes
from app.areas import service as areas_service
from app.auth.policy import Reach
from app.auth.principal import Principal
from app.db import utcnow
from app.directory import repository
from app.directory.models import Activity
from app.directory.repository import ActivityRows, DirectoryQuery, FhirQuery, Near
from app.directory.schemas import (
    ID_PATTERN,
    ActivityBase,
    ActivityCard,
    ActivityRead,
    ActivitySummary,
    ActivityWrite,
    Capacity,
    Contact,
    CostOptionWrite,
    Eligibility,
    LocationRead,
    LocationWrite,
    OrganizationRead,
    OrganizationWrite,
    Page,
    ScheduleWrite,
    TaxonomyTerm,
)
from app.directory.vocabulary import (
    ACCESSIBILITY_COLUMNS,
    DAY_ALIASES,
    Accessibility,
    ActivityCategory,
)
from app.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    Issue,
    NotFound,
    PreconditionFailed,
    Unprocessable,
)

T = TypeVar("T")
ID = re.compile(ID_PATTERN)

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100


@dataclass(frozen=True)
class SearchParams:
    search: str | None = None
    taxonomy_term_id: str | None = None
    minimum_age: int | None = None
    maximum_age: int | None = None
    day: str | None = None
    postcode: str | None = None
    proximity: int | None = None
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE


def parse_day(raw: str) -> str:
    code = DAY_ALIASES.get(raw.strip().upper())
    if code is None:
        raise BadRequest(
            f"day: {raw!r} is not a day of the week (MO..SU, mon..sun or a day name)",
            [Issue("expected MO, TU, WE, TH, FR, SA or SU", "day")],
        )
    return code


async def search(session: AsyncSession, params: SearchParams) -> Page[ActivitySummary]:
    """ORUK ``GET /services``: filters, optional postcode + proximity, one page."""
    query = await directory_query(session, params)
    offset = (params.page - 1) * params.per_page
    total, rows = await repository.search(session, query, offset=offset, limit=params.per_page)
    return page_of(
        [summary(a, distance) for a, distance in rows],
        total=total,
        page=params.page,
        per_page=params.per_page,
    )


async def directory_query(session: AsyncSession, params: SearchParams) -> DirectoryQuery:
    """The query of the ORUK filters: checked, the postcode placed (400 or 422 when not)."""
    area_codes: list[str] | None = None
    near: Near | None = None
    for name in ("search", "taxonomy_term_id", "day", "postcode"):
        if "\x00" in (getattr(params, name) or ""):
            raise BadRequest(f"{name} contains a NUL character", [Issue("NUL character", name)])
    if params.proximity is not None and params.postcode is None:
        raise BadRequest("proximity needs a postcode", [Issue("give a postcode", "postcode")])
    if params.postcode is not None:
        district = postcodes.district_of(params.postcode)
        if district is None:
            raise BadRequest(
                f"postcode: {params.postcode!r} is not a UK postcode",
                [Issue("not a UK postcode", "postcode")],
            )
        place = await areas_service.locate(session, params.postcode, deprivation=False)
        area_codes = [district] + (
            [place.local_authority_code] if place.local_authority_code else []
        )
        if params.proximity is not None:
            if place.latitude is None or place.longitude is None:
                raise Unprocessable(
                    f"The location of postcode {params.postcode!r} is unknown",
                    [Issue("postcode not found in the area data", "postcode")],
                )
            near = Near(place.latitude, place.longitude, float(params.proximity))
    return DirectoryQuery(
        search=params.search.strip() or None if params.search else None,
        taxonomy_term_id=params.taxonomy_term_id,
        minimum_age=params.minimum_age,
        maximum_age=params.maximum_age,
        day=parse_day(params.day) if params.day is not None else None,
        area_codes=area_codes,
        near=near,
    )


def page_of(contents: list[T], *, total: int, page: int, per_page: int) -> Page[T]:
    total_pages = math.ceil(total / per_page) if total else 0
    return Page[T](
        total_items=total,
        total_pages=total_pages,
        page_number=page,
        size=per_page,
        first_page=page == 1,
        last_page=page >= total_pages,
        empty=not contents,
        contents=contents,
    )


def _organization(activity: Activity) -> OrganizationRead | None:
    org = activity.organisation
    if org is None:
        return None
    return OrganizationRead(
        id=org.id, name=org.name, identifier=org.identifier, identifier_scheme=org.identifier_scheme
    )


def summary(activity: Activity, distance: float | None = None) -> ActivitySummary:
    return ActivitySummary(
        id=activity.id,
        name=activity.name,
        description=activity.description,
        url=activity.url,
        email=activity.email,
        status=activity.status,
        organization=_organization(activity),
        attending_type=activity.attending_type,
        minimum_age=activity.minimum_age,
        maximum_age=activity.maximum_age,
        accepting_referrals=activity.accepting_referrals,
        has_free_option=activity.has_free_option,
        capacity=Capacity(maximum=activity.capacity_maximum, available=activity.capacity_available),
        last_modified=activity.last_modified,
        distance=round(distance, 1) if distance is not None else None,
    )


def to_read(activity: Activity) -> ActivityRead:
    categories = [ActivityCategory(c.code) for c in activity.categories if c.code]
    return ActivityRead(
        id=activity.id,
        name=activity.name,
        description=activity.description,
        status=activity.status,
        url=activity.url,
        email=activity.email,
        organization=_organization(activity),
        categories=categories,
        taxonomy_terms=[
            TaxonomyTerm(id=c.term_id, name=c.label, taxonomy=c.taxonomy, category=c.code)
            for c in activity.categories
        ],
        target_needs=[n.code for n in activity.needs],
        minimum_age=activity.minimum_age,
        maximum_age=activity.maximum_age,
        eligibility=Eligibility(
            description=activity.eligibility_description, gender=activity.eligibility_gender
        ),
        service_areas=[a.code for a in activity.service_areas if a.code],
        locations=[
            LocationRead(
                id=str(loc.id),
                name=loc.name,
                address_1=loc.address_1,
                city=loc.city,
                postcode=loc.postcode,
                latitude=loc.latitude,
                longitude=loc.longitude,
                accessibility=[
                    code for code, column in ACCESSIBILITY_COLUMNS.items() if getattr(loc, column)
                ],
                accessibility_description=loc.accessibility_description,
            )
            for loc in activity.locations
        ],
        attending_type=activity.attending_type,
        schedules=[
            ScheduleWrite(
                freq=s.freq or "WEEKLY",
                interval=s.interval,
                byday=s.byday,
                opens_at=dt.time.fromisoformat(s.opens_at) if s.opens_at else None,
                closes_at=dt.time.fromisoformat(s.closes_at) if s.closes_at else None,
                valid_from=s.valid_from,
                valid_to=s.valid_to,
                description=s.description,
            )
            for s in activity.schedules
        ],
        cost_options=[
            CostOptionWrite(
                option=c.option,
                amount=c.amount,
                amount_description=c.amount_description,
                free=c.free,
                valid_from=c.valid_from,
                valid_to=c.valid_to,
            )
            for c in activity.cost_options
        ],
        fees_description=activity.fees_description,
        languages=[lang.code for lang in activity.languages],
        capacity=Capacity(maximum=activity.capacity_maximum, available=activity.capacity_available),
        accepting_referrals=activity.accepting_referrals,
        contact=Contact.model_validate(activity.contact) if activity.contact else None,
        has_free_option=activity.has_free_option,
        last_modified=activity.last_modified,
    )


def _known_id(activity_id: str) -> str:
    """Ids outside the id syntax cannot exist: 404 without asking the database."""
    if not ID.match(activity_id):
        raise NotFound(f"No activity {activity_id!r}")
    return activity_id


def etag(document: ActivityRead) -> str:
    """A strong entity tag of the activity as the API returns it: any change to it (an edit,
    an import, a booking taking a place) gives a new tag."""
    digest = hashlib.sha256(document.model_dump_json().encode()).hexdigest()
    return f'"{digest[:32]}"'


def _check_if_match(if_match: str | None, document: ActivityRead) -> None:
    """``If-Match`` (RFC 9110 13.1.1, strong comparison): ``*`` or a list of entity tags, one
    of which must be the current one; else 412 and nothing is written."""
    if if_match is None or if_match.strip() == "*":
        return
    current = etag(document)
    if current not in (tag.strip() for tag in if_match.split(",")):
        raise PreconditionFailed(
            f"The activity has changed since it was read (its ETag is now {current}); "
            "read it again and reapply the change",
            [Issue("stale entity tag", "If-Match", code="conflict")],
        )


async def get(session: AsyncSession, activity_id: str) -> ActivityRead:
    activity = await repository.get_activity(session, _known_id(activity_id))
    if activity is None:
        raise NotFound(f"No activity {activity_id!r}")
    return to_read(activity)


async def take_place(session: AsyncSession, activity_id: str) -> bool:
    """One place on the activity, atomically (DESIGN.md 8); False when none is left."""
    return await repository.take_place(session, activity_id)


async def release_place(session: AsyncSession, activity_id: str) -> None:
    """A place given back to the activity (never above its maximum; none when not limited)."""
    await repository.release_place(session, activity_id)


async def get_many(session: AsyncSession, ids: Sequence[str]) -> dict[str, ActivityRead]:
    """The activities with these ids that exist, by id (a page of them: matches...)."""
    return {a.id: to_read(a) for a in await repository.get_activities(session, ids)}


async def get_cards(session: AsyncSession, ids: Sequence[str]) -> dict[str, ActivityCard]:
    """What a match page shows of the activities with these ids that exist, by id: name,
    organisation, categories, the locations' addresses and the schedules, as stored."""
    return {card.id: card for card in await repository.get_cards(session, ids)}


async def search_fhir(
    session: AsyncSession, query: FhirQuery, *, offset: int, count: int
) -> tuple[int, list[ActivityRead]]:
    """FHIR ``HealthcareService`` search: one page, by name then id, and the total."""
    total, rows = await repository.search_fhir(session, query, offset=offset, limit=count)
    return total, [to_read(a) for a in rows]


# ---------------------------------------------------------------- writing


def has_free_option(data: ActivityBase) -> bool:
    return any(option.free for option in data.cost_options)


def to_rows(
    activity_id: str,
    organisation_id: str | None,
    data: ActivityBase,
    *,
    coordinates: Sequence[tuple[float | None, float | None]],
    source: str,
    now: dt.datetime,
    terms: Sequence[dict[str, Any]] | None = None,
    service_area_names: Sequence[str] = (),
) -> ActivityRows:
    """The rows of one activity. ``terms`` (imports) replaces the rows made from
    ``categories``; ``service_area_names`` adds text-only areas (imports)."""
    rows = ActivityRows()
    rows.activities.append(_activity_row(activity_id, organisation_id, data, source, now))
    if terms is None:
        terms = [
            {"term_id": c.value, "code": c.value, "label": None, "taxonomy": None}
            for c in data.categories
        ]
    rows.categories.extend({"activity_id": activity_id, **term} for term in terms)
    rows.needs.extend({"activity_id": activity_id, "code": n.value} for n in data.target_needs)
    rows.languages.extend({"activity_id": activity_id, "code": code} for code in data.languages)
    rows.locations.extend(_location_rows(activity_id, data, coordinates))
    rows.schedules.extend(_schedule_rows(activity_id, data))
    rows.cost_options.extend(_cost_rows(activity_id, data))
    areas: list[tuple[str | None, str | None]] = [(code, None) for code in data.service_areas]
    areas += [(None, name) for name in service_area_names]
    rows.service_areas.extend(
        {
            "id": uuid.uuid4(),
            "activity_id": activity_id,
            "position": position,
            "code": code,
            "name": name,
        }
        for position, (code, name) in enumerate(areas)
    )
    return rows


def _activity_row(
    activity_id: str,
    organisation_id: str | None,
    data: ActivityBase,
    source: str,
    now: dt.datetime,
) -> dict[str, Any]:
    return {
        "id": activity_id,
        "organisation_id": organisation_id,
        "name": data.name,
        "description": data.description,
        "status": data.status.value,
        "url": data.url,
        "email": data.email,
        "attending_type": data.attending_type.value,
        "minimum_age": data.minimum_age,
        "maximum_age": data.maximum_age,
        "eligibility_description": data.eligibility.description,
        "eligibility_gender": data.eligibility.gender.value if data.eligibility.gender else None,
        "capacity_maximum": data.capacity.maximum,
        "capacity_available": data.capacity.available,
        "accepting_referrals": data.accepting_referrals,
        "has_free_option": has_free_option(data),
        "fees_description": data.fees_description,
        "contact": data.contact.model_dump(exclude_none=True) if data.contact else None,
        "source": source,
        "source_digest": None,  # an import or sync sets its own; an API write clears it
        "created_at": now,
        "last_modified": now,
    }


def _location_rows(
    activity_id: str,
    data: ActivityBase,
    coordinates: Sequence[tuple[float | None, float | None]],
) -> list[dict[str, Any]]:
    return [
        {
            "id": uuid.uuid4(),
            "activity_id": activity_id,
            "position": position,
            "source_id": None,
            "name": location.name,
            "address_1": location.address_1,
            "city": location.city,
            "postcode": location.postcode,
            "latitude": lat,
            "longitude": lon,
            "accessibility_description": location.accessibility_description,
            **access_columns(location.accessibility),
        }
        for position, (location, (lat, lon)) in enumerate(
            zip(data.locations, coordinates, strict=True)
        )
    ]


def _schedule_rows(activity_id: str, data: ActivityBase) -> list[dict[str, Any]]:
    return [
        {
            "id": uuid.uuid4(),
            "activity_id": activity_id,
            "position": position,
            "freq": schedule.freq.value,
            "interval": schedule.interval,
            "byday": schedule.byday,
            "opens_at": schedule.opens_at.isoformat("seconds") if schedule.opens_at else None,
            "closes_at": schedule.closes_at.isoformat("seconds") if schedule.closes_at else None,
            "valid_from": schedule.valid_from,
            "valid_to": schedule.valid_to,
            "description": schedule.description,
        }
        for position, schedule in enumerate(data.schedules)
    ]


def _cost_rows(activity_id: str, data: ActivityBase) -> list[dict[str, Any]]:
    return [
        {
            "id": uuid.uuid4(),
            "activity_id": activity_id,
            "position": position,
            "option": cost.option,
            "amount": cost.amount,
            "amount_description": cost.amount_description,
            "free": bool(cost.free),
            "valid_from": cost.valid_from,
            "valid_to": cost.valid_to,
        }
        for position, cost in enumerate(data.cost_options)
    ]


def access_columns(codes: Sequence[Accessibility]) -> dict[str, bool]:
    return {column: code in codes for code, column in ACCESSIBILITY_COLUMNS.items()}


async def locate_locations(
    session: AsyncSession, locations: Sequence[LocationWrite]
) -> list[tuple[float | None, float | None]]:
    """Coordinates as given, else the postcode's (or its district's) centre, else unknown."""
    found: list[tuple[float | None, float | None]] = []
    for location in locations:
        if location.latitude is not None and location.longitude is not None:
            found.append((location.latitude, location.longitude))
        elif location.postcode is not None:
            place = await areas_service.locate(session, location.postcode)
            found.append((place.latitude, place.longitude))
        else:
            found.append((None, None))
    return found


def _check_organisation(principal: Principal, reach: Reach, identifier: str | None) -> None:
    """Providers write only their own organisation's activities (DESIGN.md 4)."""
    if reach is Reach.ALL:
        return
    if identifier is None or identifier != principal.org:
        raise Forbidden(
            f"A provider may only change activities of its own organisation ({principal.org})"
        )


async def _save_organisation(
    session: AsyncSession, principal: Principal, reach: Reach, org: OrganizationWrite
) -> str:
    _check_organisation(principal, reach, org.identifier)
    if org.id is not None:
        existing = await repository.get_organisation(session, org.id)
        if existing is not None:
            _check_organisation(principal, reach, existing.identifier)
        organisation_id = org.id
    else:
        found = await repository.find_organisation_by_identifier(session, org.identifier)
        organisation_id = found.id if found is not None else str(uuid.uuid4())
    await repository.save_organisation(
        session,
        {
            "id": organisation_id,
            "name": org.name,
            "identifier": org.identifier,
            "identifier_scheme": org.identifier_scheme,
            "url": org.url,
            "email": org.email,
            "last_modified": utcnow(),
        },
    )
    return organisation_id


async def create(
    session: AsyncSession, principal: Principal, reach: Reach, body: ActivityWrite
) -> ActivityRead:
    activity_id = body.id or str(uuid.uuid4())
    _check_organisation(principal, reach, body.organization.identifier)
    exists, _ = await repository.get_owner(session, activity_id)
    if exists:
        raise Conflict(
            f"An activity {activity_id!r} exists already; use PUT to change it",
            [Issue("already exists", "id")],
        )
    await repository.insert_activities(
        session, await _api_rows(session, principal, reach, activity_id, body)
    )
    return await get(session, activity_id)


async def _api_rows(
    session: AsyncSession, principal: Principal, reach: Reach, activity_id: str, body: ActivityWrite
) -> ActivityRows:
    """The rows of an activity written through the API: its organisation saved (or found) and
    its locations placed from their postcodes."""
    organisation_id = await _save_organisation(session, principal, reach, body.organization)
    coordinates = await locate_locations(session, body.locations)
    return to_rows(
        activity_id, organisation_id, body, coordinates=coordinates, source="api", now=utcnow()
    )


async def replace(
    session: AsyncSession,
    principal: Principal,
    reach: Reach,
    activity_id: str,
    body: ActivityWrite,
    if_match: str | None = None,
) -> ActivityRead:
    if body.id is not None and body.id != activity_id:
        raise Unprocessable(
            "The body's id differs from the URL's", [Issue("must equal the id in the URL", "id")]
        )
    exists, owner = await repository.get_owner(session, _known_id(activity_id), lock=True)
    if not exists:
        raise NotFound(f"No activity {activity_id!r}")
    _check_organisation(principal, reach, owner)
    if if_match is not None:
        _check_if_match(if_match, await get(session, activity_id))
    await repository.replace_activity(
        session, await _api_rows(session, principal, reach, activity_id, body)
    )
    return await get(session, activity_id)


async def delete(
    session: AsyncSession,
    principal: Principal,
    reach: Reach,
    activity_id: str,
    if_match: str | None = None,
) -> None:
    exists, owner = await repository.get_owner(session, _known_id(activity_id), lock=True)
    if not exists:
        raise NotFound(f"No activity {activity_id!r}")
    _check_organisation(principal, reach, owner)
    if if_match is not None:
        _check_if_match(if_match, await get(session, activity_id))
    await repository.delete_activities(session, [activity_id])
