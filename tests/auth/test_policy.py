"""The role x action matrix against DESIGN.md section 4, row by row."""

import pytest

from app.auth.policy import MATRIX, Action, Reach, authorize, scope_grants
from app.auth.principal import Principal, Role
from app.errors import Forbidden

R, L, P, C, A = Role.REFERRER, Role.LINK_WORKER, Role.PROVIDER, Role.COMMISSIONER, Role.ADMIN

# Transcribed from the DESIGN.md table; a change to either must be deliberate.
EXPECTED: dict[Action, set[Role]] = {
    Action.REFERRAL_CREATE: {R, A},
    Action.REFERRAL_READ: {R, L, A},
    Action.REFERRAL_REVOKE: {R, A},
    Action.TASK_UPDATE: {L, A},
    Action.CASELOAD_READ: {L, A},
    Action.MATCH_READ: {L, A},
    Action.MATCH_MARK: {L, A},  # issue 19 (not in DESIGN.md's table yet)
    Action.UNSUITABLE_READ: {P, C, A},  # issue 19: providers their own activities
    Action.BOOKING_WRITE: {L, A},
    Action.BOOKING_READ: {L, P, A},
    Action.ATTENDANCE_MARK: {L, P, A},
    Action.OUTCOME_WRITE: {L, A},
    Action.OUTCOME_READ: {R, L, A},
    Action.OUTCOME_LIST: {L, A},
    Action.DIRECTORY_READ: {R, L, P, C, A},
    Action.DIRECTORY_WRITE: {P, A},
    Action.REPORT_READ: {C, A},
    Action.DIRECTORY_IMPORT: {A},
    Action.AREA_IMPORT: {A},
    Action.ROUTING_MANAGE: {A},
    Action.SUBSCRIPTION_MANAGE: {R, A},
    Action.NOTIFICATION_ADMIN: {A},
    Action.AUDIT_READ: {A},
    Action.TERMINOLOGY_MANAGE: {A},
}


def test_every_action_is_in_the_matrix() -> None:
    assert set(MATRIX) == set(Action) == set(EXPECTED)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", list(Role))
def test_matrix_matches_the_design(action: Action, role: Role) -> None:
    principal = Principal(sub="s", role=role, org="A81001")
    if role in EXPECTED[action]:
        assert isinstance(authorize(principal, action), Reach)
    else:
        with pytest.raises(Forbidden):
            authorize(principal, action)


def test_reach_follows_the_organisation_rules() -> None:
    def reach(role: Role, action: Action) -> Reach:
        return authorize(Principal("s", role, "A81001"), action)

    assert reach(R, Action.REFERRAL_READ) is Reach.REQUESTED
    assert reach(L, Action.REFERRAL_READ) is Reach.PERFORMED
    assert reach(P, Action.BOOKING_READ) is Reach.OWN_ACTIVITIES
    assert reach(P, Action.DIRECTORY_WRITE) is Reach.OWN_ACTIVITIES
    assert reach(A, Action.REFERRAL_READ) is Reach.ALL
    assert reach(C, Action.REPORT_READ) is Reach.ALL


@pytest.mark.parametrize(
    ("scope", "resource", "letter", "granted"),
    [
        ("system/ServiceRequest.write", "ServiceRequest", "c", True),
        ("system/ServiceRequest.write", "ServiceRequest", "r", False),
        ("system/ServiceRequest.read", "ServiceRequest", "r", True),
        ("system/ServiceRequest.*", "ServiceRequest", "u", True),
        ("system/*.read", "Task", "r", True),
        ("system/Task.cruds", "Task", "u", True),
        ("system/Task.rs", "Task", "u", False),
        ("user/ServiceRequest.s", "ServiceRequest", "r", True),
        ("system/ServiceRequest.c?category=x", "ServiceRequest", "c", True),
        ("system/Patient.read", "ServiceRequest", "r", False),
        ("launch/patient", "ServiceRequest", "r", False),
        ("openid", "ServiceRequest", "r", False),
    ],
)
def test_smart_scopes(scope: str, resource: str, letter: str, granted: bool) -> None:
    assert scope_grants(scope, resource, letter) is granted


def test_scopes_narrow_what_a_role_may_do() -> None:
    principal = Principal("s", R, "A81001", scopes=frozenset({"system/ServiceRequest.read"}))
    assert authorize(principal, Action.REFERRAL_READ) is Reach.REQUESTED
    with pytest.raises(Forbidden) as raised:
        authorize(principal, Action.REFERRAL_CREATE)
    assert "insufficient_scope" in raised.value.headers["WWW-Authenticate"]
