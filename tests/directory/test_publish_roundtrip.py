"""What ``/oruk`` publishes maps back to the same activity (``app.directory.publish`` is the
inverse of ``app.directory.oruk``), and is valid against the official compiled service schema,
for generated activities with every optional field present or absent."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.directory import oruk, publish, service
from app.directory.models import (
    Activity,
    ActivityCategoryLink,
    ActivityLanguage,
    ActivityNeed,
    CostOption,
    Location,
    Organisation,
    Schedule,
    ServiceArea,
)
from app.directory.schemas import ActivityBase
from app.directory.vocabulary import (
    Accessibility,
    ActivityCategory,
    AttendingType,
    Gender,
    Need,
    ServiceStatus,
)
from tests.directory.oruk_schemas import errors

TODAY = dt.date(2026, 12, 7)
NOW = dt.datetime(2026, 12, 7, 21, 0, 0, 123456, tzinfo=dt.UTC)
ROUND_TRIP = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=60
).filter(lambda s: s.strip() != "")
maybe_text = st.none() | text
dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2035, 12, 31))
POSTCODES = ["E5 1AU", "E8 1EJ", "N16 7JN", "M1 1AE", "SW1A 1AA", "EC1A 1BB"]
AREAS = ["E8", "E5", "N16", "M1", "E09000012", "E08000003"]
BYDAYS = ["MO", "TU,TH", "2MO", "-1FR", "SA,SU", "MO,TU,WE,TH,FR"]
LANGUAGES = ["en", "pl", "bn", "cy", "bfi", "so", "ur"]


def subsets(values: list[Any]) -> st.SearchStrategy[list[Any]]:
    return st.lists(st.sampled_from(values), unique=True, max_size=len(values))


@st.composite
def locations(draw: st.DrawFn) -> dict[str, Any]:
    placed = draw(st.booleans())
    return {
        "name": draw(maybe_text),
        "address_1": draw(maybe_text),
        "city": draw(maybe_text),
        "postcode": draw(st.none() | st.sampled_from(POSTCODES)),
        "latitude": draw(st.floats(-90, 90)) if placed else None,
        "longitude": draw(st.floats(-180, 180)) if placed else None,
        # in the order the database gives them back (a column each)
        "accessibility": [a for a in Accessibility if a in draw(subsets(list(Accessibility)))],
        "accessibility_description": draw(maybe_text),
    }


@st.composite
def schedules(draw: st.DrawFn) -> dict[str, Any]:
    opens = draw(st.none() | st.times(max_value=dt.time(22, 0)).map(lambda t: t.replace(second=0)))
    closes = None
    if opens is not None and draw(st.booleans()):
        closes = dt.datetime.combine(TODAY, opens) + dt.timedelta(minutes=draw(st.integers(1, 90)))
        closes = closes.time() if closes.date() == TODAY else None
    valid_from = draw(st.none() | dates)
    valid_to = draw(st.none() | dates)
    if valid_from and valid_to and valid_to < valid_from:
        valid_from, valid_to = valid_to, valid_from
    return {
        "freq": draw(st.sampled_from(["WEEKLY", "MONTHLY"])),
        "interval": draw(st.none() | st.integers(1, 52)),
        "byday": draw(st.none() | st.sampled_from(BYDAYS)),
        "opens_at": opens,
        "closes_at": closes,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "description": draw(maybe_text),
    }


@st.composite
def costs(draw: st.DrawFn) -> dict[str, Any]:
    amount = draw(st.none() | st.integers(0, 10_000_000).map(lambda c: Decimal(c) / 100))
    return {
        "option": draw(maybe_text),
        "amount": amount,
        "amount_description": draw(maybe_text),
        "free": draw(st.booleans()) if amount in (None, 0) else draw(st.none() | st.just(False)),
        "valid_from": draw(st.none() | dates),
        "valid_to": draw(st.none() | dates),
    }


@st.composite
def activities(draw: st.DrawFn) -> ActivityBase:
    minimum = draw(st.none() | st.integers(0, 130))
    maximum = draw(st.none() | st.integers(minimum or 0, 130))
    capacity_maximum = draw(st.none() | st.integers(0, 1000))
    contact = draw(
        st.none()
        | st.fixed_dictionaries(
            {},
            optional={
                "name": text,
                "title": text,
                "phone": st.sampled_from(["020 7946 0000", "+44 161 496 0000"]),
                "email": st.just("hello@example.org"),
            },
        ).filter(bool)
    )
    return ActivityBase.model_validate(
        {
            "name": draw(text),
            "description": draw(maybe_text),
            "status": draw(st.sampled_from(list(ServiceStatus))),
            "url": draw(st.none() | st.just("https://example.org/choir")),
            "email": draw(st.none() | st.just("choir@example.org")),
            "categories": draw(subsets(list(ActivityCategory))),
            "target_needs": draw(subsets(list(Need))),
            "minimum_age": minimum,
            "maximum_age": maximum,
            "eligibility": {
                "description": draw(maybe_text),
                "gender": draw(st.none() | st.sampled_from(list(Gender))),
            },
            "service_areas": draw(subsets(AREAS)),
            "locations": draw(st.lists(locations(), max_size=3)),
            "attending_type": draw(st.sampled_from(list(AttendingType))),
            "schedules": draw(st.lists(schedules(), max_size=3)),
            "cost_options": draw(st.lists(costs(), max_size=3)),
            "fees_description": draw(maybe_text),
            "languages": draw(subsets(LANGUAGES)),
            "capacity": {
                "maximum": capacity_maximum,
                "available": draw(
                    st.none()
                    | st.integers(0, 1000 if capacity_maximum is None else capacity_maximum)
                ),
            },
            "accepting_referrals": draw(st.booleans()),
            "contact": contact,
        }
    )


def stored(data: ActivityBase, organisation: Organisation | None) -> Activity:
    """The activity as the database holds it (``service.to_rows``), as ORM objects."""
    activity_id = str(uuid.uuid4())
    rows = service.to_rows(
        activity_id,
        organisation.id if organisation else None,
        data,
        coordinates=[(place.latitude, place.longitude) for place in data.locations],
        source="api",
        now=NOW,
    )
    return Activity(
        **rows.activities[0],
        organisation=organisation,
        categories=[ActivityCategoryLink(**r) for r in rows.categories],
        needs=[ActivityNeed(**r) for r in rows.needs],
        languages=[ActivityLanguage(**r) for r in rows.languages],
        locations=[Location(**r) for r in rows.locations],
        schedules=[Schedule(**r) for r in rows.schedules],
        cost_options=[CostOption(**r) for r in rows.cost_options],
        service_areas=[ServiceArea(**r) for r in rows.service_areas],
    )


ORGANISATION = Organisation(
    id=str(uuid.uuid4()),
    name="Dalston Arts Collective",
    description=None,
    identifier="1234567",
    identifier_scheme="GB-CHC",
    email=None,
    url="https://example.org",
    last_modified=NOW,
)


@ROUND_TRIP
@given(data=activities(), with_organisation=st.booleans())
def test_what_is_published_imports_as_the_same_activity(
    data: ActivityBase, with_organisation: bool
) -> None:
    document = json.loads(
        json.dumps(publish.service(stored(data, ORGANISATION if with_organisation else None)))
    )

    assert errors("service", document) == []
    mapped = oruk.map_service(0, document, TODAY)
    assert mapped.errors == []
    assert mapped.activity is not None
    assert mapped.activity.model_dump() == data.model_dump()
    if with_organisation:
        assert mapped.organisation is not None
        assert (mapped.organisation["identifier"], mapped.organisation["identifier_scheme"]) == (
            "1234567",
            "GB-CHC",
        )


@ROUND_TRIP
@given(data=activities())
def test_a_services_row_is_its_one_to_one_fields(data: ActivityBase) -> None:
    activity = stored(data, ORGANISATION)
    summary = publish.service_summary(activity)

    assert errors("service", summary) == []
    assert all(
        not isinstance(value, list | dict) or key == "eligibility" for key, value in summary.items()
    )
    assert summary == {k: v for k, v in publish.service(activity).items() if k in summary}


def test_the_published_terms_are_the_codes() -> None:
    terms = publish.taxonomy_terms()

    assert len(terms) == len(ActivityCategory) + len(Need)
    assert len({t["id"] for t in terms}) == len(terms)
    assert all(errors("taxonomy_term", t) == [] for t in terms)
    assert {t["name"] for t in terms} == {c.value for c in ActivityCategory} | {
        n.value for n in Need
    }
    assert all(errors("taxonomy", t) == [] for t in publish.taxonomies())
