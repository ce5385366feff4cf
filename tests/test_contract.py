"""Contract fuzzing: schemathesis's command line against the exported openapi/openapi.json and a
real server (``assetlink serve`` on a free loopback port, a fresh database of each kind, the
demo data seeded), as an administrator, every operation, every phase (examples, coverage,
fuzzing, and stateful sequences that follow the document's links from created records).

Checks: no 5xx, every status code, content type and body as documented. Every error body of the
run is read again here: no stack trace, no SQL, no Python exception name. Bounded for CI by
``ASSETLINK_FUZZ_EXAMPLES`` (examples per operation, default 8); ``make fuzz-deep`` runs 10x.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app import migrations
from app.auth.principal import Role
from app.auth.tokens import mint_hs256
from app.cli import OPENAPI_PATH
from tests.conftest import TEST_SECRET, in_thread, make_settings, postgres_database
from tests.referrals.test_routers_fhirpy import _free_port

EXAMPLES = int(os.environ.get("ASSETLINK_FUZZ_EXAMPLES", "8"))
SEED = os.environ.get("ASSETLINK_FUZZ_SEED", "17")
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance"
)
DEMO = ("--activities", "40", "--referrals", "15", "--seed", "17")
# Stateful scenarios: steps long enough to go create -> read -> change -> delete.
CONFIG = "[phases.stateful]\nmax-steps = 20\n"

LEAKS = re.compile(
    r"Traceback|File \"|line \d+, in |sqlalchemy|asyncpg|aiosqlite|sqlite3|psycopg|pydantic"
    r"|Background on this error|\b[A-Z][A-Za-z]*(?:Error|Exception|Warning)\b"
    r"|\b(?:SELECT|INSERT|UPDATE|DELETE)\b.*\b(?:FROM|INTO|SET|WHERE)\b",
    re.IGNORECASE,
)
"""What an error body must never hold: a stack trace, a driver's or library's name, an exception
class, a SQL statement."""


def _environment(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "ASSETLINK_ENVIRONMENT": "test",
        "ASSETLINK_DATABASE_URL": url,
        "ASSETLINK_JWT_SECRET": TEST_SECRET,
        "ASSETLINK_DEFAULT_PERFORMER_ODS": "Y02718",
        "ASSETLINK_LOG_LEVEL": "WARNING",
    }


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A new database of each kind, migrated, with the demo directory and referrals."""

    def prepare(url: str) -> str:
        in_thread(lambda: migrations.upgrade(url))
        subprocess.run(
            [sys.executable, "-m", "app.cli", "seed-demo", *DEMO],
            env=_environment(url),
            check=True,
            capture_output=True,
            timeout=120,
        )
        return url

    if request.param == "sqlite":
        yield prepare(f"sqlite:///{tmp_path_factory.mktemp('contract') / 'contract.db'}")
        return
    with postgres_database() as url:
        yield prepare(url)


@pytest.fixture
def server(fresh_database: str, tmp_path: Path) -> Iterator[str]:
    """``assetlink serve`` on a free loopback port; its log is kept beside the test's files."""
    port = _free_port()
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env=_environment(fresh_database),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not _ready(base):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait(timeout=5)
            pytest.fail(f"the server did not start: {(tmp_path / 'server.log').read_text()}")
        time.sleep(0.2)
    yield base
    process.terminate()
    process.wait(timeout=15)
    log.close()


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _decoded(part: dict[str, Any] | None) -> str:
    if not part:
        return ""
    if "$base64" in part:
        return base64.b64decode(part["$base64"]).decode("utf-8", "replace")
    return str(part.get("string", ""))


def interactions(report: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(operation, interaction) of every request the run made, from its NDJSON report."""
    for line in report.read_text().splitlines():
        event = json.loads(line)
        recorder = event.get("ScenarioFinished", {}).get("recorder", {})
        cases = recorder.get("cases", {})
        for case_id, interaction in recorder.get("interactions", {}).items():
            case = cases.get(case_id, {}).get("value", {})
            yield f"{case.get('method', '?')} {case.get('path', '?')}", interaction


def leaks(interaction: dict[str, Any]) -> list[str]:
    """What an error body holds that it must not (words the request itself sent excepted)."""
    response = interaction.get("response") or {}
    if response.get("status_code", 0) < 400:
        return []
    sent = interaction["request"]["uri"] + _decoded(interaction["request"].get("body"))
    body = _decoded(response.get("content"))
    return [m.group(0) for m in LEAKS.finditer(body) if m.group(0).lower() not in sent.lower()]


def documented() -> set[str]:
    paths = json.loads(OPENAPI_PATH.read_text())["paths"]
    return {f"{method.upper()} {path}" for path, item in paths.items() for method in item}


def summary(report: Path) -> dict[str, Any]:
    """The run in figures; requests with a method the document does not give a path (the
    coverage phase's 405s) are counted and read, but are no operation."""
    statuses: dict[str, set[int]] = defaultdict(set)
    found: list[str] = []
    cases = 0
    for operation, interaction in interactions(report):
        response = interaction.get("response")
        if response is None:
            continue
        cases += 1
        statuses[operation].add(response["status_code"])
        found += [f"{operation} {response['status_code']}: {leak}" for leak in leaks(interaction)]
    operations = documented() & set(statuses)
    reached = {op for op in operations if any(200 <= c < 300 for c in statuses[op])}
    with_ids = {op for op in operations if "{" in op}
    return {
        "operations": len(operations),
        "cases": cases,
        "leaks": found,
        "with_ids_reached": len(with_ids & reached),
        "with_ids_never_reached": sorted(with_ids - reached),
    }


def test_the_api_keeps_its_contract(server: str, tmp_path: Path) -> None:
    token = mint_hs256(make_settings("sqlite://"), role=Role.ADMIN, org="X26")
    (tmp_path / "schemathesis.toml").write_text(CONFIG)
    command = [
        str(Path(sys.executable).parent / "st"),
        "--config-file",
        str(tmp_path / "schemathesis.toml"),
        "--no-color",
        "run",
        str(OPENAPI_PATH),
        "--url",
        server,
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        SEED,
        "--generation-database",
        "none",
        "--report",
        "ndjson",
        "--report-dir",
        str(tmp_path / "report"),
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=3600, check=False)
    reports = sorted((tmp_path / "report").glob("*.ndjson"))
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
    assert reports, run.stdout[-5000:]
    result = summary(reports[0])
    print(json.dumps(result, indent=2))  # the figures docs/security.md quotes (pytest -s)
    assert result["leaks"] == []
    assert result["operations"] == len(documented())
