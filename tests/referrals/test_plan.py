"""The rows a new referral is stored as (app/referrals/plan.py): planned once, without a
database, for the intake writer's batches and for the one-by-one path alike."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

import pytest

from app.audit import service as audit
from app.auth.principal import Principal, Role
from app.errors import Unprocessable
from app.referrals import intake, needs, plan
from app.terminology.resolver import NO_PHRASES
from app.terminology.service import NeedMaps
from tests.referrals import factories

NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
ACTOR = audit.Actor(Principal(sub="test-admin", role=Role.ADMIN, org="X26"), "req-1")


def _draft(**overrides: Any) -> intake.ReferralDraft:
    return intake.check_referral(
        factories.service_request(**overrides),
        resolve_needs=needs.resolver(NeedMaps({}, NO_PHRASES)),
        clock_skew=dt.timedelta(seconds=60),
    )


def _stored_person(draft: intake.ReferralDraft, resource: dict[str, Any]) -> dict[str, Any]:
    given = draft.patient
    return {
        "id": uuid.uuid4(),
        "version_id": 3,
        "nhs_number": given.nhs_number,
        "birth_date": given.birth_date,
        "gender": given.gender,
        "postcode": given.postcode,
        "resource": resource,
        "created_at": NOW - dt.timedelta(days=30),
        "updated_at": NOW - dt.timedelta(days=30),
    }


def _versions(rows: plan.Rows) -> list[tuple[str, int]]:
    return sorted((v["resource_type"], v["version_id"]) for v in rows.versions)


def _audited(rows: plan.Rows) -> list[tuple[str, str]]:
    return sorted((a["operation"], a["entity_type"]) for a in rows.audit)


def test_the_performer_is_the_given_one_then_the_practices_rule_then_the_default() -> None:
    given = dataclasses.replace(_draft(), performer_ods="Y00001")
    unrouted = dataclasses.replace(_draft(requester_ods="A81001"), performer_ods=None)
    assert plan.unrouted([given, unrouted]) == ["A81001"]
    assert plan.performer(given, {"A81001": "Y00002"}, "Y00003") == "Y00001"
    assert plan.performer(unrouted, {"A81001": "Y00002"}, "Y00003") == "Y00002"
    assert plan.performer(unrouted, {}, "Y00003") == "Y00003"
    with pytest.raises(Unprocessable, match="No link-worker service"):
        plan.performer(unrouted, {"B82002": "Y00002"}, None)


def test_a_new_person_s_referral_is_planned_as_rows_per_table() -> None:
    draft = dataclasses.replace(_draft(), consent=factories.consent())
    rows = plan.Rows()
    planned = plan.add_referral(rows, draft, "Y02718", None, ACTOR, NOW)
    assert planned.created
    assert planned.patient_changed
    assert [p["nhs_number"] for p in rows.patients] == [draft.patient.nhs_number]
    assert rows.patient_updates == []
    [referral], [task], [consent] = rows.referrals, rows.tasks, rows.consents
    assert referral["performer_ods"] == task["owner_ods"] == "Y02718"
    assert referral["patient_id"] == task["patient_id"] == planned.patient.id
    assert task["referral_id"] == consent["referral_id"] == referral["id"] == planned.referral.id
    assert referral["created_at"] == task["authored_on"] == NOW
    assert rows.identifiers == [
        {"referral_id": referral["id"], "system": s, "value": v} for s, v in draft.identifiers
    ]
    assert len(rows.codings) == len(draft.codes) + len(draft.categories)
    assert _versions(rows) == [("Consent", 1), ("Patient", 1), ("ServiceRequest", 1), ("Task", 1)]
    assert all(v["recorded_at"] == NOW for v in rows.versions)
    assert _audited(rows) == [
        ("create", "Consent"),
        ("create", "ServiceRequest"),
        ("create", "Task"),
        ("update", "Patient"),
    ]
    assert {a["request_id"] for a in rows.audit} == {"req-1"}
    assert {a["patient_id"] for a in rows.audit} == {planned.patient.id}


def test_a_known_person_is_updated_only_when_the_referral_brings_new_demographics() -> None:
    draft = _draft()
    same = _stored_person(draft, draft.patient.resource)
    rows = plan.Rows()
    planned = plan.add_referral(rows, draft, "Y02718", same, ACTOR, NOW)
    assert not planned.patient_changed
    assert planned.patient.id == same["id"]
    assert planned.patient.version_id == 3
    assert rows.patients == []
    assert rows.patient_updates == []
    assert _versions(rows) == [("ServiceRequest", 1), ("Task", 1)]
    assert _audited(rows) == [("create", "ServiceRequest"), ("create", "Task")]

    moved = _stored_person(draft, {**draft.patient.resource, "gender": "other"})
    rows = plan.Rows()
    planned = plan.add_referral(rows, draft, "Y02718", moved, ACTOR, NOW)
    assert planned.patient_changed
    [(values, expected)] = rows.patient_updates
    assert (values["id"], values["version_id"], expected) == (moved["id"], 4, 3)
    assert values["resource"] == draft.patient.resource
    assert values["created_at"] == moved["created_at"]
    assert values["updated_at"] == NOW
    assert _versions(rows) == [("Patient", 4), ("ServiceRequest", 1), ("Task", 1)]


def test_a_kept_version_is_the_rendered_resource_under_its_type_id_and_version() -> None:
    resource = {"resourceType": "Task", "id": str(uuid.uuid4()), "meta": {"versionId": "2"}}
    assert plan.version_row(resource, NOW) == {
        "resource_type": "Task",
        "resource_id": uuid.UUID(resource["id"]),
        "version_id": 2,
        "recorded_at": NOW,
        "resource": resource,
    }
