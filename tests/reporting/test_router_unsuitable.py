"""``/api/v1/reports/unsuitable``: the not-suitable marks per activity and reason, published by
the reports' disclosure rules; a provider sees its own activities, a commissioner all, no one a
person."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest

from app.auth.principal import Role
from app.reporting import service
from tests.conftest import TokenFactory
from tests.directory.conftest import OTHER_ODS, PROVIDER_ODS, CreateActivity, admin, create_activity

__all__ = ["admin", "create_activity"]  # fixtures
from tests.referrals import factories

NOTE = "Lives with her daughter on Mare Street"


async def _mark(
    client: httpx.AsyncClient, auth: TokenFactory, activity_id: str, reasons: list[str]
) -> None:
    """A new referral per reason, each marking the activity not suitable for that reason."""
    lw = auth(Role.LINK_WORKER, "Y02718")
    for reason in reasons:
        made = await client.post(
            "/fhir/ServiceRequest",
            json=factories.service_request(),
            headers=auth(Role.REFERRER, "A81001"),
        )
        assert made.status_code == 201, made.text
        marked = await client.put(
            f"/api/v1/referrals/{made.json()['id']}/matches/{activity_id}/unsuitable",
            json={"reason": reason, "note": NOTE},
            headers=lw,
        )
        assert marked.status_code == 201, marked.text


@pytest.fixture
async def marked(
    client: httpx.AsyncClient, auth: TokenFactory, create_activity: CreateActivity
) -> tuple[str, str]:
    ours = await create_activity(name="Choir")
    theirs = await create_activity(
        name="Other choir", organization={"name": "Other", "identifier": OTHER_ODS}
    )
    await _mark(client, auth, ours["id"], ["too-far"] * 9 + ["cost"] * 2)
    await _mark(client, auth, theirs["id"], ["language"] * 3)
    return ours["id"], theirs["id"]


def _figures(body: dict[str, Any]) -> dict[tuple[str, str], tuple[int | None, bool]]:
    found = {}
    for row in body["rows"]:
        assert set(row["group"]) == {"activity", "reason"}
        assert set(row["figures"]) == {"marks"}
        marks = row["figures"]["marks"]
        found[(row["group"]["activity"], row["group"]["reason"])] = (
            marks["value"],
            marks["suppressed"],
        )
    return found


async def test_a_commissioner_sees_every_activitys_marks_with_disclosure_control(
    client: httpx.AsyncClient, auth: TokenFactory, marked: tuple[str, str]
) -> None:
    ours, theirs = marked
    response = await client.get(
        "/api/v1/reports/unsuitable", headers=auth(Role.COMMISSIONER, "X24")
    )
    assert response.status_code == 200, response.text
    assert NOTE not in response.text
    assert "Okafor" not in response.text
    body = response.json()
    assert body["report"] == "unsuitable"
    assert body["group_by"] == service.UNSUITABLE_DIMENSIONS
    figures = _figures(body)
    assert figures[("all", "all")] == (15, False)  # 14 marks, rounded to 5
    assert figures[(ours, "cost")] == (None, True)
    assert figures[(theirs, "language")] == (None, True)
    for value, suppressed in figures.values():
        assert suppressed == (value is None)
        assert value is None or value == 0 or (value >= 8 and value % 5 == 0)
    # the two hidden cells cannot be worked out from what is published
    assert figures[(ours, "all")][1] or figures[(ours, "too-far")][1]


async def test_a_provider_sees_only_its_own_activities_and_others_none(
    client: httpx.AsyncClient, auth: TokenFactory, marked: tuple[str, str]
) -> None:
    ours, theirs = marked
    mine = await client.get("/api/v1/reports/unsuitable", headers=auth(Role.PROVIDER, PROVIDER_ODS))
    assert mine.status_code == 200, mine.text
    assert {a for a, _ in _figures(mine.json())} == {ours, "all"}
    other = await client.get("/api/v1/reports/unsuitable", headers=auth(Role.PROVIDER, OTHER_ODS))
    assert {a for a, _ in _figures(other.json())} == {theirs, "all"}
    assert _figures(other.json())[("all", "all")] == (None, True)  # three marks
    for role, org in ((Role.LINK_WORKER, "Y02718"), (Role.REFERRER, "A81001")):
        refused = await client.get("/api/v1/reports/unsuitable", headers=auth(role, org))
        assert refused.status_code == 403


async def test_the_report_as_csv_and_its_window(
    client: httpx.AsyncClient, auth: TokenFactory, marked: tuple[str, str]
) -> None:
    commissioner = auth(Role.COMMISSIONER, "X24")
    response = await client.get(
        "/api/v1/reports/unsuitable", headers={**commissioner, "Accept": "text/csv"}
    )
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["activity", "reason", "marks", "suppressed"]
    assert ["all", "all", "15", ""] in rows
    old = await client.get(
        "/api/v1/reports/unsuitable?from=2020-01-01&to=2020-12-31", headers=commissioner
    )
    assert _figures(old.json()) == {("all", "all"): (0, False)}
    bad = await client.get(
        "/api/v1/reports/unsuitable?from=2020-02-01&to=2020-01-01", headers=commissioner
    )
    assert bad.status_code == 400
