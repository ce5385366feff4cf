"""Turn a referral's ``reasonCode``s into need codes (DESIGN.md 5.4). Pure: plain values in and out.

Each reason is one CodeableConcept: its codings plus optional text. Per reason:

- a coding from the ``need`` CodeSystem gives that need; a code it does not define is an error
  (the sender used our system wrongly);
- a SNOMED CT coding gives the need the mapping table assigns to its concept;
- codings of other systems (ICD-10, Read...) give no need (with a warning);
- a reason whose codings give no need, or only ``other``, is read: its text, then the displays
  of its unmapped codings, are searched for the phrases in force (``phrases.PhraseIndex``); each
  need found is remembered with the element whose text gave it (``found_in``), so that a match
  can quote the GP's words. The text of a reason coded with another need is not searched;
- a reason in which no need is found becomes ``other``: its text is kept, or else the display of
  its first unmapped coding, so the link worker still reads what the GP meant. An unmapped
  SNOMED CT concept also adds a warning naming it, so an administrator can map it;
- a reason with neither a coding nor text is an error.

Needs come back in the order first met, without duplicates. Texts are those of the reasons that
became ``other``. Every warning and error carries the element it is about, relative to the
ServiceRequest (``reasonCode[0].coding[1]``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from app.terminology.codesystems import NEED_SYSTEM, SNOMED_SYSTEM, need_codes
from app.terminology.phrases import OTHER, PhraseIndex
from app.terminology.snomed import concept_id_problem

NO_PHRASES = PhraseIndex({})


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
    # need -> the element whose text gave it ("reasonCode[1].text", "...coding[0].display")
    found_in: Mapping[str, str] = field(default_factory=dict)


def _clean(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


@dataclass
class _Found:
    """What the reasons give, in the order met."""

    needs: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    found_in: dict[str, str] = field(default_factory=dict)
    warnings: list[ReasonIssue] = field(default_factory=list)
    errors: list[ReasonIssue] = field(default_factory=list)

    def add(self, need: str, where: str | None = None) -> None:
        if need not in self.needs:
            self.needs.append(need)
        if where is not None:
            self.found_in.setdefault(need, where)


def resolve_reasons(
    reasons: Sequence[Reason], mapping: Mapping[str, str], phrases: PhraseIndex = NO_PHRASES
) -> ResolvedReasons:
    """Need codes for ``reasons``; ``mapping`` is SNOMED CT concept id -> need code, ``phrases``
    the free-text phrases in force."""
    known_needs = need_codes()
    out = _Found()
    for r, reason in enumerate(reasons):
        text = _clean(reason.text)
        # the texts of the reason, each with its element: its own text, then unmapped displays
        written: list[tuple[str, str]] = [(text, f"reasonCode[{r}].text")] if text else []
        found, unused = _read_codings(r, reason, mapping, known_needs, written, out.errors)
        ending = _record(r, reason, text, found, written, phrases, out)
        out.warnings.extend(ReasonIssue(f"{w.message}; {ending}", w.expression) for w in unused)
    return ResolvedReasons(
        tuple(out.needs),
        tuple(out.texts),
        tuple(out.warnings),
        tuple(out.errors),
        found_in=out.found_in,
    )


def _read_codings(
    r: int,
    reason: Reason,
    mapping: Mapping[str, str],
    known_needs: frozenset[str],
    written: list[tuple[str, str]],
    errors: list[ReasonIssue],
) -> tuple[list[str], list[ReasonIssue]]:
    """The needs the codings of reason ``r`` give, and the codings that gave none (warned
    about once the reason is read); their displays are added to ``written``."""
    found: list[str] = []
    unused: list[ReasonIssue] = []
    for c, coding in enumerate(reason.codings):
        where = f"reasonCode[{r}].coding[{c}]"
        code = _clean(coding.code)
        display = _clean(coding.display)
        if code is None:
            errors.append(ReasonIssue("a coding needs a code", f"{where}.code"))
            continue
        if coding.system == NEED_SYSTEM:
            if code in known_needs:
                found.append(code)
            else:
                errors.append(
                    ReasonIssue(f"'{code}' is not a code of {NEED_SYSTEM}", f"{where}.code")
                )
            continue
        if coding.system == SNOMED_SYSTEM:
            need = mapping.get(code)
            if need is not None and need in known_needs:
                found.append(need)
                continue
            problem = concept_id_problem(code)
            detail = f" ({display})" if display else ""
            reason_text = f"not a valid concept id: {problem}" if problem else "not mapped"
            message = f"SNOMED CT {code}{detail} is {reason_text} to a need"
            unused.append(ReasonIssue(message, f"{where}.code"))
        else:
            message = f"codes of {coding.system or 'no system'} are not used to find needs"
            unused.append(ReasonIssue(message, f"{where}.system"))
        if display:
            written.append((display, f"{where}.display"))
    return found, unused


def _record(
    r: int,
    reason: Reason,
    text: str | None,
    found: list[str],
    written: list[tuple[str, str]],
    phrases: PhraseIndex,
    out: _Found,
) -> str:
    """Record what reason ``r`` gives (its coded needs, else the needs in its words, else
    ``other``, else an error); how its unused codings' warnings end."""
    named = [n for n in found if n != OTHER]
    from_text = (
        []
        if named
        else [(need, where) for words, where in written for need in phrases.needs_in(words)]
    )
    if named:
        for need in found:
            out.add(need, f"reasonCode[{r}].text" if need == OTHER and text else None)
        if OTHER in found and text:
            out.texts.append(text)
        return "the reason's other codings give its need"
    if from_text:
        for need, where in from_text:
            out.add(need, where)
        return "the need was found in the text"
    if found or written:
        if written:
            words, where = written[0]
            out.add(OTHER, where)
            out.texts.append(words)
        else:
            out.add(OTHER)
        return f"recorded as '{OTHER}'"
    if not reason.codings:
        out.errors.append(ReasonIssue("a reason needs a coding or text", f"reasonCode[{r}]"))
    elif not any(e.expression.startswith(f"reasonCode[{r}].") for e in out.errors):
        out.errors.append(
            ReasonIssue(
                "no need could be found in this reason and it has no text", f"reasonCode[{r}]"
            )
        )
    return "no need recorded"
