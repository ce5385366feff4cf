"""Test fixtures: every database test runs on SQLite and on a fresh PostgreSQL database.

The schema is made once per backend with ``alembic upgrade head`` (so the migrations are tested
with everything else). Each test runs inside a transaction that is rolled back afterwards; the
app's session joins it through a SAVEPOINT, so the app's own commits stay inside it. Tests that
need real commits (concurrency, a server in a subprocess) use ``committed_app`` instead, which
empties the tables afterwards.

PostgreSQL: ``ASSETLINK_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/
postgres``). When it is unreachable the PostgreSQL half is skipped, unless
``ASSETLINK_TEST_REQUIRE_POSTGRES=1`` (set by ``.ci/run``), which makes it an error.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import json
import os
import subprocess
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from starlette.datastructures import State

from app import main, migrations
from app.auth.principal import Role
from app.auth.tokens import mint_hs256
from app.config import Environment, Settings
from app.db import Base, create_engine
from app.main import create_app
from app.matching.snapshot import Snapshots

ROOT = Path(__file__).resolve().parent.parent
TEST_SECRET = "assetlink-test-secret-0123456789abcdef"
POSTGRES_URL = os.environ.get(
    "ASSETLINK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGRES = os.environ.get("ASSETLINK_TEST_REQUIRE_POSTGRES") == "1"
# The project's own validator (tests/fhir_validator/README.md); the variable points elsewhere.
DEFAULT_VALIDATOR = ROOT / "tests" / "fhir_validator" / "fhir-validate"
VALIDATOR = Path(os.environ.get("ASSETLINK_FHIR_VALIDATOR", DEFAULT_VALIDATOR))

T = TypeVar("T")


def in_thread(fn: Callable[[], T]) -> T:
    """Run code that starts its own event loop (Alembic's env.py) outside the test loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn).result()


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


async def _admin(url: str, *statements: str) -> None:
    connection = await asyncpg.connect(
        url.replace("postgresql+asyncpg://", "postgresql://"), timeout=5
    )
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards."""
    name = f"assetlink_test_{uuid.uuid4().hex[:12]}"
    try:
        in_thread(lambda: asyncio.run(_admin(POSTGRES_URL, f'CREATE DATABASE "{name}"')))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        message = f"PostgreSQL at {POSTGRES_URL} is unreachable: {exc!r}"
        if REQUIRE_POSTGRES:
            pytest.fail(message + " (ASSETLINK_TEST_REQUIRE_POSTGRES=1)", pytrace=False)
        pytest.skip(message)
    try:
        yield _with_database(POSTGRES_URL, name)
    finally:
        in_thread(
            lambda: asyncio.run(
                _admin(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            )
        )


@contextmanager
def migrated_database(kind: str, folder: Path) -> Iterator[str]:
    """A new database of ``kind`` (``sqlite``: a file in ``folder``; ``postgresql``: dropped
    afterwards), migrated to head."""
    if kind == "sqlite":
        url = f"sqlite:///{folder / 'assetlink.db'}"
        in_thread(lambda: migrations.upgrade(url))
        yield url
        return
    with postgres_database() as url:
        in_thread(lambda: migrations.upgrade(url))
        yield url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh database of each kind, migrated to head once per test session."""
    with migrated_database(request.param, tmp_path_factory.mktemp("db")) as url:
        yield url


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": Environment.TEST,
        "database_url": database_url,
        "jwt_secret": TEST_SECRET,
        "default_performer_ods": "Y02718",
        "rate_limit_per_s": 0,  # tests make requests far faster than any client should
        "self_referral_per_hour": 0,  # the same (tests/person/ sets it where it tests it)
        **overrides,
    }
    return Settings(**values)


@functools.cache
def default_settings(database_url: str) -> Settings:
    """``make_settings(database_url)``, made once (Settings are frozen; reading the environment
    and .env for each test and each token was ~2 ms each time)."""
    return make_settings(database_url)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return default_settings(database_url)


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(make_settings(database_url))
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        yield connection
        if transaction.is_active:
            await transaction.rollback()


@pytest.fixture
def sessionmaker(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(
        bind=connection,
        expire_on_commit=False,
        autoflush=False,
        join_transaction_mode="create_savepoint",
    )


@pytest.fixture
async def session(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session:
        yield session


_apps: dict[str, Any] = {}


def app_with_fresh_state(settings: Settings) -> Any:
    """``create_app(settings)`` for one test, its routes built once per test process.

    FastAPI builds an application's routes (each dependency's signature and pydantic schemas)
    on its first request to each router: ~0.1 s of CPU per test that calls a few. So the
    application made for some settings is kept, and each test gets it with the state
    ``create_app`` makes (``app/main.py`` ``_set_state``: a new engine, caches, intake writer,
    limiters) made anew, and no dependency overrides. A rate limit lives in the middleware,
    not the state: such settings get a new application.
    """
    if settings.rate_limit_per_s > 0:
        return create_app(settings)
    key = settings.model_dump_json()
    application = _apps.get(key)
    if application is None:
        application = _apps[key] = create_app(settings)
        return application
    application.state = State()
    main._set_state(application, settings, create_engine(settings), Snapshots())
    application.dependency_overrides.clear()
    return application


@pytest.fixture
async def app(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Any]:
    application = app_with_fresh_state(settings)
    application.state.sessionmaker = sessionmaker
    yield application
    await application.state.engine.dispose()


async def _empty_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(delete(table))


@pytest.fixture
async def committed_app(settings: Settings, engine: AsyncEngine) -> AsyncIterator[Any]:
    """The app on the real engine: commits are real; the tables are emptied afterwards."""
    application = create_app(settings)
    yield application
    await application.state.engine.dispose()
    await _empty_tables(engine)


class FhirCapture:
    """FHIR resources the API returned during one test, validated when the test ends."""

    def __init__(self) -> None:
        self.resources: list[dict[str, Any]] = []

    async def hook(self, response: httpx.Response) -> None:
        if "fhir+json" not in response.headers.get("content-type", ""):
            return
        await response.aread()
        try:
            body = response.json()
        except ValueError:
            return
        if isinstance(body, dict) and "resourceType" in body:
            self.resources.append(body)


class _ValidatorServer:
    """The validator kept running (``fhir-validate --serve``) for this test process: loading
    FHIR.js is most of a one-off run's time, and almost every API test validates something.
    Requests are serialised; a validator that died is started again."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    def validate(self, resources: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._process = subprocess.Popen(
                    [str(VALIDATOR), "--serve"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            assert self._process.stdin is not None
            assert self._process.stdout is not None
            self._process.stdin.write(json.dumps(resources) + "\n")
            self._process.stdin.flush()
            line = self._process.stdout.readline()
        if not line:
            pytest.fail("the FHIR validator stopped without answering", pytrace=False)
        answer = json.loads(line)
        return subprocess.CompletedProcess(
            [str(VALIDATOR), "--serve"], answer["returncode"], answer["stdout"], ""
        )

    def close(self) -> None:
        if self._process is not None:
            for stream in (self._process.stdin, self._process.stdout):
                if stream is not None:
                    stream.close()
            self._process.wait(timeout=30)


_validator = _ValidatorServer()
atexit.register(_validator.close)


def validate_fhir(resources: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
    """FHIR.js's report on ``resources``: ``returncode`` 0 when every one is valid."""
    if not VALIDATOR.exists():
        pytest.fail(f"the FHIR validator is missing at {VALIDATOR}", pytrace=False)
    if VALIDATOR == DEFAULT_VALIDATOR:
        return _validator.validate(resources)
    ndjson = "\n".join(json.dumps(r) for r in resources)  # another validator: run it once
    return subprocess.run(
        [str(VALIDATOR), "-"],
        input=ndjson,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def fhir_capture() -> Iterator[FhirCapture]:
    capture = FhirCapture()
    yield capture
    if capture.resources:
        result = validate_fhir(capture.resources)
        assert result.returncode == 0, (
            f"FHIR validator rejected a response:\n{result.stdout}\n{result.stderr}"
        )


def _client(application: Any, capture: FhirCapture) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application),
        base_url="http://testserver",
        event_hooks={"response": [capture.hook]},
    )


@pytest.fixture
async def client(app: Any, fhir_capture: FhirCapture) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the app; every FHIR resource it receives is validated."""
    async with _client(app, fhir_capture) as http:
        yield http


@pytest.fixture
async def committed_client(
    committed_app: Any, fhir_capture: FhirCapture
) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(committed_app, fhir_capture) as http:
        yield http


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if isinstance(value.get("reference"), str):
            yield value["reference"]
        for key, child in value.items():
            if key not in ("contained", "resource"):  # each is a container of its own
                yield from _references(child)
    elif isinstance(value, list):
        for child in value:
            yield from _references(child)


def assert_local_references_resolve(resource: dict[str, Any]) -> None:
    """Every ``#id`` reference in ``resource`` (and in each resource it contains, or holds as a
    Bundle entry) resolves to a resource contained in its container (R4 references.html)."""
    if resource.get("resourceType") == "Bundle":
        for entry in resource.get("entry", []):
            if "resource" in entry:
                assert_local_references_resolve(entry["resource"])
        return
    contained = resource.get("contained", [])
    ids = {c.get("id") for c in contained}
    for item in [resource, *contained]:
        for reference in _references(item):
            if reference.startswith("#") and reference != "#":
                assert reference[1:] in ids, f"{reference} resolves to nothing in {resource}"


TokenFactory = Callable[..., dict[str, str]]


@pytest.fixture
def auth() -> TokenFactory:
    """``auth(Role.REFERRER, "A81001")`` -> an Authorization header with a fresh test token."""

    def make(role: Role, org: str, **kwargs: Any) -> dict[str, str]:
        settings = default_settings("sqlite://")
        return {"Authorization": f"Bearer {mint_hs256(settings, role=role, org=org, **kwargs)}"}

    return make


# The suite's longest tests, started first: at the end of the run they left one worker busy
# for minutes while the other had nothing left (a 15.9-minute run spent its last 6.5 on 5 %).
LONGEST_FIRST = (
    "tests/test_contract.py",
    "tests/deploy/test_wheel.py",
    "tests/reporting/test_router.py",
    "tests/demo/test_history.py",
    "tests/test_scale.py",
    "tests/test_mixed_load.py",
    "tests/dashboard/test_pages_browser.py",
    "tests/matching/test_engine_properties.py",
    "tests/matching/test_snapshot_properties.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the modules of `LONGEST_FIRST` first, in that order; the rest keep theirs."""
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.partition("::")[0], len(rank)))
