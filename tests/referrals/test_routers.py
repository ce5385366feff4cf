"""REST semantics of R4 http.html for referrals: create, conditional create, idempotent retry,
Prefer, read/vread/history, update with If-Match, the transaction endpoint."""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Role
from app.referrals.models import Patient, Referral, ReferralNeed, Task
from app.terminology.codesystems import NEED_SYSTEM
from tests.conftest import TokenFactory, assert_local_references_resolve
from tests.referrals import factories

GP = ("A81001",)


@pytest.fixture
def gp(auth: TokenFactory) -> dict[str, str]:
    return auth(Role.REFERRER, "A81001")


@pytest.fixture
def lw(auth: TokenFactory) -> dict[str, str]:
    return auth(Role.LINK_WORKER, "Y02718")


async def create(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    payload: dict[str, Any] | None = None,
    **kw: Any,
) -> httpx.Response:
    return await client.post(
        "/fhir/ServiceRequest", json=payload or factories.service_request(), headers=headers, **kw
    )


async def count(session: AsyncSession, model: Any) -> int:
    return await session.scalar(select(func.count()).select_from(model)) or 0


class TestCreate:
    async def test_created_referral_is_routed_and_has_a_task(
        self, client: httpx.AsyncClient, gp: dict[str, str], lw: dict[str, str]
    ) -> None:
        created = (await create(client, gp)).json()
        assert created["status"] == "active"
        assert created["subject"]["reference"].startswith("Patient/")
        assert created["performer"][0]["identifier"]["value"] == "Y02718"  # the default performer
        assert "contained" in created
        assert all(c["resourceType"] != "Patient" for c in created["contained"])
        bundle = (
            await client.get(f"/fhir/Task?focus=ServiceRequest/{created['id']}", headers=gp)
        ).json()
        task = bundle["entry"][0]["resource"]
        assert task["status"] == "requested"
        assert task["intent"] == "order"
        assert task["code"]["coding"][0]["code"] == "fulfill"
        assert task["owner"]["identifier"]["value"] == "Y02718"
        assert task["requester"]["identifier"]["value"] == "A81001"
        assert task["for"] == created["subject"]
        # the link worker sees it in its caseload
        caseload = (await client.get("/fhir/Task?owner=Y02718&status=requested", headers=lw)).json()
        assert caseload["total"] == 1

    async def test_explicit_performer_and_routing_rule(
        self, client: httpx.AsyncClient, gp: dict[str, str], auth: TokenFactory
    ) -> None:
        explicit = factories.service_request(
            performer=[
                {
                    "identifier": {
                        "system": "https://fhir.nhs.uk/Id/ods-organization-code",
                        "value": "Y11111",
                    }
                }
            ]
        )
        assert (await create(client, gp, explicit)).json()["performer"][0]["identifier"][
            "value"
        ] == "Y11111"
        admin = auth(Role.ADMIN, "X26")
        rule = await client.put(
            "/api/v1/routing/A81001", json={"performer_ods": "Y22222"}, headers=admin
        )
        assert rule.status_code == 201
        routed = (await create(client, gp)).json()
        assert routed["performer"][0]["identifier"]["value"] == "Y22222"
        assert (await client.get("/api/v1/routing", headers=admin)).json()[0][
            "performer_ods"
        ] == "Y22222"
        assert (await client.delete("/api/v1/routing/A81001", headers=admin)).status_code == 204
        assert (await client.delete("/api/v1/routing/A81001", headers=admin)).status_code == 404
        assert (await client.get("/api/v1/routing", headers=gp)).status_code == 403

    async def test_same_person_reuses_one_patient_with_new_demographics(
        self, client: httpx.AsyncClient, session: AsyncSession, gp: dict[str, str]
    ) -> None:
        number = factories.nhs_number()
        first = (
            await create(client, gp, factories.service_request(person=factories.patient(number)))
        ).json()
        moved = factories.patient(number, address=[{"postalCode": "NW5 1TL"}])
        second = (await create(client, gp, factories.service_request(person=moved))).json()
        assert first["subject"] == second["subject"]
        assert await count(session, Patient) == 1
        patient = (await client.get(f"/fhir/{second['subject']['reference']}", headers=gp)).json()
        assert patient["address"][0]["postalCode"] == "NW5 1TL"
        assert patient["meta"]["versionId"] == "2"
        history = (
            await client.get(f"/fhir/{second['subject']['reference']}/_history", headers=gp)
        ).json()
        assert [e["resource"]["meta"]["versionId"] for e in history["entry"]] == ["2", "1"]

    async def test_retry_without_header_is_idempotent(
        self, client: httpx.AsyncClient, session: AsyncSession, gp: dict[str, str]
    ) -> None:
        payload = factories.service_request()
        first = await create(client, gp, payload)
        again = await create(client, gp, copy.deepcopy(payload))
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json()["id"] == first.json()["id"]
        assert await count(session, Referral) == 1
        assert await count(session, Task) == 1

    async def test_conditional_create(
        self, client: httpx.AsyncClient, session: AsyncSession, gp: dict[str, str]
    ) -> None:
        payload = factories.service_request(identifier_value="GP-0001")
        header = {"If-None-Exist": f"identifier={factories.GP_SYSTEM}|GP-0001"}
        first = await create(client, {**gp, **header}, payload)
        assert first.status_code == 201
        other = factories.service_request(
            identifier_value="GP-0002"
        )  # different body, same criterion
        second = await create(client, {**gp, **header}, other)
        assert second.status_code == 200
        assert second.json()["id"] == first.json()["id"]
        assert await count(session, Referral) == 1

    async def test_identifier_of_another_practice_is_a_conflict(
        self, client: httpx.AsyncClient, gp: dict[str, str], auth: TokenFactory
    ) -> None:
        await create(client, gp, factories.service_request(identifier_value="SHARED-1"))
        other = auth(Role.REFERRER, "B82002")
        response = await create(
            client,
            other,
            factories.service_request(requester_ods="B82002", identifier_value="SHARED-1"),
        )
        assert response.status_code == 409
        assert "another organisation" in response.json()["issue"][0]["diagnostics"]

    @pytest.mark.parametrize(
        ("prefer", "body_type"),
        [
            ("return=minimal", None),
            ("return=representation", "ServiceRequest"),
            ("return=OperationOutcome", "OperationOutcome"),
        ],
    )
    async def test_prefer_return(
        self, client: httpx.AsyncClient, gp: dict[str, str], prefer: str, body_type: str | None
    ) -> None:
        response = await create(client, {**gp, "Prefer": prefer})
        assert response.status_code == 201
        assert response.headers["ETag"] == 'W/"1"'
        assert "Location" in response.headers
        assert "Last-Modified" in response.headers
        if body_type is None:
            assert response.content == b""
        else:
            assert response.json()["resourceType"] == body_type

    async def test_application_json_is_accepted(
        self, client: httpx.AsyncClient, gp: dict[str, str]
    ) -> None:
        response = await client.post(
            "/fhir/ServiceRequest",
            json=factories.service_request(),
            headers={**gp, "Content-Type": "application/json"},
        )
        assert response.status_code == 201
        assert response.headers["content-type"] == "application/fhir+json"

    async def test_needs_and_preferences(
        self, client: httpx.AsyncClient, session: AsyncSession, gp: dict[str, str]
    ) -> None:
        payload = factories.service_request(
            reasonCode=[
                {"text": "Struggling since moving"},
                {
                    "coding": [
                        {"system": "http://example.org/x", "code": "1", "display": "Money worries"}
                    ]
                },
            ]
        )
        response = await create(client, gp, payload)
        assert response.status_code == 201, response.text
        created = response.json()
        referral = await session.get(Referral, uuid.UUID(created["id"]))
        assert referral is not None
        assert referral.preferences == {
            "interests": ["music-singing"],
            "attendance_mode": "in-person",
            "digital_access": "limited",
            "max_travel_km": 5.0,
            "available_days": ["tue", "thu"],
            "free_only": True,
        }
        assert created["reasonCode"][0]["text"] == "Struggling since moving"

    async def test_authored_on_within_the_clock_skew_is_accepted(
        self, client: httpx.AsyncClient, gp: dict[str, str]
    ) -> None:
        """A referrer's clock a little ahead of the server's (under ASSETLINK_JWT_LEEWAY_S)."""
        ahead = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)).isoformat()
        response = await create(client, gp, factories.service_request(authoredOn=ahead))
        assert response.status_code == 201, response.text


class TestLocalReferences:
    """Every ``#id`` in what the API returns resolves to a contained resource: the contained
    Patient is taken out, so what referred to it now refers to ``Patient/{id}``."""

    async def test_create_read_and_search_include(
        self, client: httpx.AsyncClient, gp: dict[str, str]
    ) -> None:
        payload = factories.service_request()
        payload["contained"][1]["patient"] = {"reference": "#patient"}
        created = await create(client, gp, payload)
        assert created.status_code == 201, created.text
        sr = created.json()
        patient = sr["subject"]["reference"]
        consent = next(c for c in sr["contained"] if c["resourceType"] == "Consent")
        assert consent["patient"] == {"reference": patient}
        read = await client.get(f"/fhir/ServiceRequest/{sr['id']}", headers=gp)
        history = await client.get(f"/fhir/ServiceRequest/{sr['id']}/_history", headers=gp)
        search = await client.get(
            f"/fhir/ServiceRequest?_id={sr['id']}&_include=ServiceRequest:subject"
            "&_revinclude=Task:focus",
            headers=gp,
        )
        for response in (created, read, history, search):
            assert response.status_code == 200 or response is created, response.text
            assert_local_references_resolve(response.json())
        assert len(search.json()["entry"]) == 3

    async def test_transaction(self, client: httpx.AsyncClient, gp: dict[str, str]) -> None:
        bundle = factories.transaction()
        sr = bundle["entry"][1]["resource"]
        agreement = {**factories.consent(id="agreed"), "patient": sr["subject"]}
        sr["contained"] = [agreement]
        sr["supportingInfo"].append({"reference": "#agreed"})
        response = await client.post("/fhir", json=bundle, headers=gp)
        assert response.status_code == 200, response.text
        assert_local_references_resolve(response.json())
        stored = response.json()["entry"][1]["resource"]
        assert stored["contained"][0]["patient"] == stored["subject"]

    async def test_a_local_reference_that_resolves_to_nothing_is_refused(
        self, client: httpx.AsyncClient, gp: dict[str, str]
    ) -> None:
        payload = factories.service_request(reasonReference=[{"reference": "#condition"}])
        response = await create(client, gp, payload)
        assert response.status_code == 422, response.text
        expressions = [e for i in response.json()["issue"] for e in i.get("expression", [])]
        assert "ServiceRequest.reasonReference[0]" in expressions

    async def test_the_patient_may_not_refer_into_contained(
        self, client: httpx.AsyncClient, gp: dict[str, str]
    ) -> None:
        """The Patient is stored on its own: a ``#`` reference in it would resolve to nothing."""
        payload = factories.service_request()
        payload["contained"][0]["managingOrganization"] = {"reference": "#consent"}
        response = await create(client, gp, payload)
        assert response.status_code == 422, response.text
        expressions = [e for i in response.json()["issue"] for e in i.get("expression", [])]
        assert "ServiceRequest.contained[0].managingOrganization" in expressions


class TestTransaction:
    async def test_bundle_creates_patient_referral_and_consent(
        self, client: httpx.AsyncClient, gp: dict[str, str]
    ) -> None:
        response = await client.post("/fhir", json=factories.transaction(), headers=gp)
        assert response.status_code == 200, response.text
        bundle = response.json()
        assert bundle["type"] == "transaction-response"
        statuses = [e["response"]["status"] for e in bundle["entry"]]
        assert statuses == ["201 Created", "201 Created", "201 Created"]
        patient, sr, consent = (e["resource"] for e in bundle["entry"])
        assert sr["subject"] == {"reference": f"Patient/{patient['id']}"}
        assert {"reference": f"Consent/{consent['id']}"} in sr["supportingInfo"]
        assert consent["patient"] == {"reference": f"Patient/{patient['id']}"}
        read = await client.get(f"/fhir/Consent/{consent['id']}", headers=gp)
        assert read.status_code == 200
        assert read.json()["status"] == "active"

    async def test_bundle_updating_a_known_patient_answers_200_for_it(
        self, client: httpx.AsyncClient, gp: dict[str, str]
    ) -> None:
        """FHIR transaction-response: a create is 201, an update of what exists is 200."""
        number = factories.nhs_number()
        first = factories.transaction(factories.service_request(person=factories.patient(number)))
        assert (await client.post("/fhir", json=first, headers=gp)).status_code == 200
        moved = factories.patient(number, address=[{"postalCode": "NW1 8NH"}])
        second = factories.transaction(factories.service_request(person=moved))
        response = await client.post("/fhir", json=second, headers=gp)
        assert response.status_code == 200, response.text
        patient, sr, consent = response.json()["entry"]
        assert patient["response"]["status"] == "200 OK"
        assert patient["response"]["etag"] == 'W/"2"'
        assert patient["response"]["location"].endswith(
            f"/Patient/{patient['resource']['id']}/_history/2"
        )
        assert patient["resource"]["meta"]["versionId"] == "2"
        assert sr["response"]["status"] == consent["response"]["status"] == "201 Created"

    async def test_bundle_retry_is_idempotent(
        self, client: httpx.AsyncClient, session: AsyncSession, gp: dict[str, str]
    ) -> None:
        bundle = factories.transaction()
        await client.post("/fhir", json=bundle, headers=gp)
        again = (await client.post("/fhir", json=bundle, headers=gp)).json()
        assert [e["response"]["status"] for e in again["entry"]][:2] == ["200 OK", "200 OK"]
        assert await count(session, Referral) == 1


class TestReadUpdate:
    async def test_vread_and_history(self, client: httpx.AsyncClient, gp: dict[str, str]) -> None:
        created = (await create(client, gp)).json()
        url = f"/fhir/ServiceRequest/{created['id']}"
        revoked = {**created, "status": "revoked"}
        assert (
            await client.put(url, json=revoked, headers={**gp, "If-Match": 'W/"1"'})
        ).status_code == 200
        v1 = (await client.get(f"{url}/_history/1", headers=gp)).json()
        assert v1["status"] == "active"
        history = (await client.get(f"{url}/_history", headers=gp)).json()
        assert history["type"] == "history"
        assert [e["resource"]["status"] for e in history["entry"]] == ["revoked", "active"]
        assert (await client.get(f"{url}/_history/9", headers=gp)).status_code == 404
        assert (await client.get(f"{url}/_history/x", headers=gp)).status_code == 404
        # beyond the INTEGER column (PostgreSQL: 500, found by tests/test_contract.py), "²"
        for version in ("9" * 30, "2147483648", "\u00b2", "01"):
            assert (await client.get(f"{url}/_history/{version}", headers=gp)).status_code == 404

    async def test_revoking_cancels_the_task(
        self, client: httpx.AsyncClient, gp: dict[str, str]
    ) -> None:
        created = (await create(client, gp)).json()
        response = await client.put(
            f"/fhir/ServiceRequest/{created['id']}",
            json={**created, "status": "revoked"},
            headers=gp,
        )
        assert response.json()["status"] == "revoked"
        assert response.headers["ETag"] == 'W/"2"'
        task = (await client.get(f"/fhir/Task?focus={created['id']}", headers=gp)).json()["entry"][
            0
        ]["resource"]
        assert task["status"] == "cancelled"
        assert task["statusReason"]["text"]
        again = await client.put(
            f"/fhir/ServiceRequest/{created['id']}",
            json={**created, "status": "active"},
            headers=gp,
        )
        assert again.status_code == 422  # a revoked referral does not come back

    async def test_if_match_mismatch_is_412(
        self, client: httpx.AsyncClient, gp: dict[str, str]
    ) -> None:
        created = (await create(client, gp)).json()
        response = await client.put(
            f"/fhir/ServiceRequest/{created['id']}",
            json={**created, "status": "revoked"},
            headers={**gp, "If-Match": 'W/"7"'},
        )
        assert response.status_code == 412
        assert (await client.get(f"/fhir/ServiceRequest/{created['id']}", headers=gp)).json()[
            "status"
        ] == "active"

    async def test_id_mismatch_is_400(self, client: httpx.AsyncClient, gp: dict[str, str]) -> None:
        created = (await create(client, gp)).json()
        other = "0b4c6f5e-2d6a-4a0b-9a53-6f0f0b0b0b0b"
        response = await client.put(
            f"/fhir/ServiceRequest/{other}", json={**created, "status": "revoked"}, headers=gp
        )
        assert response.status_code == 400

    async def test_only_status_may_change(
        self, client: httpx.AsyncClient, gp: dict[str, str]
    ) -> None:
        created = (await create(client, gp)).json()
        changed = {**created, "status": "revoked", "intent": "plan"}
        response = await client.put(
            f"/fhir/ServiceRequest/{created['id']}", json=changed, headers=gp
        )
        assert response.status_code == 422
        assert response.json()["issue"][0]["expression"] == ["ServiceRequest.intent"]

    async def test_unknown_ids_are_404(self, client: httpx.AsyncClient, gp: dict[str, str]) -> None:
        for url in (
            "/fhir/ServiceRequest/nope",
            "/fhir/ServiceRequest/0b4c6f5e-2d6a-4a0b-9a53-6f0f0b0b0b0b",
            "/fhir/Task/x",
            "/fhir/Patient/1",
        ):
            response = await client.get(url, headers=gp)
            assert response.status_code == 404
            assert response.json()["issue"][0]["code"] == "not-found"


class TestNeeds:
    async def test_snomed_mapping_applies_at_once_after_an_admin_change(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        gp: dict[str, str],
        auth: TokenFactory,
    ) -> None:
        # no display nor text that a phrase would find: unmapped, the concept is 'other'
        reason = [
            {
                "coding": [{"system": "http://snomed.info/sct", "code": "35489007"}],
                "text": "See the GP record",
            }
        ]

        async def needs_of(payload: dict[str, Any]) -> list[str]:
            created = (await create(client, gp, payload)).json()
            rows = await session.scalars(
                select(ReferralNeed.need).where(
                    ReferralNeed.referral_id == uuid.UUID(created["id"])
                )
            )
            return sorted(rows)

        assert await needs_of(factories.service_request(reasonCode=reason)) == ["other"]
        admin = auth(Role.ADMIN, "X26")
        mapping = {
            "need": "low-mood",
            "display": "Depressive disorder",
            "source": "https://example.org/local-policy",
        }
        response = await client.put(
            "/api/v1/terminology/snomed-needs/35489007", json=mapping, headers=admin
        )
        assert response.status_code == 201, response.text
        assert await needs_of(factories.service_request(reasonCode=reason)) == ["low-mood"]
        shipped = [{"coding": [{"system": "http://snomed.info/sct", "code": "422650009"}]}]
        assert await needs_of(factories.service_request(reasonCode=shipped)) == [
            "loneliness-isolation"
        ]

    async def _stored_needs(self, session: AsyncSession, referral_id: str) -> dict[str, str | None]:
        rows = await session.execute(
            select(ReferralNeed.need, ReferralNeed.found_in).where(
                ReferralNeed.referral_id == uuid.UUID(referral_id)
            )
        )
        return {need: found_in for need, found_in in rows}  # noqa: C416 (rows are Rows)

    @pytest.mark.parametrize(
        ("reason", "expected"),
        [
            ({"text": "Money worries"}, {"debt-finance": "reasonCode[0].text"}),
            ({"text": "Recently bereaved"}, {"bereavement": "reasonCode[0].text"}),
            (
                {
                    "coding": [  # not in the shipped mapping
                        {
                            "system": factories.SNOMED,
                            "code": "1184702004",
                            "display": "Financial insecurity",
                        }
                    ]
                },
                {"debt-finance": "reasonCode[0].coding[0].display"},
            ),
            ({"text": "Wants to learn to swim"}, {"other": "reasonCode[0].text"}),
        ],
    )
    async def test_free_text_is_mapped_to_needs_and_kept(
        self,
        client: httpx.AsyncClient,
        session: AsyncSession,
        gp: dict[str, str],
        reason: dict[str, Any],
        expected: dict[str, str],
    ) -> None:
        payload = factories.service_request(reasonCode=[reason])
        created = await create(client, gp, payload)
        assert created.status_code == 201, created.text
        body = created.json()
        assert await self._stored_needs(session, body["id"]) == expected
        read = await client.get(f"/fhir/ServiceRequest/{body['id']}", headers=gp)
        assert read.json()["reasonCode"] == [reason]  # the original text, as sent

    async def test_a_transaction_keeps_where_a_need_was_found(
        self, client: httpx.AsyncClient, session: AsyncSession, gp: dict[str, str]
    ) -> None:
        sr = factories.service_request(
            reasonCode=[
                {"coding": [{"system": NEED_SYSTEM, "code": "housing"}]},
                {"text": "Lost her husband; money worries"},
            ]
        )
        response = await client.post("/fhir", json=factories.transaction(sr), headers=gp)
        assert response.status_code == 200, response.text
        referral_id = response.json()["entry"][1]["resource"]["id"]
        assert await self._stored_needs(session, referral_id) == {
            "housing": None,
            "bereavement": "reasonCode[1].text",
            "debt-finance": "reasonCode[1].text",
        }
