"""Every ``fullUrl`` and every reference the API emits resolves: a referral is taken through
intake, its Task, ``$match``, a search with ``_include``/``_revinclude``, a booking, outcomes and
their Observations, the practice's Subscriptions, and each link found in the answers (and in
the answers to those links) is followed with the token of the caller that received it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx

from app.auth.principal import Role
from app.fhir.examples import example
from tests.conftest import TokenFactory
from tests.directory.conftest import CreateActivity
from tests.outcomes.conftest import VALID, questionnaire_response
from tests.referrals import factories

HOME = "E5 1BF"  # in the Hackney area fixture


def _links(value: Any) -> Iterator[str]:
    """The ``fullUrl``s and non-local ``reference``s anywhere in a FHIR resource."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("fullUrl", "reference") and isinstance(item, str):
                if not item.startswith(("#", "urn:uuid:")):
                    yield item
            else:
                yield from _links(item)
    elif isinstance(value, list):
        for item in value:
            yield from _links(item)


def _path(link: str) -> str:
    """An absolute URL's path, or a relative reference (``Patient/1``) under /fhir."""
    return urlsplit(link).path if "://" in link else f"/fhir/{link}"


async def test_every_full_url_and_reference_resolves(
    client: httpx.AsyncClient,
    auth: TokenFactory,
    admin: dict[str, str],
    areas: None,
    create_activity: CreateActivity,
) -> None:
    gp, lw = auth(Role.REFERRER, "A81001"), auth(Role.LINK_WORKER, "Y02718")
    received: list[tuple[dict[str, Any], dict[str, str]]] = []

    async def call(method: str, url: str, headers: dict[str, str], **kwargs: Any) -> Any:
        response = await client.request(method, url, headers=headers, **kwargs)
        assert response.status_code in (200, 201), (url, response.text)
        body = response.json()
        received.append((body, headers))
        return body

    activity = await create_activity(
        name="Choir",
        locations=[{"name": "Hall", "postcode": HOME, "latitude": 51.5647, "longitude": -0.0626}],
    )
    person = factories.patient(address=[{"postalCode": HOME}])
    referral = await call(
        "POST", "/fhir/ServiceRequest", gp, json=factories.service_request(person=person)
    )
    rid = referral["id"]
    task = (await call("GET", f"/fhir/Task?focus={rid}", lw))["entry"][0]["resource"]
    body = {k: v for k, v in task.items() if k not in ("meta", "lastModified")}
    await call("PUT", f"/fhir/Task/{task['id']}", lw, json={**body, "status": "accepted"})

    matched = await call("GET", f"/fhir/ServiceRequest/{rid}/$match", lw)
    assert matched["entry"][0]["resource"]["id"] == activity["id"]
    await call(
        "GET",
        f"/fhir/ServiceRequest?_id={rid}&_include=ServiceRequest:subject&_revinclude=Task:focus",
        lw,
    )
    await call("GET", f"/fhir/ServiceRequest?_id={rid}&_include=ServiceRequest:subject", gp)
    booking = await client.post(
        f"/api/v1/referrals/{rid}/bookings", json={"activity_id": activity["id"]}, headers=lw
    )
    assert booking.status_code == 201, booking.text
    attended = await client.patch(
        f"/api/v1/bookings/{booking.json()['id']}", json={"status": "attended"}, headers=lw
    )
    assert attended.status_code == 200, attended.text
    await call("GET", f"/fhir/Task?focus={rid}", gp)

    await call("POST", "/fhir/QuestionnaireResponse", lw, json=questionnaire_response(rid, "UCLA3"))
    outcome = {
        "instrument": "SWEMWBS",
        "timepoint": "baseline",
        "collected_at": "2026-11-05T14:30:00+00:00",
        "mode": "assisted",
        "answers": VALID["SWEMWBS"],
    }
    recorded = await client.post(f"/api/v1/referrals/{rid}/outcomes", json=outcome, headers=lw)
    assert recorded.status_code == 201, recorded.text
    observations = await call("GET", f"/fhir/Observation?based-on=ServiceRequest/{rid}", lw)
    assert observations["total"] >= 2
    await call("GET", f"/fhir/AuditEvent?entity=ServiceRequest/{rid}", admin)
    await call("GET", "/fhir/HealthcareService", gp)
    subscription = await call("POST", "/fhir/Subscription", gp, json=example("subscription"))
    await call("GET", "/fhir/Subscription", gp)

    followed: set[tuple[str, str]] = set()
    queue = [(link, headers) for body, headers in received for link in _links(body)]
    while queue:
        link, headers = queue.pop()
        key = (_path(link), headers["Authorization"])
        if key in followed:
            continue
        followed.add(key)
        response = await client.get(_path(link), headers=headers)
        assert response.status_code == 200, (link, response.text)
        queue.extend((found, headers) for found in _links(response.json()))
    paths = {path for path, _ in followed}
    assert f"/fhir/HealthcareService/{activity['id']}" in paths
    assert any(p.startswith("/fhir/Observation/") for p in paths)
    assert any(p.startswith("/fhir/Patient/") for p in paths)
    assert f"/fhir/Subscription/{subscription['id']}" in paths
