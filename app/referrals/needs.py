"""``reasonCode`` -> needs for the intake, through the terminology resolver (DESIGN.md 5.4)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.errors import Issue, Unprocessable
from app.referrals.intake import NeedResolver
from app.terminology.resolver import Coding, Reason, resolve_reasons


def _reason(raw: Any) -> Reason:
    if not isinstance(raw, dict):
        return Reason()
    codings = [
        Coding(c.get("system"), c.get("code"), c.get("display"))
        for c in raw.get("coding", [])
        if isinstance(c, dict)
    ]
    return Reason(codings=codings, text=raw.get("text"))


def resolver(snomed_needs: Mapping[str, str]) -> NeedResolver:
    """A resolver for ``check_referral`` using the SNOMED CT -> need mapping in force."""

    def resolve(reasons: list[dict[str, Any]]) -> tuple[list[str], list[Issue]]:
        result = resolve_reasons([_reason(r) for r in reasons], snomed_needs)
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
        return list(result.needs), warnings

    return resolve
