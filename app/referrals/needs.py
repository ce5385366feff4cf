"""``reasonCode`` -> needs for the intake, through the terminology resolver (DESIGN.md 5.4)."""

from __future__ import annotations

import re
from typing import Any

from app.errors import Issue, Unprocessable
from app.referrals.intake import NeedResolver, ResolvedNeeds
from app.terminology.codesystems import NEED_SYSTEM
from app.terminology.resolver import Coding, Reason, resolve_reasons
from app.terminology.service import NeedMaps

_FOUND_IN = re.compile(r"reasonCode\[(\d+)\](?:\.coding\[(\d+)\]\.display|\.text)")


def _reason(raw: Any) -> Reason:
    if not isinstance(raw, dict):
        return Reason()
    codings = [
        Coding(c.get("system"), c.get("code"), c.get("display"))
        for c in raw.get("coding", [])
        if isinstance(c, dict)
    ]
    return Reason(codings=codings, text=raw.get("text"))


def resolver(maps: NeedMaps) -> NeedResolver:
    """A resolver for ``check_referral`` using the SNOMED CT mapping and phrases in force."""

    def resolve(reasons: list[dict[str, Any]]) -> ResolvedNeeds:
        result = resolve_reasons([_reason(r) for r in reasons], maps.snomed, maps.phrases)
        if result.errors:
            raise Unprocessable(
                "A reasonCode does not name a need",
                [
                    Issue(e.message, f"ServiceRequest.{e.expression}", code="code-invalid")
                    for e in result.errors
                ],
            )
        warnings = [
            Issue(
                w.message, f"ServiceRequest.{w.expression}", code="code-unknown", severity="warning"
            )
            for w in result.warnings
        ]
        return ResolvedNeeds(list(result.needs), dict(result.found_in), warnings)

    return resolve


def words_at(service_request: dict[str, Any], found_in: str) -> str | None:
    """The text at ``found_in`` (``reasonCode[0].text``, ``reasonCode[0].coding[1].display``) of
    a stored ServiceRequest, or None when there is none."""
    where = _FOUND_IN.fullmatch(found_in)
    if where is None:
        return None
    reason, coding = int(where[1]), where[2]
    try:
        concept = service_request["reasonCode"][reason]
        value = concept["text"] if coding is None else concept["coding"][int(coding)]["display"]
    except (KeyError, IndexError, TypeError):
        return None
    return value if isinstance(value, str) and value.strip() else None


def reason_texts(service_request: dict[str, Any]) -> list[str]:
    """Every text of a stored ServiceRequest's ``reasonCode``: each concept's ``text`` and its
    codings' ``display``, in order (the GP's words, whether or not a need was found in them)."""
    texts = []
    for concept in service_request.get("reasonCode") or []:
        if not isinstance(concept, dict):
            continue
        words = [concept.get("text")]
        words += [c.get("display") for c in concept.get("coding") or [] if isinstance(c, dict)]
        texts += [w for w in words if isinstance(w, str) and w.strip()]
    return texts


def in_reason_order(
    service_request: dict[str, Any], needs: list[tuple[str, str | None]]
) -> list[tuple[str, str | None]]:
    """The referral's needs (as `service.needs_of` gives them, by code) in the order of the
    ``reasonCode`` that gave each: the words it was found in, else a coding of the need
    CodeSystem with its code; a need given otherwise (a SNOMED CT mapping) comes after them. The
    GP lists the main reason first, and matching weighs it most."""
    reasons = [r for r in service_request.get("reasonCode") or [] if isinstance(r, dict)]

    def position(need: str, found_in: str | None) -> int:
        if found_in is not None and (where := _FOUND_IN.fullmatch(found_in)):
            return int(where[1])
        for index, reason in enumerate(reasons):
            for coding in reason.get("coding") or []:
                if (
                    isinstance(coding, dict)
                    and coding.get("system") == NEED_SYSTEM
                    and coding.get("code") == need
                ):
                    return index
        return len(reasons)

    return sorted(needs, key=lambda pair: (position(*pair), pair[0]))
