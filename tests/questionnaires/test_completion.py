"""Paired completion by route (app/reporting/completion.py): the report API's figure and the
dashboard's outcomes page, for people sent a questionnaire link and people not."""

from __future__ import annotations

import datetime as dt

import httpx

from app.auth.principal import Role
from tests.conftest import TokenFactory
from tests.outcomes.conftest import VALID
from tests.questionnaires.conftest import Send, accepted_person, open_page

FORM = {k: str(v) for k, v in VALID["SWEMWBS"].items()}


async def record(
    client: httpx.AsyncClient, lw: dict[str, str], referral_id: str, timepoint: str
) -> None:
    posted = await client.post(
        f"/api/v1/referrals/{referral_id}/outcomes",
        json={
            "instrument": "SWEMWBS",
            "timepoint": timepoint,
            "collected_at": dt.datetime.now(dt.UTC).isoformat(),
            "mode": "assisted",
            "answers": VALID["SWEMWBS"],
        },
        headers=lw,
    )
    assert posted.status_code == 201, posted.text


async def test_paired_completion_by_route(
    committed_client: httpx.AsyncClient, auth: TokenFactory, lw: dict[str, str], send: Send
) -> None:
    # by the link worker: one paired, one with a baseline only, one with nothing (not counted)
    for timepoints in (("baseline", "follow-up"), ("baseline",), ()):
        person = await accepted_person(committed_client, auth)
        for timepoint in timepoints:
            await record(committed_client, lw, person.referral_id, timepoint)
    # sent a link: two answered it after a baseline, one did not
    for answered in (True, True, False):
        referral_id, token = await send()
        await record(committed_client, lw, referral_id, "baseline")
        if answered:
            _, csrf = await open_page(committed_client, token)
            done = await committed_client.post(f"/q/{token}", data={**FORM, "csrf_token": csrf})
            assert done.status_code == 200

    commissioner = auth(Role.COMMISSIONER, "15N")
    report = await committed_client.get("/api/v1/reports/paired-completion", headers=commissioner)
    assert report.status_code == 200, report.text
    figures = {
        row["group"]["route"]: {k: f["value"] for k, f in row["figures"].items()}
        for row in report.json()["rows"]
    }
    assert figures == {
        "link-worker": {"with_baseline": 2, "paired": 1, "share_paired": 50},
        "link": {"with_baseline": 3, "paired": 2, "share_paired": 67},
        "all": {"with_baseline": 5, "paired": 3, "share_paired": 60},
    }

    page = await committed_client.get("/dashboard/outcomes/panel", headers=commissioner)
    assert page.status_code == 200
    assert "Baseline and follow-up, by route" in page.text
    assert "Sent a questionnaire link" in page.text
    assert "By the link worker" in page.text
