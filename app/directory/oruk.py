"""Open Referral UK (HSDS 3.0 UK profile) services mapped to the fields of an activity.

The input is what ``GET /services`` or ``GET /services/{id}`` of an ORUK API returns: a list of
services or a page envelope (``contents``), services fully nested as in
``OpenReferralUK/uk-profile:schema/compiled/service.json`` (locations under
``service_at_locations[].location``, taxonomy terms under ``attributes[].taxonomy_term``,
HSDS ``service_capacity`` under ``capacities``).

What ``/oruk`` publishes (``app.directory.publish``) maps back to the same activity: its few
extensions (``attending_type``, ``accepting_referrals``, a cost option's ``free``, accessibility
codes as attributes of an ``accessibility`` entry, whose text then adds none) are read here.

``map_service`` maps one service with its errors (what stops it being stored) and warnings
(what is kept anyway); ``app.directory.importer`` stores an export (the rules are listed there).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from app.areas import postcodes
from app.directory.publish import codes_by_term_id
from app.directory.schemas import (
    ID_PATTERN,
    IDENTIFIER_SCHEME_MAX_LENGTH,
    LANGUAGE_MAX_LENGTH,
    LANGUAGE_PATTERN,
    ActivityBase,
    RowIssue,
)
from app.directory.vocabulary import (
    Accessibility,
    ActivityCategory,
    AttendingType,
    Need,
    ServiceStatus,
)
from app.terminology.codesystems import ACTIVITY_CATEGORY

_ID = re.compile(ID_PATTERN)
_LANGUAGE = re.compile(LANGUAGE_PATTERN)
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
_SLUG = re.compile(r"[^a-z0-9]+")

ACCESSIBILITY_WORDS: tuple[tuple[str, Accessibility], ...] = (
    ("wheelchair", Accessibility.WHEELCHAIR),
    ("step-free", Accessibility.STEP_FREE),
    ("step free", Accessibility.STEP_FREE),
    ("level access", Accessibility.STEP_FREE),
    ("induction loop", Accessibility.HEARING_LOOP),
    ("hearing loop", Accessibility.HEARING_LOOP),
    ("large print", Accessibility.LARGE_PRINT),
    ("british sign language", Accessibility.BSL),
    ("bsl", Accessibility.BSL),
    ("quiet space", Accessibility.QUIET_SPACE),
    ("quiet room", Accessibility.QUIET_SPACE),
)
LANGUAGE_NAMES = {  # ISO 639-1 (ISO 639-3 for British Sign Language)
    "english": "en",
    "welsh": "cy",
    "polish": "pl",
    "bengali": "bn",
    "turkish": "tr",
    "urdu": "ur",
    "somali": "so",
    "yiddish": "yi",
    "spanish": "es",
    "french": "fr",
    "arabic": "ar",
    "punjabi": "pa",
    "gujarati": "gu",
    "portuguese": "pt",
    "romanian": "ro",
    "british sign language": "bfi",
}
CATEGORY_CODES = {c.value for c in ActivityCategory}
NEED_CODES = {n.value for n in Need}
ACCESSIBILITY_CODES = {a.value for a in Accessibility}
ODS_SCHEMES = {"ods", "gb-nhs", "gb-ods"}
CHARITY_SCHEMES = {"gb-chc", "gb-sc", "gb-nic"}
COMPANY_SCHEMES = {"gb-coh"}


@dataclass
class Mapped:
    index: int
    id: str | None
    errors: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    organisation: dict[str, Any] | None = None
    organisation_id: str | None = None
    terms: list[dict[str, Any]] = field(default_factory=list)
    area_names: list[str] = field(default_factory=list)
    activity: ActivityBase | None = None

    def error(self, path: str, message: str) -> None:
        self.errors.append(RowIssue(field=path, message=message))

    def warn(self, path: str, message: str) -> None:
        self.warnings.append(RowIssue(field=path, message=message))


def services_of(document: Any) -> tuple[str, list[Any]] | None:
    """The services of an export, and the path prefix of each row; None: not an export."""
    if isinstance(document, list):
        return "", document
    if isinstance(document, dict):
        if isinstance(document.get("contents"), list):
            return "contents", document["contents"]
        if "id" in document and "name" in document:  # one fully nested service
            return "", [document]
    return None


# ---------------------------------------------------------------- typed getters


def _text(m: Mapped, obj: dict[str, Any], key: str, path: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        m.error(path, "must be text")
        return None
    if "\x00" in value:
        m.error(path, "must not contain NUL characters")
        return None
    return value.strip() or None


def _list(m: Mapped, obj: dict[str, Any], key: str, path: str) -> list[Any]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        m.error(path, "must be a list")
        return []
    return value


def _object(m: Mapped, value: Any, path: str) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        m.error(path, "must be an object")
        return None
    return value


def _integer(m: Mapped, obj: dict[str, Any], key: str, path: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        m.error(path, "must be a whole number")
        return None
    return int(value)


def _number(m: Mapped, obj: dict[str, Any], key: str, path: str) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    m.error(path, "must be a number")
    return None


def _date(m: Mapped, obj: dict[str, Any], key: str, path: str) -> dt.date | None:
    value = _text(m, obj, key, path)
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        m.error(path, f"{value!r} is not a date (YYYY-MM-DD)")
        return None


def _time(m: Mapped, obj: dict[str, Any], key: str, path: str) -> str | None:
    value = _text(m, obj, key, path)
    if value is None:
        return None
    match = _TIME.match(value)
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        m.error(path, f"{value!r} is not a time (HH:MM[:SS])")
        return None
    return f"{int(match.group(1)):02d}:{match.group(2)}:{match.group(3) or '00'}"


# ---------------------------------------------------------------- the mapping


def _slug(value: str) -> str:
    return _SLUG.sub("-", value.lower()).strip("-")


def _identifier_kind(scheme: str, kind: str) -> tuple[str, str] | None:
    """(ods | charity | company | other, the scheme to keep) of an organisation identifier."""
    if scheme in ODS_SCHEMES or "ods" in kind:
        return "ods", "ods"
    if scheme in CHARITY_SCHEMES or "charity" in kind:
        return "charity", scheme.upper() or "GB-CHC"
    if scheme in COMPANY_SCHEMES or "company" in kind:
        return "company", scheme.upper() or "GB-COH"
    if not scheme:  # no scheme named (as /oruk publishes one given without)
        return "other", ""
    return None


def _organisation(m: Mapped, row: dict[str, Any]) -> None:
    raw = row.get("organization")
    if raw is None:
        org_id = _text(m, row, "organization_id", "organization_id")
        if org_id is None:
            m.warn("organization", "no organisation: only administrators can edit this activity")
        m.organisation_id = org_id
        return
    org = _object(m, raw, "organization")
    if org is None:
        return
    org_id = _text(m, org, "id", "organization.id")
    name = _text(m, org, "name", "organization.name")
    if org_id is None or not _ID.match(org_id):
        m.error("organization.id", "an organisation needs an id (up to 64 letters, digits, -._:)")
    if name is None:
        m.error("organization.name", "an organisation needs a name")
    elif len(name) > 255:
        m.error("organization.name", "longer than 255 characters")
    found: dict[str, tuple[str, str]] = {}
    for i, item in enumerate(
        _list(m, org, "organization_identifiers", "organization.organization_identifiers")
    ):
        path = f"organization.organization_identifiers[{i}]"
        ident = _object(m, item, path)
        if ident is None:
            continue
        scheme = (_text(m, ident, "identifier_scheme", f"{path}.identifier_scheme") or "").lower()
        kind = (_text(m, ident, "identifier_type", f"{path}.identifier_type") or "").lower()
        value = "".join((_text(m, ident, "identifier", f"{path}.identifier") or "").split()).upper()
        if len(scheme) > IDENTIFIER_SCHEME_MAX_LENGTH:
            m.error(
                f"{path}.identifier_scheme",
                f"longer than {IDENTIFIER_SCHEME_MAX_LENGTH} characters",
            )
            continue
        if not re.fullmatch(r"[A-Z0-9]{3,12}", value):
            m.warn(f"{path}.identifier", f"{value!r} cannot identify a provider; ignored")
            continue
        classified = _identifier_kind(scheme, kind)
        if classified is not None:
            found.setdefault(classified[0], (value, classified[1]))
    best = next((found[k] for k in ("ods", "charity", "company", "other") if k in found), None)
    identifier, identifier_scheme = best if best is not None else (None, None)
    identifier_scheme = identifier_scheme or None
    if identifier is None:
        m.warn("organization", "no ODS, charity or company number: no provider can edit it")
    m.organisation_id = org_id
    m.organisation = {
        "id": org_id,
        "name": name,
        "description": _text(m, org, "description", "organization.description"),
        "identifier": identifier,
        "identifier_scheme": identifier_scheme,
        "email": (_text(m, org, "email", "organization.email") or "")[:255] or None,
        "url": (_text(m, org, "website", "organization.website") or "")[:512] or None,
    }


def _schedules(m: Mapped, row: dict[str, Any], today: dt.date) -> list[str]:
    schedules, modes = [], []
    for i, item in enumerate(_list(m, row, "schedules", "schedules")):
        path = f"schedules[{i}]"
        raw = _object(m, item, path)
        if raw is None:
            continue
        freq = (_text(m, raw, "freq", f"{path}.freq") or "WEEKLY").upper()
        if freq not in ("WEEKLY", "MONTHLY"):
            m.error(f"{path}.freq", f"{freq!r}: the UK profile allows WEEKLY or MONTHLY")
        byday = _text(m, raw, "byday", f"{path}.byday")
        schedule = {
            "freq": freq,
            "interval": _integer(m, raw, "interval", f"{path}.interval"),
            "byday": "".join(byday.split()).upper() if byday else None,
            "opens_at": _time(m, raw, "opens_at", f"{path}.opens_at"),
            "closes_at": _time(m, raw, "closes_at", f"{path}.closes_at"),
            "valid_from": _date(m, raw, "valid_from", f"{path}.valid_from"),
            "valid_to": _date(m, raw, "valid_to", f"{path}.valid_to"),
            "description": _text(m, raw, "description", f"{path}.description"),
        }
        valid_to = schedule["valid_to"]
        if isinstance(valid_to, dt.date) and valid_to < today:
            m.warn(f"{path}.valid_to", f"expired on {valid_to}: kept but inactive")
        mode = _text(m, raw, "attending_type", f"{path}.attending_type")
        if mode:
            modes.append(mode.lower())
        schedules.append(schedule)
    m.data["schedules"] = schedules
    return modes


def _accessibility(text: str) -> list[Accessibility]:
    lowered = text.lower()
    return list(dict.fromkeys(code for word, code in ACCESSIBILITY_WORDS if word in lowered))


def _accessibility_terms(attributes: list[Any]) -> list[Accessibility]:
    """The accessibility codes named by attributes' taxonomy terms (id or name)."""
    codes = []
    for attribute in attributes:
        term = attribute.get("taxonomy_term") if isinstance(attribute, dict) else None
        if isinstance(term, dict):
            for key in ("name", "id"):
                if isinstance(term.get(key), str) and term[key].lower() in ACCESSIBILITY_CODES:
                    codes.append(Accessibility(term[key].lower()))
                    break
    return codes


def _locations(m: Mapped, row: dict[str, Any]) -> list[str]:
    locations, kinds = [], []
    for i, item in enumerate(_list(m, row, "service_at_locations", "service_at_locations")):
        path = f"service_at_locations[{i}]"
        at = _object(m, item, path)
        if at is None:
            continue
        raw = _object(m, at.get("location", at), f"{path}.location")
        if raw is None:
            continue
        path = f"{path}.location"
        kinds.append((_text(m, raw, "location_type", f"{path}.location_type") or "").lower())
        if kinds[-1] in ("virtual", "postal"):
            continue
        lat = _number(m, raw, "latitude", f"{path}.latitude")
        lon = _number(m, raw, "longitude", f"{path}.longitude")
        if (lat is None) != (lon is None) or (
            lat is not None and lon is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180)
        ):
            m.warn(
                f"{path}.latitude",
                f"impossible coordinates ({lat}, {lon}): placed at the postcode's centre when "
                "it is known, else location unknown",
            )
            lat = lon = None
        address: dict[str, Any] = {}
        addresses = _list(m, raw, "addresses", f"{path}.addresses")
        if addresses:
            address = _object(m, addresses[0], f"{path}.addresses[0]") or {}
        raw_postcode = _text(m, address, "postal_code", f"{path}.addresses[0].postal_code")
        postcode = postcodes.normalise(raw_postcode) if raw_postcode else None
        if raw_postcode and postcode is None:
            m.warn(f"{path}.addresses[0].postal_code", f"{raw_postcode!r} is not a UK postcode")
        texts: list[str] = []
        codes: list[Accessibility] = []
        for j, entry in enumerate(_list(m, raw, "accessibility", f"{path}.accessibility")):
            access = _object(m, entry, f"{path}.accessibility[{j}]")
            if access is None:
                continue
            entry_texts = []
            for key in ("description", "details", "accessibility"):
                value = _text(m, access, key, f"{path}.accessibility[{j}].{key}")
                if value and value not in texts:
                    texts.append(value)
                    entry_texts.append(value)
            if isinstance(access.get("attributes"), list):  # coded, as /oruk publishes them
                codes += _accessibility_terms(access["attributes"])
            else:
                codes += _accessibility(" ".join(entry_texts))
        text = " ".join(texts)
        locations.append(
            {
                "name": (_text(m, raw, "name", f"{path}.name") or "")[:255] or None,
                "address_1": (
                    _text(m, address, "address_1", f"{path}.addresses[0].address_1") or ""
                )[:255]
                or None,
                "city": (_text(m, address, "city", f"{path}.addresses[0].city") or "")[:128]
                or None,
                "postcode": postcode,
                "latitude": lat,
                "longitude": lon,
                "accessibility": list(dict.fromkeys(codes)),
                "accessibility_description": text[:4000] or None,
            }
        )
    m.data["locations"] = locations
    return kinds


def _attending_type(m: Mapped, row: dict[str, Any], kinds: list[str], modes: list[str]) -> str:
    given = row.get("attending_type")
    if isinstance(given, str) and given in {a.value for a in AttendingType}:
        return given
    physical = any(k not in ("virtual", "postal") for k in kinds)
    remote = "virtual" in kinds or any(
        w in mode for mode in modes for w in ("online", "remote", "video")
    )
    phone = any("phone" in mode for mode in modes)
    if physical and (remote or phone):
        return AttendingType.HYBRID
    if physical:
        return AttendingType.IN_PERSON
    if remote:
        return AttendingType.ONLINE
    if phone:
        return AttendingType.PHONE
    m.warn("attending_type", "no location and no remote schedule: recorded as in-person")
    return AttendingType.IN_PERSON


def _terms(m: Mapped, row: dict[str, Any]) -> None:
    categories: list[str] = []
    needs: list[str] = []
    for i, item in enumerate(_list(m, row, "attributes", "attributes")):
        path = f"attributes[{i}]"
        attribute = _object(m, item, path)
        if attribute is None:
            continue
        term = attribute.get("taxonomy_term")
        if term is None:
            term_id = _text(m, attribute, "taxonomy_term_id", f"{path}.taxonomy_term_id")
            term = {"id": term_id} if term_id else None
        if term is None:
            continue
        term = _object(m, term, f"{path}.taxonomy_term")
        if term is None:
            continue
        term_id = _text(m, term, "id", f"{path}.taxonomy_term.id")
        if term_id is None or len(term_id) > 64:
            m.warn(f"{path}.taxonomy_term.id", "a taxonomy term without a usable id: ignored")
            continue
        name = _text(m, term, "name", f"{path}.taxonomy_term.name") or _text(
            m, term, "term", f"{path}.taxonomy_term.term"
        )
        taxonomy = _text(m, term, "taxonomy", f"{path}.taxonomy_term.taxonomy")
        candidates = {term_id.lower(), _slug(name or "")}
        code = next((c for c in CATEGORY_CODES if c in candidates), None)
        need = next((n for n in NEED_CODES if n in candidates), None)
        if need is not None:
            needs.append(need)
            continue
        if code is None:
            m.warn(
                f"{path}.taxonomy_term",
                f"term {name or term_id!r} is not an activity-category: kept, searchable by its id",
            )
        else:
            categories.append(code)
        if code is not None and codes_by_term_id().get(term_id) == (ACTIVITY_CATEGORY, code):
            term_id, name, taxonomy = code, None, None  # our own term: kept as the API keeps it
        if term_id not in {t["term_id"] for t in m.terms}:
            m.terms.append(
                {
                    "term_id": term_id,
                    "code": code,
                    "label": name[:255] if name else None,
                    "taxonomy": taxonomy[:255] if taxonomy else None,
                }
            )
    for code in _list(m, row, "categories", "categories"):  # assetlink's own export shape
        if isinstance(code, str) and code in CATEGORY_CODES and code not in categories:
            categories.append(code)
            if code not in {t["term_id"] for t in m.terms}:
                m.terms.append({"term_id": code, "code": code, "label": None, "taxonomy": None})
    m.data["categories"] = categories
    m.data["target_needs"] = list(dict.fromkeys(needs + list(row.get("target_needs") or [])))


def _service_areas(m: Mapped, row: dict[str, Any]) -> None:
    codes = []
    for i, item in enumerate(_list(m, row, "service_areas", "service_areas")):
        path = f"service_areas[{i}]"
        if isinstance(item, str):  # assetlink's own export shape
            item = {"service_area": item}
        area = _object(m, item, path)
        if area is None:
            continue
        texts = [
            t
            for key in ("service_area", "name", "extent")
            if (t := _text(m, area, key, f"{path}.{key}"))
        ]
        code = next(
            (
                c
                for t in texts
                if (c := "".join(t.split()).upper())
                and (postcodes.DISTRICT.match(c) or postcodes.LOCAL_AUTHORITY.match(c))
            ),
            None,
        )
        if code is not None:
            codes.append(code)
        elif texts:
            m.warn(
                path,
                "neither a postcode district nor a local authority code: kept as text, "
                "does not restrict who can attend",
            )
            m.area_names.append(texts[0])
    m.data["service_areas"] = codes


def _costs(m: Mapped, row: dict[str, Any], today: dt.date) -> None:
    costs = []
    for i, item in enumerate(_list(m, row, "cost_options", "cost_options")):
        path = f"cost_options[{i}]"
        raw = _object(m, item, path)
        if raw is None:
            continue
        amount: Decimal | None = None
        number = _number(m, raw, "amount", f"{path}.amount")
        if number is not None:
            try:
                amount = Decimal(str(number)).quantize(Decimal("0.01"))
            except InvalidOperation:
                m.error(f"{path}.amount", "not an amount")
            if amount is not None and not 0 <= amount <= 100_000:
                m.error(f"{path}.amount", "must be between 0 and 100000")
                amount = None
        option = _text(m, raw, "option", f"{path}.option")
        description = _text(m, raw, "amount_description", f"{path}.amount_description")
        words = f"{option or ''} {description or ''}".lower()
        given = raw.get("free")  # as /oruk publishes it; else said by the amount or the words
        free = (
            given
            if isinstance(given, bool)
            else amount == 0 or (amount is None and "free" in words)
        )
        valid_to = _date(m, raw, "valid_to", f"{path}.valid_to")
        if valid_to is not None and valid_to < today:
            m.warn(f"{path}.valid_to", f"expired on {valid_to}: kept")
        costs.append(
            {
                "option": option[:255] if option else None,
                "amount": amount,
                "amount_description": description[:255] if description else None,
                "free": free,
                "valid_from": _date(m, raw, "valid_from", f"{path}.valid_from"),
                "valid_to": valid_to,
            }
        )
    m.data["cost_options"] = costs


def _languages(m: Mapped, row: dict[str, Any]) -> None:
    codes = []
    for i, item in enumerate(_list(m, row, "languages", "languages")):
        path = f"languages[{i}]"
        if isinstance(item, str):
            item = {"code": item}
        raw = _object(m, item, path)
        if raw is None:
            continue
        code = _text(m, raw, "code", f"{path}.code")
        name = _text(m, raw, "name", f"{path}.name")
        if code and len(code) <= LANGUAGE_MAX_LENGTH and _LANGUAGE.match(code.lower()):
            codes.append(code.lower())
        elif name and name.lower() in LANGUAGE_NAMES:
            codes.append(LANGUAGE_NAMES[name.lower()])
        else:
            m.warn(path, "a language without a known code or name: ignored")
    m.data["languages"] = list(dict.fromkeys(codes))


def _contact(m: Mapped, row: dict[str, Any]) -> None:
    for i, item in enumerate(_list(m, row, "contacts", "contacts")):
        raw = _object(m, item, f"contacts[{i}]")
        if raw is None:
            continue
        contact = {
            "name": (_text(m, raw, "name", f"contacts[{i}].name") or "")[:255] or None,
            "title": (_text(m, raw, "title", f"contacts[{i}].title") or "")[:255] or None,
            "email": (_text(m, raw, "email", f"contacts[{i}].email") or "")[:255] or None,
        }
        for j, phone in enumerate(_list(m, raw, "phones", f"contacts[{i}].phones")):
            if isinstance(phone, dict) and isinstance(phone.get("number"), str):
                contact["phone"] = phone["number"].strip()[:32]
                break
            m.warn(f"contacts[{i}].phones[{j}]", "a phone without a number: ignored")
        if any(contact.values()):
            m.data["contact"] = {k: v for k, v in contact.items() if v}
            return


def _capacity(m: Mapped, row: dict[str, Any]) -> None:
    raw: Any = row.get("capacity")
    if raw is None:
        capacities = row.get("capacities", row.get("service_capacity"))
        if isinstance(capacities, list):
            capacities = capacities[0] if capacities else None
        raw = capacities
    if raw is None:
        return
    capacity = _object(m, raw, "capacities[0]")
    if capacity is not None:
        m.data["capacity"] = {
            "maximum": _integer(m, capacity, "maximum", "capacities[0].maximum"),
            "available": _integer(m, capacity, "available", "capacities[0].available"),
        }


def map_service(index: int, row: Any, today: dt.date) -> Mapped:
    """One ORUK service -> the fields of an activity, with its errors and warnings."""
    if not isinstance(row, dict):
        m = Mapped(index, None)
        m.error("", "a service must be a JSON object")
        return m
    raw_id = row.get("id")
    m = Mapped(index, raw_id if isinstance(raw_id, str) else None)
    if not isinstance(raw_id, str) or not _ID.match(raw_id):
        m.error("id", "every service needs an id (up to 64 letters, digits, -._:)")
    name = _text(m, row, "name", "name")
    if name is None:
        m.error("name", "every service needs a name")
    status = _text(m, row, "status", "status")
    if status is None:
        m.warn("status", "no status: recorded as active")
        status = ServiceStatus.ACTIVE
    elif status not in {s.value for s in ServiceStatus}:
        m.error("status", f"{status!r}: expected active, inactive, defunct or temporarily closed")
    _organisation(m, row)
    modes = _schedules(m, row, today)
    kinds = _locations(m, row)
    _terms(m, row)
    _service_areas(m, row)
    _costs(m, row, today)
    _languages(m, row)
    _contact(m, row)
    _capacity(m, row)
    eligibility = row.get("eligibility") if isinstance(row.get("eligibility"), dict) else {}
    m.data.update(
        name=name,
        description=_text(m, row, "description", "description"),
        status=status,
        url=(_text(m, row, "url", "url") or "")[:512] or None,
        email=(_text(m, row, "email", "email") or "")[:255] or None,
        minimum_age=_integer(m, row, "minimum_age", "minimum_age"),
        maximum_age=_integer(m, row, "maximum_age", "maximum_age"),
        eligibility={
            "description": _text(m, row, "eligibility_description", "eligibility_description")
            or (eligibility or {}).get("description"),
            "gender": (eligibility or {}).get("gender"),
        },
        fees_description=_text(m, row, "fees", "fees")
        or _text(m, row, "fees_description", "fees_description"),
        attending_type=_attending_type(m, row, kinds, modes),
    )
    if isinstance(row.get("accepting_referrals"), bool):
        m.data["accepting_referrals"] = row["accepting_referrals"]
    if not m.errors:
        try:
            m.activity = ActivityBase.model_validate(m.data)
        except ValidationError as exc:
            for error in exc.errors():
                path = ".".join(str(p) for p in error["loc"]) or "(service)"
                m.error(path, error["msg"])
    return m
