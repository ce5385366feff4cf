"""The directory's JSON: an activity as DESIGN.md section 6 describes it (field names from Open
Referral UK where ORUK has them), and the ORUK page envelope."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Generic, Self, TypeVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_serializer,
    field_validator,
    model_validator,
)

from app.areas import postcodes
from app.directory.vocabulary import (
    Accessibility,
    ActivityCategory,
    AttendingType,
    Frequency,
    Gender,
    Need,
    ServiceStatus,
)

T = TypeVar("T")

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,63}$"
BYDAY_PATTERN = r"^[+-]?[1-5]?(MO|TU|WE|TH|FR|SA|SU)(,[+-]?[1-5]?(MO|TU|WE|TH|FR|SA|SU))*$"
LANGUAGE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"  # BCP 47, as in Patient.communication
LANGUAGE_MAX_LENGTH = 35  # activity_language.code; RFC 5646 4.4.1: 35 characters suffice
IDENTIFIER_SCHEME_MAX_LENGTH = 16  # organisation.identifier_scheme

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
Identifier = Annotated[str, StringConstraints(pattern=ID_PATTERN)]


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


LocalTime = Annotated[
    dt.time, WithJsonSchema({"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$"})
]
"""A wall-clock time without a zone (``19:00``). JSON Schema's ``format: time`` (RFC 3339) needs
an offset, which a local time does not have."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        if _has_nul(value):  # PostgreSQL text cannot hold U+0000
            raise ValueError("must not contain NUL characters")
        return value


def _unique(values: list[T]) -> list[T]:
    return list(dict.fromkeys(values))


class OrganizationWrite(Strict):
    id: Identifier | None = Field(
        None, description="stable id; default: the organisation with this identifier, or new"
    )
    name: ShortText
    identifier: Annotated[
        str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Z0-9]{3,12}$")
    ] = Field(
        description="ODS code, else charity number, else company number: a provider token's "
        "`org` must equal it to edit the organisation's activities"
    )
    identifier_scheme: (
        Annotated[str, StringConstraints(max_length=IDENTIFIER_SCHEME_MAX_LENGTH)] | None
    ) = Field(None, description="ods | GB-CHC | GB-SC | GB-NIC | GB-COH")
    url: Annotated[str, StringConstraints(max_length=512)] | None = None
    email: Annotated[str, StringConstraints(max_length=255)] | None = None


class OrganizationRead(BaseModel):
    id: str
    name: str
    identifier: str | None
    identifier_scheme: str | None = None


def server_managed() -> Any:
    """A field the server sets: accepted on write, so that a GET document can be PUT back,
    and ignored."""
    return Field(
        None,
        description="set by the server; ignored on write",
        json_schema_extra={"readOnly": True},
    )


class LocationWrite(Strict):
    id: Annotated[str, StringConstraints(max_length=64)] | None = server_managed()
    name: ShortText | None = None
    address_1: ShortText | None = None
    city: Annotated[str, StringConstraints(strip_whitespace=True, max_length=128)] | None = None
    postcode: str | None = Field(None, max_length=16, description="UK postcode")
    latitude: float | None = Field(None, ge=-90, le=90, description="WGS84")
    longitude: float | None = Field(
        None, ge=-180, le=180, validate_default=True, description="WGS84"
    )
    accessibility: list[Accessibility] = Field(default_factory=list)
    accessibility_description: Text | None = None

    @field_validator("postcode")
    @classmethod
    def _postcode(cls, value: str | None) -> str | None:
        if value is None:
            return None
        normalised = postcodes.normalise(value)
        if normalised is None:
            raise ValueError(f"{value!r} is not a UK postcode")
        return normalised

    @field_validator("accessibility")
    @classmethod
    def _unique_codes(cls, value: list[Accessibility]) -> list[Accessibility]:
        return _unique(value)

    @field_validator("longitude")
    @classmethod
    def _both_coordinates(cls, value: float | None, info: ValidationInfo) -> float | None:
        if "latitude" in info.data and (info.data["latitude"] is None) != (value is None):
            raise ValueError("give both latitude and longitude, or neither")
        return value


class LocationRead(LocationWrite):
    model_config = ConfigDict(extra="ignore")
    id: str


class ScheduleWrite(Strict):
    freq: Frequency = Frequency.WEEKLY
    interval: int | None = Field(None, ge=1, le=52)
    byday: str | None = Field(
        None, max_length=64, pattern=BYDAY_PATTERN, description="RFC 5545 BYDAY, e.g. TU,TH or 2MO"
    )
    opens_at: LocalTime | None = Field(None, description="local time, HH:MM[:SS]")
    closes_at: LocalTime | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    description: Text | None = None

    @field_validator("opens_at", "closes_at")
    @classmethod
    def _naive(cls, value: dt.time | None) -> dt.time | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            raise ValueError("give the local time without a time zone")
        return value.replace(microsecond=0)

    @field_validator("closes_at")
    @classmethod
    def _closes_after_opening(cls, value: dt.time | None, info: ValidationInfo) -> dt.time | None:
        opens_at = info.data.get("opens_at")
        if value is not None and opens_at is not None and value <= opens_at:
            raise ValueError("closes_at must be after opens_at")
        return value

    @field_validator("valid_to")
    @classmethod
    def _ends_after_start(cls, value: dt.date | None, info: ValidationInfo) -> dt.date | None:
        valid_from = info.data.get("valid_from")
        if value is not None and valid_from is not None and value < valid_from:
            raise ValueError("valid_to must not be before valid_from")
        return value


class CostOptionWrite(Strict):
    option: ShortText | None = Field(None, description='who it applies to, e.g. "Over 60s"')
    amount: Decimal | None = Field(None, ge=0, le=100_000, max_digits=10, decimal_places=2)
    amount_description: ShortText | None = Field(None, description='e.g. "per session"')
    free: bool | None = Field(None, description="default: amount is 0")
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None

    @field_serializer("amount")
    def _amount_as_number(self, value: Decimal | None) -> float | None:
        return float(value) if value is not None else None

    @field_validator("free")
    @classmethod
    def _free_costs_nothing(cls, value: bool | None, info: ValidationInfo) -> bool | None:
        if value and info.data.get("amount") not in (None, 0):
            raise ValueError("a free option cannot have an amount above 0")
        return value

    @model_validator(mode="after")
    def _derive_free(self) -> Self:
        if self.free is None:
            self.free = self.amount == 0
        return self


class Capacity(Strict):
    maximum: int | None = Field(None, ge=0, le=1_000_000)
    available: int | None = Field(None, ge=0, le=1_000_000, description="default: maximum")

    @field_validator("available")
    @classmethod
    def _within(cls, value: int | None, info: ValidationInfo) -> int | None:
        maximum = info.data.get("maximum")
        if value is not None and maximum is not None and value > maximum:
            raise ValueError("available cannot exceed maximum")
        return value

    @model_validator(mode="after")
    def _default_available(self) -> Self:
        if self.available is None:
            self.available = self.maximum
        return self


class Eligibility(Strict):
    description: Text | None = None
    gender: Gender | None = None


class Contact(Strict):
    name: ShortText | None = None
    title: ShortText | None = None
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None
    email: Annotated[str, StringConstraints(max_length=255)] | None = None


class ActivityBase(Strict):
    name: ShortText
    description: Text | None = None
    status: ServiceStatus = ServiceStatus.ACTIVE
    url: Annotated[str, StringConstraints(max_length=512)] | None = None
    email: Annotated[str, StringConstraints(max_length=255)] | None = None
    categories: list[ActivityCategory] = Field(
        default_factory=list, description="activity-category codes (DESIGN.md 5.4)"
    )
    target_needs: list[Need] = Field(default_factory=list, description="need codes (5.4)")
    minimum_age: int | None = Field(None, ge=0, le=130)
    maximum_age: int | None = Field(None, ge=0, le=130)
    eligibility: Eligibility = Field(default_factory=Eligibility)
    service_areas: list[str] = Field(
        default_factory=list,
        max_length=200,
        description="postcode districts (E8) or local authority GSS codes (E09000012); "
        "empty: anywhere",
    )
    locations: list[LocationWrite] = Field(default_factory=list, max_length=50)
    attending_type: AttendingType = AttendingType.IN_PERSON
    schedules: list[ScheduleWrite] = Field(default_factory=list, max_length=50)
    cost_options: list[CostOptionWrite] = Field(default_factory=list, max_length=50)
    fees_description: Text | None = None
    languages: list[
        Annotated[str, StringConstraints(pattern=LANGUAGE_PATTERN, max_length=LANGUAGE_MAX_LENGTH)]
    ] = Field(default_factory=list, max_length=50, description="BCP 47 codes, e.g. en, pl, bn")
    capacity: Capacity = Field(default_factory=Capacity)
    accepting_referrals: bool = True
    contact: Contact | None = None

    @field_validator("categories", "target_needs", "languages")
    @classmethod
    def _dedupe(cls, value: list[str]) -> list[str]:
        return _unique(value)

    @field_validator("service_areas")
    @classmethod
    def _areas(cls, value: list[str]) -> list[str]:
        codes = []
        for raw in value:
            code = "".join(raw.split()).upper()
            if not (postcodes.DISTRICT.match(code) or postcodes.LOCAL_AUTHORITY.match(code)):
                raise ValueError(
                    f"{raw!r} is neither a postcode district (E8) nor a local authority code"
                )
            codes.append(code)
        return _unique(codes)

    @field_validator("maximum_age")
    @classmethod
    def _ages(cls, value: int | None, info: ValidationInfo) -> int | None:
        minimum = info.data.get("minimum_age")
        if value is not None and minimum is not None and value < minimum:
            raise ValueError("maximum_age cannot be below minimum_age")
        return value


class TaxonomyTerm(BaseModel):
    id: str
    name: str | None
    taxonomy: str | None
    category: ActivityCategory | None = Field(description="the activity-category it maps to")


class ActivityWrite(ActivityBase):
    """The body of POST and PUT: an activity as GET returns it, whose server-managed fields
    are ignored (unknown fields are refused)."""

    id: Identifier | None = Field(None, description="POST only; default: a new UUID")
    organization: OrganizationWrite
    taxonomy_terms: list[TaxonomyTerm] | None = server_managed()
    has_free_option: bool | None = server_managed()
    last_modified: dt.datetime | None = server_managed()


class ActivityRead(ActivityBase):
    model_config = ConfigDict(extra="ignore")

    id: str
    organization: OrganizationRead | None
    locations: list[LocationRead] = Field(default_factory=list)  # type: ignore[assignment]
    taxonomy_terms: list[TaxonomyTerm] = Field(
        default_factory=list, description="every taxonomy term, including unmapped imported ones"
    )
    has_free_option: bool
    last_modified: dt.datetime


class ActivitySummary(BaseModel):
    """A row of the service list: one-to-one fields only, as ORUK lists them."""

    id: str
    name: str
    description: str | None
    url: str | None
    email: str | None
    status: ServiceStatus
    organization: OrganizationRead | None
    attending_type: AttendingType
    minimum_age: int | None
    maximum_age: int | None
    accepting_referrals: bool
    has_free_option: bool
    capacity: Capacity
    last_modified: dt.datetime
    distance: float | None = Field(
        None, description="metres from the postcode's centre to the nearest location"
    )


class Page(BaseModel, Generic[T]):
    """The Open Referral UK page envelope."""

    total_items: int
    total_pages: int
    page_number: int
    size: int
    first_page: bool
    last_page: bool
    empty: bool
    contents: list[T]


class RowIssue(BaseModel):
    field: str
    message: str


class ImportRow(BaseModel):
    index: int = Field(description="position in the file, from 0")
    id: str | None
    outcome: str = Field(description="created | updated | unchanged | rejected")
    errors: list[RowIssue] = Field(default_factory=list)
    warnings: list[RowIssue] = Field(default_factory=list)


class ImportReport(BaseModel):
    created: int
    updated: int
    unchanged: int = Field(description="services stored before with the same content: not written")
    deactivated: int = Field(
        description="a full sync: the feed's activities no longer in it, marked inactive "
        "(an import: always 0)"
    )
    rejected: int
    warnings: int
    rows: list[ImportRow]


class SyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        max_length=2048, description="the ORUK API's root: `{url}/services` lists its services"
    )
    since: AwareDatetime | None = Field(
        None,
        description="(with a time zone) ask for services modified after this "
        "(`modified_after`); default: the start of the feed's last sync, none when `full`",
    )
    full: bool = Field(
        False, description="read every service and mark the feed's vanished activities inactive"
    )


class SyncReport(ImportReport):
    """An import's report, and how the feed was read. Row ``id``s are the directory's (the
    feed's id of the service after the feed's prefix, docs/oruk.md)."""

    feed_id: str
    url: str
    full: bool = Field(description="every service read: vanished ones marked inactive")
    modified_after: dt.datetime | None
    pages: int
    requests: int = Field(description="HTTP requests made, retries included")
    retries: int
    started_at: dt.datetime


# ---------------------------------------------------------------- a match page's cards
# Plain values read back from what was stored (validated when written), not validated again.


@dataclass(frozen=True)
class CardLocation:
    name: str | None
    address_1: str | None
    city: str | None
    postcode: str | None
    latitude: float | None
    longitude: float | None


@dataclass(frozen=True)
class CardSchedule:
    freq: Frequency
    interval: int | None
    byday: str | None
    opens_at: LocalTime | None
    closes_at: LocalTime | None
    valid_from: dt.date | None
    valid_to: dt.date | None


@dataclass(frozen=True)
class ActivityCard:
    """What a match page shows of an activity, as stored (it was validated when written)."""

    id: str
    name: str
    organisation: str | None
    attending_type: str
    categories: tuple[str, ...]  # distinct, sorted
    locations: tuple[CardLocation, ...]  # in their order, as `ActivityRead.locations`
    schedules: tuple[CardSchedule, ...]
