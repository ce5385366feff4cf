"""The database dropped and made again (or restored) under a running app: the snapshot notices.

The snapshot is per database URL and follows the change log; a database made again under the
same URL starts a new log, which the snapshot must not take for the old one's continuation.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app import db, migrations
from app.auth.principal import Role
from app.main import create_app
from tests.conftest import (
    POSTGRES_URL,
    TokenFactory,
    _admin,
    in_thread,
    make_settings,
    postgres_database,
)
from tests.directory.conftest import activity_body
from tests.referrals import factories


@pytest.fixture(autouse=True)
def ping_every_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's pooled connections die with the database: each is checked before use, so
    the requests that follow are answered rather than 503."""
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.0)


async def _referral_and_activity(
    http: httpx.AsyncClient, auth: TokenFactory, name: str
) -> dict[str, Any]:
    created = await http.post(
        "/api/v1/directory/services",
        json=activity_body(name=name, attending_type="phone", locations=[]),
        headers=auth(Role.ADMIN, "X26"),
    )
    assert created.status_code == 201, created.text
    referral = await http.post(
        "/fhir/ServiceRequest",
        json=factories.service_request(),
        headers=auth(Role.REFERRER, "A81001"),
    )
    assert referral.status_code == 201, referral.text
    return dict(referral.json())


async def _matched(
    http: httpx.AsyncClient, auth: TokenFactory, referral: dict[str, Any]
) -> tuple[list[str], int, int]:
    """The names matched, how many activities pass every rule, and $match's total."""
    lw = auth(Role.LINK_WORKER, "Y02718")
    found = await http.get(f"/api/v1/referrals/{referral['id']}/matches", headers=lw)
    assert found.status_code == 200, found.text
    fhir = await http.get(f"/fhir/ServiceRequest/{referral['id']}/$match", headers=lw)
    assert fhir.status_code == 200, fhir.text
    body = found.json()
    names = sorted(m["activity"]["name"] for m in body["matches"])
    return names, body["eligible"], fhir.json()["total"]


async def test_postgresql_database_made_again_under_a_running_app(auth: TokenFactory) -> None:
    with postgres_database() as url:
        in_thread(lambda: migrations.upgrade(url))
        app = create_app(make_settings(url))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as http:
            for name in ("Phone friends", "Phone chess"):
                first = await _referral_and_activity(http, auth, name)
            assert await _matched(http, auth, first) == (["Phone chess", "Phone friends"], 2, 2)

            database = url.rpartition("/")[2]
            await _admin(POSTGRES_URL, f'DROP DATABASE "{database}" WITH (FORCE)')
            await _admin(POSTGRES_URL, f'CREATE DATABASE "{database}"')
            in_thread(lambda: migrations.upgrade(url))

            second = await _referral_and_activity(http, auth, "Walking group")
            assert await _matched(http, auth, second) == (["Walking group"], 1, 1)
        await app.state.engine.dispose()


async def test_postgresql_database_restored_from_a_backup_under_a_running_app(
    auth: TokenFactory,
) -> None:
    """A restored backup has the same epoch but an older change log: everything is reloaded
    (the activity added after the backup is no longer matched)."""
    with postgres_database() as url:
        in_thread(lambda: migrations.upgrade(url))
        database = url.rpartition("/")[2]
        backup = f"{database}_backup"
        app = create_app(make_settings(url))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as http:
            first = await _referral_and_activity(http, auth, "Phone friends")
            await app.state.engine.dispose()  # a template has no other connection
            await _admin(POSTGRES_URL, f'CREATE DATABASE "{backup}" TEMPLATE "{database}"')
            try:
                for name in ("Phone chess", "Phone quiz"):
                    await _referral_and_activity(http, auth, name)
                assert (await _matched(http, auth, first))[1:] == (3, 3)

                await _admin(POSTGRES_URL, f'DROP DATABASE "{database}" WITH (FORCE)')
                await _admin(POSTGRES_URL, f'CREATE DATABASE "{database}" TEMPLATE "{backup}"')
                assert await _matched(http, auth, first) == (["Phone friends"], 1, 1)
            finally:
                await _admin(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{backup}" WITH (FORCE)')
        await app.state.engine.dispose()
