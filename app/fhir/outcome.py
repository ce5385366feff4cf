"""OperationOutcome: the body of every FHIR error and of ``Prefer: return=OperationOutcome``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.errors import AppError, Issue


def operation_outcome(
    issues: Iterable[Issue], default_code: str, summary: str | None = None
) -> dict[str, Any]:
    """An R4 OperationOutcome: ``details.text`` says what is wrong with the element named in
    ``expression``; ``diagnostics`` carries the error's overall message."""
    rendered = []
    for issue in issues:
        entry: dict[str, Any] = {
            "severity": issue.severity,
            "code": issue.code or default_code,
            "diagnostics": summary or issue.message,
            "details": {"text": issue.message},
        }
        if issue.expression:
            entry["expression"] = [issue.expression]
        rendered.append(entry)
    return {"resourceType": "OperationOutcome", "issue": rendered}


def outcome_for(error: AppError) -> dict[str, Any]:
    return operation_outcome(error.all_issues(), error.code, error.message)


def information(message: str) -> dict[str, Any]:
    """An all-is-well OperationOutcome, for ``Prefer: return=OperationOutcome``."""
    return operation_outcome([Issue(message, severity="information", code="informational")], "")
