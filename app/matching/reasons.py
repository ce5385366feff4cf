"""The plain-English reasons of a match (DESIGN 7): each says only what is true of it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.matching.labels import (
    ACCESSIBILITY_LABELS,
    CATEGORY_LABELS,
    DAY_PLURALS,
    GROUP_WISH_LABELS,
    LANGUAGE_NAMES,
    NEED_LABELS,
    SITUATION_LABELS,
)
from app.matching.rules import ALL_DAYS, DAYS, has_free_option
from app.matching.scoring import (
    ENGLISH,
    HOME,
    HOUSEBOUND,
    INTERPRETERS,
    TOO_MUCH_FOR,
    at_a_venue,
    interest_led,
    interests_met,
    limits_of,
    made_for,
    meets,
    primary_language,
    talking,
)

if TYPE_CHECKING:
    from app.matching.engine import Activity, _Scored

SUITED_THRESHOLD = 0.6  # "Can help with <need>" from this suitability up
QUOTE_MAX = 60  # characters of the referral's words a reason quotes


def _label(labels: Mapping[str, str], code: str) -> str:
    return labels.get(code) or code.replace("-", " ")


def _join(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def day_phrase(days: frozenset[str]) -> str:
    """ "Tuesdays and Thursdays"; "Every day" for all seven."""
    if days >= ALL_DAYS:
        return "Every day"
    return _join([DAY_PLURALS[d] for d in DAYS if d in days])


def distance_phrase(distance_km: float) -> str:
    return "Under 0.1 km away" if distance_km < 0.05 else f"{distance_km:.1f} km away"


@dataclass(frozen=True, slots=True)
class ReasonContext:
    needs: tuple[str, ...]
    rows: Mapping[str, Mapping[str, float]]
    interests: frozenset[str]
    accessibility: tuple[str, ...]
    days: frozenset[str]
    languages: tuple[str, ...]
    need_texts: Mapping[str, str]
    group_wishes: tuple[str, ...] = ()  # in `GROUP_WISH_LABELS` order
    few_nearby: bool = False  # online and phone raised (`Scoring.from_home_raised`)
    situations: frozenset[str] = frozenset()  # the person's (housebound, a condition...)
    online_too: bool = True  # the person has some digital access


def quote(text: str) -> str:
    """`text` as a match reason quotes it: whitespace collapsed, at most `QUOTE_MAX` characters."""
    words = " ".join(text.split())
    if len(words) > QUOTE_MAX:
        words = words[: QUOTE_MAX - 1].rstrip() + "\u2026"
    return f" (from the referral: '{words}')"


def explain(ctx: ReasonContext, s: _Scored) -> tuple[str, ...]:
    """Plain-English reasons, each true of the match, in this order.

    "Targets <need>" (the activity is made for the need: `scoring.made_for`) or "Can help with
    <need>" (a category's suitability >= `SUITED_THRESHOLD` in the table), quoting the
    referral's words when the need was found in them; "Made for <other needs>" when it is made
    for none of the person's needs but for others (why it ranks below the activities made for
    theirs); "Matches interest in <categories>";
    "<x.x> km away" (the reported distance, one decimal; "Under 0.1 km away"; "Visits you at
    home" for a service that does: `scoring.HOME`) and, for hybrid,
    "Can also join online" — or "Online" / "By phone", with "Few in-person options nearby" when
    that raised it; "Free"; the days ("Tuesdays and
    Thursdays": the days in common when the person gave days, else the activity's days; "Every
    day"); in person, each accessibility need met ("Step-free access") and "Near public
    transport"; "In <language>" when the shared language is not English, "Interpreters available"
    when none is shared and the activity, held in English, offers them; "<n> places left" or
    "Full: waiting list".
    """
    a = s.activity
    reasons = _need_reasons(ctx, a)
    if a.situations:
        labels = sorted(_label(SITUATION_LABELS, c) for c in a.situations)
        reasons.append(f"Made for {_join(labels)}")
    reasons.extend(GROUP_WISH_LABELS[w] for w in ctx.group_wishes if meets(a, w) == 1.0)
    reasons.extend(_cannot_help(ctx, a))
    if shared := sorted(interests_met(ctx.interests, a.categories)):
        reasons.append(f"Matches interest in {_join([_label(CATEGORY_LABELS, c) for c in shared])}")
    if s.distance_km is not None and HOME in a.group_traits:
        reasons.append("Visits you at home")
    elif s.distance_km is not None:
        reasons.append(distance_phrase(s.distance_km))
        if a.attending_type == "hybrid":
            reasons.append("Can also join online")
    else:
        reasons.append("Online" if s.attendance == "online" else "By phone")
        if ctx.few_nearby:
            reasons.append("Few in-person options nearby")
    if has_free_option(a):
        reasons.append("Free")
    if s.days is not None:
        days = s.days & ctx.days if ctx.days else s.days
        reasons.append(day_phrase(days))
    if s.attendance == "in-person":
        reasons.extend(ACCESSIBILITY_LABELS[n] for n in ctx.accessibility)
        if a.near_public_transport:
            reasons.append("Near public transport")
    reasons.extend(_language_reasons(ctx, a))
    if s.waitlist:
        reasons.append("Full: waiting list")
    elif s.available is not None:
        n = s.available
        reasons.append(f"{n} place left" if n == 1 else f"{n} places left")
    return tuple(reasons)


def _language_reasons(ctx: ReasonContext, a: Activity) -> list[str]:
    """ "In <language>", "Interpreters available" or "Talking in <languages>, not a language
    the referral lists" (see `explain`)."""
    offered = {primary_language(c) for c in a.languages} or ENGLISH
    spoken = next((lang for lang in ctx.languages if lang in offered), None)
    if spoken is not None:
        return [] if spoken == "en" else [f"In {LANGUAGE_NAMES.get(spoken, spoken)}"]
    if offered == ENGLISH and INTERPRETERS in a.group_traits:
        return ["Interpreters available"]  # `scoring.WITH_INTERPRETER_FIT`
    if talking(a.categories):  # need fit lowered (`scoring.talking`)
        held = _join(sorted(LANGUAGE_NAMES.get(c, c) for c in offered))
        return [f"Talking in {held}, not a language the referral lists"]
    return []


def _cannot_help(ctx: ReasonContext, a: Activity) -> list[str]:
    """Why an activity that suits the needs cannot help this person (need fit times 0 in
    `scoring`): too much for their condition, or at a venue for someone housebound."""
    found = []
    too_much = limits_of(ctx.situations) & a.group_traits
    if too_much:
        labels = sorted(
            _label(SITUATION_LABELS, s) for t in too_much for s in TOO_MUCH_FOR[t] & ctx.situations
        )
        found.append(f"Too strenuous for {_join(sorted(set(labels)))}")
    if not ctx.situations.isdisjoint(HOUSEBOUND) and at_a_venue(a, ctx.online_too):
        found.append("At a venue: the referral says housebound")
    return found


def _need_reasons(ctx: ReasonContext, a: Activity) -> list[str]:
    """ "Targets ..." / "Can help with ..." per need, then "Made for ..." (see `explain`)."""
    reasons = []
    purposes = made_for(a)
    for need in ctx.needs:
        text = ctx.need_texts.get(need)
        quoted = quote(text) if text else ""
        if need in purposes:
            reasons.append(f"Targets {_label(NEED_LABELS, need)}{quoted}")
            continue
        top = max((ctx.rows[need].get(c, 0.0) for c in a.categories), default=0.0)
        if top >= SUITED_THRESHOLD:
            reasons.append(f"Can help with {_label(NEED_LABELS, need)}{quoted}")
        elif top > 0.0 and interest_led(a, ctx.interests):  # `scoring.interest_led`
            reasons.append(
                f"Can help with {_label(NEED_LABELS, need)}{quoted} through an interest of theirs"
            )
    if purposes and purposes.isdisjoint(ctx.needs):
        reasons.append(f"Made for {_join([_label(NEED_LABELS, n) for n in sorted(purposes)])}")
    return reasons
