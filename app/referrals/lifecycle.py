"""The Task status graph (DESIGN.md 5.2, after the Gravity SDOH referral Task status set).

Every 409 about a Task's status is worded here from the graph: what status the Task is in and
the moves that would make the refused action possible (or that none can, from a final status).
"""

from __future__ import annotations

from collections.abc import Collection
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
REVOCABLE = ("active", "on-hold", "draft")  # ServiceRequest statuses a referrer may revoke


def moves_to(current: str, targets: Collection[str]) -> list[str] | None:
    """The fewest moves through the graph from ``current`` to one of ``targets`` (``[]`` when
    it is one already; ``None`` when none can be reached). Open statuses are preferred over
    final ones, so the way to "an open or cancelled Task" is never "cancel it"."""
    for wanted in (set(targets) - TERMINAL, set(targets)):
        paths: dict[str, list[str]] = {current: []}
        frontier = [current]
        while frontier:
            status = frontier.pop(0)
            if status in wanted:
                return paths[status]
            for following in sorted(TRANSITIONS.get(status, ())):
                if following not in paths:
                    paths[following] = [*paths[status], following]
                    frontier.append(following)
    return None


def remedy(current: str, targets: Collection[str], *, last_step: bool = True) -> str:
    """What would bring a Task in ``current`` to one of ``targets``, in words; without
    ``last_step`` the final move (the one refused) is left out."""
    path = moves_to(current, targets)
    if path is None and current in TERMINAL:
        return f"{current} is a final status, so nothing can make it possible for this referral"
    if path is None:
        return f"no move from {current} leads to {' or '.join(sorted(targets))}"
    steps = path if last_step else path[:-1]
    if not steps:
        return f"{current} allows it"
    return f"move the Task to {', then '.join(steps)} first"


def status_conflict(doing: str, current: str, allowed: Collection[str]) -> Conflict:
    """409 for an action the Task's status does not allow (``doing``: "book activities")."""
    return Conflict(
        f"Cannot {doing}: the referral's Task is {current}; {remedy(current, allowed)}",
        [Issue(f"Task status is {current}", "Task.status", code="business-rule")],
    )


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
            f"A Task cannot move from {current} to {new}: "
            f"{remedy(current, {new}, last_step=False)} "
            f"(allowed from {current}: {allowed})",
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
