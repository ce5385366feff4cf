"""Outcomes as FHIR: Questionnaire, QuestionnaireResponse (scored as JSON), Observation.

Every FHIR response these tests receive is also checked by the independent validator.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.auth.principal import Role
from app.outcomes.fhir import MODE_URL, QUESTIONNAIRE_BASE, TIMEPOINT_URL, questionnaire_url
from app.outcomes.instruments import INSTRUMENTS, SWEMWBS_METRIC
from app.outcomes.models import OutcomeRecord
from tests.conftest import TokenFactory
from tests.outcomes.conftest import VALID, Case, outcome, questionnaire_response

QR = "/fhir/QuestionnaireResponse"


def expressions(response: httpx.Response) -> list[str]:
    return [e for issue in response.json()["issue"] for e in issue.get("expression", [])]


async def records(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(OutcomeRecord)) or 0)


# --- Questionnaire -----------------------------------------------------------------------------


async def test_one_questionnaire_per_instrument(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    headers = auth(Role.COMMISSIONER, "QWO")  # definitions hold nobody's data: every role
    bundle = (await client.get("/fhir/Questionnaire", headers=headers)).json()
    assert bundle["total"] == len(INSTRUMENTS)
    by_name = {e["resource"]["name"]: e["resource"] for e in bundle["entry"]}
    assert set(by_name) == set(INSTRUMENTS)
    for code, spec in INSTRUMENTS.items():
        q = by_name[code]
        assert q["url"] == f"{QUESTIONNAIRE_BASE}/{q['id']}" == questionnaire_url(code)
        assert q["status"] == "active"
        assert [i["linkId"] for i in q["item"]] == list(spec.item_ids)
        assert [i["text"] for i in q["item"]] == [item.label for item in spec.items]
        for item, rendered in zip(spec.items, q["item"], strict=True):
            assert rendered["required"] is True
            if item.is_numeric:
                assert rendered["type"] == "integer"
                low, high = (e["valueInteger"] for e in rendered["extension"])
                assert list(range(low, high + 1)) == list(item.values)
            else:
                assert rendered["type"] == "string"
                assert [o["valueString"] for o in rendered["answerOption"]] == list(item.values)
    assert by_name["ONS4"]["item"][0]["extension"] == [
        {"url": "http://hl7.org/fhir/StructureDefinition/minValue", "valueInteger": 0},
        {"url": "http://hl7.org/fhir/StructureDefinition/maxValue", "valueInteger": 10},
    ]


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        (f"url={QUESTIONNAIRE_BASE}/swemwbs", ["swemwbs"]),
        (f"url={QUESTIONNAIRE_BASE}/swemwbs|0.1.0", ["swemwbs"]),
        ("name=ons", ["ons4", "ons-loneliness"]),
        ("_id=ucla3,wemwbs", ["wemwbs", "ucla3"]),
        ("_id=phq9", []),
    ],
)
async def test_search_questionnaires(
    client: httpx.AsyncClient, lw: dict[str, str], query: str, ids: list[str]
) -> None:
    bundle = (await client.get(f"/fhir/Questionnaire?{query}", headers=lw)).json()
    assert [e["resource"]["id"] for e in bundle.get("entry", [])] == ids
    assert bundle["total"] == len(ids)


async def test_read_questionnaire(client: httpx.AsyncClient, lw: dict[str, str]) -> None:
    read = await client.get("/fhir/Questionnaire/ons-loneliness", headers=lw)
    assert read.status_code == 200
    assert read.json()["item"][0]["type"] == "string"
    missing = await client.get("/fhir/Questionnaire/phq9", headers=lw)
    assert missing.status_code == 404
    assert missing.json()["resourceType"] == "OperationOutcome"
    assert (await client.get("/fhir/Questionnaire/ons4")).status_code == 401


# --- QuestionnaireResponse: scored as the JSON API -----------------------------------------------


def scores(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(s["measure"], s["value"], s["band"], s["category"], s["lonely"]) for s in body]


@pytest.mark.parametrize("instrument", list(INSTRUMENTS))
async def test_json_and_questionnaire_response_score_the_same(
    client: httpx.AsyncClient, lw: dict[str, str], case: Case, instrument: str
) -> None:
    as_json = await client.post(
        f"/api/v1/referrals/{case.referral_id}/outcomes", json=outcome(instrument), headers=lw
    )
    assert as_json.status_code == 201, as_json.text
    created = await client.post(
        QR, json=questionnaire_response(case.referral_id, instrument), headers=lw
    )
    assert created.status_code == 201, created.text
    response = created.json()
    assert created.headers["location"].endswith(
        f"/QuestionnaireResponse/{response['id']}/_history/1"
    )
    assert created.headers["etag"] == 'W/"1"'
    assert response["subject"] == {"reference": f"Patient/{case.patient_id}"}  # filled in
    listed = (
        await client.get(f"/api/v1/referrals/{case.referral_id}/outcomes", headers=lw)
    ).json()["outcomes"]
    from_json, from_fhir = listed
    assert from_json["source"] == "json"
    assert from_fhir["source"] == "questionnaire-response"
    assert from_fhir["questionnaire_response_id"] == response["id"]
    for key in ("instrument", "timepoint", "collected_at", "mode", "answers", "referral_id"):
        assert from_json[key] == from_fhir[key], key
    assert scores(from_json["scores"]) == scores(from_fhir["scores"])
    assert scores(as_json.json()["scores"]) == scores(from_fhir["scores"])
    # read back as FHIR
    read = await client.get(f"{QR}/{response['id']}", headers=lw)
    assert read.status_code == 200
    assert read.json() == response
    vread = await client.get(f"{QR}/{response['id']}/_history/1", headers=lw)
    assert vread.json() == response
    assert (await client.get(f"{QR}/{response['id']}/_history/2", headers=lw)).status_code == 404


@pytest.mark.parametrize("instrument", list(INSTRUMENTS))
async def test_questionnaire_response_items_are_checked_like_json(
    client: httpx.AsyncClient,
    lw: dict[str, str],
    case: Case,
    session: AsyncSession,
    instrument: str,
) -> None:
    for item in INSTRUMENTS[instrument].items:
        missing = {k: v for k, v in VALID[instrument].items() if k != item.id}
        response = await client.post(
            QR, json=questionnaire_response(case.referral_id, instrument, missing), headers=lw
        )
        assert response.status_code == 422, response.text
        assert expressions(response) == [
            f"QuestionnaireResponse.item.where(linkId='{item.id}').answer"
        ]
        assert item.id in response.json()["issue"][0]["details"]["text"]
        numbers = [v for v in item.values if isinstance(v, int)]
        bad: Any = max(numbers) + 1 if numbers else "sometimes"
        wrong = {**VALID[instrument], item.id: bad}
        response = await client.post(
            QR, json=questionnaire_response(case.referral_id, instrument, wrong), headers=lw
        )
        assert response.status_code == 422, response.text
        assert expressions(response) == [
            f"QuestionnaireResponse.item.where(linkId='{item.id}').answer"
        ]
    assert await records(session) == 0


def _without(resource: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if k != key}


BAD_RESPONSES: list[tuple[str, Any, int, str]] = [
    ("status", lambda r: {**r, "status": "in-progress"}, 422, "QuestionnaireResponse.status"),
    (
        "questionnaire",
        lambda r: {**r, "questionnaire": "https://example.org/Questionnaire/phq9"},
        422,
        "QuestionnaireResponse.questionnaire",
    ),
    (
        "no questionnaire",
        lambda r: _without(r, "questionnaire"),
        422,
        "QuestionnaireResponse.questionnaire",
    ),
    ("no basedOn", lambda r: _without(r, "basedOn"), 422, "QuestionnaireResponse.basedOn"),
    (
        "basedOn a Task",
        lambda r: {**r, "basedOn": [{"reference": "CarePlan/1"}]},
        422,
        "QuestionnaireResponse.basedOn",
    ),
    (
        "unknown referral",
        lambda r: {
            **r,
            "basedOn": [{"reference": "ServiceRequest/8a0d8f4e-4a4b-4a3c-9d3e-2f1b0c9d8e7f"}],
        },
        422,
        "QuestionnaireResponse.basedOn",
    ),
    (
        "another person",
        lambda r: {
            **r,
            "subject": {"reference": "Patient/8a0d8f4e-4a4b-4a3c-9d3e-2f1b0c9d8e7f"},
        },
        422,
        "QuestionnaireResponse.subject",
    ),
    ("date only", lambda r: {**r, "authored": "2026-11-05"}, 422, "QuestionnaireResponse.authored"),
    ("no authored", lambda r: _without(r, "authored"), 422, "QuestionnaireResponse.authored"),
    (
        "future",
        lambda r: {**r, "authored": "2099-11-05T10:00:00Z"},
        422,
        "QuestionnaireResponse.authored",
    ),
    (
        "two timepoints",
        lambda r: {**r, "extension": [*r["extension"], r["extension"][0]]},
        422,
        f"QuestionnaireResponse.extension('{TIMEPOINT_URL}')",
    ),
    (
        "bad mode",
        lambda r: {
            **r,
            "extension": [
                {"url": TIMEPOINT_URL, "valueCode": "baseline"},
                {"url": MODE_URL, "valueCode": "telepathy"},
            ],
        },
        422,
        f"QuestionnaireResponse.extension('{MODE_URL}')",
    ),
    (
        "twice",
        lambda r: {**r, "item": [*r["item"], r["item"][0]]},
        422,
        "QuestionnaireResponse.item[7].linkId",
    ),
    (
        "two answers",
        lambda r: {
            **r,
            "item": [
                {"linkId": "1", "answer": [{"valueInteger": 3}, {"valueInteger": 4}]},
                *r["item"][1:],
            ],
        },
        422,
        "QuestionnaireResponse.item[0].answer",
    ),
    (
        "coding",
        lambda r: {
            **r,
            "item": [
                {"linkId": "1", "answer": [{"valueCoding": {"code": "3"}}]},
                *r["item"][1:],
            ],
        },
        422,
        "QuestionnaireResponse.item[0].answer",
    ),
    (
        "nested",
        lambda r: {**r, "item": [{**r["item"][0], "item": [{"linkId": "x"}]}, *r["item"][1:]]},
        422,
        "QuestionnaireResponse.item[0].item",
    ),
    (
        "decimal",
        lambda r: {
            **r,
            "item": [{"linkId": "1", "answer": [{"valueDecimal": 3.5}]}, *r["item"][1:]],
        },
        422,
        "QuestionnaireResponse.item.where(linkId='1').answer",
    ),
    ("unknown element", lambda r: {**r, "colour": "blue"}, 400, "QuestionnaireResponse.colour"),
    ("wrong type", lambda r: {**r, "resourceType": "Observation"}, 400, ""),
]


@pytest.mark.parametrize(
    ("change", "status", "expression"),
    [b[1:] for b in BAD_RESPONSES],
    ids=[b[0] for b in BAD_RESPONSES],
)
async def test_bad_questionnaire_responses(
    client: httpx.AsyncClient,
    lw: dict[str, str],
    case: Case,
    session: AsyncSession,
    change: Any,
    status: int,
    expression: str,
) -> None:
    body = change(questionnaire_response(case.referral_id, "SWEMWBS"))
    response = await client.post(QR, json=body, headers=lw)
    assert response.status_code == status, response.text
    assert response.json()["resourceType"] == "OperationOutcome"
    if expression:
        assert expression in expressions(response)
    assert await records(session) == 0


@pytest.mark.parametrize("authored", ["2026-11-05T14:30:00", "2026-11-05T14:30"])
async def test_authored_without_a_time_zone_is_refused_saying_so(
    client: httpx.AsyncClient, lw: dict[str, str], case: Case, authored: str
) -> None:
    body = questionnaire_response(case.referral_id, "SWEMWBS", authored=authored)
    response = await client.post(QR, json=body, headers=lw)
    assert response.status_code == 400, response.text
    issue = response.json()["issue"][0]
    assert issue["expression"] == ["QuestionnaireResponse.authored"]
    assert "a time zone is required" in issue["details"]["text"]


async def test_without_the_timepoint_extension_the_first_is_baseline_then_follow_up(
    client: httpx.AsyncClient, lw: dict[str, str], case: Case
) -> None:
    """A plain FHIR client does not know the project's extension (DESIGN.md section 9)."""

    def plain(instrument: str, authored: str) -> dict[str, Any]:
        body = questionnaire_response(case.referral_id, instrument, authored=authored)
        body["extension"] = [e for e in body["extension"] if e["url"] != TIMEPOINT_URL]
        return body

    answered = []
    for instrument, authored in [
        ("SWEMWBS", "2026-11-05T14:30:00Z"),
        ("UCLA3", "2026-11-06T14:30:00Z"),
        ("SWEMWBS", "2026-12-01T14:30:00Z"),
    ]:
        response = await client.post(QR, json=plain(instrument, authored), headers=lw)
        assert response.status_code == 201, response.text
        timepoints = [e for e in response.json()["extension"] if e["url"] == TIMEPOINT_URL]
        answered.append(timepoints[0]["valueCode"])
    assert answered == ["baseline", "baseline", "follow-up"]
    listed = (await client.get(f"/api/v1/referrals/{case.referral_id}/outcomes", headers=lw)).json()
    assert [o["timepoint"] for o in listed["outcomes"]] == answered
    explicit = questionnaire_response(
        case.referral_id, "UCLA3", authored="2026-12-02T14:30:00Z", timepoint="exit"
    )
    response = await client.post(QR, json=explicit, headers=lw)
    assert response.status_code == 201, response.text
    assert {"url": TIMEPOINT_URL, "valueCode": "exit"} in response.json()["extension"]


async def test_prefer_minimal(client: httpx.AsyncClient, lw: dict[str, str], case: Case) -> None:
    response = await client.post(
        QR,
        json=questionnaire_response(case.referral_id, "ONS4", patient_id=case.patient_id),
        headers={**lw, "Prefer": "return=minimal"},
    )
    assert response.status_code == 201
    assert response.content == b""
    assert "/QuestionnaireResponse/" in response.headers["location"]


# --- Observation -------------------------------------------------------------------------------


async def test_observations_of_a_referral(
    client: httpx.AsyncClient, lw: dict[str, str], case: Case
) -> None:
    qr = (
        await client.post(QR, json=questionnaire_response(case.referral_id, "SWEMWBS"), headers=lw)
    ).json()
    for instrument in ("WEMWBS", "ONS4", "UCLA3", "ONS_LONELINESS"):
        posted = await client.post(
            f"/api/v1/referrals/{case.referral_id}/outcomes",
            json=outcome(instrument, timepoint="baseline", collected_at="2026-11-06T09:00Z"),
            headers=lw,
        )
        assert posted.status_code == 201
    bundle = (
        await client.get(
            f"/fhir/Observation?based-on=ServiceRequest/{case.referral_id}", headers=lw
        )
    ).json()
    assert bundle["total"] == 2 + 1 + 4 + 1 + 1
    observations = [e["resource"] for e in bundle["entry"]]
    for obs in observations:
        assert obs["status"] == "final"
        assert obs["category"][0]["coding"][0]["code"] == "survey"
        assert obs["basedOn"] == [{"reference": f"ServiceRequest/{case.referral_id}"}]
        assert obs["subject"] == {"reference": f"Patient/{case.patient_id}"}
        assert obs["extension"] == [{"url": TIMEPOINT_URL, "valueCode": "baseline"}]
    snomed = {
        c["code"]: obs
        for obs in observations
        for c in obs["code"].get("coding", [])
        if c["system"] == "http://snomed.info/sct"
    }
    assert set(snomed) == {"718466001", "718426000"}
    assert snomed["718466001"]["valueInteger"] == 14
    assert snomed["718466001"]["derivedFrom"] == [
        {"reference": f"QuestionnaireResponse/{qr['id']}"}
    ]
    assert snomed["718466001"]["effectiveDateTime"].startswith("2026-11-05T14:30:00")
    assert snomed["718426000"]["valueInteger"] == 42
    assert "derivedFrom" not in snomed["718426000"]
    metric = [o for o in observations if "valueQuantity" in o]
    assert [o["valueQuantity"]["value"] for o in metric] == [SWEMWBS_METRIC[14]]
    # only SWEMWBS and WEMWBS totals carry SNOMED CT codes; the rest are text
    texts = sorted(o["code"]["text"] for o in observations if "coding" not in o["code"])
    assert texts == sorted(
        [
            "SWEMWBS metric score (Rasch-converted)",
            "ONS4 life satisfaction",
            "ONS4 things done are worthwhile",
            "ONS4 happiness yesterday",
            "ONS4 anxiety yesterday",
            "UCLA3 total score",
            "ONS_LONELINESS how often lonely",
        ]
    )
    lonely = [o for o in observations if "valueString" in o]
    assert [(o["valueString"], o["interpretation"]) for o in lonely] == [
        ("often-always", [{"text": "lonely"}])
    ]
    # read one, and search by the QuestionnaireResponse it came from
    one = await client.get(f"/fhir/Observation/{snomed['718466001']['id']}", headers=lw)
    assert one.json() == snomed["718466001"]
    derived = (
        await client.get(
            f"/fhir/Observation?derived-from=QuestionnaireResponse/{qr['id']}", headers=lw
        )
    ).json()
    assert derived["total"] == 2
    dated = (
        await client.get(
            f"/fhir/Observation?subject=Patient/{case.patient_id}&date=ge2026-11-06", headers=lw
        )
    ).json()
    assert dated["total"] == 7
    paged = (
        await client.get(f"/fhir/Observation?based-on={case.referral_id}&_count=4", headers=lw)
    ).json()
    assert len(paged["entry"]) == 4
    assert [link["relation"] for link in paged["link"]] == ["self", "next"]


async def test_bad_observation_searches(client: httpx.AsyncClient, lw: dict[str, str]) -> None:
    bad = await client.get("/fhir/Observation?date=tomorrow", headers=lw)
    assert bad.status_code == 400
    strict = await client.get(
        "/fhir/Observation?code=718466001", headers={**lw, "Prefer": "handling=strict"}
    )
    assert strict.status_code == 400
    modifier = await client.get("/fhir/Observation?based-on:missing=true", headers=lw)
    assert modifier.status_code == 400
    assert (await client.get("/fhir/Observation/not-a-uuid", headers=lw)).status_code == 404


# --- who may -------------------------------------------------------------------------------------


async def test_another_service_sees_nothing(
    client: httpx.AsyncClient, auth: TokenFactory, lw: dict[str, str], case: Case
) -> None:
    qr = (
        await client.post(QR, json=questionnaire_response(case.referral_id, "UCLA3"), headers=lw)
    ).json()
    obs = (
        await client.get(
            f"/fhir/Observation?based-on=ServiceRequest/{case.referral_id}", headers=lw
        )
    ).json()["entry"][0]["resource"]
    other = auth(Role.LINK_WORKER, "Y09999")
    assert (await client.get(f"{QR}/{qr['id']}", headers=other)).status_code == 404
    assert (await client.get(f"/fhir/Observation/{obs['id']}", headers=other)).status_code == 404
    search = await client.get(
        f"/fhir/Observation?based-on=ServiceRequest/{case.referral_id}", headers=other
    )
    assert search.json()["total"] == 0
    posted = await client.post(
        QR, json=questionnaire_response(case.referral_id, "UCLA3"), headers=other
    )
    assert posted.status_code == 422
    assert expressions(posted) == ["QuestionnaireResponse.basedOn"]
    admin = auth(Role.ADMIN, "X26")
    assert (await client.get(f"{QR}/{qr['id']}", headers=admin)).status_code == 200
    another_practice = auth(Role.REFERRER, "A81002")
    assert (await client.get(f"{QR}/{qr['id']}", headers=another_practice)).status_code == 404
    gp = auth(
        Role.REFERRER, "A81001"
    )  # the requester reads (tests/outcomes/test_router_referrer.py)
    assert (await client.get(f"{QR}/{qr['id']}", headers=gp)).status_code == 200
    for role, org in ((Role.PROVIDER, "P12345"), (Role.COMMISSIONER, "QWO")):
        headers = auth(role, org)
        assert (await client.get(f"{QR}/{qr['id']}", headers=headers)).status_code == 403
        assert (
            await client.get(f"/fhir/Observation/{obs['id']}", headers=headers)
        ).status_code == 403
        assert (await client.get("/fhir/Observation", headers=headers)).status_code == 403
        posted = await client.post(
            QR, json=questionnaire_response(case.referral_id, "UCLA3"), headers=headers
        )
        assert posted.status_code == 403


async def test_fhir_accesses_are_audited(
    client: httpx.AsyncClient, lw: dict[str, str], case: Case, session: AsyncSession
) -> None:
    qr = (
        await client.post(QR, json=questionnaire_response(case.referral_id, "WEMWBS"), headers=lw)
    ).json()
    await client.get(f"{QR}/{qr['id']}", headers=lw)
    bundle = (
        await client.get(
            f"/fhir/Observation?based-on=ServiceRequest/{case.referral_id}", headers=lw
        )
    ).json()
    obs_id = bundle["entry"][0]["resource"]["id"]
    await client.get(f"/fhir/Observation/{obs_id}", headers=lw)
    rows = await session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity_type.in_(["QuestionnaireResponse", "Observation"]))
        .order_by(AuditEvent.recorded_at)
    )
    assert [(r.entity_type, r.operation, r.entity_id, str(r.patient_id)) for r in rows] == [
        ("QuestionnaireResponse", "create", qr["id"], case.patient_id),
        ("QuestionnaireResponse", "read", qr["id"], case.patient_id),
        ("Observation", "search", obs_id, case.patient_id),
        ("Observation", "read", obs_id, case.patient_id),
    ]


async def test_metadata_lists_the_outcome_resources(client: httpx.AsyncClient) -> None:
    statement = (await client.get("/fhir/metadata")).json()
    types = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert {"Questionnaire", "QuestionnaireResponse", "Observation"} <= set(types)
    assert {p["name"] for p in types["Observation"]["searchParam"]} >= {"based-on", "_id"}
    assert [i["code"] for i in types["QuestionnaireResponse"]["interaction"]] == [
        "create",
        "read",
        "vread",
    ]
