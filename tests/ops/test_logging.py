"""No NHS number, name, date of birth or postcode of a person ever reaches the logs.

One journey through the whole service (intake, matches, a booking and its attendance, outcomes,
the Task completed, reports, audit reads, errors made on purpose, the worker delivering the Task
changes to a receiver on loopback) with the service's own logging set up at its most verbose
(``configure_logging("DEBUG")``: every logger of the API, the worker, SQLAlchemy and the drivers
writes its JSON lines), then every captured line is searched for the people's details.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.principal import Role
from app.ops import logging as ops_logging
from tests.conftest import TokenFactory
from tests.notifications import factories as notification_factories
from tests.notifications.receiver import Receiver
from tests.notifications.test_worker import until_delivered
from tests.outcomes.conftest import completed_with_outcomes
from tests.referrals import factories

# The people of the journey: tests.referrals.factories.patient's details, and one more.
SECOND = factories.patient(
    name=[{"family": "Szymanska", "given": ["Halina"]}],
    birthDate="1939-02-11",
    address=[{"line": ["3 Quarry Row"], "city": "Leeds", "postalCode": "LS6 2QF"}],
)
SECRETS = ("Okafor", "Grace", "1948-05-17", "NW1 7HS", "NW17HS", "Szymanska", "Halina")
SECRETS_CASELESS = ("1939-02-11", "LS6 2QF", "LS62QF")


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """Everything the service logs, as its JSON lines, at DEBUG."""
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict}
    monkeypatch.setattr(ops_logging.sys, "stdout", stream)
    ops_logging.configure_logging("DEBUG")
    yield stream
    root.handlers[:], _ = saved[0], root.setLevel(saved[1])
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def _nhs_numbers(text: str) -> list[str]:
    return re.findall(r"(?<!\d)\d{3} ?\d{3} ?\d{4}(?!\d)", text)


async def test_a_whole_journey_logs_no_personal_details(
    logs: io.StringIO,
    committed_client: httpx.AsyncClient,
    committed: async_sessionmaker[AsyncSession],
    make_worker: Any,
    receiver: Receiver,
    auth: TokenFactory,
) -> None:
    client = committed_client
    gp, lw = auth(Role.REFERRER, "A81001"), auth(Role.LINK_WORKER, "Y02718")
    admin, commissioner = auth(Role.ADMIN, "X26"), auth(Role.COMMISSIONER, "15N")
    await notification_factories.subscription(committed, receiver.url)
    done = await completed_with_outcomes(client, auth)
    rid, pid = done.case.referral_id, done.case.patient_id
    patient = (await client.get(f"/fhir/Patient/{pid}", headers=lw)).json()
    nhs_numbers = {i["value"] for i in patient["identifier"]}
    second = await client.post(
        "/fhir/ServiceRequest", json=factories.service_request(person=SECOND), headers=gp
    )
    assert second.status_code == 201, second.text
    nhs_numbers |= {i["value"] for i in SECOND["identifier"]}
    reads = [
        f"/api/v1/referrals/{second.json()['id']}/matches",
        f"/fhir/ServiceRequest/{rid}",
        f"/fhir/Task?focus={rid}",
        f"/api/v1/referrals/{rid}/outcomes",
        f"/fhir/AuditEvent?patient=Patient/{pid}",
        f"/fhir/AuditEvent?entity=ServiceRequest/{rid}",
    ]
    for path in reads:
        response = await client.get(path, headers=admin if "AuditEvent" in path else lw)
        assert response.status_code == 200, (path, response.text)
    for report in ("referrals", "outcomes", "equity"):
        response = await client.get(f"/api/v1/reports/{report}", headers=commissioner)
        assert response.status_code == 200, response.text
    searched = await client.get("/fhir/Patient?name=Okafor&birthdate=1948-05-17", headers=gp)
    assert searched.status_code == 200, searched.text
    number = next(iter(nhs_numbers))
    wrong = [  # errors on purpose, each carrying the people's details
        await client.post(  # an NHS number failing its check digit
            "/fhir/ServiceRequest",
            json=factories.service_request(person=factories.patient("9434765918")),
            headers=gp,
        ),
        await client.post(  # a person with no date of birth, named, with a postcode
            "/fhir/ServiceRequest",
            json=factories.service_request(person={**SECOND, "birthDate": "11/02/1939"}),
            headers=gp,
        ),
        await client.get(f"/fhir/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|{number}"),
        await client.get(f"/fhir/Patient/{number}", headers=lw),
        await client.post(
            "/fhir/ServiceRequest",
            content=b'{"resourceType": "ServiceRequest", "note": "Grace Okafor NW1 7HS',
            headers={**gp, "Content-Type": "application/fhir+json"},
        ),
    ]
    assert all(400 <= r.status_code < 500 for r in wrong), [r.status_code for r in wrong]
    await until_delivered(make_worker(), lambda: len(receiver.delivered()) >= 4)

    text = logs.getvalue()
    assert '"logger": "assetlink.access"' in text  # the capture saw the API
    assert '"logger": "assetlink.worker"' in text  # and the worker
    assert [s for s in SECRETS if s in text] == []
    assert [s for s in SECRETS_CASELESS if s.lower() in text.lower()] == []
    assert [n for n in nhs_numbers if n in text] == []
    assert [n for n in _nhs_numbers(text) if n.replace(" ", "") in nhs_numbers] == []
