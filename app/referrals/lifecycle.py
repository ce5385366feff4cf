"""The Task status graph (DESIGN.md 5.2, after the Gravity SDOH referral Task status set)."""

from __future__ import annotations

from typing import Any

from app.errors import Conflict, Issue, Unprocessable

TRANSITIONS: dict[str, frozenset[str]] = {
    "requested": frozenset({"accepted", "rejected", "cancelled"}),
    "accepted": frozenset({"in-progress", "on-hold", "cancelled", "failed"}),
    "in-progress": frozenset({"on-hold", "completed", "cancelled", "failed"}),
    "on-hold": frozenset({"in-progress", "cancelled", "failed"}),
}
TERMINAL = frozenset({"completed", "cancelled", "rejected", "failed"})
NEEDS_REASON = frozenset({"rejected", "cancelled", "failed", "on-hold"})
TASK_STATUSES = (
    "draft", "requested", "received", "accepted", "rejected", "ready", "cancelled",
    "in-progress", "on-hold", "failed", "completed", "entered-in-error",
)  # fmt: skip
DECLINED = ("http://snomed.info/sct", "871711000000103")  # Social prescribing declined


def check_transition(current: str, new: str, status_reason: dict[str, Any] | None) -> None:
    """409 for a move outside the graph; 422 when a status needs ``statusReason.text``."""
    if new not in TASK_STATUSES:
        raise Unprocessable(
            f"Unknown Task status {new!r}",
            [Issue("not a TaskStatus code", "Task.status", "code-invalid")],
        )
    if new != current and new not in TRANSITIONS.get(current, frozenset()):
        allowed = ", ".join(sorted(TRANSITIONS.get(current, frozenset()))) or "none (final)"
        raise Conflict(
            f"A Task cannot move from {current} to {new} (allowed: {allowed})",
            [Issue(f"illegal transition {current} -> {new}", "Task.status", code="business-rule")],
        )
    if new != current and new in NEEDS_REASON:
        text = (status_reason or {}).get("text")
        if not isinstance(text, str) or not text.strip():
            raise Unprocessable(
                f"A Task moving to {new} needs statusReason.text",
                [Issue("statusReason.text is required", "Task.statusReason.text", code="required")],
            )


def is_declined(status: str, status_reason: dict[str, Any] | None) -> bool:
    codings = (status_reason or {}).get("coding", [])
    return status == "cancelled" and any(
        (c.get("system"), c.get("code")) == DECLINED for c in codings if isinstance(c, dict)
    )
