"""Contract fuzzing: schemathesis's command line against the exported openapi/openapi.json and a
real server (``assetlink serve`` on a free loopback port, a fresh database of each kind, the
demo data seeded), as an administrator, every operation, every phase (examples, coverage,
fuzzing, and stateful sequences that follow the document's links from created records).

Checks: no 5xx, every status code, content type and body as documented. Every error body of the
run is read again here: no stack trace, no SQL, no Python exception name. Bounded for CI by
``ASSETLINK_FUZZ_EXAMPLES`` (examples per operation, default 6); ``make fuzz-deep`` runs 10x.
"""

from __future__ import annotations

import base64
import datetime as dt
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
from app.cli import DEMO_ORGS, OPENAPI_PATH
from tests.conftest import ROOT, TEST_SECRET, in_thread, make_settings, postgres_database
from tests.referrals.test_routers_fhirpy import _free_port

EXAMPLES = int(os.environ.get("ASSETLINK_FUZZ_EXAMPLES", "6"))
SEED = os.environ.get("ASSETLINK_FUZZ_SEED", "17")
PHASES = "examples,coverage,fuzzing,stateful"
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance"
)
# No demo history: ``records_through_the_api`` books and records outcomes itself, as clients do.
DEMO = ("--activities", "40", "--referrals", "15", "--seed", "17", "--no-history")


def config(examples: int) -> str:
    """Stateful scenarios: more of them than cases per operation (each step is cheap, mostly a
    read along a link), steps enough to go create -> read -> change -> delete."""
    return f"""
[phases.stateful]
max-steps = 20
[phases.stateful.generation]
max-examples = {examples * 5}
"""


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
        "ASSETLINK_RATE_LIMIT_PER_S": "0",
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
    try:
        deadline = time.monotonic() + 30
        while not _ready(base):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the server did not start: {(tmp_path / 'server.log').read_text()}")
            time.sleep(0.2)
        made = records_through_the_api(base)
        assert all(answer.startswith("201 ") for answer in made.values()), made
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def _example(path: str, name: str) -> dict[str, Any]:
    body = json.loads(OPENAPI_PATH.read_text())["paths"][path]["post"]["requestBody"]
    return dict(body["content"]["application/fhir+json"]["examples"][name]["value"])


def records_through_the_api(base: str) -> dict[str, int]:
    """What the demo data lacks, made as clients make it, so that every list and search has a
    first record for the links to follow: a booking, outcomes (JSON and a QuestionnaireResponse),
    a Subscription. Their statuses, for the failure message."""
    headers = {"Authorization": f"Bearer {_token(Role.LINK_WORKER)}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
        tasks = http.get("/fhir/Task", params={"status": "in-progress"}).json()
        referral = tasks["entry"][0]["resource"]["focus"]["reference"].removeprefix(
            "ServiceRequest/"
        )
        matches = http.get(f"/api/v1/referrals/{referral}/matches").json()["matches"]
        answers = {"1": 4, "2": 3, "3": 4, "4": 3, "5": 4, "6": 3, "7": 4}
        outcome = {"instrument": "SWEMWBS", "timepoint": "baseline", "mode": "self"}
        questionnaire = _example("/fhir/QuestionnaireResponse", "questionnaire-response")
        questionnaire["basedOn"] = [{"reference": f"ServiceRequest/{referral}"}]
        now = dt.datetime.now(dt.UTC)
        # the QuestionnaireResponse first: the outcome list's first names it
        questionnaire["authored"] = (now - dt.timedelta(hours=1)).isoformat()
        answers_at = {"answers": answers, "collected_at": now.isoformat()}
        responses = {
            "booking": http.post(
                f"/api/v1/referrals/{referral}/bookings",
                json={"activity_id": matches[0]["activity"]["id"]},
            ),
            "outcome": http.post(
                f"/api/v1/referrals/{referral}/outcomes", json=outcome | answers_at
            ),
            "questionnaire-response": http.post("/fhir/QuestionnaireResponse", json=questionnaire),
            "subscription": http.post(
                "/fhir/Subscription",
                json=_example("/fhir/Subscription", "subscription"),
                headers={"Authorization": f"Bearer {_token(Role.REFERRER)}"},
            ),
        }
    return {name: f"{r.status_code} {r.text[:300]}" for name, r in responses.items()}


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


def _token(role: Role) -> str:
    return mint_hs256(make_settings("sqlite://"), role=role, org=DEMO_ORGS[role])


def schemathesis(
    server: str, role: Role, examples: int, phases: str, folder: Path
) -> tuple[subprocess.CompletedProcess[str], Path | None]:
    """One run of ``st`` as ``role`` (of its demo organisation); its output and NDJSON report."""
    token = _token(role)
    folder.mkdir()
    (folder / "schemathesis.toml").write_text(config(examples))
    command = [
        str(Path(sys.executable).parent / "st"),
        *("--config-file", str(folder / "schemathesis.toml"), "--no-color", "run"),
        *(str(OPENAPI_PATH), "--url", server, "--header", f"Authorization: Bearer {token}"),
        *("--checks", CHECKS, "--phases", phases, "--max-examples", str(examples)),
        *("--seed", SEED, "--generation-database", "none"),
        *("--report", "ndjson", "--report-dir", str(folder)),
    ]
    # in the run's folder: schemathesis keeps a cache of crashes (.schemathesis/) where it runs;
    # hypothesis's own cache (the constants it reads from the code, slow to gather) is the
    # project's .hypothesis/
    storage = {"HYPOTHESIS_STORAGE_DIRECTORY": str(ROOT / ".hypothesis")}
    run = subprocess.run(
        command,
        cwd=folder,
        env=os.environ | storage,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    return run, next(iter(sorted(folder.glob("*.ndjson"))), None)


def test_the_api_keeps_its_contract(server: str, tmp_path: Path) -> None:
    """As an administrator, every phase; then each other role, fewer cases and no coverage
    phase (its cases do not depend on the caller), for the paths each role's reach takes."""
    for role in (Role.ADMIN, *(r for r in Role if r is not Role.ADMIN)):
        admin = role is Role.ADMIN
        run, report = schemathesis(
            server,
            role,
            EXAMPLES if admin else max(1, EXAMPLES // 4),
            PHASES if admin else "examples,fuzzing,stateful",
            tmp_path / role.value,
        )
        assert run.returncode == 0, f"as {role.value}:\n{run.stdout[-20000:]}{run.stderr[-5000:]}"
        assert report is not None, run.stdout[-5000:]
        result = summary(report)
        print(role.value, json.dumps(result, indent=2))  # docs/security.md's figures (pytest -s)
        assert result["leaks"] == []
        if admin:
            assert result["operations"] == len(documented())
            # of the 41 operations with an id in the path, 32 answered 2xx (both databases)
            # when the links were written (docs/security.md)
            assert result["with_ids_reached"] >= 28, result["with_ids_never_reached"]
