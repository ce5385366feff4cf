from __future__ import annotations

import httpx

from app import migrations
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
