"""Which referrals, Tasks and Patients a caller's reach (app/auth/policy.py) sees, as SQL
conditions: stated once for every query that filters by it, in this domain's repository and in
the joins of the caseload and outcomes queries."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, false, true

from app.auth.policy import Reach
from app.referrals.models import Patient, Referral, Task


def referral_visible(reach: Reach, org: str) -> ColumnElement[bool]:
    match reach:
        case Reach.ALL:
            return true()
        case Reach.REQUESTED:
            return Referral.requester_ods == org
        case Reach.PERFORMED:
            return Referral.performer_ods == org
        case _:
            return false()


def task_visible(reach: Reach, org: str) -> ColumnElement[bool]:
    match reach:
        case Reach.ALL:
            return true()
        case Reach.REQUESTED:
            return Task.requester_ods == org
        case Reach.PERFORMED:
            return Task.owner_ods == org
        case _:
            return false()


def patient_visible(reach: Reach, org: str) -> ColumnElement[bool]:
    return exists().where(Referral.patient_id == Patient.id, referral_visible(reach, org))
