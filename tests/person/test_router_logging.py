"""No detail a person sends in a self-referral reaches the logs: the API and the form, accepted,
refused, linked and honeypot, with the service's logging at its most verbose."""

from __future__ import annotations

import io

import httpx

from tests.ops.test_logging import logs  # noqa: F401 (the fixture)
from tests.person.conftest import refer
from tests.person.test_router_form import open_form, post

DETAILS = ("Amira", "Haddad", "LS6 3AB", "LS63AB", "ls6 3ab", "07700", "amira@", "lonely")
FORM_DETAILS = ("Tomasz", "Nowak", "LS6 2QF", "tomasz@", "wife", "B86001")
NHS = "9434765919"


async def test_self_referrals_log_no_personal_details(
    client: httpx.AsyncClient,
    logs: io.StringIO,  # noqa: F811
) -> None:
    assert (await refer(client, nhs_number=NHS)).status_code == 202
    assert (await refer(client, nhs_number=NHS, about="again, I feel lonely")).status_code == 202
    assert (await refer(client, consent=False)).status_code == 422
    assert (await refer(client, website="x")).status_code == 202
    token = await open_form(client)
    assert (await post(client, token)).status_code == 200
    assert (await post(client, token, consent="")).status_code == 422
    lines = logs.getvalue()
    assert lines.count('"route"') >= 7  # the access lines were captured
    for detail in (*DETAILS, *FORM_DETAILS, NHS, "943 476 5919"):
        assert detail.casefold() not in lines.casefold(), detail
