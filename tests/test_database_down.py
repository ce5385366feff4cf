"""A database that really is unreachable: 503s, nothing half-written, recovery without restart.

On PostgreSQL the app talks to the real server through a TCP proxy that the test stops (every
connection is cut and new ones are refused) and starts again on the same port.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest

from app import db, migrations
from app.auth.principal import Role
from app.main import create_app
from tests.conftest import (
    TokenFactory,
    _with_database,
    in_thread,
    make_settings,
    postgres_database,
)
from tests.referrals import factories


class TcpProxy:
    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._writers.update({writer, up_writer})

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers.difference_update({writer, up_writer})


async def _calls(http: httpx.AsyncClient, headers: dict[str, str]) -> tuple[int, int]:
    ready = await http.get("/readyz")
    data = await http.get("/fhir/AuditEvent", headers=headers)
    return ready.status_code, data.status_code


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with postgres_database() as url:
        in_thread(lambda: migrations.upgrade(url))
        yield url


async def test_postgresql_down_and_back(postgres_url: str, auth: TokenFactory) -> None:
    parts = urlsplit(postgres_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    proxied = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))
    app = create_app(make_settings(proxied, database_timeout_s=2))
    headers = auth(Role.ADMIN, "X26")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        assert await _calls(http, headers) == (200, 200)

        await proxy.stop()
        ready = await http.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"] == "unreachable"
        down = await http.get("/fhir/AuditEvent", headers=headers)
        assert down.status_code == 503
        assert down.headers["Retry-After"] == "5"
        issue = down.json()["issue"][0]
        assert issue["code"] == "transient"
        assert "database is unavailable" in issue["diagnostics"]

        await proxy.start()  # same port
        assert await _calls(http, headers) == (200, 200)
    await app.state.engine.dispose()
    await proxy.stop()


async def test_sqlite_unopenable_and_back(tmp_path: Path, auth: TokenFactory) -> None:
    path = tmp_path / "not-yet" / "assetlink.db"
    url = f"sqlite:///{path}"
    app = create_app(make_settings(url))
    headers = auth(Role.ADMIN, "X26")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        assert await _calls(http, headers) == (503, 503)
        body = (await http.get("/fhir/AuditEvent", headers=headers)).json()
        assert body["issue"][0]["code"] == "transient"

        path.parent.mkdir()
        in_thread(lambda: migrations.upgrade(url))
        assert await _calls(http, headers) == (200, 200)
    await app.state.engine.dispose()


async def test_postgresql_connections_dropped_while_idle_are_replaced(
    postgres_url: str, auth: TokenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every pooled connection is cut while the app is idle (a database restart, a failover):
    the first request afterwards is answered normally, because a connection idle for
    ``PING_AFTER_IDLE_S`` is checked before use and replaced."""
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.05)
    app = create_app(make_settings(postgres_url))
    headers = auth(Role.ADMIN, "X26")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        assert await _calls(http, headers) == (200, 200)
        cut = await _cut_connections(postgres_url)
        assert cut >= 1
        await asyncio.sleep(0.2)
        assert await _calls(http, headers) == (200, 200)
    await app.state.engine.dispose()


async def _cut_connections(postgres_url: str) -> int:
    admin = await asyncpg.connect(_with_database(postgres_url, "postgres"))
    try:
        return int(
            await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = $1 AND application_name = 'assetlink'",
                urlsplit(postgres_url).path.lstrip("/"),
            )
        )
    finally:
        await admin.close()


async def test_referral_intake_retries_a_batch_whose_connection_was_cut(
    postgres_url: str, auth: TokenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The intake writer's connection is cut just before it is used (no idle check catches it):
    the batch is written again on a new connection and the referrals are created."""
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 1000.0)
    app = create_app(make_settings(postgres_url, default_performer_ods="Y02718"))
    gp = auth(Role.REFERRER, "A81001")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        first = await http.post(
            "/fhir/ServiceRequest", json=factories.service_request(), headers=gp
        )
        assert first.status_code == 201
        assert await _cut_connections(postgres_url) >= 1
        answers = await asyncio.gather(
            *(
                http.post("/fhir/ServiceRequest", json=factories.service_request(), headers=gp)
                for _ in range(3)
            )
        )
        assert [a.status_code for a in answers] == [201, 201, 201], [a.text for a in answers]
    await app.state.engine.dispose()


async def test_referral_intake_while_postgresql_is_down(
    postgres_url: str, auth: TokenFactory
) -> None:
    """Concurrent referrals while the database is unreachable: each 503 (nothing stored), and
    created as soon as it is back."""
    parts = urlsplit(postgres_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    proxied = urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))
    app = create_app(make_settings(proxied, database_timeout_s=2, default_performer_ods="Y02718"))
    gp = auth(Role.REFERRER, "A81001")
    payloads = [factories.service_request() for _ in range(4)]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        await proxy.stop()
        down = await asyncio.gather(
            *(http.post("/fhir/ServiceRequest", json=p, headers=gp) for p in payloads)
        )
        assert [r.status_code for r in down] == [503] * 4, [r.text for r in down]
        assert all(r.headers["Retry-After"] == "5" for r in down)
        await proxy.start()
        back = await asyncio.gather(
            *(http.post("/fhir/ServiceRequest", json=p, headers=gp) for p in payloads)
        )
        assert [r.status_code for r in back] == [201] * 4, [r.text for r in back]
    await app.state.engine.dispose()
    await proxy.stop()
