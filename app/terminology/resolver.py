"""Turn a referral's ``reasonCode``s into need codes (DESIGN.md 5.4). Pure: plain values in and out.

Each reason is one CodeableConcept: its codings plus optional text. Per reason:

- a coding from the ``need`` CodeSystem gives that need; a code it does not define is an error
  (the sender used our system wrongly);
- a SNOMED CT coding gives the need the mapping table assigns to its concept;
- codings of other systems (ICD-10, Read...) give no need (with a warning);
- a reason that yields no need from its codings becomes ``other``: its text is kept, or else the
  display of its first unmapped coding, so the link worker still reads what the GP meant. An
  unmapped SNOMED CT concept also adds a warning naming it, so an administrator can map it;
- a reason with neither a coding nor text is an error.

Needs come back in the order first met, without duplicates. Texts are those of the reasons that
became ``other``. Every warning and error carries the element it is about, relative to the
ServiceRequest (``reasonCode[0].coding[1]``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from app.terminology.codesystems import NEED_SYSTEM, SNOMED_SYSTEM, need_codes
from app.terminology.snomed import concept_id_problem

OTHER = "other"


@dataclass(frozen=True)
class Coding:
    system: str | None
    code: str | None
    display: str | None = None


@dataclass(frozen=True)
class Reason:
    codings: Sequence[Coding] = ()
    text: str | None = None


@dataclass(frozen=True)
class ReasonIssue:
    message: str
    expression: str


@dataclass(frozen=True)
class ResolvedReasons:
    needs: tuple[str, ...]
    texts: tuple[str, ...]
    warnings: tuple[ReasonIssue, ...] = field(default_factory=tuple)
    errors: tuple[ReasonIssue, ...] = field(default_factory=tuple)


def _clean(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def resolve_reasons(reasons: Sequence[Reason], mapping: Mapping[str, str]) -> ResolvedReasons:
    """Need codes for ``reasons``; ``mapping`` is SNOMED CT concept id -> need code."""
    known_needs = need_codes()
    needs: list[str] = []
    texts: list[str] = []
    warnings: list[ReasonIssue] = []
    errors: list[ReasonIssue] = []

    def add(need: str) -> None:
        if need not in needs:
            needs.append(need)

    for r, reason in enumerate(reasons):
        found: list[str] = []
        unmapped_displays: list[str] = []
        for c, coding in enumerate(reason.codings):
            where = f"reasonCode[{r}].coding[{c}]"
            code = _clean(coding.code)
            if code is None:
                errors.append(ReasonIssue("a coding needs a code", f"{where}.code"))
            elif coding.system == NEED_SYSTEM:
                if code in known_needs:
                    found.append(code)
                else:
                    errors.append(
                        ReasonIssue(f"'{code}' is not a code of {NEED_SYSTEM}", f"{where}.code")
                    )
            elif coding.system == SNOMED_SYSTEM:
                need = mapping.get(code)
                if need is not None and need in known_needs:
                    found.append(need)
                    continue
                problem = concept_id_problem(code)
                display = _clean(coding.display)
                detail = f" ({display})" if display else ""
                reason_text = f"not a valid concept id: {problem}" if problem else "not mapped"
                warnings.append(
                    ReasonIssue(
                        f"SNOMED CT {code}{detail} is {reason_text} to a need; recorded as "
                        f"'{OTHER}'",
                        f"{where}.code",
                    )
                )
                if display:
                    unmapped_displays.append(display)
            else:
                warnings.append(
                    ReasonIssue(
                        f"codes of {coding.system or 'no system'} are not used to find needs; "
                        f"recorded as '{OTHER}'",
                        f"{where}.system",
                    )
                )
                if display := _clean(coding.display):
                    unmapped_displays.append(display)
        if found:
            for need in found:
                add(need)
            if OTHER in found and (text := _clean(reason.text)):
                texts.append(text)
            continue
        text = _clean(reason.text) or (unmapped_displays[0] if unmapped_displays else None)
        if text is None:
            if not reason.codings:
                errors.append(ReasonIssue("a reason needs a coding or text", f"reasonCode[{r}]"))
            elif not any(e.expression.startswith(f"reasonCode[{r}].") for e in errors):
                errors.append(
                    ReasonIssue(
                        "no need could be found in this reason and it has no text",
                        f"reasonCode[{r}]",
                    )
                )
            continue
        add(OTHER)
        texts.append(text)
    return ResolvedReasons(tuple(needs), tuple(texts), tuple(warnings), tuple(errors))
