"""``assetlink sync-directory`` through the real entry point (``python -m app.cli``), on a
migrated SQLite file and a fresh PostgreSQL database, against a real feed on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import postgres_database
from tests.directory.feed_server import Feed, generated, serve
from tests.directory.test_importer import run_cli


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sync.db'}"
        return
    with postgres_database() as url:
        yield url


def cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return run_cli(
        *args,
        database_url=database_url,
        ASSETLINK_DIRECTORY_SYNC_ATTEMPTS="2",
        ASSETLINK_DIRECTORY_SYNC_PER_PAGE="7",
    )


def test_the_cli_syncs_all_or_nothing(database: str) -> None:
    assert cli("migrate", database_url=database).returncode == 0
    with serve(Feed()) as feed:
        feed.put(*generated(20))
        feed.fail_once.add("/oruk/services?page=2")
        done = cli("sync-directory", feed.url, database_url=database)
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert (report["created"], report["pages"], report["retries"]) == (20, 3, 1)
        feed.remove("gen-4")
        full = cli("sync-directory", feed.url, "--full", database_url=database)
        assert full.returncode == 0, full.stderr
        assert (json.loads(full.stdout)["unchanged"], json.loads(full.stdout)["deactivated"]) == (
            19,
            1,
        )
        feed.put({**generated(1)[0], "minimum_age": "twelve", "name": "Changed"})
        refused = cli("sync-directory", feed.url, "--full", database_url=database)
        assert refused.returncode == 1
        assert "1 of 19 services cannot be stored; nothing was changed" in refused.stderr
        assert "services[0].minimum_age: row 0 (gen-0): must be a whole number" in refused.stderr
        feed.fail_always.add("/oruk/services?page=1")
        down = cli(
            "sync-directory", feed.url, "--since", "2026-01-01T00:00Z", database_url=database
        )
        assert down.returncode == 1
        assert "GET /services answered HTTP 500 (2 attempts)" in down.stderr
        assert "modified_after=2026-01-01T00:00:00Z&page=1&per_page=7" in feed.requests[-1]
    naive = cli(
        "sync-directory", "http://127.0.0.1:9/x", "--since", "2026-01-01", database_url=database
    )
    assert naive.returncode == 2
    assert "time zone" in naive.stderr
    bad = cli("sync-directory", "file:///etc/passwd", database_url=database)
    assert bad.returncode == 2
    assert "is not an http(s) URL" in bad.stderr
