"""From ``reasonCode`` to needs (DESIGN.md 5.4): need codes, mapped SNOMED CT concepts, or text.

The SNOMED CT -> need table is data (``app.terminology``); this module only applies it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.errors import Issue
from app.referrals.intake import NEED_SYSTEM, SNOMED

NEEDS = (
    "loneliness-isolation",
    "low-mood",
    "anxiety-stress",
    "long-term-condition",
    "physical-inactivity",
    "bereavement",
    "carer-support",
    "debt-finance",
    "housing",
    "employment-learning",
    "other",
)


def resolve(
    reasons: list[dict[str, Any]], snomed_needs: Mapping[str, str]
) -> tuple[list[str], list[Issue]]:
    """Need codes in order, without duplicates, and warnings for codes that map to nothing."""
    needs: list[str] = []
    warnings: list[Issue] = []

    def add(need: str) -> None:
        if need not in needs:
            needs.append(need)

    for index, reason in enumerate(reasons):
        found = False
        for coding in reason.get("coding", []) if isinstance(reason, dict) else []:
            system, code = coding.get("system"), coding.get("code")
            if system == NEED_SYSTEM and code in NEEDS:
                add(code)
                found = True
            elif system == SNOMED and code in snomed_needs:
                add(snomed_needs[code])
                found = True
        if not found:
            if isinstance(reason, dict) and reason.get("coding"):
                warnings.append(
                    Issue(
                        "no coding maps to a need; recorded as 'other'",
                        f"ServiceRequest.reasonCode[{index}]",
                        code="code-unknown",
                        severity="warning",
                    )
                )
            add("other")
    return needs, warnings
