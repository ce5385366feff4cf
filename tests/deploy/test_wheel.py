"""The image's install path without a container engine: the wheel built from what the
Dockerfile copies, installed with requirements.lock into a fresh virtual environment exactly as
its build stage does, then `assetlink migrate` and `/readyz` from that installation."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import httpx
import pytest

from app import migrations
from tests.deploy.test_dockerfile import LOCK_INSTALL, ROOT, stages

LOCK = ROOT / LOCK_INSTALL[-1]
PIN = re.compile(r"^([A-Za-z0-9._-]+)==(\S+)")


class Installed:
    def __init__(self, wheel: Path, venv: Path) -> None:
        self.wheel = wheel
        self.venv = venv
        self.bin = venv / "bin"


def _run(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, check=False, cwd=cwd, env=env
    )
    assert result.returncode == 0, f"{args}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _clean_env(**extra: str) -> dict[str, str]:
    """No PYTHONPATH (the checkout must not stand in for the installation) and no settings."""
    env = {
        k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("ASSETLINK_")
    }
    return env | extra


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Built and installed once per session (a few tens of seconds with pip's cache)."""
    base = tmp_path_factory.mktemp("image")
    context = base / "src"
    context.mkdir()
    build = stages()[0]
    for keyword, arguments in build:
        if keyword == "COPY":
            for source in arguments.split()[:-1]:
                origin = ROOT / source
                if origin.is_dir():
                    shutil.copytree(origin, context / source, ignore=_ignored)
                else:
                    shutil.copy2(origin, context / source)
    env = _clean_env()
    _run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--wheel-dir", base, context)
    [wheel] = base.glob("assetlink-*.whl")
    venv = base / "venv"
    _run(sys.executable, "-m", "venv", venv, env=env)
    pip = venv / "bin" / "pip"
    _run(pip, *LOCK_INSTALL, "-q", cwd=ROOT, env=env)
    _run(pip, "install", "-q", "--no-deps", wheel, env=env)
    _run(pip, "check", env=env)
    return Installed(wheel, venv)


def _ignored(folder: str, names: list[str]) -> set[str]:
    return {n for n in names if n == "__pycache__" or n.endswith(".pyc")}


def test_every_runtime_dependency_is_pinned_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {
        re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        for requirement in project["dependencies"]
    }
    entries = re.split(r"\n(?=\S)", LOCK.read_text().strip())
    pinned = {
        match.group(1).lower().replace("_", "-").replace(".", "-"): entry
        for entry in entries
        if (match := PIN.match(entry))
    }

    assert {name.replace(".", "-") for name in declared} <= set(pinned)
    assert all("--hash=sha256:" in entry for entry in pinned.values())


def test_the_wheel_carries_the_migrations(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    data = f"assetlink-{version}.data/data/share/assetlink"
    versions = sorted((ROOT / "migrations" / "versions").glob("*.py"))

    assert f"{data}/alembic.ini" in names
    assert f"{data}/migrations/env.py" in names
    assert versions
    assert {f"{data}/migrations/versions/{v.name}" for v in versions} <= names


def test_the_installed_service_migrates_and_is_ready(
    installed: Installed, tmp_path: Path, unused_port: int
) -> None:
    env = _clean_env(
        ASSETLINK_ENVIRONMENT="production",
        ASSETLINK_JWT_SECRET=secrets.token_urlsafe(32),
        ASSETLINK_DATABASE_URL=f"sqlite:///{tmp_path / 'assetlink.db'}",
    )
    where = _run(
        installed.bin / "python",
        "-c",
        "import app, app.migrations as m; print(app.__file__); print(m.scripts_home())",
        cwd=tmp_path,
        env=env,
    ).split()
    assert all(Path(p).is_relative_to(installed.venv) for p in where), where

    _run(installed.bin / "assetlink", "migrate", cwd=tmp_path, env=env)

    command = [str(installed.bin / "assetlink"), "serve", "--port", str(unused_port)]
    log = tmp_path / "serve.log"
    with (
        log.open("wb") as out,
        subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT
        ) as server,
    ):
        try:
            ready = _wait_ready(f"http://127.0.0.1:{unused_port}/readyz", server)
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"]["schema"] == migrations.head_revision()
            # the package's data files are in the wheel: the dashboard's script and styles
            for asset in ("dashboard.js", "dashboard.css"):
                url = f"http://127.0.0.1:{unused_port}/dashboard/static/{asset}"
                assert httpx.get(url, timeout=5).status_code == 200, asset
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)
    # uvicorn shuts down in order, then re-raises the SIGTERM it caught (so the exit status).
    assert server.returncode == -signal.SIGTERM, log.read_text()
    assert "Application shutdown complete" in log.read_text()


def _wait_ready(url: str, server: subprocess.Popen[bytes]) -> httpx.Response:
    """The first answer of the starting server (a bounded wait, not a timing assertion)."""
    with httpx.Client(timeout=5) as client:
        for _ in range(300):
            assert server.poll() is None, "the server stopped"
            try:
                return client.get(url)
            except httpx.TransportError:
                _pause(server)
    raise AssertionError("the server did not answer within 30 s")


def _pause(server: subprocess.Popen[bytes]) -> None:
    """A tenth of a second, or less when the server stops."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.wait(timeout=0.1)


@pytest.fixture
def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
