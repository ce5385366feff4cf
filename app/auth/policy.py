"""The role x action matrix of DESIGN.md section 4, in one place.

``authorize(principal, action)`` answers *whether* a role may take an action at all and returns
its ``Reach``: which records the caller may touch. Services apply the reach to their queries
(a referrer sees the referrals its organisation requested, a link worker those its organisation
performs, a provider the bookings of its own activities, an admin everything), so a record out of
reach is simply not found.

When a token carries a SMART ``scope`` claim, it must also allow the action: v1 scopes
(``system/ServiceRequest.read``, ``.write``, ``.*``) and v2 scopes (``system/Task.cruds``,
``user/*.rs``) are both understood, for the ``system``, ``user`` and ``patient`` contexts.
"""

from __future__ import annotations

from enum import StrEnum

from app.auth.principal import Principal, Role
from app.errors import Forbidden


class Action(StrEnum):
    REFERRAL_CREATE = "referral.create"
    REFERRAL_READ = "referral.read"  # ServiceRequest, Patient and Task read/search
    REFERRAL_REVOKE = "referral.revoke"
    TASK_UPDATE = "task.update"
    CASELOAD_READ = "caseload.read"  # the link-worker service's referrals as a work list
    MATCH_READ = "match.read"
    MATCH_MARK = "match.mark"  # mark an activity not suitable for a referral
    UNSUITABLE_READ = "unsuitable.read"  # the counts of those marks per activity and reason
    BOOKING_WRITE = "booking.write"
    BOOKING_READ = "booking.read"
    ATTENDANCE_MARK = "attendance.mark"
    OUTCOME_WRITE = "outcome.write"
    OUTCOME_READ = "outcome.read"  # Observation and QuestionnaireResponse read/search
    OUTCOME_LIST = "outcome.list"  # the JSON outcomes list with changes: the link worker's view
    DIRECTORY_READ = "directory.read"
    DIRECTORY_WRITE = "directory.write"
    REPORT_READ = "report.read"
    DIRECTORY_IMPORT = "directory.import"
    AREA_IMPORT = "area.import"
    ROUTING_MANAGE = "routing.manage"
    SUBSCRIPTION_MANAGE = "subscription.manage"
    NOTIFICATION_ADMIN = "notification.admin"  # failed deliveries: list and re-queue
    AUDIT_READ = "audit.read"
    TERMINOLOGY_MANAGE = "terminology.manage"  # SNOMED CT -> need mappings


class Reach(StrEnum):
    ALL = "all"  # every record
    REQUESTED = "requested"  # referrals whose requester is the caller's organisation
    PERFORMED = "performed"  # referrals whose performer is the caller's organisation
    OWN_ACTIVITIES = "own-activities"  # the caller's organisation's directory entries


_ADMIN = {Role.ADMIN: Reach.ALL}
_EVERYONE = dict.fromkeys(Role, Reach.ALL)

MATRIX: dict[Action, dict[Role, Reach]] = {
    Action.REFERRAL_CREATE: {Role.REFERRER: Reach.REQUESTED, **_ADMIN},
    Action.REFERRAL_READ: {
        Role.REFERRER: Reach.REQUESTED,
        Role.LINK_WORKER: Reach.PERFORMED,
        **_ADMIN,
    },
    Action.REFERRAL_REVOKE: {Role.REFERRER: Reach.REQUESTED, **_ADMIN},
    Action.TASK_UPDATE: {Role.LINK_WORKER: Reach.PERFORMED, **_ADMIN},
    Action.CASELOAD_READ: {Role.LINK_WORKER: Reach.PERFORMED, **_ADMIN},
    Action.MATCH_READ: {Role.LINK_WORKER: Reach.PERFORMED, **_ADMIN},
    Action.MATCH_MARK: {Role.LINK_WORKER: Reach.PERFORMED, **_ADMIN},
    Action.UNSUITABLE_READ: {
        Role.PROVIDER: Reach.OWN_ACTIVITIES,
        Role.COMMISSIONER: Reach.ALL,
        **_ADMIN,
    },
    Action.BOOKING_WRITE: {Role.LINK_WORKER: Reach.PERFORMED, **_ADMIN},
    Action.BOOKING_READ: {
        Role.LINK_WORKER: Reach.PERFORMED,
        Role.PROVIDER: Reach.OWN_ACTIVITIES,
        **_ADMIN,
    },
    Action.ATTENDANCE_MARK: {
        Role.LINK_WORKER: Reach.PERFORMED,
        Role.PROVIDER: Reach.OWN_ACTIVITIES,
        **_ADMIN,
    },
    Action.OUTCOME_WRITE: {Role.LINK_WORKER: Reach.PERFORMED, **_ADMIN},
    Action.OUTCOME_READ: {
        Role.REFERRER: Reach.REQUESTED,  # the message back to the GP
        Role.LINK_WORKER: Reach.PERFORMED,
        **_ADMIN,
    },
    Action.OUTCOME_LIST: {Role.LINK_WORKER: Reach.PERFORMED, **_ADMIN},
    Action.DIRECTORY_READ: _EVERYONE,
    Action.DIRECTORY_WRITE: {Role.PROVIDER: Reach.OWN_ACTIVITIES, **_ADMIN},
    Action.REPORT_READ: {Role.COMMISSIONER: Reach.ALL, **_ADMIN},
    Action.DIRECTORY_IMPORT: _ADMIN,
    Action.AREA_IMPORT: _ADMIN,
    Action.ROUTING_MANAGE: _ADMIN,
    Action.SUBSCRIPTION_MANAGE: {Role.REFERRER: Reach.REQUESTED, **_ADMIN},
    Action.NOTIFICATION_ADMIN: _ADMIN,
    Action.AUDIT_READ: _ADMIN,
    Action.TERMINOLOGY_MANAGE: _ADMIN,
}

# The FHIR resource type and SMART permission (v2 letters) that a scope must grant per action.
ACTION_SCOPES: dict[Action, tuple[str, str]] = {
    Action.REFERRAL_CREATE: ("ServiceRequest", "c"),
    Action.REFERRAL_READ: ("ServiceRequest", "r"),
    Action.REFERRAL_REVOKE: ("ServiceRequest", "u"),
    Action.TASK_UPDATE: ("Task", "u"),
    Action.CASELOAD_READ: ("Task", "r"),
    Action.MATCH_READ: ("HealthcareService", "r"),
    Action.MATCH_MARK: ("Task", "u"),
    Action.UNSUITABLE_READ: ("MeasureReport", "r"),
    Action.BOOKING_WRITE: ("Appointment", "c"),
    Action.BOOKING_READ: ("Appointment", "r"),
    Action.ATTENDANCE_MARK: ("Appointment", "u"),
    Action.OUTCOME_WRITE: ("QuestionnaireResponse", "c"),
    Action.OUTCOME_READ: ("Observation", "r"),
    Action.OUTCOME_LIST: ("Observation", "r"),
    Action.DIRECTORY_READ: ("HealthcareService", "r"),
    Action.DIRECTORY_WRITE: ("HealthcareService", "u"),
    Action.REPORT_READ: ("MeasureReport", "r"),
    Action.DIRECTORY_IMPORT: ("HealthcareService", "c"),
    Action.AREA_IMPORT: ("Location", "c"),
    Action.ROUTING_MANAGE: ("Organization", "u"),
    Action.SUBSCRIPTION_MANAGE: ("Subscription", "c"),
    Action.NOTIFICATION_ADMIN: ("Subscription", "u"),
    Action.AUDIT_READ: ("AuditEvent", "r"),
    Action.TERMINOLOGY_MANAGE: ("CodeSystem", "u"),
}

_V1_PERMISSIONS = {"read": "rs", "write": "cud", "*": "cruds"}


def scope_grants(scope: str, resource: str, letter: str) -> bool:
    """Whether one SMART scope (v1 or v2 syntax) grants ``letter`` on ``resource``."""
    context, _, rest = scope.partition("/")
    if context not in ("system", "user", "patient") or "." not in rest:
        return False
    scoped_resource, _, permission = rest.partition(".")
    permission = permission.split("?", 1)[0]  # v2 query constraints narrow rows, not actions
    if scoped_resource not in (resource, "*"):
        return False
    letters = _V1_PERMISSIONS.get(permission, permission)
    if letter == "r":
        return "r" in letters or "s" in letters
    return letter in letters


def authorize(principal: Principal, action: Action) -> Reach:
    """The caller's reach for ``action``; ``Forbidden`` when its role or scopes do not allow it."""
    reach = MATRIX[action].get(principal.role)
    if reach is None:
        raise Forbidden(f"The role '{principal.role}' may not perform '{action}'")
    if principal.scopes is not None:
        resource, letter = ACTION_SCOPES[action]
        if not any(scope_grants(s, resource, letter) for s in principal.scopes):
            raise Forbidden(
                f"The token's scopes do not allow '{action}' (needs {resource} '{letter}')",
                headers={"WWW-Authenticate": 'Bearer error="insufficient_scope"'},
            )
    return reach
