from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from app import migrations
from app.config import to_async_url
from app.main import create_app
from tests.conftest import in_thread, make_settings, postgres_database


async def test_livez(client: httpx.AsyncClient) -> None:
    assert (await client.get("/livez")).json() == {"status": "ok"}


async def test_readyz_when_at_head(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["schema"] == migrations.head_revision()


async def _readyz(database_url: str) -> httpx.Response:
    app = create_app(make_settings(database_url))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        response = await http.get("/readyz")
    await app.state.engine.dispose()
    return response


async def test_readyz_503_until_the_schema_is_at_head(tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path_factory.mktemp('behind') / 'a.db'}"
    empty = await _readyz(url)
    assert empty.status_code == 503
    assert empty.json()["checks"]["schema"] is None
    in_thread(lambda: migrations.upgrade(url))
    assert (await _readyz(url)).status_code == 200


async def test_readyz_503_on_postgresql_behind_head() -> None:
    with postgres_database() as url:
        assert (await _readyz(url)).status_code == 503
        in_thread(lambda: migrations.upgrade(url))
        assert (await _readyz(url)).status_code == 200


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_readyz_stays_ready_on_a_newer_releases_schema(backend: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A rolling upgrade migrates before the old pods stop: they must stay in the Service."""

    async def newer_release(url: str) -> httpx.Response:
        in_thread(lambda: migrations.upgrade(url))
        engine = create_async_engine(to_async_url(url))
        async with engine.begin() as connection:
            await connection.execute(sa.text("UPDATE alembic_version SET version_num = 'f00d0099'"))
        await engine.dispose()
        return await _readyz(url)

    if backend == "sqlite":
        response = await newer_release(f"sqlite:///{tmp_path / 'newer.db'}")
    else:
        with postgres_database() as url:
            response = await newer_release(url)

    assert response.status_code == 200
    assert response.json()["checks"]["schema"] == "f00d0099"


def test_a_schema_is_behind_only_at_one_of_this_codes_older_revisions() -> None:
    head = migrations.head_revision()
    older = sorted(migrations.known_revisions() - {head})

    assert older
    assert migrations.is_behind(None)
    assert all(migrations.is_behind(r) for r in older)
    assert not migrations.is_behind(head)
    assert not migrations.is_behind("f00d0099")
