"""The labels' checker: every label names an activity of the directory, once per persona, with a
reason; every persona has an ``ideal``; and no ``ideal`` breaks a hard rule on the run date.

The hard rules are the service's own: an activity is allowed when the matching service returns
it for the persona's referral (``run.py`` asks `service.match_referral` for every eligible
activity), and for one that is not, ``run.py`` names the rule it breaks by giving the engine that
activity alone with the service's `Person` (`engine.match` counts it under its first broken
rule). Nothing here reimplements a rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bench.matching_quality.personas import LABELS, Persona


def static_problems(personas: Iterable[Persona], activity_ids: set[str]) -> list[str]:
    """What is wrong with the labels whatever the date: unknown activities, an activity under
    two labels, an empty reason, a persona without an ideal or with a repeated id."""
    problems: list[str] = []
    seen: set[str] = set()
    for p in personas:
        if p.id in seen:
            problems.append(f"{p.id}: persona id used twice")
        seen.add(p.id)
        if not p.ideal:
            problems.append(f"{p.id}: no ideal activity")
        labelled: dict[str, str] = {}
        for label in LABELS:
            for activity, reason in getattr(p, label).items():
                if f"bench-{activity}" not in activity_ids:
                    problems.append(f"{p.id}: {label} {activity!r} is not in the directory")
                if activity in labelled:
                    problems.append(
                        f"{p.id}: {activity!r} is both {labelled[activity]} and {label}"
                    )
                labelled[activity] = label
                if not reason.strip():
                    problems.append(f"{p.id}: {label} {activity!r} has no reason")
    return problems


def ideal_problems(persona: Persona, eligible: set[str], broken: Mapping[str, str]) -> list[str]:
    """The persona's ideals that the service would not return on the run date, with the rule
    each breaks (``broken``: activity id -> the rule's description, from the engine)."""
    return [
        f"{persona.id}: ideal {activity!r} breaks a hard rule: "
        f"{broken.get(f'bench-{activity}', 'not returned')}"
        for activity in persona.ideal
        if f"bench-{activity}" not in eligible
    ]
