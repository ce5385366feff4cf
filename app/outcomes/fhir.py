"""Outcomes as FHIR R4: Questionnaire per instrument, QuestionnaireResponse in, Observations out.

- ``Questionnaire/<id>`` (``ons4``, ``swemwbs``, ``wemwbs``, ``ucla3``, ``ons-loneliness``;
  canonical ``https://w3id.org/assetlink/fhir/Questionnaire/<id>``): one item per instrument
  item, ``linkId`` = the item id of the JSON API, a short label as ``text`` (the licensed item
  wording is not shipped), ``required``; numeric items are ``integer`` with their range in the
  core ``minValue``/``maxValue`` extensions; the ONS loneliness answer is a ``string`` item with
  its allowed codes as ``answerOption.valueString``.
- ``QuestionnaireResponse``: ``status`` ``completed``, ``questionnaire`` one of those
  canonicals (``|version`` allowed), ``basedOn`` the ServiceRequest, ``subject`` its Patient
  (filled in when absent), ``authored`` the time the answers were given (a dateTime with a time
  zone), one ``item`` per question (``linkId``, one ``answer`` with ``valueInteger`` or
  ``valueString``), and two extensions carrying what the JSON API has as fields:
  ``.../StructureDefinition/outcome-timepoint`` (``valueCode`` baseline | follow-up | exit) and
  ``.../StructureDefinition/administration-mode`` (``valueCode`` self | assisted).
- ``Observation``: one per derived score; ``code`` is SNOMED CT 718466001 for the SWEMWBS score
  (the raw total, 7-35, as in the NHS MHSDS reference table, see ``instruments``), 718426000
  for the WEMWBS total, and text for the rest (no SNOMED CT or LOINC code is claimed for them).
- ``Task.output`` entries of a completed referral: a reference to such an Observation, typed
  in text ("Baseline: SWEMWBS", "Latest follow-up: SWEMWBS").
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from app import __released__, __version__
from app.errors import Issue, Unprocessable
from app.fhir import CANONICAL_BASE
from app.outcomes import instruments
from app.outcomes.instruments import Instrument
from app.outcomes.models import OutcomeRecord, OutcomeScore

QUESTIONNAIRE_BASE = f"{CANONICAL_BASE}/Questionnaire"
TIMEPOINT_URL = f"{CANONICAL_BASE}/StructureDefinition/outcome-timepoint"
MODE_URL = f"{CANONICAL_BASE}/StructureDefinition/administration-mode"
MIN_VALUE_URL = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE_URL = "http://hl7.org/fhir/StructureDefinition/maxValue"
SNOMED = "http://snomed.info/sct"
SURVEY = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "survey",
            "display": "Survey",
        }
    ]
}
TIMEPOINTS = ("baseline", "follow-up", "exit")
MODES = ("self", "assisted")

_MEASURE_TEXT = {"total": "total score", "metric": "metric score (Rasch-converted)"}


def questionnaire_id(code: str) -> str:
    """FHIR ids allow no underscore: ``ONS_LONELINESS`` -> ``ons-loneliness``."""
    return code.lower().replace("_", "-")


QUESTIONNAIRE_IDS = {questionnaire_id(code): code for code in instruments.INSTRUMENTS}


def questionnaire_url(code: str) -> str:
    return f"{QUESTIONNAIRE_BASE}/{questionnaire_id(code)}"


def _item(item: instruments.Item) -> dict[str, Any]:
    rendered: dict[str, Any] = {"linkId": item.id, "text": item.label, "required": True}
    if item.is_numeric:
        numbers = [v for v in item.values if isinstance(v, int)]
        rendered["extension"] = [
            {"url": MIN_VALUE_URL, "valueInteger": min(numbers)},
            {"url": MAX_VALUE_URL, "valueInteger": max(numbers)},
        ]
        rendered["type"] = "integer"
    else:
        rendered["type"] = "string"
        rendered["answerOption"] = [{"valueString": str(v)} for v in item.values]
    return rendered


def questionnaire_resource(spec: Instrument) -> dict[str, Any]:
    return {
        "resourceType": "Questionnaire",
        "id": questionnaire_id(spec.code),
        "meta": {"versionId": "1", "lastUpdated": f"{__released__}T00:00:00+00:00"},
        "url": questionnaire_url(spec.code),
        "version": __version__,
        "name": spec.code,
        "title": spec.name,
        "status": "active",
        "subjectType": ["Patient"],
        "date": __released__,
        "publisher": "assetlink",
        "description": (
            f"{spec.name}: item identifiers and short labels only. The validated item wording "
            "is not reproduced here; administer the instrument as published by its owners. "
            "Answers are scored by assetlink exactly as DESIGN.md section 9 says."
        ),
        "item": [_item(item) for item in spec.items],
    }


def all_questionnaires() -> list[dict[str, Any]]:
    return [questionnaire_resource(spec) for spec in instruments.INSTRUMENTS.values()]


# --- QuestionnaireResponse in -----------------------------------------------------------------


@dataclass(frozen=True)
class ResponseDraft:
    """A QuestionnaireResponse read into the JSON API's terms, not yet validated or scored."""

    instrument: str
    referral_id: uuid.UUID
    patient_ref: str | None
    timepoint: str | None  # None: no outcome-timepoint extension, the service decides
    mode: str
    collected_at: dt.datetime
    answers: dict[str, object]
    resource: dict[str, Any]


_ANSWER_TYPES = {"valueInteger": int, "valueString": str, "valueDecimal": float}


def _answer_value(answer: dict[str, Any], where: str, link_id: str) -> object:
    """The answer as the JSON API would carry it; the scorer then checks type and range."""
    kinds = [k for k in answer if k.startswith("value")]
    if len(kinds) == 1 and kinds[0] in _ANSWER_TYPES:
        return _ANSWER_TYPES[kinds[0]](answer[kinds[0]])
    raise Unprocessable(
        f"Item {link_id!r} must be answered with valueInteger or valueString",
        [Issue(f"item {link_id!r}: answer with valueInteger or valueString", f"{where}.answer")],
    )


def _extension_code(
    body: dict[str, Any], url: str, allowed: tuple[str, ...], *, optional: bool = False
) -> str | None:
    """The ``valueCode`` of the one extension ``url`` (None when optional and absent)."""
    found = [e for e in body.get("extension", []) if e.get("url") == url]
    if optional and not found:
        return None
    where = f"QuestionnaireResponse.extension('{url}')"
    if len(found) != 1 or found[0].get("valueCode") not in allowed:
        raise Unprocessable(
            f"The QuestionnaireResponse needs one extension {url} with valueCode "
            f"{' | '.join(allowed)}",
            [Issue(f"expected one valueCode of {', '.join(allowed)}", where, code="required")],
        )
    return str(found[0]["valueCode"])


def with_timepoint(resource: dict[str, Any], timepoint: str) -> dict[str, Any]:
    """``resource`` saying its timepoint (the extension added when the client left it out)."""
    extensions = resource.get("extension", [])
    if any(e.get("url") == TIMEPOINT_URL for e in extensions):
        return resource
    return {**resource, "extension": [*extensions, {"url": TIMEPOINT_URL, "valueCode": timepoint}]}


def _reference_id(reference: str, resource_type: str) -> uuid.UUID | None:
    tail = reference.split("/")
    if len(tail) < 2 or tail[-2] != resource_type:
        return None
    try:
        return uuid.UUID(tail[-1])
    except ValueError:
        return None


def _instrument_of(canonical: object) -> str:
    url = str(canonical).split("|", 1)[0]
    prefix = QUESTIONNAIRE_BASE + "/"
    code = QUESTIONNAIRE_IDS.get(url.removeprefix(prefix)) if url.startswith(prefix) else None
    if code is None:
        known = ", ".join(questionnaire_url(c) for c in instruments.INSTRUMENTS)
        raise Unprocessable(
            f"questionnaire must be one of this service's Questionnaires: {known}",
            [Issue("unknown Questionnaire", "QuestionnaireResponse.questionnaire")],
        )
    return code


def _authored(value: object) -> dt.datetime:
    text = str(value or "")
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00")) if "T" in text else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise Unprocessable(
            "authored must give the date and time the answers were collected, with a time zone",
            [Issue("a dateTime with a time zone is required", "QuestionnaireResponse.authored")],
        )
    return moment.astimezone(dt.UTC)


def read_response(body: dict[str, Any]) -> ResponseDraft:
    """The rules of a QuestionnaireResponse beyond its structure (422 naming the element)."""
    if body.get("status") != "completed":
        raise Unprocessable(
            "Only a completed QuestionnaireResponse can be scored",
            [Issue("status must be 'completed'", "QuestionnaireResponse.status")],
        )
    code = _instrument_of(body.get("questionnaire"))
    based_on = body.get("basedOn", [])
    referral_ids = [_reference_id(str(r.get("reference", "")), "ServiceRequest") for r in based_on]
    if len(referral_ids) != 1 or referral_ids[0] is None:
        raise Unprocessable(
            "basedOn must reference the one ServiceRequest (referral) the answers belong to",
            [Issue("one ServiceRequest/{id} reference required", "QuestionnaireResponse.basedOn")],
        )
    subject = body.get("subject")
    patient_ref = str(subject.get("reference", "")) if subject else None
    answers: dict[str, object] = {}
    for index, item in enumerate(body.get("item", [])):
        where = f"QuestionnaireResponse.item[{index}]"
        link_id = str(item.get("linkId"))
        if "item" in item:
            raise Unprocessable(
                "Nested items are not part of these Questionnaires",
                [Issue("nested items are not supported", f"{where}.item")],
            )
        if link_id in answers:
            raise Unprocessable(
                f"Item {link_id!r} is answered twice",
                [Issue("linkId repeated", f"{where}.linkId")],
            )
        given = item.get("answer", [])
        if len(given) > 1:
            raise Unprocessable(
                f"Item {link_id!r} has more than one answer",
                [Issue("one answer per item", f"{where}.answer")],
            )
        if given:
            answers[link_id] = _answer_value(given[0], where, link_id)
    return ResponseDraft(
        instrument=code,
        referral_id=referral_ids[0],
        patient_ref=patient_ref,
        timepoint=_extension_code(body, TIMEPOINT_URL, TIMEPOINTS, optional=True),
        mode=str(_extension_code(body, MODE_URL, MODES)),
        collected_at=_authored(body.get("authored")),
        answers=answers,
        resource=body,
    )


def answer_issue_expression(expression: str | None) -> str | None:
    """``answers.<item>`` of the scorer as the FHIRPath of that item's answer."""
    if expression and expression.startswith("answers."):
        link_id = expression.removeprefix("answers.")
        return f"QuestionnaireResponse.item.where(linkId='{link_id}').answer"
    return expression


# --- out ---------------------------------------------------------------------------------------


def _meta(record: OutcomeRecord) -> dict[str, str]:
    return {"versionId": "1", "lastUpdated": record.recorded_at.isoformat()}


def questionnaire_response_resource(record: OutcomeRecord) -> dict[str, Any]:
    assert record.questionnaire_response is not None
    assert record.questionnaire_response_id is not None
    body = {
        k: v
        for k, v in record.questionnaire_response.items()
        if k not in ("resourceType", "id", "meta")
    }
    return {
        "resourceType": "QuestionnaireResponse",
        "id": str(record.questionnaire_response_id),
        "meta": _meta(record),
        **body,
    }


def _code(score: OutcomeScore) -> dict[str, Any]:
    spec = instruments.INSTRUMENTS[score.instrument]
    if score.measure == "total" and spec.snomed_code:
        return {
            "coding": [
                {"system": SNOMED, "code": spec.snomed_code, "display": spec.snomed_display}
            ],
            "text": f"{spec.code} {_MEASURE_TEXT['total']}",
        }
    if score.measure in _MEASURE_TEXT:
        return {"text": f"{spec.code} {_MEASURE_TEXT[score.measure]}"}
    return {"text": f"{spec.code} {spec.item(score.measure).label.lower()}"}


def _interpretation(score: OutcomeScore) -> list[dict[str, Any]] | None:
    texts = []
    if score.band:
        texts.append(f"ONS band: {score.band}")
    if score.lonely is not None:
        texts.append("lonely" if score.lonely else "not lonely")
    return [{"text": t} for t in texts] or None


def observation_resource(score: OutcomeScore, record: OutcomeRecord) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(score.id),
        "meta": _meta(record),
        "extension": [{"url": TIMEPOINT_URL, "valueCode": score.timepoint}],
        "basedOn": [{"reference": f"ServiceRequest/{record.referral_id}"}],
        "status": "final",
        "category": [SURVEY],
        "code": _code(score),
        "subject": {"reference": f"Patient/{record.patient_id}"},
        "effectiveDateTime": record.collected_at.isoformat(),
        "issued": record.recorded_at.isoformat(),
    }
    if score.value is None:
        resource["valueString"] = score.category
    elif score.measure == "metric":
        resource["valueQuantity"] = {
            "value": score.value,
            "unit": "score",
            "system": "http://unitsofmeasure.org",
            "code": "{score}",
        }
    else:
        resource["valueInteger"] = round(score.value)
    interpretation = _interpretation(score)
    if interpretation:
        resource["interpretation"] = interpretation
    if record.questionnaire_response_id is not None:
        resource["derivedFrom"] = [
            {"reference": f"QuestionnaireResponse/{record.questionnaire_response_id}"}
        ]
    return resource


def _value_text(score: OutcomeScore) -> str:
    if score.value is None:
        return str(score.category)
    return f"{score.value:g}" if score.measure == "metric" else str(round(score.value))


def task_output(label: str, score: OutcomeScore, record: OutcomeRecord) -> dict[str, Any]:
    """A completed Task's ``output`` entry pointing at one score's Observation, e.g. type
    "Baseline: SWEMWBS", display "SWEMWBS metric score (Rasch-converted) 19.98 on 2026-11-05"."""
    return {
        "type": {"text": f"{label}: {record.instrument}"},
        "valueReference": {
            "reference": f"Observation/{score.id}",
            "display": f"{_code(score)['text']} {_value_text(score)} "
            f"on {record.collected_at.date().isoformat()}",
        },
    }
