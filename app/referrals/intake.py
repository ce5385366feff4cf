"""Referral intake rules (DESIGN.md 5.1): FHIR JSON in, a checked ``ReferralDraft`` out.

Structure is checked first (``app.fhir.codec``: 400 for anything that is not R4 JSON); then the
profile rules below, each a 422 whose ``expression`` names the element. All problems found are
reported together. A value longer than the column it is stored in is one (``too-long``), so
PostgreSQL never refuses what SQLite would store. fhir.resources checks no codes, so every
required binding used here (``status``, ``intent``, Consent ``status``, the preference codes) is
checked by hand.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.auth.principal import PERSON_ORG
from app.db import column_length
from app.directory.vocabulary import Accessibility
from app.errors import BadRequest, Issue, Unprocessable
from app.fhir import CANONICAL_BASE
from app.fhir.codec import check_structure, fhir_path
from app.fhir.references import Path, references, repointed
from app.referrals import nhs_number
from app.referrals.models import Referral, ReferralCoding, ReferralIdentifier, Task
from app.terminology.codesystems import (
    ACTIVITY_CATEGORY_SYSTEM,
    SNOMED_SYSTEM,
    activity_category_codes,
)

SNOMED = SNOMED_SYSTEM
REFERRAL_CODE = "871731000000106"  # Referral to social prescribing service (procedure)
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
PREFERENCES_URL = f"{CANONICAL_BASE}/StructureDefinition/referral-preferences"
SELF_REQUESTER = PERSON_ORG  # requester_ods of a self-referral (app/person)

INTENTS = ("order", "plan", "proposal")
SR_STATUSES = ("draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown")
GENDERS = ("male", "female", "other", "unknown")
UK_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")

ATTENDANCE_MODES = ("in-person", "online", "phone", "any")
DIGITAL_ACCESS = ("none", "limited", "full")
ACCESSIBILITY = tuple(a.value for a in Accessibility)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
GROUP_PREFERENCES = ("women-only", "men-only", "small-group", "quiet")
CODED_PREFERENCES: Mapping[str, tuple[tuple[str, ...], str, bool]] = {
    # preference -> (its codes, its key in the stored preferences, whether it repeats)
    "attendanceMode": (ATTENDANCE_MODES, "attendance_mode", False),
    "digitalAccess": (DIGITAL_ACCESS, "digital_access", False),
    "accessibilityNeed": (ACCESSIBILITY, "accessibility_needs", True),
    "availableDay": (DAYS, "available_days", True),
    "groupPreference": (GROUP_PREFERENCES, "group_preferences", True),
}
BOOLEAN_PREFERENCES = {  # preference -> its key in the stored preferences
    "freeOnly": "free_only",
    # false: the person wants no texts or emails from the service (docs/messages.md)
    "contactByMessage": "contact_by_message",
}

# The longest value each stored element may have: the length of the column(s) it fills, so the
# rule and the schema cannot drift (SQLite does not enforce lengths, PostgreSQL refuses).
IDENTIFIER_SYSTEM_MAX = column_length(ReferralIdentifier.system)
IDENTIFIER_VALUE_MAX = column_length(ReferralIdentifier.value)
CODING_SYSTEM_MAX = column_length(ReferralCoding.system)
CODING_CODE_MAX = column_length(ReferralCoding.code)
ODS_MAX = column_length(
    Referral.requester_ods, Referral.performer_ods, Task.requester_ods, Task.owner_ods
)


@dataclass(frozen=True)
class ResolvedNeeds:
    codes: list[str]
    found_in: dict[str, str]  # need -> the ServiceRequest element whose words gave it
    warnings: list[Issue]


NeedResolver = Callable[[list[dict[str, Any]]], ResolvedNeeds]


@dataclass(frozen=True)
class PatientDraft:
    nhs_number: str | None  # None: a self-referral that did not give one
    birth_date: dt.date
    gender: str | None
    postcode: str
    resource: dict[str, Any]  # the Patient as the server will store it (no id, no meta)


@dataclass(frozen=True)
class ReferralDraft:
    identifiers: list[tuple[str, str]]
    status: str
    intent: str
    codes: list[tuple[str | None, str]]
    categories: list[tuple[str | None, str]]
    requester_ods: str
    performer_ods: str | None
    authored_on: dt.datetime
    needs: list[str]
    preferences: dict[str, Any]
    patient: PatientDraft
    consent: dict[str, Any] | None  # a Consent sent as its own Bundle entry
    resource: dict[str, Any]  # the ServiceRequest to store, once ``stored_referral`` points...
    subject_references: tuple[Path, ...]  # ...these references in it to the stored Patient
    warnings: list[Issue] = field(default_factory=list)
    need_found_in: dict[str, str] = field(default_factory=dict)  # need -> element of its words

    def need_rows(self, referral_id: uuid.UUID) -> list[dict[str, Any]]:
        """The referral's ``referral_need`` rows."""
        return [
            {"referral_id": referral_id, "need": n, "found_in": self.need_found_in.get(n)}
            for n in self.needs
        ]


def stored_referral(
    draft: ReferralDraft, patient_id: uuid.UUID, consent_id: uuid.UUID | None
) -> dict[str, Any]:
    """The ServiceRequest as stored: what referred to the subject (``#patient`` in a contained
    Consent, a Bundle entry's ``urn:uuid:``) refers to ``Patient/{id}``, and ``supportingInfo``
    to a Bundle's Consent, now ``Consent/{id}``: no reference in it resolves to nothing."""
    resource = repointed(draft.resource, draft.subject_references, f"Patient/{patient_id}")
    if consent_id is not None:
        resource["supportingInfo"] = [
            *resource.get("supportingInfo", []),
            {"reference": f"Consent/{consent_id}"},
        ]
    return resource


class _Problems:
    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def add(self, expression: str, message: str, code: str = "required") -> None:
        self.issues.append(Issue(message, expression, code=code))

    def check_column(self, expression: str, value: str | None, limit: int) -> None:
        """An issue naming ``expression`` unless ``value`` fits its column (at most ``limit``
        characters; a NUL was refused with the structure, ``app.fhir.codec``)."""
        if value is not None and len(value) > limit:
            self.add(expression, f"longer than {limit} characters", code="too-long")

    def raise_if_any(self) -> None:
        if self.issues:
            raise Unprocessable("The referral breaks the intake rules (DESIGN.md 5.1)", self.issues)


def _stored_codings(concept: Any, where: str, problems: _Problems) -> list[tuple[str | None, str]]:
    """The codings of ``concept`` kept for token search, each checked to fit its columns."""
    found: list[tuple[str | None, str]] = []
    codings = concept.get("coding", []) if isinstance(concept, dict) else []
    for index, coding in enumerate(codings):
        if not isinstance(coding, dict) or not coding.get("code"):
            continue
        system, code = coding.get("system"), str(coding["code"])
        problems.check_column(f"{where}.coding[{index}].system", system, CODING_SYSTEM_MAX)
        problems.check_column(f"{where}.coding[{index}].code", code, CODING_CODE_MAX)
        found.append((system, code))
    return found


def _identifier_value(reference: Any, system: str) -> str | None:
    if not isinstance(reference, dict):
        return None
    identifier = reference.get("identifier")
    if isinstance(identifier, dict) and identifier.get("system") == system:
        value = identifier.get("value")
        return value.strip().upper() if isinstance(value, str) and value.strip() else None
    return None


def resolve_local(
    resource: dict[str, Any], reference: Any, bundle: Mapping[str, dict[str, Any]]
) -> dict[str, Any] | None:
    """The resource a reference points to: ``#id`` in ``contained`` or a ``urn:uuid:`` entry."""
    if not isinstance(reference, dict) or not isinstance(reference.get("reference"), str):
        return None
    target: str = reference["reference"]
    if target.startswith("#"):
        for contained in resource.get("contained", []):
            if isinstance(contained, dict) and contained.get("id") == target[1:]:
                return contained
        return None
    return bundle.get(target)


def check_patient(
    patient: dict[str, Any], where: str, problems: _Problems, *, self_referral: bool = False
) -> PatientDraft | None:
    """The Patient's rules; a self-referral's NHS number is optional (checked when given)."""
    numbers = [
        i.get("value")
        for i in patient.get("identifier", [])
        if isinstance(i, dict) and i.get("system") == nhs_number.SYSTEM
    ]
    number: str | None = None
    if not numbers and self_referral:
        number = None  # optional for a self-referral
    elif not numbers or not isinstance(numbers[0], str):
        problems.add(f"{where}.identifier", f"an NHS number ({nhs_number.SYSTEM}) is required")
    elif len(set(numbers)) > 1:
        problems.add(f"{where}.identifier", "more than one NHS number given", code="invariant")
    elif not nhs_number.is_valid(numbers[0]):
        problems.add(f"{where}.identifier", "the NHS number fails the Modulus 11 check", "value")
    else:
        number = nhs_number.normalise(numbers[0])

    names = [n for n in patient.get("name", []) if isinstance(n, dict)]
    if not any(n.get("family") or n.get("given") or n.get("text") for n in names):
        problems.add(f"{where}.name", "a name is required")

    birth_date: dt.date | None = None
    raw_birth = patient.get("birthDate")
    if not isinstance(raw_birth, str):
        problems.add(f"{where}.birthDate", "birthDate is required")
    else:
        try:
            birth_date = dt.date.fromisoformat(raw_birth)
        except ValueError:
            problems.add(
                f"{where}.birthDate", "birthDate must be a full date (YYYY-MM-DD)", "value"
            )
        if birth_date is not None and birth_date > dt.date.today():
            problems.add(f"{where}.birthDate", "birthDate is in the future", "value")
            birth_date = None

    postcode: str | None = None
    for address in patient.get("address", []):
        if isinstance(address, dict) and isinstance(address.get("postalCode"), str):
            candidate = " ".join(address["postalCode"].upper().split())
            if UK_POSTCODE.match(candidate):
                postcode = candidate
                break
            problems.add(f"{where}.address.postalCode", "not a UK postcode", code="value")
            break
    else:
        problems.add(f"{where}.address", "an address with a postalCode is required")

    gender = patient.get("gender")
    if gender is not None and gender not in GENDERS:
        problems.add(
            f"{where}.gender", f"gender must be one of {', '.join(GENDERS)}", "code-invalid"
        )
        gender = None

    if (number is None and numbers) or birth_date is None or postcode is None:
        return None
    stored = {k: v for k, v in patient.items() if k not in ("id", "meta", "text")}
    return PatientDraft(number, birth_date, gender, postcode, stored)


def check_consent(consent: dict[str, Any] | None, where: str, problems: _Problems) -> None:
    if consent is None or consent.get("resourceType") != "Consent":
        problems.add(
            "ServiceRequest.supportingInfo", "a Consent (contained or in the Bundle) is required"
        )
        return
    if consent.get("status") != "active":
        problems.add(
            f"{where}.status",
            "the Consent must be active: the person agreed to the referral and to sharing details",
            code="business-rule",
        )


def parse_preferences(extensions: list[Any], problems: _Problems) -> dict[str, Any]:
    """The referral-preferences extension (DESIGN.md 5.3) as plain values."""
    preferences: dict[str, Any] = {}
    for index, extension in enumerate(extensions):
        if not isinstance(extension, dict) or extension.get("url") != PREFERENCES_URL:
            continue
        for sub_index, part in enumerate(extension.get("extension", [])):
            where = f"ServiceRequest.extension[{index}].extension[{sub_index}]"
            _preference(part, where, preferences, problems)
            if {"women-only", "men-only"} <= set(preferences.get("group_preferences", ())):
                problems.add(
                    f"{where}.valueCode",
                    "groupPreference cannot be both women-only and men-only",
                    "business-rule",
                )
                preferences["group_preferences"].pop()
    return preferences


def _preference(part: Any, where: str, prefs: dict[str, Any], problems: _Problems) -> None:
    url = part.get("url") if isinstance(part, dict) else None
    code = part.get("valueCode") if isinstance(part, dict) else None

    def one_of(allowed: tuple[str, ...], key: str, many: bool = False) -> None:
        if code not in allowed:
            problems.add(
                f"{where}.valueCode", f"{url} must be one of {', '.join(allowed)}", "code-invalid"
            )
        elif many:
            prefs.setdefault(key, [])
            if code not in prefs[key]:
                prefs[key].append(code)
        else:
            prefs[key] = code

    match url:
        case "interest":
            coding = part.get("valueCoding")
            if (
                not isinstance(coding, dict)
                or coding.get("system") != ACTIVITY_CATEGORY_SYSTEM
                or coding.get("code") not in activity_category_codes()
            ):
                problems.add(
                    f"{where}.valueCoding",
                    f"interest needs a code of {ACTIVITY_CATEGORY_SYSTEM}",
                    "code-invalid",
                )
            else:
                prefs.setdefault("interests", []).append(coding.get("code"))
        case str(coded) if coded in CODED_PREFERENCES:
            one_of(*CODED_PREFERENCES[coded])
        case "maxTravelKm":
            value = part.get("valueDecimal")
            if (
                not isinstance(value, int | float)
                or isinstance(value, bool)
                or not 0 < value <= 500
            ):
                problems.add(
                    f"{where}.valueDecimal",
                    "maxTravelKm must be a number of km in (0, 500]",
                    "value",
                )
            else:
                prefs["max_travel_km"] = float(value)
        case str(flag) if flag in BOOLEAN_PREFERENCES:
            value = part.get("valueBoolean")
            if not isinstance(value, bool):
                problems.add(f"{where}.valueBoolean", f"{flag} needs valueBoolean", "value")
            else:
                prefs[BOOLEAN_PREFERENCES[flag]] = value
        case _:
            problems.add(f"{where}.url", f"unknown referral preference {url!r}", "code-invalid")


def check_referral(
    resource: dict[str, Any],
    *,
    resolve_needs: NeedResolver,
    clock_skew: dt.timedelta,
    bundle: Mapping[str, dict[str, Any]] | None = None,
    self_referral: bool = False,
) -> ReferralDraft:
    """Check a ServiceRequest (structure, then every rule of 5.1) and return the draft.
    ``self_referral``: the person refers themselves (the requester is the subject; the NHS
    number is optional), as ``app/person`` builds it.

    ``clock_skew``: how far ahead of this server's clock the referrer's may be (``authoredOn``
    later than now plus this is refused). Every part is checked and all problems are reported
    together, in this order."""
    _check_with_contained(resource)
    bundle = bundle or {}
    problems = _Problems()
    intent = _check_status_and_intent(resource, problems)
    identifiers = _check_identifiers(resource, problems)
    codes, categories = _check_codes(resource, problems)
    requester_ods, performer_ods = _check_organisations(resource, problems, self_referral)
    needs = _check_needs(resource, resolve_needs, problems)
    authored_on = _check_authored_on(resource, clock_skew, problems)
    subject, patient = _check_subject(resource, bundle, problems, self_referral)
    consents, consent_entry = _check_supporting_consent(resource, bundle, problems)
    preferences = parse_preferences(resource.get("extension", []), problems)
    stored = _kept(resource, subject, consents, consent_entry)
    subject_references = _check_references(resource, stored, subject, problems)
    problems.raise_if_any()
    assert patient is not None
    assert authored_on is not None
    assert requester_ods is not None
    return ReferralDraft(
        identifiers=identifiers,
        status="active",
        intent=str(intent),
        codes=codes,
        categories=categories,
        requester_ods=requester_ods,
        performer_ods=performer_ods,
        authored_on=authored_on,
        needs=needs.codes,
        preferences=preferences,
        patient=patient,
        consent=consent_entry,
        resource=stored,
        subject_references=subject_references,
        warnings=needs.warnings,
        need_found_in=needs.found_in,
    )


def _check_status_and_intent(resource: dict[str, Any], problems: _Problems) -> Any:
    """The intent (checked: one of ``INTENTS``); the status must be ``active``."""
    status = resource.get("status")
    if status != "active":
        code = "code-invalid" if status not in SR_STATUSES else "business-rule"
        problems.add("ServiceRequest.status", f"status must be 'active' (got {status!r})", code)
    intent = resource.get("intent")
    if intent not in INTENTS:
        problems.add(
            "ServiceRequest.intent", f"intent must be one of {', '.join(INTENTS)}", "code-invalid"
        )
    return intent


def _check_identifiers(resource: dict[str, Any], problems: _Problems) -> list[tuple[str, str]]:
    """The referrer's identifiers (system, value): at least one, each fitting its columns."""
    identifiers: list[tuple[str, str]] = []
    for index, identifier in enumerate(resource.get("identifier", [])):
        system, value = identifier.get("system"), identifier.get("value")
        where = f"ServiceRequest.identifier[{index}]"
        if not system or not value:
            problems.add(where, "identifier needs system and value")
        else:
            problems.check_column(f"{where}.system", system, IDENTIFIER_SYSTEM_MAX)
            problems.check_column(f"{where}.value", value, IDENTIFIER_VALUE_MAX)
            identifiers.append((system, value))
    if not resource.get("identifier"):
        problems.add("ServiceRequest.identifier", "the referrer's referral identifier is required")
    return identifiers


Codings = list[tuple[str | None, str]]


def _check_codes(resource: dict[str, Any], problems: _Problems) -> tuple[Codings, Codings]:
    """The stored codings of ``code`` (which must say social prescribing) and ``category``."""
    codes = _stored_codings(resource.get("code"), "ServiceRequest.code", problems)
    if (SNOMED, REFERRAL_CODE) not in codes:
        problems.add(
            "ServiceRequest.code",
            f"code must include SNOMED CT {REFERRAL_CODE} (Referral to social prescribing service)",
        )
    categories = [
        coding
        for index, concept in enumerate(resource.get("category", []))
        for coding in _stored_codings(concept, f"ServiceRequest.category[{index}]", problems)
    ]
    return codes, categories


def _check_organisations(
    resource: dict[str, Any], problems: _Problems, self_referral: bool
) -> tuple[str | None, str | None]:
    """The requester's ODS code (required; ``SELF_REQUESTER`` for a self-referral, whose
    requester is the subject) and the performer's (at most one, optional)."""
    requester_ods = _identifier_value(resource.get("requester"), ODS_SYSTEM)
    if self_referral:
        requester_ods = SELF_REQUESTER
        if resource.get("requester") != resource.get("subject"):
            problems.add("ServiceRequest.requester", "a self-referral's requester is the subject")
    elif requester_ods is None:
        problems.add(
            "ServiceRequest.requester", f"requester needs an identifier with system {ODS_SYSTEM}"
        )
    else:
        problems.check_column("ServiceRequest.requester.identifier.value", requester_ods, ODS_MAX)
    performers = resource.get("performer", [])
    performer_ods: str | None = None
    if performers:
        performer_ods = _identifier_value(performers[0], ODS_SYSTEM)
        if performer_ods is None or len(performers) > 1:
            problems.add(
                "ServiceRequest.performer",
                f"performer must be one Organization identifier ({ODS_SYSTEM})",
                "value",
            )
        else:
            problems.check_column(
                "ServiceRequest.performer[0].identifier.value", performer_ods, ODS_MAX
            )
    return requester_ods, performer_ods


def _check_needs(
    resource: dict[str, Any], resolve_needs: NeedResolver, problems: _Problems
) -> ResolvedNeeds:
    """The needs of ``reasonCode`` (at least one reason, coded or text)."""
    reasons = resource.get("reasonCode", [])
    if not reasons:
        problems.add("ServiceRequest.reasonCode", "at least one need (coded or text) is required")
        return ResolvedNeeds([], {}, [])
    return resolve_needs(reasons)


def _check_authored_on(
    resource: dict[str, Any], clock_skew: dt.timedelta, problems: _Problems
) -> dt.datetime | None:
    """``authoredOn``: required, an instant, not later than now plus ``clock_skew``."""
    if "authoredOn" not in resource:
        problems.add("ServiceRequest.authoredOn", "authoredOn is required")
        return None
    authored_on = _instant(resource["authoredOn"])
    if authored_on is None:
        problems.add(
            "ServiceRequest.authoredOn",
            "authoredOn needs a date and time with a time zone",
            "value",
        )
    elif authored_on > dt.datetime.now(dt.UTC) + clock_skew:
        problems.add(
            "ServiceRequest.authoredOn",
            f"authoredOn {resource['authoredOn']} is in the future: a referral is sent once "
            f"made (clocks may differ by {clock_skew.total_seconds():.0f} s)",
            "value",
        )
    return authored_on


def _check_subject(
    resource: dict[str, Any],
    bundle: Mapping[str, dict[str, Any]],
    problems: _Problems,
    self_referral: bool,
) -> tuple[dict[str, Any] | None, PatientDraft | None]:
    """The subject resource (contained or in the Bundle) and its checked Patient."""
    subject = resolve_local(resource, resource.get("subject"), bundle)
    if subject is None or subject.get("resourceType") != "Patient":
        problems.add(
            "ServiceRequest.subject",
            "subject must reference the Patient (contained or in the Bundle)",
        )
        return subject, None
    where = _where(resource, subject, "Patient")
    return subject, check_patient(subject, where, problems, self_referral=self_referral)


def _check_supporting_consent(
    resource: dict[str, Any], bundle: Mapping[str, dict[str, Any]], problems: _Problems
) -> tuple[list[dict[str, Any] | None], dict[str, Any] | None]:
    """What each ``supportingInfo`` points to, and the Consent among them when it is a Bundle
    entry (stored on its own); the Consent is checked wherever it is."""
    consents = [resolve_local(resource, ref, bundle) for ref in resource.get("supportingInfo", [])]
    consent = next((c for c in consents if c and c.get("resourceType") == "Consent"), None)
    check_consent(consent, _where(resource, consent, "Consent") if consent else "Consent", problems)
    if consent is not None and consent not in resource.get("contained", []):
        return consents, consent
    return consents, None


def _kept(
    resource: dict[str, Any],
    subject: dict[str, Any] | None,
    consents: list[dict[str, Any] | None],
    consent_entry: dict[str, Any] | None,
) -> dict[str, Any]:
    """The ServiceRequest as kept: no id, meta or text, without the contained subject and the
    reference to a Bundle's Consent (both stored on their own)."""
    stored = {k: v for k, v in resource.items() if k not in ("id", "meta", "text")}
    stored["contained"] = [c for c in resource.get("contained", []) if c is not subject]
    if not stored["contained"]:
        del stored["contained"]
    if consent_entry is not None:
        stored["supportingInfo"] = [
            ref
            for ref, target in zip(resource.get("supportingInfo", []), consents, strict=True)
            if target is not consent_entry
        ]
        if not stored["supportingInfo"]:
            del stored["supportingInfo"]
    return stored


def _check_references(
    resource: dict[str, Any],
    stored: dict[str, Any],
    subject: dict[str, Any] | None,
    problems: _Problems,
) -> tuple[Path, ...]:
    """Every ``#id`` reference of the referral resolves to a resource contained in it (the
    Patient's too: it becomes ``Patient/{id}``); the paths in ``stored`` of the references to
    the subject. A contained Patient is stored on its own, so it may hold no ``#`` reference."""
    contained = resource.get("contained", [])
    subject_reference = resource.get("subject", {}).get("reference")
    ids = {item.get("id") for item in contained}
    to_subject = []
    for path, reference in references(stored):
        if reference == subject_reference and subject is not None:
            to_subject.append(path)
        elif reference.startswith("#") and reference != "#" and reference[1:] not in ids:
            if path[0] == "contained":  # its index in what was sent
                path = ("contained", contained.index(stored["contained"][path[1]]), *path[2:])
            problems.add(
                fhir_path("ServiceRequest", path),
                f"{reference} is not the id of a contained resource",
                "invalid",
            )
    if subject is not None and any(item is subject for item in contained):
        where = _where(resource, subject, "Patient")
        for path, reference in references(subject):
            if reference.startswith("#"):
                problems.add(
                    fhir_path(where, path),
                    "the Patient is stored as a resource of its own: it cannot refer to the "
                    "referral's contained resources",
                    "business-rule",
                )
    return tuple(to_subject)


def _check_with_contained(resource: Any) -> None:
    """Structure of the ServiceRequest, then of each contained resource on its own:
    fhir.resources does not enforce every cardinality inside ``contained`` (Consent.category),
    and validating each once costs less than validating them twice."""
    if not isinstance(resource, dict):
        raise BadRequest("Expected a ServiceRequest resource (a JSON object)")
    contained = resource.get("contained", [])
    if not isinstance(contained, list) or not all(
        isinstance(c, dict) and isinstance(c.get("resourceType"), str) for c in contained
    ):
        raise BadRequest(
            "contained must be a list of resources",
            [Issue("not a list of resources", "ServiceRequest.contained", code="structure")],
        )
    check_structure({k: v for k, v in resource.items() if k != "contained"}, "ServiceRequest")
    if "contained" in resource and not contained:
        check_structure(resource, "ServiceRequest")  # reports the empty array
    for index, item in enumerate(contained):
        check_structure(item, item["resourceType"], f"ServiceRequest.contained[{index}]")


def _where(resource: dict[str, Any], target: dict[str, Any] | None, kind: str) -> str:
    contained = resource.get("contained", [])
    for index, candidate in enumerate(contained):
        if candidate is target:
            return f"ServiceRequest.contained[{index}]"
    return kind


def _instant(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(dt.UTC) if parsed.tzinfo else None


def check_transaction(
    bundle: Any, *, resolve_needs: NeedResolver, clock_skew: dt.timedelta
) -> ReferralDraft:
    """A transaction Bundle of Patient + ServiceRequest (+ Consent) linked by ``urn:uuid:``."""
    check_structure(bundle, "Bundle")
    if bundle.get("type") != "transaction":
        raise Unprocessable(
            "Only transaction Bundles are accepted at POST /fhir",
            [Issue("Bundle.type must be 'transaction'", "Bundle.type", code="code-invalid")],
        )
    by_url: dict[str, dict[str, Any]] = {}
    urls: dict[str, str] = {}
    for index, entry in enumerate(bundle.get("entry", [])):
        where = f"Bundle.entry[{index}]"
        resource = entry.get("resource")
        request = entry.get("request") or {}
        full_url = entry.get("fullUrl")
        if not isinstance(resource, dict) or resource.get("resourceType") not in (
            "Patient",
            "ServiceRequest",
            "Consent",
        ):
            raise Unprocessable(
                "The Bundle holds a Patient, a ServiceRequest and a Consent only",
                [Issue("unexpected entry", f"{where}.resource", code="not-supported")],
            )
        kind = resource["resourceType"]
        if kind in urls:
            raise Unprocessable(
                f"The Bundle has more than one {kind}",
                [Issue("duplicate", where, code="invariant")],
            )
        if request.get("method") != "POST" or request.get("url") != kind:
            raise Unprocessable(
                f"Each entry is a create: request.method POST and request.url {kind}",
                [Issue("unsupported request", f"{where}.request", code="not-supported")],
            )
        if not isinstance(full_url, str) or not full_url.startswith("urn:uuid:"):
            raise Unprocessable(
                "Each entry needs a urn:uuid: fullUrl", [Issue("fullUrl", f"{where}.fullUrl")]
            )
        if kind != "ServiceRequest":
            check_structure(resource, kind)
        by_url[full_url] = resource
        urls[kind] = full_url
    if "ServiceRequest" not in urls:
        raise Unprocessable("The Bundle has no ServiceRequest", [Issue("missing", "Bundle.entry")])
    service_request = by_url[urls["ServiceRequest"]]
    return check_referral(
        service_request, resolve_needs=resolve_needs, clock_skew=clock_skew, bundle=by_url
    )
