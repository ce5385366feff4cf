from __future__ import annotations

import copy
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Role
from app.directory.models import Activity, Organisation
from tests.conftest import TokenFactory

DATA = Path(__file__).parent / "data"
FULL = json.loads((DATA / "examples_service_full.json").read_text())
LIST = json.loads((DATA / "examples_service_list.json").read_text())
IMPORT = "/api/v1/directory/import"


def realistic_export() -> list[dict[str, Any]]:
    """A council-style export: the official example plus services built on its shape."""
    walk = copy.deepcopy(FULL)
    walk.update(id="0b8d1c9e-2f7a-4f37-9d0e-4a8c9f1e2d31", name="Canal Health Walk")
    walk["attributes"] = [
        {"id": "a1", "taxonomy_term": {"id": "walking", "name": "Walking", "taxonomy": "local"}},
        {"id": "a2", "taxonomy_term": {"id": "t-lonely", "name": "Loneliness isolation"}},
    ]
    location = walk["service_at_locations"][0]["location"]
    location.update(latitude=51.5445, longitude=-0.0640)
    location["addresses"][0]["postal_code"] = "e8 3ab"
    walk["schedules"][0].update(valid_from="2026-01-01", valid_to=None, byday="WE")
    walk["cost_options"] = [{"id": "c1", "amount": 0, "option": "Everyone"}]
    walk["service_areas"] = [{"id": "s1", "name": "Hackney", "service_area": "E09000012"}]
    walk["languages"] = [{"id": "l1", "name": "English"}, {"id": "l2", "code": "tr"}]
    walk["organization"]["organization_identifiers"] = [
        {"id": "i1", "identifier_scheme": "GB-CHC", "identifier": "1090001"}
    ]
    walk["capacities"] = [{"id": "cap", "available": 4, "maximum": 15}]
    return [FULL, walk]


async def test_the_official_full_example_imports_with_warnings(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    admin = auth(Role.ADMIN, "X26")
    response = await client.post(IMPORT, json=[FULL], headers=admin)
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["created"], report["updated"], report["rejected"]) == (1, 0, 0)
    warnings = {w["field"]: w["message"] for w in report["rows"][0]["warnings"]}
    assert (
        "impossible coordinates (100.0, 101.0)"
        in warnings["service_at_locations[0].location.latitude"]
    )
    assert "expired on 2005-01-01" in warnings["schedules[0].valid_to"]
    assert "not an activity-category" in warnings["attributes[0].taxonomy_term"]
    assert (
        "not a UK postcode" in warnings["service_at_locations[0].location.addresses[0].postal_code"]
    )
    read = (await client.get(f"/api/v1/directory/services/{FULL['id']}", headers=admin)).json()
    assert read["name"] == "Community Counselling"
    assert read["minimum_age"] == 12
    assert read["locations"][0]["latitude"] is None  # location unknown
    assert set(read["locations"][0]["accessibility"]) == {"wheelchair", "hearing-loop"}
    assert read["attending_type"] == "hybrid"  # physical location + "remotely via video"
    assert read["schedules"][0]["valid_to"] == "2005-01-01"  # kept
    assert read["taxonomy_terms"][0]["id"] == "3f7b145d-84af-42d7-8fae-eaca714b02b2"
    assert read["categories"] == []
    assert read["cost_options"][0]["amount"] == 35
    assert read["contact"] == {
        "name": "Ann Persona",
        "title": "Reception Manager",
        "phone": None,
        "email": None,
    }
    assert read["organization"]["identifier"] == "1234567"  # GB-COH company number
    found = await client.get(
        "/api/v1/directory/services",
        params={"taxonomy_term_id": "3f7b145d-84af-42d7-8fae-eaca714b02b2"},
        headers=admin,
    )
    assert found.json()["total_items"] == 1


async def test_the_official_page_example_imports(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    response = await client.post(IMPORT, json=LIST, headers=auth(Role.ADMIN, "X26"))
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 1


async def test_a_realistic_export_imports_then_updates(
    client: httpx.AsyncClient, session: AsyncSession, auth: TokenFactory
) -> None:
    admin = auth(Role.ADMIN, "X26")
    first = (await client.post(IMPORT, json=realistic_export(), headers=admin)).json()
    assert (first["created"], first["updated"]) == (2, 0)
    walk_id = realistic_export()[1]["id"]
    read = (await client.get(f"/api/v1/directory/services/{walk_id}", headers=admin)).json()
    assert read["categories"] == ["walking"]
    assert read["target_needs"] == ["loneliness-isolation"]
    assert read["service_areas"] == ["E09000012"]
    assert read["languages"] == ["en", "tr"]
    assert read["has_free_option"] is True
    assert read["capacity"] == {"maximum": 15, "available": 4}
    assert read["locations"][0]["postcode"] == "E8 3AB"
    assert read["organization"]["identifier"] == "1090001"
    again = (await client.post(IMPORT, json=realistic_export(), headers=admin)).json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    assert [r["outcome"] for r in again["rows"]] == ["unchanged", "unchanged"]
    changed = realistic_export()
    changed[1]["description"] = "A gentler walk along the canal."
    third = (await client.post(IMPORT, json=changed, headers=admin)).json()
    assert (third["created"], third["updated"], third["unchanged"]) == (0, 1, 1)
    assert third["deactivated"] == 0
    assert await session.scalar(select(func.count()).select_from(Activity)) == 2
    assert await session.scalar(select(func.count()).select_from(Organisation)) == 1
    # the charity (GB-CHC 1090001) may now edit its activity as a provider
    provider = auth(Role.PROVIDER, "1090001")
    body = {**read, "name": "Canal Health Walk (summer)"}
    for key in ("id", "has_free_option", "last_modified", "taxonomy_terms"):
        body.pop(key)
    body["organization"] = {"name": "Example", "identifier": "1090001"}
    for location in body["locations"]:
        location.pop("id")
    changed = await client.put(f"/api/v1/directory/services/{walk_id}", json=body, headers=provider)
    assert changed.status_code == 200, changed.text


async def test_bad_rows_change_nothing_and_every_one_is_reported(
    client: httpx.AsyncClient, session: AsyncSession, auth: TokenFactory
) -> None:
    admin = auth(Role.ADMIN, "X26")
    await client.post(IMPORT, json=[FULL], headers=admin)
    changed = copy.deepcopy(FULL)
    changed["name"] = "Renamed"
    no_id = {"name": "Nameless id"}
    no_name = {"id": "row-2"}
    wrong_type = {**copy.deepcopy(FULL), "id": "row-3", "minimum_age": "twelve"}
    bad_status = {"id": "row-4", "name": "x", "status": "open"}
    duplicate = {"id": "row-5", "name": "a"}
    bad_schedule = {"id": "row-6", "name": "b", "schedules": [{"opens_at": "ten"}]}
    document = {
        "contents": [
            changed, no_id, no_name, wrong_type, bad_status, duplicate, duplicate,
            bad_schedule, "not an object",
        ]
    }  # fmt: skip
    response = await client.post(IMPORT, json=document, headers=admin)
    assert response.status_code == 422
    errors = {(e["field"], e["message"].split(":")[0]) for e in response.json()["errors"]}
    assert errors == {
        ("contents[1].id", "row 1 (no id)"),
        ("contents[2].name", "row 2 (row-2)"),
        ("contents[3].minimum_age", "row 3 (row-3)"),
        ("contents[4].status", "row 4 (row-4)"),
        ("contents[6].id", "row 6 (row-5)"),
        ("contents[7].schedules[0].opens_at", "row 7 (row-6)"),
        ("contents[8]", "row 8 (no id)"),
    }
    assert "7 of 9 services cannot be stored" in response.json()["detail"]
    assert await session.scalar(select(func.count()).select_from(Activity)) == 1
    unchanged = await client.get(f"/api/v1/directory/services/{FULL['id']}", headers=admin)
    assert unchanged.json()["name"] == "Community Counselling"


async def test_only_admins_import(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    for role, org in [(Role.PROVIDER, "DEMOPROV1"), (Role.LINK_WORKER, "Y02718")]:
        response = await client.post(IMPORT, json=[FULL], headers=auth(role, org))
        assert response.status_code == 403


async def test_a_document_that_is_no_export_is_422(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    response = await client.post(IMPORT, json={"hello": "world"}, headers=auth(Role.ADMIN, "X26"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "contents"


def run_cli(*args: str, database_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m app.cli *args`` on ``database_url``, with ``env`` (settings) added."""
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={"ASSETLINK_DATABASE_URL": database_url, "PATH": "/usr/bin:/bin", **env},
    )


def test_the_cli_imports_all_or_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert run_cli("migrate", database_url=url).returncode == 0
    good = tmp_path / "good.json"
    good.write_text(json.dumps(LIST))
    done = run_cli("import-directory", str(good), database_url=url)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["created"] == 1
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"id": "x"}, FULL]))
    refused = run_cli("import-directory", str(bad), database_url=url)
    assert refused.returncode == 1
    assert "[0].name: row 0 (x): every service needs a name" in refused.stderr
    again = run_cli("import-directory", str(good), database_url=url)
    assert json.loads(again.stdout)["unchanged"] == 1
    missing = run_cli("import-directory", str(tmp_path / "nope.json"), database_url=url)
    assert missing.returncode == 2


def test_expiry_is_judged_against_today() -> None:
    from app.directory.oruk import map_service

    row = {"id": "x", "name": "y", "schedules": [{"valid_to": "2026-06-30"}]}

    def expiry(today: dt.date) -> list[str]:
        return [w.field for w in map_service(0, row, today).warnings if "expired" in w.message]

    assert expiry(dt.date(2026, 6, 30)) == []
    assert expiry(dt.date(2026, 7, 1)) == ["schedules[0].valid_to"]
