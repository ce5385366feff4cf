"""The complete examples of docs/fhir.md are the OpenAPI contract's, valid FHIR, and accepted by
the service as the demo sets it up: routing rules of the demo practices, no default performer."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Role
from app.config import Settings
from app.demo import referrals as demo_referrals
from app.demo.seed import DemoOptions, seed_routing
from app.fhir import FHIR_JSON
from app.fhir.examples import SUMMARIES, example
from tests.conftest import ROOT, TokenFactory, make_settings, validate_fhir

DOC = ROOT / "docs" / "fhir.md"
JSON_BLOCK = re.compile(r"^```json\n(.*?)^```$", re.DOTALL | re.MULTILINE)
OPERATIONS = {
    "service-request": ("post", "/fhir/ServiceRequest"),
    "transaction": ("post", "/fhir"),
    "questionnaire-response": ("post", "/fhir/QuestionnaireResponse"),
    "subscription": ("post", "/fhir/Subscription"),
}


def page_examples() -> list[dict[str, Any]]:
    return [json.loads(block) for block in JSON_BLOCK.findall(DOC.read_text())]


@pytest.fixture
def settings(database_url: str) -> Settings:
    """As the demo runs: no default performer, so a referral is routed by its practice's rule."""
    return make_settings(database_url, default_performer_ods=None)


def test_the_page_shows_the_contracts_examples(app: Any) -> None:
    paths = app.openapi()["paths"]
    in_contract = []
    for name, (method, path) in OPERATIONS.items():
        for media in paths[path][method]["requestBody"]["content"].values():
            assert media["examples"] == {name: {"summary": SUMMARIES[name], "value": example(name)}}
        in_contract.append(example(name))
    assert page_examples() == in_contract


def test_every_example_is_valid_fhir() -> None:
    result = validate_fhir(page_examples())
    assert result.returncode == 0, result.stdout


async def test_every_example_is_accepted_as_the_demo_runs(
    client: httpx.AsyncClient, session: AsyncSession, auth: TokenFactory
) -> None:
    await seed_routing(session, DemoOptions())
    await session.commit()
    referral, bundle, answers, subscription = page_examples()
    gp = auth(Role.REFERRER, referral["requester"]["identifier"]["value"])
    lw = auth(Role.LINK_WORKER, demo_referrals.LINK_WORKER_ODS)

    created = await client.post("/fhir/ServiceRequest", json=referral, headers=gp)
    assert created.status_code == 201, created.text
    stored = created.json()
    assert stored["performer"][0]["identifier"]["value"] == demo_referrals.LINK_WORKER_ODS

    practice = bundle["entry"][1]["resource"]["requester"]["identifier"]["value"]
    sent = await client.post(
        "/fhir", json=bundle, headers={**auth(Role.REFERRER, practice), "Content-Type": FHIR_JSON}
    )
    assert sent.status_code == 200, sent.text
    assert [e["response"]["status"][:3] for e in sent.json()["entry"]] == ["201"] * 3

    tasks = await client.get(f"/fhir/Task?focus=ServiceRequest/{stored['id']}", headers=lw)
    task = tasks.json()["entry"][0]["resource"]
    accept = {k: v for k, v in task.items() if k not in ("meta", "lastModified")}
    accepted = await client.put(
        f"/fhir/Task/{task['id']}", json={**accept, "status": "accepted"}, headers=lw
    )
    assert accepted.status_code == 200, accepted.text
    answers = copy.deepcopy(answers)
    answers["basedOn"] = [{"reference": f"ServiceRequest/{stored['id']}"}]
    recorded = await client.post("/fhir/QuestionnaireResponse", json=answers, headers=lw)
    assert recorded.status_code == 201, recorded.text
    subscribed = await client.post("/fhir/Subscription", json=subscription, headers=gp)
    assert subscribed.status_code == 201, subscribed.text
