"""The database dropped and made again (or restored) under a running app: the snapshot notices.

The snapshot is per database URL and follows the change log; a database made again under the
same URL starts a new log, which the snapshot must not take for the old one's continuation.
On SQLite the file itself can be replaced under the app's pooled connections, which keep the old
one open: the pool notices (``app/db.py``), then the snapshot does (docs/deploy.md, "SQLite").
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import uuid
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from app import db, migrations
from app.auth.principal import Role
from app.main import create_app
from tests.conftest import (
    POSTGRES_URL,
    TEST_SECRET,
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
    """A new referral, after a new phone activity (which every referral can be matched to);
    the referral, with the activity's id as ``activity``."""
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
    return {**referral.json(), "activity": created.json()["id"]}


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


NEW_EPOCH = "UPDATE database_epoch SET epoch = lower(hex(randomblob(16)))"  # docs/deploy.md


def _sqlite(path: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows read from the file at ``path`` by a connection of the test's own."""
    with closing(sqlite3.connect(path)) as connection:
        return connection.execute(sql).fetchall()


def _sqlite_write(path: Path, sql: str) -> None:
    with closing(sqlite3.connect(path)) as connection:
        connection.execute(sql)
        connection.commit()


def _names_in_file(path: Path) -> set[str]:
    return {name for (name,) in _sqlite(path, "SELECT name FROM activity")}


def _move_over(copy: Path, path: Path) -> None:
    """The copy in the database's place, with no -wal or -shm of the file it replaces: those
    would be read as part of the copy (docs/deploy.md, "SQLite")."""
    os.replace(copy, path)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _delete(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink()


async def _busy(http: httpx.AsyncClient, auth: TokenFactory) -> None:
    """Several reads at once, so the pool holds several connections to the file."""
    admin = auth(Role.ADMIN, "X26")
    found = await asyncio.gather(
        *(http.get("/api/v1/directory/services", headers=admin) for _ in range(4))
    )
    assert [r.status_code for r in found] == [200] * 4


async def test_sqlite_file_replaced_by_a_backup_under_a_running_app(
    auth: TokenFactory, tmp_path: Path
) -> None:
    """A backup copy (SQLite's backup API) moved over the file: the app's pooled connections,
    still open on the old file, are replaced; the matches are the copy's, writes go to it."""
    path = tmp_path / "assetlink.db"
    url = f"sqlite:///{path}"
    in_thread(lambda: migrations.upgrade(url))
    app = create_app(make_settings(url))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        first = await _referral_and_activity(http, auth, "Phone friends")
        copy = tmp_path / "backup.db"
        with closing(sqlite3.connect(path)) as live, closing(sqlite3.connect(copy)) as backup:
            live.backup(backup)
        second = await _referral_and_activity(http, auth, "Phone chess")
        deleted = await http.delete(
            f"/api/v1/directory/services/{first['activity']}", headers=auth(Role.ADMIN, "X26")
        )
        assert deleted.status_code == 204, deleted.text
        await _busy(http, auth)
        assert await _matched(http, auth, second) == (["Phone chess"], 1, 1)

        _sqlite_write(copy, NEW_EPOCH)
        _move_over(copy, path)
        # "Phone chess" is no longer anywhere, "Phone friends" is again, "Phone quiz" is new
        third = await _referral_and_activity(http, auth, "Phone quiz")
        assert await _matched(http, auth, first) == (["Phone friends", "Phone quiz"], 2, 2)
        missing = await http.get(
            f"/api/v1/referrals/{second['id']}/matches", headers=auth(Role.LINK_WORKER, "Y02718")
        )
        assert missing.status_code == 404, missing.text
        assert _names_in_file(path) == {"Phone friends", "Phone quiz"}
        assert third["id"] in {
            str(uuid.UUID(i)) for (i,) in _sqlite(path, "SELECT id FROM referral")
        }
    await app.state.engine.dispose()
    assert _sqlite(path, "PRAGMA integrity_check") == [("ok",)]


async def test_sqlite_restored_in_place_through_the_backup_api_under_a_running_app(
    auth: TokenFactory, tmp_path: Path
) -> None:
    """The backup API writing the copy into the live file, then a new epoch (the way
    docs/deploy.md gives for a running service): the snapshot reloads, also when directory
    writes come before the next match (the restored log, grown again past what the snapshot
    applied, would pass for its continuation but for the epoch)."""
    path = tmp_path / "assetlink.db"
    url = f"sqlite:///{path}"
    in_thread(lambda: migrations.upgrade(url))
    app = create_app(make_settings(url))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        first = await _referral_and_activity(http, auth, "Phone friends")
        copy = tmp_path / "backup.db"
        with closing(sqlite3.connect(path)) as live, closing(sqlite3.connect(copy)) as backup:
            live.backup(backup)
        await _referral_and_activity(http, auth, "Phone chess")
        await _busy(http, auth)
        assert (await _matched(http, auth, first))[1:] == (2, 2)

        with closing(sqlite3.connect(copy)) as backup, closing(sqlite3.connect(path)) as live:
            backup.backup(live)
        _sqlite_write(path, NEW_EPOCH)
        for name in ("Phone quiz", "Phone darts", "Phone cards"):
            await _referral_and_activity(http, auth, name)
        assert await _matched(http, auth, first) == (
            ["Phone cards", "Phone darts", "Phone friends", "Phone quiz"],
            4,
            4,
        )
    await app.state.engine.dispose()
    assert _sqlite(path, "PRAGMA integrity_check") == [("ok",)]


def _cli(url: str, *arguments: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "app.cli", *arguments],
        env={
            **os.environ,
            "ASSETLINK_ENVIRONMENT": "test",
            "ASSETLINK_DATABASE_URL": url,
            "ASSETLINK_JWT_SECRET": TEST_SECRET,
            "ASSETLINK_LOG_LEVEL": "WARNING",
        },
        check=True,
        capture_output=True,
        timeout=120,
    )


async def test_sqlite_file_deleted_and_made_again_under_a_running_app(
    auth: TokenFactory, tmp_path: Path
) -> None:
    """The file (with its -wal and -shm) deleted, then ``assetlink migrate`` and ``seed-demo``:
    meanwhile 503, then no activity of the old file is matched, the new file's are."""
    path = tmp_path / "assetlink.db"
    url = f"sqlite:///{path}"
    _cli(url, "migrate")
    app = create_app(make_settings(url))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        for name in ("Phone friends", "Phone chess"):
            first = await _referral_and_activity(http, auth, name)
        await _busy(http, auth)
        assert await _matched(http, auth, first) == (["Phone chess", "Phone friends"], 2, 2)

        _delete(path)
        gone = await http.get(
            f"/api/v1/referrals/{first['id']}/matches", headers=auth(Role.LINK_WORKER, "Y02718")
        )
        assert gone.status_code == 503, gone.text  # no schema yet: "retry shortly"
        _cli(url, "migrate")
        _cli(url, "seed-demo", "--activities", "40")
        demo = _names_in_file(path)
        assert demo
        assert not demo & {"Phone friends", "Phone chess"}

        second = await _referral_and_activity(http, auth, "Walking group")
        names, eligible, total = await _matched(http, auth, second)
        assert "Walking group" in names
        assert eligible == total
        assert _names_in_file(path) == demo | {"Walking group"}
        assert set(names) <= demo | {"Walking group"}
    await app.state.engine.dispose()
    assert _sqlite(path, "PRAGMA integrity_check") == [("ok",)]
